package signin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// MinPasswordLength is the shortest password accepted, in characters.
const MinPasswordLength = 10

// signupStore is what the sign-up page needs from storage.
type signupStore interface {
	SetFlowLogin(ctx context.Context, id, subject string, authTime time.Time) error
	BlockedUntil(ctx context.Context, keys ...string) (time.Time, error)
	RecordFailure(ctx context.Context, key string, p storage.ThrottlePolicy) (time.Time, error)
}

// Signup serves /signup: a new person creates an account and an
// organization they own — the one they name, or a personal one — and is
// signed in, continuing the authorization that sent them if any.
type Signup struct {
	*site
	login   *Login // for the name of the app a flow is for
	store   signupStore
	tenancy *tenancy.Policy
}

// Mount registers /signup.
func (s *Signup) Mount(r *mux.Router) {
	r.HandleFunc("/signup", s.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/signup", s.submit).Methods(http.MethodPost)
}

type signupPage struct {
	web.BasePage
	Flow         string
	ClientName   string
	Name         string
	Email        string
	Organization string
	Errors       map[string]string // by field; "form" for the whole form
	EmailTaken   bool
}

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

// validateSignup returns a message for each field that is wrong.
func validateSignup(name, email, password, org string) map[string]string {
	problems := map[string]string{}
	if strings.TrimSpace(name) == "" {
		problems["name"] = "Enter your name."
	} else if utf8.RuneCountInString(name) > 100 {
		problems["name"] = "Use at most 100 characters for your name."
	}
	if strings.TrimSpace(email) == "" {
		problems["email"] = "Enter your email address."
	} else if storage.ValidateEmail(email) != nil {
		problems["email"] = "Enter a valid email address, like name@example.com."
	}
	switch {
	case password == "":
		problems["password"] = "Choose a password."
	case utf8.RuneCountInString(password) < MinPasswordLength:
		problems["password"] = "Use at least 10 characters for your password."
	case strings.EqualFold(strings.TrimSpace(password), storage.NormalizeEmail(email)):
		problems["password"] = "Your password must not be your email address."
	}
	if strings.TrimSpace(org) == "" {
		// A personal organization, named after them.
	} else if err := storage.ValidateOrgName(org); err != nil {
		problems["organization"] = "Use at most 80 characters for the organization's name."
	}
	return problems
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
	if page.Errors = validateSignup(page.Name, page.Email, password, page.Organization); len(page.Errors) > 0 {
		answer(http.StatusBadRequest)
		return
	}
	// An address that keeps probing for taken emails is slowed down like
	// one that keeps failing to sign in.
	_, addressKey := throttleKeys(page.Email, web.ClientIP(ctx))
	if until, err := s.store.BlockedUntil(ctx, addressKey); err != nil {
		s.kit.ServerErrorPage(w, r, "read sign-up throttle", err)
		return
	} else if !until.IsZero() {
		page.Errors = map[string]string{"form": strings.Replace(waitMessage(until, s.kit.Provider.Now()), "sign-in", "sign-up", 1)}
		answer(http.StatusTooManyRequests)
		return
	}
	made, err := s.tenancy.CreatePerson(ctx, tenancy.Person{Email: page.Email, Name: page.Name, Password: password, Organization: page.Organization})
	switch {
	case errors.Is(err, storage.ErrEmailTaken):
		if _, err := s.store.RecordFailure(ctx, addressKey, addressThrottle); err != nil {
			s.kit.Log.ErrorContext(ctx, "record sign-up failure", "err", err)
		}
		page.Errors = map[string]string{"email": "An account with this email already exists."}
		page.EmailTaken = true
		answer(http.StatusConflict)
		return
	case errors.Is(err, storage.ErrBusy):
		s.passwordsBusy(w, r)
		return
	case errors.Is(err, storage.ErrOrgNameTaken):
		page.Errors = map[string]string{"organization": "That organization name is taken. Choose another one."}
		answer(http.StatusConflict)
		return
	case err != nil:
		s.kit.ServerErrorPage(w, r, "sign up", err)
		return
	}
	s.kit.Log.InfoContext(ctx, "signed up", "user_id", made.User.ID, "org_id", made.Org.ID)
	s.signedIn(w, r, s.store, made.User, page.Flow, "")
}
