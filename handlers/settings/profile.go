package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

const profilePath = "/settings/profile"

// profileAccounts is what the profile page needs of people's accounts.
type profileAccounts interface {
	ChangeName(ctx context.Context, u *storage.User, name string) error
	RequestEmailChange(ctx context.Context, u *storage.User, newEmail, password string) (string, error)
	MailEnabled() bool
}

// Profile serves /settings/profile: the person's name, which they change
// here, and their email address — whether it is verified (with a button
// that mails a new verification link), and changing it, which takes a
// link mailed to the new address and the current password: whoever holds
// a stolen session cookie cannot move the account to an address of their
// own and then reset its password from there.
type Profile struct {
	*site
	accounts profileAccounts
}

// Mount registers /settings/profile and its forms.
func (p *Profile) Mount(r *mux.Router) {
	r.HandleFunc(profilePath, p.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(profilePath+"/name", p.changeName).Methods(http.MethodPost)
	r.HandleFunc(profilePath+"/email", p.changeEmail).Methods(http.MethodPost)
}

type profilePage struct {
	web.BasePage
	// Name is the name form's value; NewEmail the email form's.
	Name, NewEmail string
	// Errors are by field ("name", "email", "current_password"), "form"
	// for the email form as a whole.
	Errors map[string]string
	Notice string
	// SentTo is the new address a confirmation link went to.
	SentTo      string
	MailEnabled bool
	MaxName     int
}

func (p *Profile) page(w http.ResponseWriter, r *http.Request, u *storage.User) profilePage {
	return profilePage{BasePage: p.kit.Page(w, r, "Profile", u), Name: u.Name, MailEnabled: p.accounts.MailEnabled(),
		MaxName: accounts.MaxNameLength}
}

func (p *Profile) show(w http.ResponseWriter, r *http.Request) {
	_, user, ok := p.kit.RequireUser(w, r, profilePath)
	if !ok {
		return
	}
	page := p.page(w, r, user)
	if r.URL.Query().Get("saved") == "name" {
		page.Notice = "Your name was saved."
	}
	p.kit.Render(w, r, http.StatusOK, "profile", page)
}

func (p *Profile) changeName(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	_, user, ok := p.kit.RequireUser(w, r, profilePath)
	if !ok {
		return
	}
	name := r.PostForm.Get("name")
	err := p.accounts.ChangeName(r.Context(), user, name)
	var problems fields.Errors
	if errors.As(err, &problems) {
		page := p.page(w, r, user)
		page.Name, page.Errors = name, accountProblems(problems)
		p.kit.Render(w, r, http.StatusBadRequest, "profile", page)
		return
	} else if err != nil {
		p.kit.ServerErrorPage(w, r, "change name", err)
		return
	}
	p.kit.Log.InfoContext(r.Context(), "name changed", "user_id", user.ID)
	http.Redirect(w, r, p.kit.Base+profilePath+"?saved=name", http.StatusSeeOther)
}

// changeEmail answers on the page itself rather than by a redirect: the
// answer names the new address, which has no place in a URL.
func (p *Profile) changeEmail(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	_, user, ok := p.kit.RequireUser(w, r, profilePath)
	if !ok {
		return
	}
	ctx := r.Context()
	newEmail := r.PostForm.Get("email")
	to, err := p.accounts.RequestEmailChange(ctx, user, newEmail, r.PostForm.Get("current_password"))
	page := p.page(w, r, user)
	if err == nil {
		p.kit.Log.InfoContext(ctx, "email change requested", "user_id", user.ID)
		page.SentTo = to
		p.kit.Render(w, r, http.StatusOK, "profile", page)
		return
	}
	page.NewEmail = newEmail
	status, problems, handled := p.passwordCheckFailed(w, r, err)
	if handled {
		return
	}
	var tooSoon *accounts.ChangeTooSoonError
	switch {
	case problems != nil:
		page.Errors = problems
	case errors.As(err, &tooSoon):
		wait := waitSeconds(tooSoon.Until, p.kit.Provider.Now())
		w.Header().Set("Retry-After", strconv.Itoa(wait))
		status, page.Errors = http.StatusTooManyRequests, map[string]string{"form": "You asked to change your address several times already. " + waitIn(wait)}
	case errors.Is(err, accounts.ErrMailDisabled):
		status, page.Errors = http.StatusServiceUnavailable, map[string]string{"form": "This server sends no mail, so it cannot confirm a new address."}
	default:
		p.kit.ServerErrorPage(w, r, "request email change", err)
		return
	}
	p.kit.Render(w, r, status, "profile", page)
}

// accountSentences are how the account pages say each problem
// provider/accounts finds, by field and code.
var accountSentences = map[string]map[string]string{
	"name": {
		accounts.CodeRequired: "Enter your name.",
		accounts.CodeTooLong:  fmt.Sprintf("Use at most %d characters for your name.", accounts.MaxNameLength),
	},
	"email": {
		accounts.CodeRequired:  "Enter the new email address.",
		accounts.CodeInvalid:   "Enter a valid email address, like name@example.com.",
		accounts.CodeSameEmail: "That is your address already.",
	},
	"current_password": {
		accounts.CodeRequired: "Enter your current password.",
	},
	"password": {
		accounts.CodeRequired:        "Choose a new password.",
		accounts.CodeTooShort:        fmt.Sprintf("Use at least %d characters for your password.", accounts.MinPasswordLength),
		accounts.CodePasswordIsEmail: "Your password must not be your email address.",
		accounts.CodeInvalid:         "Choose a password other than your current one.",
	},
	"confirm": {
		accounts.CodeInvalid: "The two new passwords differ. Type the same one twice.",
	},
}

// accountFieldNames name the fields for a problem the pages have no
// words of their own for.
var accountFieldNames = map[string]string{
	"name": "your name", "email": "the new address", "current_password": "your current password",
	"password": "the new password", "confirm": "the confirmation",
}

// accountProblems puts each problem next to its field, in the page's
// words (the rule's own, as a sentence, for a code the page has no words
// for).
func accountProblems(problems fields.Errors) map[string]string {
	out := map[string]string{}
	for _, p := range problems {
		sentence, ok := accountSentences[p.Field][p.Code]
		if !ok {
			sentence = fields.Sentence(accountFieldNames[p.Field] + " " + p.Message)
		}
		out[p.Field] = sentence
	}
	return out
}
