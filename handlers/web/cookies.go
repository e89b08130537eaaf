package web

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

const (
	SessionCookie = "ajrly_session"
	csrfCookie    = "ajrly_csrf"
	CSRFField     = "csrf_token"
)

// SessionStore is what the browser session helpers need.
type SessionStore interface {
	CreateLoginSession(ctx context.Context, userID, orgID string, ttl time.Duration, userAgent, remoteAddr string) (string, *storage.LoginSession, error)
	LoginSessionByToken(ctx context.Context, token string) (*storage.LoginSession, error)
	TouchLoginSession(ctx context.Context, token string) error
	DeleteLoginSession(ctx context.Context, token string) error
	DeleteUserLoginSessions(ctx context.Context, userID string) (int64, error)
	UserByID(ctx context.Context, id string) (*storage.User, error)
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
}

// cookieName adds the __Host- (or __Secure-) prefix under https, which
// makes browsers refuse the cookie from plain http or another host.
func (k *Kit) CookieName(base string) string {
	switch {
	case !k.Secure():
		return base
	case k.Base == "":
		return "__Host-" + base
	default:
		return "__Secure-" + base
	}
}

func (k *Kit) cookiePath() string {
	if k.Base == "" {
		return "/"
	}
	return k.Base + "/"
}

// SetCookie sets an HttpOnly, SameSite=Lax cookie; maxAge 0 makes it last
// for the browser session and a negative one deletes it.
func (k *Kit) SetCookie(w http.ResponseWriter, name, value string, maxAge int) {
	// Secure whenever the issuer is https; a plain-http issuer is a
	// loopback development set-up, where browsers would drop it.
	http.SetCookie(w, &http.Cookie{ //nolint:gosec // G124: Secure follows the issuer's scheme, see above
		Name:     k.CookieName(name),
		Value:    value,
		Path:     k.cookiePath(),
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   k.Secure(),
		SameSite: http.SameSiteLaxMode,
	})
}

func (k *Kit) Cookie(r *http.Request, name string) string {
	c, err := r.Cookie(k.CookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// CSRFToken returns the token forms carry: an HMAC of a random
// per-browser cookie and of the browser's session (signed double submit,
// bound to the session). A token taken with another browser's cookies, or
// before this browser signed in or out, does not verify: the cookie is
// rotated at both (audit finding 17). It sets the cookie when the browser
// has none.
func (k *Kit) CSRFToken(w http.ResponseWriter, r *http.Request) string {
	v := k.Cookie(r, csrfCookie)
	if len(v) < 32 {
		v = k.RotateCSRF(w, r)
	}
	return k.csrfMAC(v, k.Cookie(r, SessionCookie))
}

// RotateCSRF gives the browser a new CSRF cookie, and the rest of this
// request sees it too.
func (k *Kit) RotateCSRF(w http.ResponseWriter, r *http.Request) string {
	v := storage.NewSecret()
	k.SetCookie(w, csrfCookie, v, 0)
	k.ReplaceRequestCookie(r, csrfCookie, v)
	return v
}

// ReplaceRequestCookie makes the rest of the handling of r see the cookie
// name with value ("" for none), as the browser will on its next request.
func (k *Kit) ReplaceRequestCookie(r *http.Request, name, value string) {
	full := k.CookieName(name)
	cookies := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cookies {
		if c.Name != full {
			r.AddCookie(c)
		}
	}
	if value != "" {
		r.AddCookie(&http.Cookie{Name: full, Value: value}) //nolint:gosec // G124: a request's cookie, never sent to a browser
	}
}

func (k *Kit) csrfMAC(cookie, session string) string {
	m := hmac.New(sha256.New, k.opts.CookieKey)
	m.Write([]byte("csrf:" + cookie + ":"))
	if session != "" {
		m.Write([]byte(storage.DigestHex(session)))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF verifies a form post: the token must match the browser's CSRF
// cookie and session, and a post from another site is refused outright —
// by its Origin, and by Sec-Fetch-Site, which a sibling subdomain cannot
// pass off as same-origin either.
func (k *Kit) CheckCSRF(r *http.Request) bool {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || u.Scheme != k.issuer.Scheme || u.Host != k.issuer.Host {
			return false
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	cookie := k.Cookie(r, csrfCookie)
	token := r.PostFormValue(CSRFField)
	if len(cookie) < 32 || token == "" {
		return false
	}
	return hmac.Equal([]byte(k.csrfMAC(cookie, k.Cookie(r, SessionCookie))), []byte(token))
}

// RefuseCSRF answers a form post whose CSRF check failed.
func (k *Kit) RefuseCSRF(w http.ResponseWriter, r *http.Request) {
	k.Log.WarnContext(r.Context(), "csrf check failed", "path", r.URL.Path)
	k.RenderError(w, r, http.StatusForbidden, "This form has expired",
		"The form could not be verified. Go back, reload the page and try again.", "")
}

// touchEvery is how stale a session's last use may get before a request
// records it again: the idle timeout needs no write per page view.
const touchEvery = time.Minute

// currentUser returns the signed-in user of the browser, or nil. A
// session unused for longer than the idle timeout is over (ASVS 3.3.2,
// audit finding 19): it is deleted and the browser is signed out.
func (k *Kit) CurrentUser(r *http.Request) (*storage.LoginSession, *storage.User, error) {
	token := k.Cookie(r, SessionCookie)
	if token == "" {
		return nil, nil, nil
	}
	ctx := r.Context()
	ls, err := k.sessions.LoginSessionByToken(ctx, token)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	switch idle := k.Provider.Now().Sub(ls.LastSeenAt); {
	case idle > k.SessionIdle:
		if err := k.sessions.DeleteLoginSession(ctx, token); err != nil {
			return nil, nil, err
		}
		k.Log.InfoContext(ctx, "session ended after the idle timeout", "user_id", ls.UserID)
		return nil, nil, nil
	case idle > touchEvery:
		if err := k.sessions.TouchLoginSession(ctx, token); err != nil {
			return nil, nil, err
		}
	}
	u, err := k.sessions.UserByID(r.Context(), ls.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	return ls, u, nil
}

// startSession signs a user in on this browser, working in their first
// organization.
func (k *Kit) StartSession(w http.ResponseWriter, r *http.Request, userID string) (*storage.LoginSession, error) {
	if old := k.Cookie(r, SessionCookie); old != "" {
		_ = k.sessions.DeleteLoginSession(r.Context(), old)
	}
	orgs, err := k.sessions.UserOrganizations(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	org, _ := tenancy.Choose(orgs, "", "") // none ("") for a person in no organization
	token, ls, err := k.sessions.CreateLoginSession(r.Context(), userID, org.ID, k.SessionTTL, r.UserAgent(), ClientIP(r.Context()))
	if err != nil {
		return nil, err
	}
	k.SetCookie(w, SessionCookie, token, int(k.SessionTTL/time.Second))
	k.ReplaceRequestCookie(r, SessionCookie, token)
	k.RotateCSRF(w, r) // forms shown before signing in no longer post
	return ls, nil
}

// endSession signs the browser out; everywhere also ends every other
// session of user.
func (k *Kit) EndSession(w http.ResponseWriter, r *http.Request, user *storage.User, everywhere bool) error {
	token := k.Cookie(r, SessionCookie)
	k.SetCookie(w, SessionCookie, "", -1)
	k.ReplaceRequestCookie(r, SessionCookie, "")
	k.RotateCSRF(w, r)
	if everywhere && user != nil {
		_, err := k.sessions.DeleteUserLoginSessions(r.Context(), user.ID)
		return err
	}
	if token != "" {
		return k.sessions.DeleteLoginSession(r.Context(), token)
	}
	return nil
}

// RequireUser returns the signed-in person, or sends the browser to sign
// in and come back to path.
func (k *Kit) RequireUser(w http.ResponseWriter, r *http.Request, path string) (*storage.LoginSession, *storage.User, bool) {
	ls, user, err := k.CurrentUser(r)
	if err != nil {
		k.ServerErrorPage(w, r, "load session", err)
		return nil, nil, false
	}
	if user == nil {
		http.Redirect(w, r, k.Base+"/login?return_to="+url.QueryEscape(path), http.StatusSeeOther)
		return nil, nil, false
	}
	return ls, user, true
}
