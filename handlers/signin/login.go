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
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// loginStore is what the sign-in page needs from storage.
type loginStore interface {
	Flow(ctx context.Context, id string) (*storage.AuthFlow, error)
	SetFlowLogin(ctx context.Context, id, subject string, authTime time.Time) error
	Client(ctx context.Context, id string) (*storage.Client, error)
	ReserveAttempt(ctx context.Context, keys ...storage.ThrottleKey) (bool, time.Time, error)
	ClearFailures(ctx context.Context, keys ...string) error
}

// Sign-in throttling (SECURITY.md). An attempt is counted before the
// password is checked (storage.ReserveAttempt), per account and per client
// address; past a few free failures each one doubles the wait. The
// account's own wait stops at a minute, so that nobody can lock a person
// out for long by failing on purpose, and a browser that signed in to the
// account before is counted apart from it (device.go). The long waits are
// for the one account from one address, and for an address that fails
// across many accounts. Counters exist for unknown emails exactly as for
// real ones, so the answers do not tell whether an email has an account.
var (
	accountThrottle        = storage.ThrottlePolicy{Free: 5, Base: time.Second, Max: time.Minute, Window: 15 * time.Minute}
	accountAddressThrottle = storage.ThrottlePolicy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Window: time.Hour}
	addressThrottle        = storage.ThrottlePolicy{Free: 30, Base: time.Second, Max: 5 * time.Minute, Window: time.Hour}
)

// throttleKeys returns the throttle keys of a sign-in: the account (by a
// digest of the email, so the table holds no addresses) and the client
// address.
func throttleKeys(email, ip string) (account, address string) {
	return accountThrottleKey(email), "ip:" + ip
}

// signInThrottles returns the counters an attempt to sign in to email is
// charged to, and those of them a successful sign-in clears (the
// account's; the address keeps its count). A browser known to the account
// (knownDevice gives its key, or "") is counted on its own instead of on
// the account and on (account, address).
func signInThrottles(email, ip, device string) (charged []storage.ThrottleKey, cleared []string) {
	account, address := throttleKeys(email, ip)
	if device != "" {
		return []storage.ThrottleKey{{Key: device, Policy: accountThrottle}, {Key: address, Policy: addressThrottle}},
			[]string{device, account}
	}
	accountAddress := "acctip:" + storage.DigestHex(account+"|"+ip)
	return []storage.ThrottleKey{
		{Key: account, Policy: accountThrottle},
		{Key: accountAddress, Policy: accountAddressThrottle},
		{Key: address, Policy: addressThrottle},
	}, []string{account, accountAddress}
}

// passwordsBusy answers a sign-in or sign-up that found every
// password-hashing slot taken for longer than a short wait
// (accounts.ErrBusy): a readable page, 503 with Retry-After, rather than a
// queue without bound.
func (s *site) passwordsBusy(w http.ResponseWriter, r *http.Request) {
	s.kit.Log.WarnContext(r.Context(), "password hashing saturated")
	w.Header().Set("Retry-After", "5")
	s.kit.RenderError(w, r, http.StatusServiceUnavailable, "Too many sign-ins right now",
		"We are checking a lot of passwords at the moment. Wait a few seconds, then try again.", "")
}

// waitMessage says how long to wait, in words.
func waitMessage(until, now time.Time) string {
	secs := int(until.Sub(now).Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	if secs < 120 {
		return fmt.Sprintf("Too many failed sign-in attempts. Wait %d seconds, then try again.", secs)
	}
	return fmt.Sprintf("Too many failed sign-in attempts. Wait %d minutes, then try again.", (secs+59)/60)
}

// Login serves the sign-in page.
type Login struct {
	*site
	store    loginStore
	accounts *accounts.Accounts
}

// Mount registers /login.
func (l *Login) Mount(r *mux.Router) {
	r.HandleFunc("/login", l.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/login", l.submit).Methods(http.MethodPost)
}

type loginPage struct {
	web.BasePage
	Flow       string
	ReturnTo   string
	Email      string
	Error      string
	ClientName string
	// Reauth: a signed-in person must sign in again for what they asked
	// to do (see requireRecentSignIn).
	Reauth bool
}

func (l *Login) show(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := loginPage{Flow: q.Get("flow"), ReturnTo: localPath(q.Get("return_to")), Email: q.Get("login_hint")}
	if page.Flow != "" {
		name, ok := l.flowClientName(w, r, page.Flow)
		if !ok {
			return
		}
		page.ClientName = name
	} else if _, user, err := l.kit.CurrentUser(r); err == nil && user != nil {
		if q.Get("reauth") != "1" {
			// Already signed in and not in an authorization: nothing to do here.
			http.Redirect(w, r, l.kit.Base+orDefault(page.ReturnTo, "/"), http.StatusSeeOther)
			return
		}
		page.Reauth, page.Email = true, user.Email
	}
	page.BasePage = l.kit.Page(w, r, "Sign in", nil)
	l.kit.Render(w, r, http.StatusOK, "login", page)
}

// flowClientName returns the name of the app a flow is for, or shows an
// error page when the flow is unknown or expired.
func (l *Login) flowClientName(w http.ResponseWriter, r *http.Request, flowID string) (string, bool) {
	flow, err := l.store.Flow(r.Context(), flowID)
	if errors.Is(err, storage.ErrNotFound) {
		l.kit.RenderError(w, r, http.StatusNotFound, "This sign-in has expired",
			"Go back to the app and start signing in again.", "")
		return "", false
	} else if err != nil {
		l.kit.Log.ErrorContext(r.Context(), "load flow", "err", err)
		l.kit.RenderError(w, r, web.StatusOf(err), "Something went wrong", "Please try again in a moment.", "")
		return "", false
	}
	client, err := l.store.Client(r.Context(), flow.ClientID)
	if err != nil {
		l.kit.RenderError(w, r, http.StatusNotFound, "This sign-in has expired",
			"The app is no longer registered.", "")
		return "", false
	}
	return client.Name, true
}

func (l *Login) submit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		l.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	page := loginPage{
		Flow:     r.PostForm.Get("flow"),
		ReturnTo: localPath(r.PostForm.Get("return_to")),
		Email:    strings.TrimSpace(r.PostForm.Get("email")),
	}
	if page.Flow != "" {
		name, ok := l.flowClientName(w, r, page.Flow)
		if !ok {
			return
		}
		page.ClientName = name
	}
	password := r.PostForm.Get("password")
	fail := func(status int, message string) {
		page.Error = message
		page.BasePage = l.kit.Page(w, r, "Sign in", nil)
		l.kit.Render(w, r, status, "login", page)
	}
	if page.Email == "" || password == "" {
		fail(http.StatusBadRequest, "Enter your email and password.")
		return
	}
	charged, cleared := signInThrottles(page.Email, web.ClientIP(ctx), l.knownDevice(r, accountThrottleKey(page.Email)))
	allowed, until, err := l.store.ReserveAttempt(ctx, charged...)
	if err != nil {
		l.kit.ServerErrorPage(w, r, "reserve sign-in attempt", err)
		return
	} else if !allowed {
		l.recordAttempt(ctx, audit.SignInThrottled, page.Email)
		fail(http.StatusTooManyRequests, waitMessage(until, l.kit.Provider.Now()))
		return
	}
	user, err := l.accounts.Authenticate(ctx, page.Email, password)
	if errors.Is(err, accounts.ErrInvalidCredentials) {
		// The attempt was counted when it was reserved.
		l.kit.Log.InfoContext(ctx, "sign-in failed", "client_ip", web.ClientIP(ctx))
		l.recordAttempt(ctx, audit.SignInFailed, page.Email)
		message := "Incorrect email or password."
		if !until.IsZero() {
			message += " " + waitMessage(until, l.kit.Provider.Now())
		}
		fail(http.StatusUnauthorized, message)
		return
	} else if errors.Is(err, accounts.ErrBusy) {
		l.passwordsBusy(w, r)
		return
	} else if err != nil {
		l.kit.Log.ErrorContext(ctx, "authenticate user", "err", err)
		fail(web.StatusOf(err), "We could not sign you in right now. Please try again in a moment.")
		return
	}
	if err := l.store.ClearFailures(ctx, cleared...); err != nil {
		l.kit.Log.ErrorContext(ctx, "clear sign-in throttle", "err", err)
	}
	l.signedIn(w, r, l.store, user, page.Flow, page.ReturnTo)
}

// flowSigner records a sign-in on a flow.
type flowSigner interface {
	SetFlowLogin(ctx context.Context, id, subject string, authTime time.Time) error
}

// signedIn starts the session of a person who just proved who they are
// (by signing in or up) and sends them on: to the consent page of the
// authorization that sent them, or to returnTo.
func (s *site) signedIn(w http.ResponseWriter, r *http.Request, flows flowSigner, user *storage.User, flow, returnTo string) {
	ctx := r.Context()
	ls, err := s.startSession(w, r, user)
	if err != nil {
		s.kit.ServerErrorPage(w, r, "start session", err)
		return
	}
	s.rememberDevice(w, r, accountThrottleKey(user.Email))
	s.kit.Log.InfoContext(ctx, "signed in", "user_id", user.ID)
	if flow == "" {
		http.Redirect(w, r, s.kit.Base+orDefault(returnTo, "/"), http.StatusSeeOther)
		return
	}
	if err := flows.SetFlowLogin(ctx, flow, user.ID, ls.AuthTime); err != nil {
		s.kit.Log.ErrorContext(ctx, "record sign-in on flow", "err", err)
		s.kit.RenderError(w, r, http.StatusNotFound, "This sign-in has expired", "Go back to the app and start again.", "")
		return
	}
	http.Redirect(w, r, s.kit.Base+"/consent?flow="+url.QueryEscape(flow), http.StatusSeeOther)
}

// startSession signs user in on this browser and records it, in one
// transaction: the event names the organization the session acts in.
func (s *site) startSession(w http.ResponseWriter, r *http.Request, user *storage.User) (*storage.LoginSession, error) {
	var ls *storage.LoginSession
	err := s.events.InTx(r.Context(), func(ctx context.Context) error {
		var err error
		if ls, err = s.kit.StartSession(w, r.WithContext(ctx), user.ID); err != nil {
			return err
		}
		return audit.Record(ctx, s.events, audit.Person(ctx, user),
			audit.Event{Kind: audit.SignIn, OrgID: ls.OrgID, TargetID: user.ID, Target: user.Email})
	})
	return ls, err
}

// localPath accepts only a path on this server as a place to return to,
// so that sign-in can never be turned into an open redirect.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	return p
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
