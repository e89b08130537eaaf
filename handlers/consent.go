package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

// consentStore is what the consent page needs from storage.
type consentStore interface {
	Flow(ctx context.Context, id string) (*storage.AuthFlow, error)
	DeleteFlow(ctx context.Context, id string) (bool, error)
	Client(ctx context.Context, id string) (*storage.Client, error)
	SaveConsent(ctx context.Context, userID, clientID string, scopes []string, remember bool) (*storage.Consent, error)
}

// Consent serves the consent page: it names the app and the signed-in
// person, lists each requested scope in plain words, and answers the
// authorization request with Allow or Deny.
type Consent struct {
	rt       *router
	provider *provider.Provider
	store    consentStore
}

// Mount registers /consent.
func (c *Consent) Mount(r *mux.Router) {
	r.HandleFunc("/consent", c.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/consent", c.submit).Methods(http.MethodPost)
}

type consentPage struct {
	basePage
	Flow          string
	ClientName    string
	ClientInitial string
	UserName      string
	UserEmail     string
	Scopes        []provider.Scope
	RedirectHost  string
}

// load returns the flow of a consent request with its client and checks
// that the signed-in person is the one who signed in for it. On failure it
// has already answered.
func (c *Consent) load(w http.ResponseWriter, r *http.Request, flowID string) (*storage.AuthFlow, *storage.Client, *storage.User, bool) {
	ctx := r.Context()
	flow, err := c.store.Flow(ctx, flowID)
	if flowID == "" || errors.Is(err, storage.ErrNotFound) {
		c.rt.pages.renderError(w, r, http.StatusNotFound, "This sign-in has expired", "Go back to the app and start signing in again.", "")
		return nil, nil, nil, false
	} else if err != nil {
		c.rt.log.ErrorContext(ctx, "load flow", "err", err, "request_id", RequestID(ctx))
		c.rt.pages.renderError(w, r, statusOf(err), "Something went wrong", "Please try again in a moment.", "")
		return nil, nil, nil, false
	}
	_, user, err := c.rt.currentUser(r)
	if err != nil {
		c.rt.log.ErrorContext(ctx, "load session", "err", err, "request_id", RequestID(ctx))
		c.rt.pages.renderError(w, r, statusOf(err), "Something went wrong", "Please try again in a moment.", "")
		return nil, nil, nil, false
	}
	if user == nil || flow.Subject == "" {
		http.Redirect(w, r, c.rt.base+"/login?flow="+url.QueryEscape(flow.ID), http.StatusSeeOther)
		return nil, nil, nil, false
	}
	if flow.Subject != user.ID {
		c.rt.pages.renderError(w, r, http.StatusForbidden, "This sign-in belongs to someone else",
			"You are signed in as a different person than the one who started this sign-in. Go back to the app and start again.", "")
		return nil, nil, nil, false
	}
	client, err := c.store.Client(ctx, flow.ClientID)
	if err != nil {
		c.rt.pages.renderError(w, r, http.StatusNotFound, "This sign-in has expired", "The app is no longer registered.", "")
		return nil, nil, nil, false
	}
	return flow, client, user, true
}

func (c *Consent) show(w http.ResponseWriter, r *http.Request) {
	flow, client, user, ok := c.load(w, r, r.URL.Query().Get("flow"))
	if !ok {
		return
	}
	ar, err := c.rt.rebuildAuthorizeRequest(r.Context(), flow)
	if err != nil {
		c.rt.authorizeError(w, r, ar, err)
		return
	}
	page := consentPage{
		basePage:      c.rt.pages.page(w, r, "Allow access", user),
		Flow:          flow.ID,
		ClientName:    client.Name,
		ClientInitial: initial(client.Name),
		UserName:      user.Name,
		UserEmail:     user.Email,
		RedirectHost:  ar.GetRedirectURI().Host,
	}
	for _, s := range ar.GetRequestedScopes() {
		page.Scopes = append(page.Scopes, provider.DescribeScope(s))
	}
	c.rt.pages.render(w, r, http.StatusOK, "consent", page)
}

func (c *Consent) submit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		c.rt.pages.renderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	if !c.rt.checkCSRF(r) {
		c.rt.refuseCSRF(w, r)
		return
	}
	flow, client, user, ok := c.load(w, r, r.PostForm.Get("flow"))
	if !ok {
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "allow" && decision != "deny" {
		c.rt.pages.renderError(w, r, http.StatusBadRequest, "The form could not be read", "Choose Allow or Deny.", "")
		return
	}
	// Deleting the flow first makes each flow answerable once, even when a
	// person double-clicks or replays the form.
	if deleted, err := c.store.DeleteFlow(ctx, flow.ID); err != nil {
		c.rt.log.ErrorContext(ctx, "delete flow", "err", err, "request_id", RequestID(ctx))
		c.rt.pages.renderError(w, r, statusOf(err), "Something went wrong", "Please try again in a moment.", "")
		return
	} else if !deleted {
		c.rt.pages.renderError(w, r, http.StatusConflict, "This sign-in was already answered", "Go back to the app.", "")
		return
	}
	if decision == "deny" {
		ar, err := c.rt.rebuildAuthorizeRequest(ctx, flow)
		if err == nil {
			err = fosite.ErrAccessDenied.WithHint("The user denied the request.")
		}
		c.rt.log.InfoContext(ctx, "consent denied", "request_id", RequestID(ctx), "client_id", client.ID, "user_id", user.ID)
		c.rt.authorizeError(w, r, ar, err)
		return
	}
	ar, err := c.rt.rebuildAuthorizeRequest(ctx, flow)
	if err != nil {
		c.rt.authorizeError(w, r, ar, err)
		return
	}
	if _, err := c.store.SaveConsent(ctx, user.ID, client.ID, ar.GetRequestedScopes(), r.PostForm.Get("remember") == "1"); err != nil {
		c.rt.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	c.rt.log.InfoContext(ctx, "consent granted", "request_id", RequestID(ctx), "client_id", client.ID, "user_id", user.ID,
		"scope", strings.Join(ar.GetRequestedScopes(), " "))
	authTime := flow.RequestedAt
	if flow.AuthTime != nil {
		authTime = *flow.AuthTime
	}
	c.rt.finishAuthorization(w, r, ar, user, authTime, flow.RequestedAt)
}

// initial is the letter the consent page shows as the app's avatar.
func initial(name string) string {
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(name))
	if r == utf8.RuneError {
		return "?"
	}
	return string(unicode.ToUpper(r))
}
