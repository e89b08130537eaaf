package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

// accountStore is what the account pages need from storage.
type accountStore interface {
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
	Client(ctx context.Context, id string) (*storage.Client, error)
}

// Account serves the signed-in person's home page and signing out,
// including RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
type Account struct {
	rt       *router
	provider *provider.Provider
	store    accountStore
}

// Mount registers / and /logout.
func (a *Account) Mount(r *mux.Router) {
	r.HandleFunc("/", a.home).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/logout", a.logout).Methods(http.MethodGet, http.MethodPost)
}

type homePage struct {
	basePage
	Orgs []storage.MemberOrg
}

func (a *Account) home(w http.ResponseWriter, r *http.Request) {
	_, user, ok := a.rt.requireUser(w, r, "/")
	if !ok {
		return
	}
	orgs, err := a.store.UserOrganizations(r.Context(), user.ID)
	if err != nil {
		a.rt.serverErrorPage(w, r, "load organizations", err)
		return
	}
	a.rt.pages.render(w, r, http.StatusOK, "home", homePage{basePage: a.rt.pages.page(w, r, "Your account", user), Orgs: orgs})
}

type logoutPage struct {
	basePage
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
func (a *Account) parseLogout(w http.ResponseWriter, r *http.Request) (*logoutRequest, bool) {
	ctx := r.Context()
	req := &logoutRequest{redirect: r.Form.Get("post_logout_redirect_uri"), state: r.Form.Get("state")}
	clientID := r.Form.Get("client_id")
	invalid := func(msg string) (*logoutRequest, bool) {
		a.rt.log.InfoContext(ctx, "logout refused", "request_id", RequestID(ctx), "reason", msg)
		a.rt.pages.renderError(w, r, http.StatusBadRequest, "This sign-out link is not valid", msg, "")
		return nil, false
	}
	if hint := r.Form.Get("id_token_hint"); hint != "" {
		claims, err := a.provider.DecodeIDToken(ctx, hint)
		if errors.Is(err, provider.ErrNotIDToken) {
			return invalid("The app sent an ID token this server did not issue.")
		} else if err != nil {
			a.rt.serverErrorPage(w, r, "check id_token_hint", err)
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
			a.rt.serverErrorPage(w, r, "load client", err)
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
func (a *Account) logout(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		a.rt.pages.renderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	req, ok := a.parseLogout(w, r)
	if !ok {
		return
	}
	_, user, err := a.rt.currentUser(r)
	if err != nil {
		a.rt.serverErrorPage(w, r, "load session", err)
		return
	}
	confirmed := r.Method == http.MethodPost && r.PostForm.Get(csrfField) != "" && a.rt.checkCSRF(r)
	if r.Method == http.MethodPost && r.PostForm.Get(csrfField) != "" && !confirmed {
		a.rt.refuseCSRF(w, r)
		return
	}
	proven := req.hintSub != "" && (user == nil || user.ID == req.hintSub)
	if !confirmed && !proven && user != nil {
		page := logoutPage{
			basePage:              a.rt.pages.page(w, r, "Sign out", user),
			PostLogoutRedirectURI: req.redirect,
			State:                 req.state,
		}
		if req.client != nil {
			page.ClientName, page.ClientID = req.client.Name, req.client.ID
		}
		a.rt.pages.render(w, r, http.StatusOK, "logout", page)
		return
	}
	everywhere := confirmed && r.PostForm.Get("all") == "1"
	if err := a.rt.endSession(w, r, user, everywhere); err != nil {
		a.rt.serverErrorPage(w, r, "end session", err)
		return
	}
	if user != nil {
		a.rt.log.InfoContext(ctx, "signed out", "request_id", RequestID(ctx), "user_id", user.ID, "everywhere", everywhere)
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
	page := logoutPage{basePage: a.rt.pages.page(w, r, "Signed out", nil), SignedOut: true, Everywhere: everywhere}
	a.rt.pages.render(w, r, http.StatusOK, "logout", page)
}
