package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// CSRF checks every form a browser posts before the route's handler runs:
// mounted on the page routes, it means a new form cannot forget the check.
// A post whose form does not parse, has no or a wrong token, or comes from
// another site is answered with the "form expired" page (403). Other
// methods pass.
func (k *Kit) CSRF(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if err := r.ParseForm(); err != nil || !k.CheckCSRF(r) {
				k.RefuseCSRF(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// RecentSignIn is how recent a sign-in must be for forms that mint a
// durable credential (an API key, a client secret, an initial access
// token): a stolen session cookie alone must not be enough (ASVS 3.7.1,
// audit finding 19).
const RecentSignIn = 15 * time.Minute

// RequireRecentSignIn checks that the session signed in less than
// RecentSignIn ago; otherwise it sends the browser to sign in again and
// come back to returnTo, and answers false.
func (k *Kit) RequireRecentSignIn(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, returnTo string) bool {
	if k.Provider.Now().Sub(ls.AuthTime) <= RecentSignIn {
		return true
	}
	k.Log.InfoContext(r.Context(), "sensitive action needs a recent sign-in", "user_id", ls.UserID, "path", r.URL.Path)
	http.Redirect(w, r, k.Base+"/login?reauth=1&return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
	return false
}
