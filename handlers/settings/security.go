package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

const securityPath = "/settings/security"

// securityAccounts is what the security page needs of people's accounts.
type securityAccounts interface {
	ChangePassword(ctx context.Context, u *storage.User, c accounts.PasswordChange) (int64, error)
}

// sessionLister is what the list of signed-in devices needs from storage.
type sessionLister interface {
	UserLoginSessions(ctx context.Context, userID string) ([]storage.LoginSession, error)
	DeleteUserLoginSession(ctx context.Context, userID, handle string) error
	DeleteOtherLoginSessions(ctx context.Context, userID, keep string) (int64, error)
}

// Security serves /settings/security: changing the password (the current
// one proves it is the person, which is a stronger check than a recent
// sign-in, so the form asks for no new sign-in), and the browsers signed
// in to the account, each of which can be signed out.
type Security struct {
	*site
	accounts securityAccounts
	store    sessionLister
}

// Mount registers /settings/security and its forms.
func (s *Security) Mount(r *mux.Router) {
	r.HandleFunc(securityPath, s.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(securityPath+"/password", s.changePassword).Methods(http.MethodPost)
	r.HandleFunc(securityPath+"/sessions/sign-out", s.signOut).Methods(http.MethodPost)
	r.HandleFunc(securityPath+"/sessions/sign-out-others", s.signOutOthers).Methods(http.MethodPost)
}

type securityPage struct {
	web.BasePage
	// Errors are the password form's, by field ("current_password",
	// "password", "confirm"), "form" for the form as a whole.
	Errors      map[string]string
	Notice      string
	Devices     []device
	MinPassword int
}

// device is one signed-in browser as the page lists it.
type device struct {
	Handle, Browser, UserAgent, Address string
	SignedIn, LastSeen                  string
	Current                             bool
}

// dateTime is how the page writes a time.
func dateTime(t time.Time) string { return t.UTC().Format("2 Jan 2006 15:04 UTC") }

func newDevice(ls *storage.LoginSession, current *storage.LoginSession) device {
	return device{Handle: ls.Handle(), Browser: describeUserAgent(ls.UserAgent), UserAgent: ls.UserAgent,
		Address: ls.RemoteAddr, SignedIn: dateTime(ls.AuthTime), LastSeen: dateTime(ls.LastSeenAt),
		Current: current != nil && ls.IDDigest == current.IDDigest}
}

// render shows the page with the person's devices.
func (s *Security) render(w http.ResponseWriter, r *http.Request, status int, ls *storage.LoginSession, u *storage.User, page securityPage) {
	sessions, err := s.store.UserLoginSessions(r.Context(), u.ID)
	if err != nil {
		s.kit.ServerErrorPage(w, r, "list sessions", err)
		return
	}
	page.BasePage = s.kit.Page(w, r, "Security", u)
	page.MinPassword = accounts.MinPasswordLength
	for i := range sessions {
		page.Devices = append(page.Devices, newDevice(&sessions[i], ls))
	}
	s.kit.Render(w, r, status, "security", page)
}

// securityNotices are what the page says after a form sent it back.
var securityNotices = map[string]string{
	"password": "Your password was changed. Every other device was signed out.",
	"device":   "That device was signed out.",
	"others":   "Every other device was signed out.",
}

func (s *Security) show(w http.ResponseWriter, r *http.Request) {
	ls, user, ok := s.kit.RequireUser(w, r, securityPath)
	if !ok {
		return
	}
	s.render(w, r, http.StatusOK, ls, user, securityPage{Notice: securityNotices[r.URL.Query().Get("done")]})
}

func (s *Security) changePassword(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	ls, user, ok := s.kit.RequireUser(w, r, securityPath)
	if !ok {
		return
	}
	ctx := r.Context()
	ended, err := s.accounts.ChangePassword(ctx, user, accounts.PasswordChange{
		Current: r.PostForm.Get("current_password"), New: r.PostForm.Get("password"), Confirm: r.PostForm.Get("confirm"),
		KeepSession: s.kit.Cookie(r, web.SessionCookie),
	})
	if errors.Is(err, accounts.ErrNotSent) {
		s.kit.Log.ErrorContext(ctx, "mail the password change", "user_id", user.ID, "err", err)
		err = nil
	}
	if err == nil {
		s.kit.Log.InfoContext(ctx, "password changed", "user_id", user.ID, "sessions_ended", ended)
		http.Redirect(w, r, s.kit.Base+securityPath+"?done=password", http.StatusSeeOther)
		return
	}
	status, problems, handled := s.passwordCheckFailed(w, r, err)
	if handled {
		return
	}
	if problems == nil {
		s.kit.ServerErrorPage(w, r, "change password", err)
		return
	}
	s.render(w, r, status, ls, user, securityPage{Errors: problems})
}

func (s *Security) signOut(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	ls, user, ok := s.kit.RequireUser(w, r, securityPath)
	if !ok {
		return
	}
	handle := r.PostForm.Get("session")
	if handle == ls.Handle() {
		// Signing this browser out is the header's "Sign out".
		s.kit.RenderError(w, r, http.StatusBadRequest, "This is the device you are using",
			"Use “Sign out” at the top of the page to sign out here.", "")
		return
	}
	err := s.store.DeleteUserLoginSession(r.Context(), user.ID, handle)
	if errors.Is(err, storage.ErrNotFound) {
		s.kit.RenderError(w, r, http.StatusNotFound, "No such device",
			"That device is not signed in to your account, or was signed out already.", "")
		return
	} else if err != nil {
		s.kit.ServerErrorPage(w, r, "sign out a session", err)
		return
	}
	s.kit.Log.InfoContext(r.Context(), "session signed out", "user_id", user.ID)
	http.Redirect(w, r, s.kit.Base+securityPath+"?done=device", http.StatusSeeOther)
}

func (s *Security) signOutOthers(w http.ResponseWriter, r *http.Request) {
	_, user, ok := s.kit.RequireUser(w, r, securityPath)
	if !ok {
		return
	}
	n, err := s.store.DeleteOtherLoginSessions(r.Context(), user.ID, s.kit.Cookie(r, web.SessionCookie))
	if err != nil {
		s.kit.ServerErrorPage(w, r, "sign out other sessions", err)
		return
	}
	s.kit.Log.InfoContext(r.Context(), "other sessions signed out", "user_id", user.ID, "sessions_ended", n)
	http.Redirect(w, r, s.kit.Base+securityPath+"?done=others", http.StatusSeeOther)
}

// passwordCheckFailed turns what a form guarded by the current password
// failed with into the status and the problems to show by field; handled
// is true when it has answered itself (the hashing slots were all taken),
// and problems nil for an error of the server.
func (s *site) passwordCheckFailed(w http.ResponseWriter, r *http.Request, err error) (status int, problems map[string]string, handled bool) {
	var (
		fe      fields.Errors
		attempt *accounts.AttemptError
	)
	switch {
	case errors.As(err, &fe):
		return http.StatusBadRequest, accountProblems(fe), false
	case errors.As(err, &attempt) && attempt.Checked:
		s.kit.Log.InfoContext(r.Context(), "wrong current password", "client_ip", web.ClientIP(r.Context()))
		message := "That is not your current password."
		if !attempt.Until.IsZero() {
			message += " " + waitWords(attempt.Until, s.kit.Provider.Now())
		}
		return http.StatusUnauthorized, map[string]string{"current_password": message}, false
	case errors.As(err, &attempt):
		w.Header().Set("Retry-After", strconv.Itoa(waitSeconds(attempt.Until, s.kit.Provider.Now())))
		return http.StatusTooManyRequests, map[string]string{"current_password": waitWords(attempt.Until, s.kit.Provider.Now())}, false
	case errors.Is(err, accounts.ErrBusy):
		s.kit.Log.WarnContext(r.Context(), "password hashing saturated")
		w.Header().Set("Retry-After", "5")
		s.kit.RenderError(w, r, http.StatusServiceUnavailable, "Too many sign-ins right now",
			"We are checking a lot of passwords at the moment. Wait a few seconds, then try again.", "")
		return 0, nil, true
	}
	return 0, nil, false
}

func waitSeconds(until, now time.Time) int {
	return max(1, int(until.Sub(now).Round(time.Second)/time.Second))
}

// waitWords says how long to wait before the next password, in words.
func waitWords(until, now time.Time) string {
	return "Too many wrong passwords. " + waitIn(waitSeconds(until, now))
}

// waitIn says to wait secs seconds, in words.
func waitIn(secs int) string {
	switch {
	case secs <= 1:
		return "Wait a second, then try again."
	case secs < 120:
		return fmt.Sprintf("Wait %d seconds, then try again.", secs)
	}
	return fmt.Sprintf("Wait %d minutes, then try again.", (secs+59)/60)
}
