package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// recoveryStore is what the password-recovery pages need from storage.
type recoveryStore interface {
	ReserveAttempt(ctx context.Context, keys ...storage.ThrottleKey) (bool, time.Time, error)
	ClearFailures(ctx context.Context, keys ...string) error
}

// How often anyone may ask for reset links (SECURITY.md): each request
// is counted, for the address asked about — whether or not it has an
// account, so that being limited tells nothing — and for the client
// address. A few links an hour to one address and then a wait that
// doubles keep a mailbox from being flooded; one client address may ask
// about a handful of addresses more.
var (
	resetAddressThrottle = storage.ThrottlePolicy{Free: 2, Base: time.Minute, Max: time.Hour, Window: time.Hour}
	resetClientThrottle  = storage.ThrottlePolicy{Free: 9, Base: time.Minute, Max: time.Hour, Window: time.Hour}
)

// resetThrottles are the counters a request for a reset link to email from
// ip is charged to: apart from sign-in's, so that asking for links never
// slows down signing in.
func resetThrottles(email, ip string) []storage.ThrottleKey {
	return []storage.ThrottleKey{
		{Key: "reset:" + storage.DigestHex(storage.NormalizeEmail(email)), Policy: resetAddressThrottle},
		{Key: "reset-ip:" + ip, Policy: resetClientThrottle},
	}
}

// Recovery serves /password/forgot, where a person asks for a link to
// choose a new password, and /password/reset, where the link leads.
type Recovery struct {
	*site
	store    recoveryStore
	accounts *accounts.Accounts
}

// Mount registers /password/forgot and /password/reset.
func (rc *Recovery) Mount(r *mux.Router) {
	r.HandleFunc("/password/forgot", rc.showForgot).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/password/forgot", rc.requestLink).Methods(http.MethodPost)
	r.HandleFunc("/password/reset", rc.showReset).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/password/reset", rc.reset).Methods(http.MethodPost)
}

type forgotPage struct {
	web.BasePage
	Email string
	// Sent: the answer to a request, the same whether or not the address
	// has an account.
	Sent bool
	// Error is the email field's problem; Wait says how long a limited
	// request must wait.
	Error, Wait string
	// MailOff: this server sends no mail.
	MailOff bool
}

func (rc *Recovery) renderForgot(w http.ResponseWriter, r *http.Request, status int, page forgotPage) {
	page.MailOff = !rc.accounts.MailEnabled()
	page.BasePage = rc.kit.Page(w, r, "Reset your password", nil)
	rc.kit.Render(w, r, status, "password_forgot", page)
}

func (rc *Recovery) showForgot(w http.ResponseWriter, r *http.Request) {
	rc.renderForgot(w, r, http.StatusOK, forgotPage{Email: strings.TrimSpace(r.URL.Query().Get("email"))})
}

// requestLink answers a request for a link. Every request with a valid
// address is answered by the same page, byte for byte but for the
// request id, whether or not the address has an account: the work behind
// it is the same too (accounts.RequestReset), and the limits count the
// address asked about either way.
func (rc *Recovery) requestLink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		rc.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	page := forgotPage{Email: strings.TrimSpace(r.PostForm.Get("email"))}
	if !rc.accounts.MailEnabled() {
		rc.renderForgot(w, r, http.StatusServiceUnavailable, page)
		return
	}
	switch {
	case page.Email == "":
		page.Error = "Enter your email address."
	case storage.ValidateEmail(page.Email) != nil:
		page.Error = "Enter a valid email address, like name@example.com."
	}
	if page.Error != "" {
		rc.renderForgot(w, r, http.StatusBadRequest, page)
		return
	}
	allowed, until, err := rc.store.ReserveAttempt(ctx, resetThrottles(page.Email, web.ClientIP(ctx))...)
	if err != nil {
		rc.kit.ServerErrorPage(w, r, "reserve a reset request", err)
		return
	} else if !allowed {
		wait := until.Sub(rc.kit.Provider.Now())
		w.Header().Set("Retry-After", web.RetryAfter(wait))
		page.Wait = "You asked for too many links. " + tryAgainIn(wait)
		rc.renderForgot(w, r, http.StatusTooManyRequests, page)
		return
	}
	if err := rc.accounts.RequestReset(ctx, page.Email); err != nil {
		rc.kit.ServerErrorPage(w, r, "request a password reset", err)
		return
	}
	rc.kit.Log.InfoContext(ctx, "password reset requested", "client_ip", web.ClientIP(ctx))
	rc.renderForgot(w, r, http.StatusOK, forgotPage{Sent: true})
}

// tryAgainIn says how long to wait, in words.
func tryAgainIn(wait time.Duration) string {
	secs := max(1, int(wait.Round(time.Second)/time.Second))
	if secs < 120 {
		return fmt.Sprintf("Try again in %d seconds.", secs)
	}
	return fmt.Sprintf("Try again in %d minutes.", (secs+59)/60)
}

type resetPage struct {
	web.BasePage
	Token, Email string
	Errors       map[string]string // by field; "form" for the whole form
	// Problem is the heading of a link that does not work.
	Problem string
	// Done: the password was changed and the person signed in.
	Done bool
}

// MinPassword is the password policy's shortest password.
func (resetPage) MinPassword() int { return accounts.MinPasswordLength }

func (rc *Recovery) renderReset(w http.ResponseWriter, r *http.Request, status int, page resetPage, user *storage.User) {
	page.BasePage = rc.kit.Page(w, r, "Choose a new password", user)
	rc.kit.Render(w, r, status, "password_reset", page)
}

// badLink answers a link that does not work: a readable page that says
// why, with the way to a new link; nothing changed.
func (rc *Recovery) badLink(w http.ResponseWriter, r *http.Request, err error) {
	status, problem := http.StatusNotFound, "This link does not work"
	switch {
	case errors.Is(err, storage.ErrTokenExpired):
		status, problem = http.StatusGone, "This link has expired"
	case errors.Is(err, storage.ErrTokenUsed):
		status, problem = http.StatusGone, "This link was already used"
	case !errors.Is(err, storage.ErrNotFound):
		rc.kit.ServerErrorPage(w, r, "check a reset link", err)
		return
	}
	rc.renderReset(w, r, status, resetPage{Problem: problem}, nil)
}

func (rc *Recovery) showReset(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	user, err := rc.resetFor(r.Context(), token)
	if err != nil {
		rc.badLink(w, r, err)
		return
	}
	rc.renderReset(w, r, http.StatusOK, resetPage{Token: token, Email: user.Email}, nil)
}

// resetFor is accounts.ResetFor, with no token at all refused up front.
func (rc *Recovery) resetFor(ctx context.Context, token string) (*storage.User, error) {
	if token == "" {
		return nil, storage.ErrNotFound
	}
	return rc.accounts.ResetFor(ctx, token)
}

func (rc *Recovery) reset(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		rc.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	f := r.PostForm
	token, password := f.Get("token"), f.Get("password")
	user, err := rc.resetFor(ctx, token)
	if err != nil {
		rc.badLink(w, r, err)
		return
	}
	page := resetPage{Token: token, Email: user.Email}
	if password != "" && password != f.Get("confirm") {
		page.Errors = map[string]string{"confirm": "The two passwords differ. Type the same new password twice."}
		rc.renderReset(w, r, http.StatusBadRequest, page, nil)
		return
	}
	user, err = rc.accounts.ResetPassword(ctx, token, password)
	var problems fields.Errors
	switch {
	case errors.As(err, &problems):
		page.Errors = signupProblems(problems)
		rc.renderReset(w, r, http.StatusBadRequest, page, nil)
		return
	case errors.Is(err, accounts.ErrBusy):
		rc.passwordsBusy(w, r)
		return
	case errors.Is(err, accounts.ErrNotSent):
		rc.kit.Log.ErrorContext(ctx, "tell of a password reset", "user_id", user.ID, "err", err)
	case err != nil:
		rc.badLink(w, r, err)
		return
	}
	rc.kit.Log.InfoContext(ctx, "password reset", "user_id", user.ID)
	// Every session of theirs ended with the reset; this browser starts
	// a fresh one, as after signing in.
	if _, err := rc.startSession(w, r, user); err != nil {
		rc.kit.ServerErrorPage(w, r, "start session", err)
		return
	}
	rc.rememberDevice(w, r, accountThrottleKey(user.Email))
	if err := rc.store.ClearFailures(ctx, accountThrottleKey(user.Email)); err != nil {
		rc.kit.Log.ErrorContext(ctx, "clear sign-in throttle", "err", err)
	}
	rc.renderReset(w, r, http.StatusOK, resetPage{Done: true}, user)
}
