package handlers

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
	sessionCookie = "ajrly_session"
	csrfCookie    = "ajrly_csrf"
	csrfField     = "csrf_token"
)

// sessionStore is what the browser session helpers need.
type sessionStore interface {
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
func (rt *router) cookieName(base string) string {
	switch {
	case !rt.secure():
		return base
	case rt.base == "":
		return "__Host-" + base
	default:
		return "__Secure-" + base
	}
}

func (rt *router) cookiePath() string {
	if rt.base == "" {
		return "/"
	}
	return rt.base + "/"
}

// setCookie sets an HttpOnly, SameSite=Lax cookie; maxAge 0 makes it last
// for the browser session and a negative one deletes it.
func (rt *router) setCookie(w http.ResponseWriter, name, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name:     rt.cookieName(name),
		Value:    value,
		Path:     rt.cookiePath(),
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   rt.secure(),
		SameSite: http.SameSiteLaxMode,
	})
}

func (rt *router) cookie(r *http.Request, name string) string {
	c, err := r.Cookie(rt.cookieName(name))
	if err != nil {
		return ""
	}
	return c.Value
}

// csrfToken returns the token forms carry: an HMAC of a random
// per-browser cookie and of the browser's session (signed double submit,
// bound to the session). A token taken with another browser's cookies, or
// before this browser signed in or out, does not verify: the cookie is
// rotated at both (audit finding 17). It sets the cookie when the browser
// has none.
func (rt *router) csrfToken(w http.ResponseWriter, r *http.Request) string {
	v := rt.cookie(r, csrfCookie)
	if len(v) < 32 {
		v = rt.rotateCSRF(w, r)
	}
	return rt.csrfMAC(v, rt.cookie(r, sessionCookie))
}

// rotateCSRF gives the browser a new CSRF cookie, and the rest of this
// request sees it too.
func (rt *router) rotateCSRF(w http.ResponseWriter, r *http.Request) string {
	v := storage.NewSecret()
	rt.setCookie(w, csrfCookie, v, 0)
	rt.replaceRequestCookie(r, csrfCookie, v)
	return v
}

// replaceRequestCookie makes the rest of the handling of r see the cookie
// name with value ("" for none), as the browser will on its next request.
func (rt *router) replaceRequestCookie(r *http.Request, name, value string) {
	full := rt.cookieName(name)
	cookies := r.Cookies()
	r.Header.Del("Cookie")
	for _, c := range cookies {
		if c.Name != full {
			r.AddCookie(c)
		}
	}
	if value != "" {
		r.AddCookie(&http.Cookie{Name: full, Value: value})
	}
}

func (rt *router) csrfMAC(cookie, session string) string {
	m := hmac.New(sha256.New, rt.opts.CookieKey)
	m.Write([]byte("csrf:" + cookie + ":"))
	if session != "" {
		m.Write([]byte(storage.DigestHex(session)))
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF verifies a form post: the token must match the browser's CSRF
// cookie and session, and a post from another site is refused outright —
// by its Origin, and by Sec-Fetch-Site, which a sibling subdomain cannot
// pass off as same-origin either.
func (rt *router) checkCSRF(r *http.Request) bool {
	if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || u.Scheme != rt.issuer.Scheme || u.Host != rt.issuer.Host {
			return false
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" {
		return false
	}
	cookie := rt.cookie(r, csrfCookie)
	token := r.PostFormValue(csrfField)
	if len(cookie) < 32 || token == "" {
		return false
	}
	return hmac.Equal([]byte(rt.csrfMAC(cookie, rt.cookie(r, sessionCookie))), []byte(token))
}

// refuseCSRF answers a form post whose CSRF check failed.
func (rt *router) refuseCSRF(w http.ResponseWriter, r *http.Request) {
	rt.log.WarnContext(r.Context(), "csrf check failed", "request_id", RequestID(r.Context()), "path", r.URL.Path)
	rt.pages.renderError(w, r, http.StatusForbidden, "This form has expired",
		"The form could not be verified. Go back, reload the page and try again.", "")
}

// touchEvery is how stale a session's last use may get before a request
// records it again: the idle timeout needs no write per page view.
const touchEvery = time.Minute

// currentUser returns the signed-in user of the browser, or nil. A
// session unused for longer than the idle timeout is over (ASVS 3.3.2,
// audit finding 19): it is deleted and the browser is signed out.
func (rt *router) currentUser(r *http.Request) (*storage.LoginSession, *storage.User, error) {
	token := rt.cookie(r, sessionCookie)
	if token == "" {
		return nil, nil, nil
	}
	ctx := r.Context()
	ls, err := rt.sessions.LoginSessionByToken(ctx, token)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	switch idle := rt.opts.Provider.Now().Sub(ls.LastSeenAt); {
	case idle > rt.opts.SessionIdle:
		if err := rt.sessions.DeleteLoginSession(ctx, token); err != nil {
			return nil, nil, err
		}
		rt.log.InfoContext(ctx, "session ended after the idle timeout", "request_id", RequestID(ctx), "user_id", ls.UserID)
		return nil, nil, nil
	case idle > touchEvery:
		if err := rt.sessions.TouchLoginSession(ctx, token); err != nil {
			return nil, nil, err
		}
	}
	u, err := rt.sessions.UserByID(r.Context(), ls.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, err
	}
	return ls, u, nil
}

// startSession signs a user in on this browser, working in their first
// organization.
func (rt *router) startSession(w http.ResponseWriter, r *http.Request, userID string) (*storage.LoginSession, error) {
	if old := rt.cookie(r, sessionCookie); old != "" {
		_ = rt.sessions.DeleteLoginSession(r.Context(), old)
	}
	orgs, err := rt.sessions.UserOrganizations(r.Context(), userID)
	if err != nil {
		return nil, err
	}
	org, _ := tenancy.Choose(orgs, "", "") // none ("") for a person in no organization
	token, ls, err := rt.sessions.CreateLoginSession(r.Context(), userID, org.ID, rt.opts.SessionTTL, r.UserAgent(), clientIP(r.Context()))
	if err != nil {
		return nil, err
	}
	rt.setCookie(w, sessionCookie, token, int(rt.opts.SessionTTL/time.Second))
	rt.replaceRequestCookie(r, sessionCookie, token)
	rt.rotateCSRF(w, r) // forms shown before signing in no longer post
	return ls, nil
}

// endSession signs the browser out; everywhere also ends every other
// session of user.
func (rt *router) endSession(w http.ResponseWriter, r *http.Request, user *storage.User, everywhere bool) error {
	token := rt.cookie(r, sessionCookie)
	rt.setCookie(w, sessionCookie, "", -1)
	rt.replaceRequestCookie(r, sessionCookie, "")
	rt.rotateCSRF(w, r)
	if everywhere && user != nil {
		_, err := rt.sessions.DeleteUserLoginSessions(r.Context(), user.ID)
		return err
	}
	if token != "" {
		return rt.sessions.DeleteLoginSession(r.Context(), token)
	}
	return nil
}
