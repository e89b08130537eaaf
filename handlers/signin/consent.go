package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// consentStore is what the consent page needs from storage.
type consentStore interface {
	Flow(ctx context.Context, id string) (*storage.AuthFlow, error)
	DeleteFlow(ctx context.Context, id string) (bool, error)
	Client(ctx context.Context, id string) (*storage.Client, error)
	SaveConsent(ctx context.Context, c storage.Consent) (*storage.Consent, error)
	ConsentsFor(ctx context.Context, userID, clientID string) ([]storage.Consent, error)
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
	OrganizationByID(ctx context.Context, id string) (*storage.Organization, error)
}

// Consent serves the consent page: it names the app and the signed-in
// person, lists each requested scope in plain words (marking the ones the
// person has not granted the app before) and those their role leaves out,
// with why, lets a member of several organizations pick the one to act in,
// and answers the authorization request with Allow or Deny. What is
// granted is the tenancy policy's decision, never the form's.
type Consent struct {
	*site
	provider *provider.Provider
	store    consentStore
}

// Mount registers /consent.
func (c *Consent) Mount(r *mux.Router) {
	r.HandleFunc("/consent", c.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/consent", c.submit).Methods(http.MethodPost)
}

type consentScope struct {
	tenancy.Scope
	New bool // not granted to this app before
}

type consentPage struct {
	web.BasePage
	Flow          string
	ClientName    string
	ClientInitial string
	UserName      string
	UserEmail     string
	Scopes        []consentScope
	AnyNew        bool
	// Withheld are the requested scopes the person's role in the
	// organization (OrgID) leaves out of the grant, with why.
	Withheld []tenancy.Withheld
	// RolesDiffer: the person's roles differ between their organizations,
	// so what is granted depends on the one they choose.
	RolesDiffer  bool
	Orgs         []storage.MemberOrg
	OrgID        string
	RedirectHost string
	// What the app registered about itself, and who registered it.
	LogoURI, ClientURI, PolicyURI, TOSURI string
	Publisher                             string
}

// consentRequest is a flow being consented to, with what the page needs.
type consentRequest struct {
	flow    *storage.AuthFlow
	client  *storage.Client
	user    *storage.User
	session *storage.LoginSession
	orgs    []storage.MemberOrg
	ar      fosite.AuthorizeRequester
}

// load returns the flow of a consent request with its client and checks
// that the signed-in person is the one who signed in for it. On failure it
// has already answered.
func (c *Consent) load(w http.ResponseWriter, r *http.Request, flowID string) (*consentRequest, bool) {
	ctx := r.Context()
	flow, err := c.store.Flow(ctx, flowID)
	if flowID == "" || errors.Is(err, storage.ErrNotFound) {
		c.kit.RenderError(w, r, http.StatusNotFound, "This sign-in has expired", "Go back to the app and start signing in again.", "")
		return nil, false
	} else if err != nil {
		c.kit.ServerErrorPage(w, r, "load flow", err)
		return nil, false
	}
	ls, user, err := c.kit.CurrentUser(r)
	if err != nil {
		c.kit.ServerErrorPage(w, r, "load session", err)
		return nil, false
	}
	if user == nil || flow.Subject == "" {
		http.Redirect(w, r, c.kit.Base+"/login?flow="+url.QueryEscape(flow.ID), http.StatusSeeOther)
		return nil, false
	}
	if flow.Subject != user.ID {
		c.kit.RenderError(w, r, http.StatusForbidden, "This sign-in belongs to someone else",
			"You are signed in as a different person than the one who started this sign-in. Go back to the app and start again.", "")
		return nil, false
	}
	if c.mustVerify(user) {
		// Before consent and before any remembered decision or
		// first-party app answers for them (accounts.require_verified_email).
		c.verificationRequired(w, r, user, flow.ID)
		return nil, false
	}
	client, err := c.store.Client(ctx, flow.ClientID)
	if err != nil {
		c.kit.RenderError(w, r, http.StatusNotFound, "This sign-in has expired", "The app is no longer registered.", "")
		return nil, false
	}
	orgs, err := c.store.UserOrganizations(ctx, user.ID)
	if err != nil {
		c.kit.ServerErrorPage(w, r, "load organizations", err)
		return nil, false
	}
	ar, err := c.rebuildAuthorizeRequest(ctx, flow)
	if err != nil {
		c.authorizeError(w, r, ar, err)
		return nil, false
	}
	return &consentRequest{flow: flow, client: client, user: user, session: ls, orgs: orgs, ar: ar}, true
}

func (c *Consent) show(w http.ResponseWriter, r *http.Request) {
	req, ok := c.load(w, r, r.URL.Query().Get("flow"))
	if !ok {
		return
	}
	// Signing in for a first-party app, or one the person told us to
	// remember, needs no page.
	if org, given, err := c.consentGiven(r.Context(), c.store, req.ar, req.user, req.session); err != nil {
		c.kit.ServerErrorPage(w, r, "check consent", err)
		return
	} else if given {
		c.answer(w, r, req, grantOf(req, org))
		return
	}
	org, err := tenancy.Choose(req.orgs, "", req.session.OrgID)
	if err != nil {
		c.noOrganization(w, r)
		return
	}
	previous, err := c.store.ConsentsFor(r.Context(), req.user.ID, req.client.ID)
	if err != nil {
		c.kit.ServerErrorPage(w, r, "load consents", err)
		return
	}
	page := consentPage{
		BasePage:      c.kit.Page(w, r, "Allow access", req.user),
		Flow:          req.flow.ID,
		ClientName:    req.client.Name,
		ClientInitial: web.Initial(req.client.Name),
		UserName:      req.user.Name,
		UserEmail:     req.user.Email,
		RedirectHost:  req.ar.GetRedirectURI().Host,
		Orgs:          req.orgs,
		OrgID:         org.ID,
		LogoURI:       req.client.Metadata.LogoURI,
		ClientURI:     req.client.Metadata.ClientURI,
		PolicyURI:     req.client.Metadata.PolicyURI,
		TOSURI:        req.client.Metadata.TOSURI,
	}
	if req.client.OrgID != "" {
		if org, err := c.store.OrganizationByID(r.Context(), req.client.OrgID); err == nil {
			page.Publisher = org.Name
		}
	}
	granted, withheld := tenancy.Grant(org.Role, provider.ConsentScopes(req.ar))
	for _, s := range granted {
		isNew := len(previous) > 0 && !previous[0].Covers([]string{s})
		page.AnyNew = page.AnyNew || isNew
		page.Scopes = append(page.Scopes, consentScope{Scope: tenancy.Describe(s), New: isNew})
	}
	page.Withheld = withheld
	for _, o := range req.orgs {
		page.RolesDiffer = page.RolesDiffer || o.Role != org.Role
	}
	c.kit.Render(w, r, http.StatusOK, "consent", page)
}

func (c *Consent) submit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		c.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	req, ok := c.load(w, r, r.PostForm.Get("flow"))
	if !ok {
		return
	}
	decision := r.PostForm.Get("decision")
	if decision != "allow" && decision != "deny" {
		c.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Choose Allow or Deny.", "")
		return
	}
	// The form's org is only a choice among the person's organizations.
	org, err := tenancy.Choose(req.orgs, r.PostForm.Get("org"), req.session.OrgID)
	switch {
	case decision == "deny":
	case errors.Is(err, tenancy.ErrNoOrganization):
		c.noOrganization(w, r)
		return
	case err != nil:
		c.kit.RenderError(w, r, http.StatusBadRequest, "Choose one of your organizations",
			"The organization chosen is not one you belong to. Go back and choose again.", "")
		return
	}
	if !c.claim(w, r, req) {
		return
	}
	logAttrs := []any{"client_id", req.client.ID, "user_id", req.user.ID}
	if decision == "deny" {
		c.kit.Log.InfoContext(ctx, "consent denied", logAttrs...)
		c.authorizeError(w, r, req.ar, fosite.ErrAccessDenied.WithHint("The user denied the request."))
		return
	}
	// What is remembered is what was granted: scopes the role left out
	// are asked for again once the role allows them.
	granted, withheld := tenancy.Grant(org.Role, provider.ConsentScopes(req.ar))
	consent := storage.Consent{UserID: req.user.ID, OrgID: org.ID, ClientID: req.client.ID,
		Scopes: strings.Join(granted, " "), Remember: r.PostForm.Get("remember") == "1"}
	err = c.events.InTx(ctx, func(ctx context.Context) error {
		if _, err := c.store.SaveConsent(ctx, consent); err != nil {
			return err
		}
		detail := "scopes: " + consent.Scopes
		if consent.Remember {
			detail += "; remembered"
		}
		return audit.Record(ctx, c.events, audit.Person(ctx, req.user),
			audit.Event{Kind: audit.ConsentGranted, OrgID: org.ID, TargetID: req.client.ID, Target: req.client.Name, Detail: detail})
	})
	if err != nil {
		c.authorizeError(w, r, req.ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	left := make([]string, len(withheld))
	for i, w := range withheld {
		left[i] = w.Name
	}
	c.kit.Log.InfoContext(ctx, "consent granted", append(logAttrs, "org_id", org.ID, "role", org.Role, "scope", consent.Scopes,
		"withheld", strings.Join(left, " "), "remember", consent.Remember)...)
	c.finishAuthorization(w, r, req.ar, grantOf(req, org))
}

// noOrganization answers a person who belongs to no organization, for
// whom no app can act.
func (c *Consent) noOrganization(w http.ResponseWriter, r *http.Request) {
	c.kit.RenderError(w, r, http.StatusForbidden, "You are not in an organization",
		"Apps act in one of your organizations, and you belong to none. Ask an owner to add you to theirs.", "")
}

// grantOf is the grant of a consent request acting in org.
func grantOf(req *consentRequest, org storage.MemberOrg) grant {
	authTime := req.flow.RequestedAt
	if req.flow.AuthTime != nil {
		authTime = *req.flow.AuthTime
	}
	return grant{user: req.user, org: org, authTime: authTime, requestedAt: req.flow.RequestedAt}
}

// claim deletes the flow, so that each flow is answered once even when a
// person double-clicks or replays the form; false means it already was
// (and the page says so).
func (c *Consent) claim(w http.ResponseWriter, r *http.Request, req *consentRequest) bool {
	deleted, err := c.store.DeleteFlow(r.Context(), req.flow.ID)
	if err != nil {
		c.kit.ServerErrorPage(w, r, "delete flow", err)
		return false
	}
	if !deleted {
		c.kit.RenderError(w, r, http.StatusConflict, "This sign-in was already answered", "Go back to the app.", "")
	}
	return deleted
}

// answer claims the flow and answers the authorization with a code.
func (c *Consent) answer(w http.ResponseWriter, r *http.Request, req *consentRequest, g grant) {
	if c.claim(w, r, req) {
		c.finishAuthorization(w, r, req.ar, g)
	}
}
