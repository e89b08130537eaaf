package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// accountStore is what the account pages need from storage.
type logoutStore interface {
	Client(ctx context.Context, id string) (*storage.Client, error)
}

// Logout is signing out, including RP-initiated logout (OpenID Connect
// RP-Initiated Logout 1.0).
type Logout struct {
	*site
	provider *provider.Provider
	store    logoutStore
}

// Mount registers /logout, GET and POST: an RP may send people here by
// either, so it is not behind the CSRF middleware; our own sign-out form's
// token is checked in logout.
func (a *Logout) Mount(r *mux.Router) {
	r.HandleFunc("/logout", a.logout).Methods(http.MethodGet, http.MethodPost)
}

type logoutPage struct {
	web.BasePage
	SignedOut             bool
	Everywhere            bool
	ClientName            string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

// logoutRequest is an RP-initiated logout's parameters, checked.
type logoutRequest struct {
	client   *storage.Client
	redirect string // a registered post_logout_redirect_uri, or ""
	state    string
	hintSub  string // the subject of a valid id_token_hint, or ""
}

// parseLogout checks a logout request: an id_token_hint must be an ID token
// we issued (expired ones are fine); a post_logout_redirect_uri must be
// registered, exactly, for the client the hint or client_id names. On
// failure it has shown an error page: a sign-out link that cannot be
// trusted never redirects.
func (a *Logout) parseLogout(w http.ResponseWriter, r *http.Request) (*logoutRequest, bool) {
	ctx := r.Context()
	req := &logoutRequest{redirect: r.Form.Get("post_logout_redirect_uri"), state: r.Form.Get("state")}
	clientID := r.Form.Get("client_id")
	invalid := func(msg string) (*logoutRequest, bool) {
		a.kit.Log.InfoContext(ctx, "logout refused", "reason", msg)
		a.kit.RenderError(w, r, http.StatusBadRequest, "This sign-out link is not valid", msg, "")
		return nil, false
	}
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		claims, err := a.provider.DecodeIDToken(ctx, hint)
		if errors.Is(err, provider.ErrNotIDToken) {
			return invalid("The app sent an ID token this server did not issue.")
		} else if err != nil {
			a.kit.ServerErrorPage(w, r, "check id_token_hint", err)
			return nil, false
		}
		req.hintSub, _ = claims["sub"].(string)
		aud := audiences(claims["aud"])
		if clientID == "" && len(aud) > 0 {
			clientID = aud[0]
		} else if clientID != "" && !slices.Contains(aud, clientID) {
			return invalid("The ID token was not issued to the app that sent it.")
		}
	}
	if clientID != "" {
		c, err := a.store.Client(ctx, clientID)
		if errors.Is(err, storage.ErrNotFound) {
			return invalid("The app that sent you here is not registered with Ajrly.")
		} else if err != nil {
			a.kit.ServerErrorPage(w, r, "load client", err)
			return nil, false
		}
		req.client = c
	}
	if req.redirect != "" {
		if req.client == nil {
			return invalid("The app must say who it is (client_id or id_token_hint) to be sent back after signing out.")
		}
		if !slices.Contains(req.client.PostLogoutRedirectURIs, req.redirect) {
			return invalid("The app asked to send you to an address it has not registered, so we stopped here for your safety.")
		}
	}
	return req, true
}

// endSession signs the browser out (everywhere: every device of user)
// and records it, in one transaction, in the organization the session
// acted in. A browser signed in as nobody records nothing.
func (a *Logout) endSession(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, user *storage.User, everywhere bool) error {
	return a.events.InTx(r.Context(), func(ctx context.Context) error {
		if err := a.kit.EndSession(w, r.WithContext(ctx), user, everywhere); err != nil {
			return err
		}
		if user == nil || ls == nil {
			return nil
		}
		e := audit.Event{Kind: audit.SignOut, OrgID: ls.OrgID, TargetID: user.ID, Target: user.Email}
		if everywhere {
			e.Detail = "on every device"
		}
		return audit.Record(ctx, a.events, audit.Person(ctx, user), e)
	})
}

func audiences(v any) []string {
	switch aud := v.(type) {
	case string:
		return []string{aud}
	case []any:
		out := make([]string, 0, len(aud))
		for _, x := range aud {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// logout signs the browser out. Our own sign-out forms (with their CSRF
// token) act at once; so does a request that proves who asks, with an
// id_token_hint of the signed-in person. Anything else — a bare link to
// /logout, or a hint for someone else — gets a confirmation page first, so
// that no other site can sign a person out behind their back.
func (a *Logout) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		a.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	req, ok := a.parseLogout(w, r)
	if !ok {
		return
	}
	ls, user, err := a.kit.CurrentUser(r)
	if err != nil {
		a.kit.ServerErrorPage(w, r, "load session", err)
		return
	}
	confirmed := r.Method == http.MethodPost && r.PostForm.Get(web.CSRFField) != "" && a.kit.CheckCSRF(r)
	if r.Method == http.MethodPost && r.PostForm.Get(web.CSRFField) != "" && !confirmed {
		a.kit.RefuseCSRF(w, r)
		return
	}
	proven := req.hintSub != "" && (user == nil || user.ID == req.hintSub)
	if !confirmed && !proven && user != nil {
		page := logoutPage{
			BasePage:              a.kit.Page(w, r, "Sign out", user),
			PostLogoutRedirectURI: req.redirect,
			State:                 req.state,
		}
		if req.client != nil {
			page.ClientName, page.ClientID = req.client.Name, req.client.ID
		}
		a.kit.Render(w, r, http.StatusOK, "logout", page)
		return
	}
	everywhere := confirmed && r.PostForm.Get("all") == "1"
	if err := a.endSession(w, r, ls, user, everywhere); err != nil {
		a.kit.ServerErrorPage(w, r, "end session", err)
		return
	}
	if user != nil {
		a.kit.Log.InfoContext(ctx, "signed out", "user_id", user.ID, "everywhere", everywhere)
	}
	if req.redirect != "" {
		target, _ := url.Parse(req.redirect)
		if req.state != "" {
			q := target.Query()
			q.Set("state", req.state)
			target.RawQuery = q.Encode()
		}
		http.Redirect(w, r, target.String(), http.StatusSeeOther)
		return
	}
	page := logoutPage{BasePage: a.kit.Page(w, r, "Signed out", nil), SignedOut: true, Everywhere: everywhere}
	a.kit.Render(w, r, http.StatusOK, "logout", page)
}
