package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

// authorizeStore is what the authorization endpoint needs from storage.
type authorizeStore interface {
	CreateFlow(ctx context.Context, f *storage.AuthFlow, ttl time.Duration) error
	SetFlowLogin(ctx context.Context, id, subject string, authTime time.Time) error
	ConsentsFor(ctx context.Context, userID, clientID string) ([]storage.Consent, error)
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
}

// Authorize is the authorization endpoint (RFC 6749 §3.1, OpenID Connect
// Core §3.1.2). It validates the request, then hands the browser to the
// sign-in and consent pages through a stored flow; consent answers it.
type Authorize struct {
	rt       *router
	provider *provider.Provider
	store    authorizeStore
	// flows is each address's budget of stored flows.
	flows addressLimiter
}

// FlowBurst is how many flows one address may start at once, then four
// a second: stored before anyone signs in, flows are what an anonymous
// client makes the server keep (audit finding 6). That leaves room for an
// office behind one address.
const FlowBurst = 300

var flowBudget = budget{burst: FlowBurst, every: 250 * time.Millisecond}

// Mount registers /authorize for GET and POST.
func (a *Authorize) Mount(r *mux.Router) {
	r.HandleFunc("/authorize", a.authorize).Methods(http.MethodGet, http.MethodPost)
}

func (a *Authorize) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := a.rt.authorizeRequest(r)
	if err != nil {
		a.rt.authorizeError(w, r, ar, err)
		return
	}
	if err := provider.CheckAuthorizeRequest(ar); err != nil {
		a.rt.authorizeError(w, r, ar, err)
		return
	}
	ls, user, err := a.rt.currentUser(r)
	if err != nil {
		a.rt.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	form := ar.GetRequestForm()
	prompts := strings.Fields(form.Get("prompt"))
	promptNone := has(prompts, "none")

	needLogin := ls == nil || has(prompts, "login")
	if ls != nil {
		if maxAge, err := strconv.Atoi(form.Get("max_age")); err == nil && maxAge >= 0 &&
			a.provider.Now().Sub(ls.AuthTime) > time.Duration(maxAge)*time.Second {
			needLogin = true
		}
	}
	if hint := form.Get("id_token_hint"); hint != "" {
		claims, err := a.provider.DecodeIDToken(ctx, hint)
		if err != nil {
			a.rt.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHint("The id_token_hint is not an ID token this server issued."))
			return
		}
		if sub, _ := claims["sub"].(string); user != nil && sub != user.ID {
			needLogin = true // someone else is signed in: the app expects the hinted user
		}
	}
	if want := claimsRequest(ar).SubjectValue(); want != "" && user != nil && want != user.ID {
		needLogin = true // the claims parameter demands another person (OpenID Connect Core §5.5.1)
	}
	requestedAt := a.provider.Now().UTC().Truncate(time.Second)
	if !needLogin {
		orgID, skip, err := consentGiven(ctx, a.store, ar, user, ls)
		if err != nil {
			a.rt.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
			return
		}
		if skip {
			a.rt.finishAuthorization(w, r, ar, grant{user: user, orgID: orgID, authTime: ls.AuthTime, requestedAt: requestedAt})
			return
		}
	}
	if promptNone {
		if needLogin {
			a.rt.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("prompt=none was asked for, but the user must sign in."))
			return
		}
		a.rt.authorizeError(w, r, ar, fosite.ErrConsentRequired.WithHint("prompt=none was asked for, but the user must consent."))
		return
	}

	if reservation, _ := a.flows.reserve(clientIP(ctx), a.provider.Now(), flowBudget); reservation == nil {
		a.rt.authorizeError(w, r, ar, fosite.ErrTemporarilyUnavailable.WithHint("Too many sign-ins were started from this address; try again in a moment."))
		return
	}
	flow := &storage.AuthFlow{
		ClientID:    ar.GetClient().GetID(),
		Form:        form.Encode(),
		RequestedAt: requestedAt,
	}
	if err := a.store.CreateFlow(ctx, flow, a.rt.opts.FlowTTL); err != nil {
		a.rt.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	if needLogin {
		target := a.rt.base + "/login?flow=" + url.QueryEscape(flow.ID)
		if hint := form.Get("login_hint"); hint != "" {
			target += "&login_hint=" + url.QueryEscape(hint)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	if err := a.store.SetFlowLogin(ctx, flow.ID, user.ID, ls.AuthTime); err != nil {
		a.rt.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	http.Redirect(w, r, a.rt.base+"/consent?flow="+url.QueryEscape(flow.ID), http.StatusSeeOther)
}

// consentLookup is what deciding whether to ask for consent reads.
type consentLookup interface {
	ConsentsFor(ctx context.Context, userID, clientID string) ([]storage.Consent, error)
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
}

// consentGiven reports whether the person need not be asked (never when
// the app sent prompt=consent): the app is
// first-party, or they ticked "remember this decision" for it with at least
// the scopes asked for now (in an organization they still belong to). It
// returns the organization to act in. A public client whose redirect URI
// another app could claim (a custom scheme, a loopback port) always asks
// again (RFC 8252 §8.6).
func consentGiven(ctx context.Context, store consentLookup, ar fosite.AuthorizeRequester, user *storage.User, ls *storage.LoginSession) (string, bool, error) {
	if has(strings.Fields(ar.GetRequestForm().Get("prompt")), "consent") {
		return "", false, nil
	}
	orgs, err := store.UserOrganizations(ctx, user.ID)
	if err != nil {
		return "", false, err
	}
	if c, ok := ar.GetClient().(*storage.Client); ok && c.FirstParty {
		return defaultOrg(orgs, ls.OrgID), true, nil
	}
	if ar.GetClient().IsPublic() && ar.GetRedirectURI().Scheme != "https" {
		return "", false, nil
	}
	consents, err := store.ConsentsFor(ctx, user.ID, ar.GetClient().GetID())
	if err != nil {
		return "", false, err
	}
	for _, c := range consents {
		if c.Remember && c.Covers(provider.ConsentScopes(ar)) && (c.OrgID == "" && len(orgs) == 0 || memberOf(orgs, c.OrgID)) {
			return c.OrgID, true, nil
		}
	}
	return "", false, nil
}

// defaultOrg is the organization a person acts in unless they choose:
// the one their session works in, else their first.
func defaultOrg(orgs []storage.MemberOrg, preferred string) string {
	if memberOf(orgs, preferred) {
		return preferred
	}
	if len(orgs) > 0 {
		return orgs[0].ID
	}
	return ""
}

func memberOf(orgs []storage.MemberOrg, orgID string) bool {
	for _, o := range orgs {
		if o.ID == orgID && orgID != "" {
			return true
		}
	}
	return false
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// authorizeError answers an authorization request that failed. When the
// client or redirect_uri cannot be trusted it shows an error page and never
// redirects; otherwise the error goes back to the client with state and
// iss (RFC 9207).
func (rt *router) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	ctx := r.Context()
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= 500 {
		rt.log.ErrorContext(ctx, "authorization failed", "request_id", RequestID(ctx), "error", rfc.ErrorField,
			"debug", rfc.DebugField, "cause", errString(rfc.Cause()))
	} else {
		rt.log.InfoContext(ctx, "authorization refused", "request_id", RequestID(ctx), "error", rfc.ErrorField, "hint", rfc.HintField)
	}
	if ar == nil || !ar.IsRedirectURIValid() {
		status := rfc.CodeField
		if status < 400 || status >= 500 || status == http.StatusUnauthorized {
			status = http.StatusBadRequest // a page has no authentication to ask for
		}
		if errors.Is(err, storage.ErrUnavailable) {
			status = http.StatusServiceUnavailable
		}
		rt.pages.renderError(w, r, status, "This sign-in link is not valid", describeAuthorizeError(rfc, authorizeForm(r, ar).Get("redirect_uri") == ""), "")
		return
	}
	params := url.Values{}
	params.Set("error", rfc.ErrorField)
	if d := rfc.GetDescription(); d != "" {
		params.Set("error_description", d)
	}
	if state := ar.GetState(); state != "" {
		params.Set("state", state)
	}
	params.Set("iss", rt.opts.Provider.Issuer())
	rt.redirectToClient(w, ar, params)
}

// redirectToClient sends parameters to the client's redirect URI in the
// response mode it asked for.
func (rt *router) redirectToClient(w http.ResponseWriter, ar fosite.AuthorizeRequester, params url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	redirect := *ar.GetRedirectURI()
	redirect.Fragment = ""
	switch ar.GetResponseMode() {
	case fosite.ResponseModeFormPost:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fosite.WriteAuthorizeFormPostResponse(redirect.String(), params, rt.pages.formPost, w)
		return
	case fosite.ResponseModeFragment:
		w.Header().Set("Location", redirect.String()+"#"+params.Encode())
	default:
		q := redirect.Query() // a registered query component is kept
		for k, vs := range params {
			q[k] = vs
		}
		redirect.RawQuery = q.Encode()
		w.Header().Set("Location", redirect.String())
	}
	w.WriteHeader(http.StatusSeeOther)
}

// authorizeForm is the parameters of the authorization request that
// failed: those fosite read (a stored flow's, on the consent page), or
// the request's own when it got no further.
func authorizeForm(r *http.Request, ar fosite.AuthorizeRequester) url.Values {
	if ar != nil && ar.GetRequestForm() != nil {
		return ar.GetRequestForm()
	}
	return r.Form
}

// describeAuthorizeError is the sentence the error page shows; noRedirect
// says the request named no redirect_uri.
func describeAuthorizeError(rfc *fosite.RFC6749Error, noRedirect bool) string {
	switch rfc.ErrorField {
	case fosite.ErrInvalidClient.ErrorField:
		return "The app that sent you here is not registered with Ajrly."
	case fosite.ErrServerError.ErrorField, "temporarily_unavailable":
		return "The server could not handle the request. Please try again in a moment."
	}
	if !strings.Contains(rfc.HintField, "redirect_uri") && !strings.Contains(rfc.HintField, "redirect url") {
		if d := rfc.GetDescription(); d != "" {
			return "The app's request is not valid: " + d
		}
		return "The app's request is not valid."
	}
	if noRedirect {
		return "The app did not say where to send you back (the redirect_uri is missing), so we stopped here."
	}
	return "The app asked to send you back to an address it has not registered, so we stopped here for your safety."
}

// claimOrg is the claim with the organization a person acted in.
const claimOrg = "org"

// sessionOrg returns the organization of a token's session.
func sessionOrg(sess fosite.Session) string {
	if s, ok := sess.(openid.Session); ok && s.IDTokenClaims() != nil {
		if org, ok := s.IDTokenClaims().Extra[claimOrg].(string); ok {
			return org
		}
	}
	return ""
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// grant is who allowed an authorization: the person, the organization they
// act in ("" without one), when they signed in and when the app asked.
type grant struct {
	user                  *storage.User
	orgID                 string
	authTime, requestedAt time.Time
}

// finishAuthorization answers an authorization the person consented to:
// it grants the requested scopes and redirects to the client with the code.
func (rt *router) finishAuthorization(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, g grant) {
	ctx := r.Context()
	p := rt.opts.Provider
	for _, s := range ar.GetRequestedScopes() {
		ar.GrantScope(s)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	session := newSession(g, ar.GetGrantedScopes(), claimsRequest(ar), p.Issuer())
	resp, err := p.OAuth2().NewAuthorizeResponse(ctx, ar, session)
	if err != nil {
		rt.authorizeError(w, r, ar, err)
		return
	}
	params := resp.GetParameters()
	params.Set("iss", p.Issuer())
	rt.redirectToClient(w, ar, params)
}

// authorizeRequest parses an authorization request. A request object (the
// request or request_uri parameter) is verified and its parameters take
// the place of the query's; when it fails, the error goes where the
// query's own client_id and redirect_uri allow.
func (rt *router) authorizeRequest(r *http.Request) (fosite.AuthorizeRequester, error) {
	ctx := r.Context()
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		return nil, fosite.ErrInvalidRequest.WithHint("The request body could not be read.").WithWrap(err)
	}
	// Only the known parameters, each capped, are parsed and stored
	// (provider.AuthorizeParameters); a refusal goes where the query's own
	// client_id and redirect_uri allow.
	if r.Form.Get("request") == "" && r.Form.Get("request_uri") == "" {
		form, err := provider.AuthorizeParameters(r.Form)
		if err != nil {
			ar, _ := rt.parseAuthorizeForm(ctx, provider.RedirectParameters(r.Form).Encode())
			return ar, err
		}
		r.Form = form
		return rt.opts.Provider.OAuth2().NewAuthorizeRequest(ctx, r)
	}
	form, err := rt.opts.Provider.ResolveRequestObject(ctx, r.Form)
	if err != nil {
		ar, _ := rt.parseAuthorizeForm(ctx, provider.RedirectParameters(r.Form).Encode())
		return ar, err
	}
	params, err := provider.AuthorizeParameters(form)
	if err != nil { // the object verified: its parameters say where to
		ar, _ := rt.parseAuthorizeForm(ctx, provider.RedirectParameters(form).Encode())
		return ar, err
	}
	return rt.parseAuthorizeForm(ctx, params.Encode())
}

// rebuildAuthorizeRequest parses a stored authorization request again (its
// request object, if any, was resolved before it was stored).
func (rt *router) rebuildAuthorizeRequest(ctx context.Context, flow *storage.AuthFlow) (fosite.AuthorizeRequester, error) {
	return rt.parseAuthorizeForm(ctx, flow.Form)
}

func (rt *router) parseAuthorizeForm(ctx context.Context, query string) (fosite.AuthorizeRequester, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rt.url("/authorize")+"?"+query, nil)
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	return rt.opts.Provider.OAuth2().NewAuthorizeRequest(ctx, req)
}

// claimsRequest returns the request's claims parameter; /authorize
// rejected one that does not parse, so a stored request's always does.
func claimsRequest(ar fosite.AuthorizeRequester) *provider.ClaimsRequest {
	c, err := provider.ParseClaimsRequest(ar.GetRequestForm().Get("claims"))
	if err != nil {
		return &provider.ClaimsRequest{}
	}
	return c
}

// newSession builds the fosite session of an authorization: the ID token's
// claims (with the standard claims the scopes release, those the claims
// parameter asked for in it, and the organization), the subject, and the
// claims UserInfo must add. Introspection and UserInfo read the org claim
// back from it.
func newSession(g grant, scopes fosite.Arguments, claims *provider.ClaimsRequest, issuer string) *provider.Session {
	extra := UserClaims(g.user, scopes, claims.IDTokenClaims()...)
	delete(extra, "sub")
	if g.orgID != "" {
		extra[claimOrg] = g.orgID
	}
	return &provider.Session{DefaultSession: openid.DefaultSession{
		Subject:  g.user.ID,
		Username: g.user.Email,
		Claims: &jwt.IDTokenClaims{
			Issuer:                          issuer,
			Subject:                         g.user.ID,
			AuthTime:                        g.authTime.UTC().Truncate(time.Second),
			RequestedAt:                     g.requestedAt.UTC().Truncate(time.Second),
			AuthenticationMethodsReferences: []string{"pwd"},
			Extra:                           extra,
		},
		Headers: &jwt.Headers{},
	}, UserinfoClaims: claims.UserinfoClaims()}
}
