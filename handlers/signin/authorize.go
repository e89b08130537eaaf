package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/authflow"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
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
	*site
	provider *provider.Provider
	store    authorizeStore
	// flows is each address's budget of stored flows.
	flows web.AddressLimiter
}

// FlowBurst is how many flows one address may start at once, then four
// a second: stored before anyone signs in, flows are what an anonymous
// client makes the server keep (audit finding 6). That leaves room for an
// office behind one address.
const FlowBurst = 300

var flowBudget = web.Budget{Burst: FlowBurst, Every: 250 * time.Millisecond}

// Mount registers /authorize for GET and POST.
func (a *Authorize) Mount(r *mux.Router) {
	r.HandleFunc("/authorize", a.authorize).Methods(http.MethodGet, http.MethodPost)
}

func (a *Authorize) authorize(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ar, err := a.authorizeRequest(r)
	if err != nil {
		a.authorizeError(w, r, ar, err)
		return
	}
	if err := provider.CheckAuthorizeRequest(ar); err != nil {
		a.authorizeError(w, r, ar, err)
		return
	}
	ls, user, err := a.kit.CurrentUser(r)
	if err != nil {
		a.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	form := ar.GetRequestForm()
	subject, err := a.requiredSubject(ctx, ar)
	if errors.Is(err, provider.ErrNotIDToken) {
		a.authorizeError(w, r, ar, fosite.ErrInvalidRequest.WithHint("The id_token_hint is not an ID token this server issued."))
		return
	} else if err != nil {
		a.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	req := authflow.Request{Prompt: form.Get("prompt"), MaxAge: form.Get("max_age"), Subject: subject}
	session := authflow.Session{}
	if ls != nil && user != nil {
		session = authflow.Session{UserID: user.ID, AuthTime: ls.AuthTime}
	}
	needLogin := authflow.NeedsLogin(req, session, a.provider.Now())
	requestedAt := a.provider.Now().UTC().Truncate(time.Second)
	var (
		org   storage.MemberOrg
		given bool
	)
	if !needLogin {
		if org, given, err = a.consentGiven(ctx, a.store, ar, user, ls); err != nil {
			a.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
			return
		}
	}
	switch authflow.Decide(req, needLogin, a.mustVerify(user), given) {
	case authflow.Answer:
		a.finishAuthorization(w, r, ar, grant{user: user, org: org, authTime: ls.AuthTime, requestedAt: requestedAt})
		return
	case authflow.LoginRequired:
		a.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("prompt=none was asked for, but the user must sign in."))
		return
	case authflow.ConsentRequired:
		a.authorizeError(w, r, ar, fosite.ErrConsentRequired.WithHint("prompt=none was asked for, but the user must consent."))
		return
	case authflow.VerificationRequired:
		a.authorizeError(w, r, ar, fosite.ErrInteractionRequired.WithHint("prompt=none was asked for, but the user must verify their email address first."))
		return
	}
	// ShowLogin, ShowConsent and VerifyEmail go on through a stored flow:
	// the consent page tells an unverified person to verify first.

	if reservation, _ := a.flows.Reserve(web.ClientIP(ctx), a.provider.Now(), flowBudget); reservation == nil {
		a.authorizeError(w, r, ar, fosite.ErrTemporarilyUnavailable.WithHint("Too many sign-ins were started from this address; try again in a moment."))
		return
	}
	flow := &storage.AuthFlow{
		ClientID:    ar.GetClient().GetID(),
		Form:        form.Encode(),
		RequestedAt: requestedAt,
	}
	if err := a.store.CreateFlow(ctx, flow, a.kit.FlowTTL); err != nil {
		a.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	if needLogin {
		target := a.kit.Base + "/login?flow=" + url.QueryEscape(flow.ID)
		if hint := form.Get("login_hint"); hint != "" {
			target += "&login_hint=" + url.QueryEscape(hint)
		}
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	if err := a.store.SetFlowLogin(ctx, flow.ID, user.ID, ls.AuthTime); err != nil {
		a.authorizeError(w, r, ar, fosite.ErrServerError.WithWrap(err))
		return
	}
	http.Redirect(w, r, a.kit.Base+"/consent?flow="+url.QueryEscape(flow.ID), http.StatusSeeOther)
}

// consentLookup is what deciding whether to ask for consent reads.
type consentLookup interface {
	ConsentsFor(ctx context.Context, userID, clientID string) ([]storage.Consent, error)
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
}

// consentGiven gathers what deciding whether to ask for consent needs —
// the person's organizations and remembered decisions, what the operator
// says of the client — and decides with authflow.Consent. It returns the
// organization the person acts in.
func (s *site) consentGiven(ctx context.Context, store consentLookup, ar fosite.AuthorizeRequester, user *storage.User, ls *storage.LoginSession) (storage.MemberOrg, bool, error) {
	req := authflow.Request{Prompt: ar.GetRequestForm().Get("prompt")}
	if req.Prompted("consent") {
		return storage.MemberOrg{}, false, nil // no need to look anything up
	}
	orgs, err := store.UserOrganizations(ctx, user.ID)
	if err != nil {
		return storage.MemberOrg{}, false, err
	}
	facts := authflow.ConsentFacts{
		ClaimableRedirect: ar.GetClient().IsPublic() && ar.GetRedirectURI().Scheme != "https",
		Scopes:            provider.ConsentScopes(ar),
		Orgs:              orgs,
		SessionOrg:        ls.OrgID,
	}
	if c, ok := ar.GetClient().(*storage.Client); ok {
		facts.FirstParty = s.kit.FirstParty(c)
	}
	if !facts.FirstParty && !facts.ClaimableRedirect {
		if facts.Consents, err = store.ConsentsFor(ctx, user.ID, ar.GetClient().GetID()); err != nil {
			return storage.MemberOrg{}, false, err
		}
	}
	org, given := authflow.Consent(req, facts)
	return org, given, nil
}

// authorizeError answers an authorization request that failed. When the
// client or redirect_uri cannot be trusted it shows an error page and never
// redirects; otherwise the error goes back to the client with state and
// iss (RFC 9207).
func (s *site) authorizeError(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, err error) {
	ctx := r.Context()
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.CodeField >= 500 {
		s.kit.Log.ErrorContext(ctx, "authorization failed", "error", rfc.ErrorField,
			"debug", rfc.DebugField, "cause", errString(rfc.Cause()))
	} else {
		s.kit.Log.InfoContext(ctx, "authorization refused", "error", rfc.ErrorField, "hint", rfc.HintField)
	}
	if ar == nil || !ar.IsRedirectURIValid() {
		status := rfc.CodeField
		if status < 400 || status >= 500 || status == http.StatusUnauthorized {
			status = http.StatusBadRequest // a page has no authentication to ask for
		}
		if errors.Is(err, storage.ErrUnavailable) {
			status = http.StatusServiceUnavailable
		}
		s.kit.RenderError(w, r, status, "This sign-in link is not valid", describeAuthorizeError(rfc, authorizeForm(r, ar), ar), "")
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
	params.Set("iss", s.kit.Provider.Issuer())
	s.redirectToClient(w, ar, params)
}

// redirectToClient sends parameters to the client's redirect URI in the
// response mode it asked for.
func (s *site) redirectToClient(w http.ResponseWriter, ar fosite.AuthorizeRequester, params url.Values) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	redirect := *ar.GetRedirectURI()
	redirect.Fragment = ""
	switch ar.GetResponseMode() {
	case fosite.ResponseModeFormPost:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fosite.WriteAuthorizeFormPostResponse(redirect.String(), params, s.kit.FormPost(), w)
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

// authorizePageSentences are what the error page says for each error
// code. The page never shows fosite's description or hint: they carry
// values from the request (a request object's alg, say), which would let
// anyone put their words on our page; the hint goes to the log.
var authorizePageSentences = map[string]string{
	"invalid_request":           "The app's request is not valid, so we stopped here.",
	"invalid_scope":             "The app asked for permissions that are not valid, so we stopped here.",
	"unsupported_response_type": "The app asked for a kind of answer Ajrly does not give, so we stopped here.",
	"unsupported_response_mode": "The app asked for a kind of answer Ajrly does not give, so we stopped here.",
	"unauthorized_client":       "The app is not allowed to sign you in this way, so we stopped here.",
	"access_denied":             "The sign-in was refused.",
	"invalid_request_object":    "The app's signed request could not be verified, so we stopped here.",
	"request_not_supported":     "The app's signed request could not be verified, so we stopped here.",
	"invalid_request_uri":       "The app's request could not be loaded from the address it gave, so we stopped here.",
	"request_uri_not_supported": "The app's request could not be loaded from the address it gave, so we stopped here.",
}

// describeAuthorizeError is the sentence the error page shows: fixed
// sentences, chosen by the error code and by what the request named
// (form, ar), never fosite's words.
func describeAuthorizeError(rfc *fosite.RFC6749Error, form url.Values, ar fosite.AuthorizeRequester) string {
	switch rfc.ErrorField {
	case fosite.ErrInvalidClient.ErrorField:
		return "The app that sent you here is not registered with Ajrly."
	case fosite.ErrServerError.ErrorField, "temporarily_unavailable":
		return "The server could not handle the request. Please try again in a moment."
	case fosite.ErrInvalidRequestObject.ErrorField, fosite.ErrRequestNotSupported.ErrorField,
		fosite.ErrInvalidRequestURI.ErrorField, fosite.ErrRequestURINotSupported.ErrorField:
		return authorizePageSentences[rfc.ErrorField]
	}
	raw := form.Get("redirect_uri")
	if raw == "" {
		return "The app did not say where to send you back (the redirect_uri is missing), so we stopped here."
	}
	if ar != nil && ar.GetClient() != nil && ar.GetClient().GetID() != "" {
		if u, err := fosite.MatchRedirectURIWithClientRedirectURIs(raw, ar.GetClient()); err != nil || !fosite.IsValidRedirectURI(u) {
			return "The app asked to send you back to an address it has not registered, so we stopped here for your safety."
		}
	}
	if sentence, ok := authorizePageSentences[rfc.ErrorField]; ok {
		return sentence
	}
	return authorizePageSentences["invalid_request"]
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// grant is who allowed an authorization: the person, the organization
// they act in (always one of theirs, chosen by tenancy.Choose), when they
// signed in and when the app asked.
type grant struct {
	user                  *storage.User
	org                   storage.MemberOrg
	authTime, requestedAt time.Time
}

// finishAuthorization answers an authorization the person consented to:
// it grants the requested scopes their role in the organization may hold
// (the token response's scope then says which, RFC 6749 §3.3) and
// redirects to the client with the code. It is the one place every path
// to a code goes through, so the person the app demanded (claims sub,
// id_token_hint) is checked here too.
func (s *site) finishAuthorization(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, g grant) {
	ctx := r.Context()
	p := s.kit.Provider
	if want, err := s.requiredSubject(ctx, ar); err != nil || want != "" && want != g.user.ID {
		// OpenID Connect Core §3.1.2.1 and §5.5.1: never a code for
		// someone else than the person the app asked for.
		s.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("The app asked for a different person than the one who signed in."))
		return
	}
	if s.mustVerify(g.user) {
		// The consent page stops them first; this is the last line.
		s.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("The person has not verified their email address."))
		return
	}
	if g.org.ID == "" || !tenancy.ValidRole(g.org.Role) {
		s.authorizeError(w, r, ar, fosite.ErrAccessDenied.WithHint("The person belongs to no organization to act in."))
		return
	}
	granted, _ := tenancy.Grant(g.org.Role, ar.GetRequestedScopes())
	for _, s := range granted {
		ar.GrantScope(s)
	}
	for _, a := range ar.GetRequestedAudience() {
		ar.GrantAudience(a)
	}
	session := provider.NewAuthSession(provider.Authorization{User: g.user, OrgID: g.org.ID, AuthTime: g.authTime, RequestedAt: g.requestedAt},
		ar.GetGrantedScopes(), claimsRequest(ar), p.Issuer())
	resp, err := p.OAuth2().NewAuthorizeResponse(ctx, ar, session)
	if err != nil {
		s.authorizeError(w, r, ar, err)
		return
	}
	params := resp.GetParameters()
	params.Set("iss", p.Issuer())
	s.redirectToClient(w, ar, params)
}

// authorizeRequest parses an authorization request. A request object (the
// request or request_uri parameter) is verified and its parameters take
// the place of the query's; when it fails, the error goes where the
// query's own client_id and redirect_uri allow.
func (s *site) authorizeRequest(r *http.Request) (fosite.AuthorizeRequester, error) {
	ctx := r.Context()
	// The body is capped by the kit's MaxBytesReader (maxAuthorizeBodyBytes).
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) { //nolint:gosec // G120: capped by web.Kit.Wrap
		return nil, fosite.ErrInvalidRequest.WithHint("The request body could not be read.").WithWrap(err)
	}
	// Only the known parameters, each capped, are parsed and stored
	// (provider.AuthorizeParameters); a refusal goes where the query's own
	// client_id and redirect_uri allow.
	if r.Form.Get("request") == "" && r.Form.Get("request_uri") == "" {
		form, err := provider.AuthorizeParameters(r.Form)
		if err != nil {
			ar, _ := s.parseAuthorizeForm(ctx, provider.RedirectParameters(r.Form).Encode())
			return ar, err
		}
		r.Form = form
		return s.kit.Provider.OAuth2().NewAuthorizeRequest(ctx, r)
	}
	form, err := s.kit.Provider.ResolveRequestObject(ctx, r.Form)
	if err != nil {
		ar, _ := s.parseAuthorizeForm(ctx, provider.RedirectParameters(r.Form).Encode())
		return ar, err
	}
	params, err := provider.AuthorizeParameters(form)
	if err != nil { // the object verified: its parameters say where to
		ar, _ := s.parseAuthorizeForm(ctx, provider.RedirectParameters(form).Encode())
		return ar, err
	}
	return s.parseAuthorizeForm(ctx, params.Encode())
}

// rebuildAuthorizeRequest parses a stored authorization request again (its
// request object, if any, was resolved before it was stored).
func (s *site) rebuildAuthorizeRequest(ctx context.Context, flow *storage.AuthFlow) (fosite.AuthorizeRequester, error) {
	return s.parseAuthorizeForm(ctx, flow.Form)
}

func (s *site) parseAuthorizeForm(ctx context.Context, query string) (fosite.AuthorizeRequester, error) {
	// Never sent: fosite parses authorization requests from an *http.Request.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.kit.URL("/authorize")+"?"+query, nil) //nolint:gosec // G704: not sent
	if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	return s.kit.Provider.OAuth2().NewAuthorizeRequest(ctx, req)
}

// requiredSubject returns the person an authorization request demands
// ("" for anyone): the sub its claims parameter asks for with a value
// (OpenID Connect Core §5.5.1), else the subject of its id_token_hint
// (§3.1.2.1). A hint that is not an ID token of ours is
// provider.ErrNotIDToken.
func (s *site) requiredSubject(ctx context.Context, ar fosite.AuthorizeRequester) (string, error) {
	if want := claimsRequest(ar).SubjectValue(); want != "" {
		return want, nil
	}
	hint := ar.GetRequestForm().Get("id_token_hint")
	if hint == "" {
		return "", nil
	}
	claims, err := s.kit.Provider.DecodeIDToken(ctx, hint)
	if err != nil {
		return "", err
	}
	sub, _ := claims["sub"].(string)
	return sub, nil
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
