package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// signupStore is what the sign-up page needs from storage.
type signupStore interface {
	BlockedUntil(ctx context.Context, keys ...string) (time.Time, error)
	RecordFailure(ctx context.Context, key string, p storage.ThrottlePolicy) (time.Time, error)
}

// Signup serves /signup: a new person creates an account and an
// organization they own — the one they name, or a personal one — and is
// mailed a link that verifies their address.
//
// Sign-up never tells whether an address has an account (DESIGN.md,
// "People's accounts"): a new address and a taken one get the same answer
// — a 303 to /signup/sent, the "check your inbox" page, with no cookie —
// and the same hashing work (accounts.SignUp); the owner of a taken
// address is mailed instead. So sign-up signs nobody in: a session cookie
// for the new person would be the difference. They sign in with their new
// password — from the "check your inbox" page, which keeps the
// authorization that sent them (its flow) so that signing in there carries
// it on to consent, or after following the link, from the page that says
// their address is verified. The link itself signs nobody in: it proves
// the mailbox, not the password.
type Signup struct {
	*site
	login    *Login // for the name of the app a flow is for
	store    signupStore
	accounts *accounts.Accounts
}

// Mount registers /signup.
func (s *Signup) Mount(r *mux.Router) {
	r.HandleFunc("/signup", s.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/signup", s.submit).Methods(http.MethodPost)
	r.HandleFunc("/signup/sent", s.sent).Methods(http.MethodGet, http.MethodHead)
}

type signupPage struct {
	web.BasePage
	Flow         string
	ClientName   string
	Name         string
	Email        string
	Organization string
	Errors       map[string]string // by field; "form" for the whole form
}

// MinPassword is the password policy's shortest password, for the form's
// hint and its minlength.
func (signupPage) MinPassword() int { return accounts.MinPasswordLength }

func (s *Signup) show(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := signupPage{Flow: q.Get("flow"), Email: q.Get("login_hint")}
	if page.Flow != "" {
		name, ok := s.login.flowClientName(w, r, page.Flow)
		if !ok {
			return
		}
		page.ClientName = name
	}
	page.BasePage = s.kit.Page(w, r, "Create your account", nil)
	s.kit.Render(w, r, http.StatusOK, "signup", page)
}

// signupSentences are how the sign-up page says each problem
// provider/accounts finds, by field and code: in the second person, next
// to the field.
var signupSentences = map[string]map[string]string{
	"name": {
		accounts.CodeRequired: "Enter your name.",
		accounts.CodeTooLong:  fmt.Sprintf("Use at most %d characters for your name.", accounts.MaxNameLength),
	},
	"email": {
		accounts.CodeRequired: "Enter your email address.",
		accounts.CodeInvalid:  "Enter a valid email address, like name@example.com.",
	},
	"password": {
		accounts.CodeRequired:        "Choose a password.",
		accounts.CodeTooShort:        fmt.Sprintf("Use at least %d characters for your password.", accounts.MinPasswordLength),
		accounts.CodePasswordIsEmail: "Your password must not be your email address.",
		accounts.CodeCommon:          "That password is one of the most common ones, which attackers try first. Choose another.",
	},
	"organization": {
		accounts.CodeInvalid: "Use at most 80 characters for the organization's name.",
	},
}

// signupProblems puts each problem next to its field, in the page's words
// (the rule's own, as a sentence, for a code the page has no words for).
func signupProblems(problems fields.Errors) map[string]string {
	out := map[string]string{}
	for _, p := range problems {
		sentence, ok := signupSentences[p.Field][p.Code]
		if !ok {
			sentence = fields.Sentence(p.Field + " " + p.Message)
		}
		out[p.Field] = sentence
	}
	return out
}

func (s *Signup) submit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		s.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	f := r.PostForm
	page := signupPage{
		Flow:         f.Get("flow"),
		Name:         strings.TrimSpace(f.Get("name")),
		Email:        strings.TrimSpace(f.Get("email")),
		Organization: strings.TrimSpace(f.Get("organization")),
	}
	password := f.Get("password")
	if page.Flow != "" {
		name, ok := s.login.flowClientName(w, r, page.Flow)
		if !ok {
			return
		}
		page.ClientName = name
	}
	answer := func(status int) {
		page.BasePage = s.kit.Page(w, r, "Create your account", nil)
		s.kit.Render(w, r, status, "signup", page)
	}
	person := accounts.Person{Email: page.Email, Name: page.Name, Password: password, Organization: page.Organization}
	if problems := accounts.Check(person, accounts.Options{RequireName: true}); len(problems) > 0 {
		page.Errors = signupProblems(problems)
		answer(http.StatusBadRequest)
		return
	}
	// One client address signing up again and again is slowed down like
	// one that keeps failing to sign in. Every sign-up that gets as far as
	// the accounts counts, whatever the address: counting only taken ones
	// would let the moment the throttle starts tell them apart.
	_, addressKey := throttleKeys(page.Email, web.ClientIP(ctx))
	if until, err := s.store.BlockedUntil(ctx, addressKey); err != nil {
		s.kit.ServerErrorPage(w, r, "read sign-up throttle", err)
		return
	} else if !until.IsZero() {
		page.Errors = map[string]string{"form": strings.Replace(waitMessage(until, s.kit.Provider.Now()), "failed sign-in", "sign-up", 1)}
		answer(http.StatusTooManyRequests)
		return
	}
	made, err := s.accounts.SignUp(ctx, person, accounts.Options{RequireName: true})
	if !errors.Is(err, accounts.ErrBusy) {
		if _, err := s.store.RecordFailure(ctx, addressKey, addressThrottle); err != nil {
			s.kit.Log.ErrorContext(ctx, "record sign-up attempt", "err", err)
		}
	}
	switch {
	case errors.Is(err, accounts.ErrBusy):
		s.passwordsBusy(w, r)
		return
	case errors.Is(err, storage.ErrOrgNameTaken):
		page.Errors = map[string]string{"organization": "That organization name is taken. Choose another one."}
		answer(http.StatusConflict)
		return
	case errors.Is(err, accounts.ErrNotSent):
		// The account is made (or the address had one): the answer is the
		// same as when the mail went, and the log says it did not.
		s.kit.Log.ErrorContext(ctx, "sign-up mail not queued", "err", err)
	case err != nil:
		s.kit.ServerErrorPage(w, r, "sign up", err)
		return
	}
	if made != nil {
		s.kit.Log.InfoContext(ctx, "signed up", "user_id", made.User.ID, "org_id", made.Org.ID)
	} else {
		s.kit.Log.InfoContext(ctx, "sign-up with an address that has an account; its owner is told")
	}
	target := s.kit.Base + "/signup/sent"
	if page.Flow != "" {
		target += "?" + url.Values{"flow": {page.Flow}}.Encode()
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// sent is the "check your inbox" page every sign-up ends on, for a new
// address and a taken one alike; flow is the authorization to carry on
// once signed in.
func (s *Signup) sent(w http.ResponseWriter, r *http.Request) {
	page := verifyPage{Mode: "signup", Flow: r.URL.Query().Get("flow")}
	page.BasePage = s.kit.Page(w, r, "Check your inbox", nil)
	page.MailEnabled = s.accounts.MailEnabled()
	s.kit.Render(w, r, http.StatusOK, "verify", page)
}
