// The OpenID Connect Basic OP certification plan's vocabulary: its
// provider and client (basicOP), the flows and checks its modules share,
// and the browser half of the plan (basicBrowserOP).

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The person who signs in during the plan.
const (
	basicEmail    = "alice@example.com"
	basicPassword = "correct horse battery"
	basicName     = "Alice Example"
)

// basicScopes are what the plan's client registers: every OpenID scope
// the provider offers.
var basicScopes = []string{"openid", "profile", "email", "offline_access"}

// basicOP is a provider set up as the plan expects: one person who can
// sign in and one confidential client, authenticating with
// client_secret_basic, whose redirect URI nothing listens on (the agent
// stops there).
type basicOP struct {
	s    *server
	app  *webApp
	user *storage.User
}

// newBasicOP starts a server on backend b with the plan's person and
// static client.
func newBasicOP(t *testing.T, b storagetest.Backend, opts ...func(*serverOptions)) *basicOP {
	t.Helper()
	return newBasicOPAt(t, b, "http://"+freePort(t)+"/callback", opts...)
}

// newBasicOPAt is newBasicOP with the client's redirect URI.
func newBasicOPAt(t *testing.T, b storagetest.Backend, redirect string, opts ...func(*serverOptions)) *basicOP {
	t.Helper()
	s := newServer(t, b, opts...)
	user := s.createUser(t, basicEmail, basicPassword, basicName)
	app := newWebAppWith(t, s, clients.Spec{
		Name:         "Conformance Client",
		RedirectURIs: []string{redirect},
		Scopes:       basicScopes,
	})
	app.config.Endpoint.AuthStyle = oauth2.AuthStyleInHeader
	return &basicOP{s: s, app: app, user: user}
}

// basicRegisteredOP is newBasicOP whose client registered itself at
// /register (open mode), as the dynamic variants of the plan's modules do;
// change adjusts the client metadata (nil removes a member).
func basicRegisteredOP(t *testing.T, b storagetest.Backend, change map[string]any, opts ...func(*serverOptions)) *basicOP {
	t.Helper()
	s := newServer(t, b, append([]func(*serverOptions){withRegistration("open")}, opts...)...)
	user := s.createUser(t, basicEmail, basicPassword, basicName)
	return &basicOP{s: s, app: basicRegister(t, s, change), user: user}
}

// basicRegister registers a client_secret_basic code-flow client at
// /register and sets up its client libraries.
func basicRegister(t *testing.T, s *server, change map[string]any) *webApp {
	t.Helper()
	meta := map[string]any{
		"client_name":                "Conformance Client",
		"redirect_uris":              []string{"http://" + freePort(t) + "/callback"},
		"grant_types":                []string{"authorization_code"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": "client_secret_basic",
		"scope":                      strings.Join(basicScopes, " "),
	}
	for k, v := range change {
		if v == nil {
			delete(meta, k)
		} else {
			meta[k] = v
		}
	}
	app := s.appFor(t, s.register(t, meta), oauth2.AuthStyleInHeader)
	app.config.Scopes = basicScopes
	return app
}

// params returns an authorization request as the suite builds it:
// response_type=code, client_id, redirect_uri, scope, and a fresh state
// and nonce. No PKCE: the plan's client is confidential.
func (op *basicOP) params(t *testing.T, scope string) url.Values {
	t.Helper()
	return url.Values{
		"response_type": {"code"},
		"client_id":     {op.app.id},
		"redirect_uri":  {op.app.redirect},
		"scope":         {scope},
		"state":         {randomString(t)},
		"nonce":         {randomString(t)},
	}
}

// authURL is the authorization endpoint with q as its query.
func (op *basicOP) authURL(q url.Values) string {
	return op.app.oidc.Endpoint().AuthURL + "?" + q.Encode()
}

// authorize runs q through the pages in a fresh agent (sign in, allow)
// and returns the redirect to the client.
func (op *basicOP) authorize(t *testing.T, q url.Values) *url.URL {
	t.Helper()
	return op.s.newAgent(t).authorize(op.authURL(q), basicEmail, basicPassword, "allow")
}

// code checks a successful authorization response (OpenID Connect Core
// §3.1.2.5): it reached the registered redirect URI with the request's
// state, the issuer (RFC 9207), no error, and a code long and random
// enough (RFC 6749 §10.10: 128 bits; the suite accepts 96 bits of Shannon
// entropy). It returns the code.
func (op *basicOP) code(t *testing.T, loc *url.URL, state string) string {
	t.Helper()
	if loc == nil {
		t.Fatal("no redirect to the client")
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != op.app.redirect {
		t.Fatalf("the response went to %s, want the registered redirect URI %s", loc, op.app.redirect)
	}
	q := loc.Query()
	if q.Has("error") {
		t.Fatalf("the authorization failed: error=%q error_description=%q", q.Get("error"), q.Get("error_description"))
	}
	if got := q.Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}
	if got := q.Get("iss"); got != op.s.URL {
		t.Errorf("iss = %q, want %q (RFC 9207)", got, op.s.URL)
	}
	code := q.Get("code")
	if !strings.HasPrefix(code, provider.PrefixAuthorizeCode) {
		t.Fatalf("code %q does not start with %s (redirect %s)", code, provider.PrefixAuthorizeCode, loc)
	}
	if bits := len(code) * 8; bits < 128 {
		t.Errorf("the code has %d bits, want at least 128", bits)
	}
	if bits := basicEntropy(code); bits <= 96 {
		t.Errorf("the code has %.0f bits of Shannon entropy, want more than 96", bits)
	}
	return code
}

// basicEntropy is a string's Shannon entropy in bits, as the suite
// estimates it: bits per character times the length.
func basicEntropy(s string) float64 {
	counts := map[rune]int{}
	n := 0
	for _, r := range s {
		counts[r]++
		n++
	}
	var e float64
	for _, c := range counts {
		p := float64(c) / float64(n)
		e -= p * math.Log2(p)
	}
	return e * float64(n)
}

// exchange redeems a code with x/oauth2 and checks the token response
// (RFC 6749 §5.1): a Bearer access token that expires, and an ID token.
func (op *basicOP) exchange(t *testing.T, code string, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	tok, err := op.app.config.Exchange(t.Context(), code, opts...)
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Errorf("token_type = %q, want Bearer", tok.TokenType)
	}
	if tok.ExpiresIn <= 0 {
		t.Errorf("expires_in = %d, want a positive number of seconds", tok.ExpiresIn)
	}
	return tok
}

// idToken verifies the token response's ID token as the suite does: its
// signature by the JWKS key its kid names, iss, aud, exp, iat, nonce (when
// one was sent; none may appear otherwise), at_hash and sub (the plan's
// person). It returns the token and its claims.
func (op *basicOP) idToken(t *testing.T, tok *oauth2.Token, nonce string) (*oidc.IDToken, map[string]any) {
	t.Helper()
	idt := verifyIDToken(t, op.app, tok, nonce)
	raw := tok.Extra("id_token").(string)
	alg, kid := basicJOSEHeader(t, raw)
	if kid == "" {
		t.Errorf("the ID token's header has no kid (OpenID Connect Core §10.1); alg %s", alg)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != op.user.ID {
		t.Errorf("sub = %q, want %q", idt.Subject, op.user.ID)
	}
	if iat, _ := claims["iat"].(float64); iat == 0 {
		t.Errorf("the ID token has no iat: %v", claims)
	}
	if nonce == "" && claims["nonce"] != nil {
		t.Errorf("the ID token has nonce %v, but none was sent", claims["nonce"])
	}
	return idt, claims
}

// basicJOSEHeader returns the alg and kid of a signed JWT.
func basicJOSEHeader(t *testing.T, raw string) (alg, kid string) {
	t.Helper()
	jws, err := jose.ParseSigned(raw)
	if err != nil || len(jws.Signatures) != 1 {
		t.Fatalf("parse the JWS %q: %v", raw, err)
	}
	h := jws.Signatures[0].Header
	return h.Algorithm, h.KeyID
}

// userinfo calls the UserInfo endpoint (OpenID Connect Core §5.3.1) with
// an access token: by GET or by POST, in the Authorization header or, for
// POST, in the form body (RFC 6750 §2.2). It returns the answer.
func (op *basicOP) userinfo(t *testing.T, method, accessToken string, inBody bool) (*http.Response, map[string]any) {
	t.Helper()
	var body io.Reader
	if inBody {
		body = strings.NewReader(url.Values{"access_token": {accessToken}}.Encode())
	}
	req, err := http.NewRequestWithContext(t.Context(), method, op.app.oidc.UserInfoEndpoint(), body)
	if err != nil {
		t.Fatal(err)
	}
	if inBody {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Header.Set("Authorization", "Bearer "+accessToken)
	}
	return doJSON(t, req)
}

// wantUserinfo checks a successful UserInfo answer: 200, JSON, not cached,
// and the sub of the ID token (OpenID Connect Core §5.3.2). It returns the
// claims.
func (op *basicOP) wantUserinfo(t *testing.T, resp *http.Response, claims map[string]any, idt *oidc.IDToken) map[string]any {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: status %d: %v", resp.StatusCode, claims)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("userinfo Content-Type = %q, want application/json", ct)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("userinfo Cache-Control = %q, want no-store", cc)
	}
	if claims["sub"] != idt.Subject {
		t.Errorf("userinfo sub = %v, want the ID token's %q", claims["sub"], idt.Subject)
	}
	return claims
}

// flow runs the whole happy flow of q: authorization, code, exchange, ID
// token, UserInfo by GET (the plan's protected resource). It returns the
// tokens, the ID token and the UserInfo claims.
func (op *basicOP) flow(t *testing.T, q url.Values) (*oauth2.Token, *oidc.IDToken, map[string]any) {
	t.Helper()
	code := op.code(t, op.authorize(t, q), q.Get("state"))
	tok := op.exchange(t, code)
	idt, _ := op.idToken(t, tok, q.Get("nonce"))
	resp, claims := op.userinfo(t, http.MethodGet, tok.AccessToken, false)
	return tok, idt, op.wantUserinfo(t, resp, claims, idt)
}

// wantErrorRedirect checks an authorization error sent back to the
// client (RFC 6749 §4.1.2.1) straight from /authorize, without a page: a
// redirect to the registered URI with an error among want, the request's
// state, iss, no code, and a description in the allowed characters. It
// returns the error.
func (op *basicOP) wantErrorRedirect(t *testing.T, p page, state string, want ...string) string {
	t.Helper()
	loc := redirectOf(p)
	if p.status != http.StatusSeeOther || loc == nil {
		t.Fatalf("status %d at %s, want a redirect to the client:\n%.500s", p.status, p.url, p.body)
	}
	if p.url.Path != "/authorize" {
		t.Errorf("the answer came from %s, want /authorize itself (no page on the way)", p.url.Path)
	}
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != op.app.redirect {
		t.Fatalf("the error went to %s, want the registered redirect URI %s", loc, op.app.redirect)
	}
	q := loc.Query()
	if !slices.Contains(want, q.Get("error")) {
		t.Errorf("error = %q (%s), want one of %v", q.Get("error"), q.Get("error_description"), want)
	}
	if got := q.Get("state"); got != state {
		t.Errorf("state = %q, want %q unchanged", got, state)
	}
	if got := q.Get("iss"); got != op.s.URL {
		t.Errorf("iss = %q, want %q (RFC 9207)", got, op.s.URL)
	}
	if q.Has("code") {
		t.Errorf("an error response carries a code: %s", loc)
	}
	basicCheckDescription(t, q.Get("error_description"))
	return q.Get("error")
}

// basicCheckDescription checks an error_description against RFC 6749
// §4.1.2.1 and §5.2: %x20-21 / %x23-5B / %x5D-7E, so no CR, LF or TAB.
func basicCheckDescription(t *testing.T, desc string) {
	t.Helper()
	for _, r := range desc {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			t.Errorf("error_description %q has the character %q, outside RFC 6749's set", desc, r)
			return
		}
	}
}

// basicWantTokenError checks a token endpoint error (RFC 6749 §5.2): 400,
// JSON, the error code, a description in the allowed characters and, if
// any, an absolute error_uri.
func basicWantTokenError(t *testing.T, resp *http.Response, body map[string]any, want string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400: %v", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if body["error"] != want {
		t.Errorf("error = %v (%v), want %s", body["error"], body["error_description"], want)
	}
	desc, _ := body["error_description"].(string)
	basicCheckDescription(t, desc)
	if raw, ok := body["error_uri"].(string); ok {
		if u, err := url.Parse(raw); err != nil || !u.IsAbs() {
			t.Errorf("error_uri %q is not an absolute URI", raw)
		}
	}
}

// basicDiscovery fetches the discovery document.
func basicDiscovery(t *testing.T, s *server) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+"/.well-known/openid-configuration", nil)
	resp, body := doJSON(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("discovery: status %d", resp.StatusCode)
	}
	return body
}

// basicStrings reads a discovery member that is a list of strings.
func basicStrings(doc map[string]any, member string) []string {
	list, _ := doc[member].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// basicAllowRemembering answers the consent page p with Allow and "remember
// this decision", so that later prompt=none requests need no page.
func basicAllowRemembering(t *testing.T, a *agent, p page) *url.URL {
	t.Helper()
	if p.url.Path != "/consent" {
		t.Fatalf("expected the consent page, got %s (status %d)", p.url, p.status)
	}
	p = a.post(a.s.URL+"/consent", url.Values{"csrf_token": {p.csrf(t)}, "flow": {p.flow()}, "decision": {"allow"}, "remember": {"1"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("consent answered %d, want a redirect to the client", p.status)
	}
	return redirectOf(p)
}

// basicAuthTime reads the auth_time of an ID token and fails without one.
func basicAuthTime(t *testing.T, claims map[string]any) int64 {
	t.Helper()
	at, ok := claims["auth_time"].(float64)
	if !ok || at == 0 {
		t.Fatalf("the ID token has no auth_time: %v", claims)
	}
	return int64(at)
}

// basicUnsigned is an unsigned JWT (alg none, empty signature), as the
// suite serializes request objects with a null algorithm.
func basicUnsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding
	return enc.EncodeToString([]byte(`{"alg":"none"}`)) + "." + enc.EncodeToString(payload) + "."
}

// basicRequestObject turns an authorization request into request object
// claims (every parameter), and returns the query to send beside it:
// response_type, client_id, scope and redirect_uri, which OpenID Connect
// Core §6.1 and RFC 6749 §3.1.2.3 want in the query too.
func basicRequestObject(q url.Values) (claims map[string]any, query url.Values) {
	claims = map[string]any{}
	query = url.Values{}
	for k := range q {
		claims[k] = q.Get(k)
		if k == "response_type" || k == "client_id" || k == "scope" || k == "redirect_uri" {
			query.Set(k, q.Get(k))
		}
	}
	return claims, query
}

// basicRecorder is a transport that records each request x/oauth2 makes
// and the answer's status and headers, so a test can see how the client
// authenticated and how the token endpoint answered.
type basicRecorder struct {
	mu    sync.Mutex
	calls []basicCall
}

// basicCall is one recorded request and its answer.
type basicCall struct {
	authorization string
	form          url.Values
	status        int
	header        http.Header
}

func (r *basicRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	var raw []byte
	if req.Body != nil {
		raw, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(raw))
	}
	form, _ := url.ParseQuery(string(raw))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.calls = append(r.calls, basicCall{authorization: req.Header.Get("Authorization"), form: form, status: resp.StatusCode, header: resp.Header.Clone()})
	r.mu.Unlock()
	return resp, nil
}

// context returns ctx with the recorder as x/oauth2's HTTP client.
func (r *basicRecorder) context(ctx context.Context) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Transport: r})
}

// last returns the last recorded call.
func (r *basicRecorder) last(t *testing.T) basicCall {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.calls) == 0 {
		t.Fatal("x/oauth2 made no request")
	}
	return r.calls[len(r.calls)-1]
}

// basicWantEmailClaims checks the claims of scope email (OpenID Connect
// Core §5.4), with email_verified a boolean (§5.1).
func basicWantEmailClaims(t *testing.T, info map[string]any) {
	t.Helper()
	if info["email"] != basicEmail {
		t.Errorf("userinfo email = %v, want %q", info["email"], basicEmail)
	}
	if _, ok := info["email_verified"].(bool); !ok {
		t.Errorf("userinfo email_verified = %#v, want a boolean", info["email_verified"])
	}
}

// basicUnsupportedScope shows what a client meets asking for a scope the
// provider does not offer: discovery does not advertise it (so the
// suite's module skips), a client cannot register it, and an
// authorization request with it comes back as invalid_scope before any
// page.
func basicUnsupportedScope(t *testing.T, b storagetest.Backend, scope string, unsupported ...string) {
	t.Helper()
	op := newBasicOP(t, b, withRegistration("open"))
	supported := basicStrings(basicDiscovery(t, op.s), "scopes_supported")
	for _, u := range unsupported {
		if slices.Contains(supported, u) {
			t.Errorf("scopes_supported %v advertises %s", supported, u)
		}
	}
	resp, body := op.s.registrationCall(t, http.MethodPost, "/register", "", map[string]any{
		"client_name": "Wants " + scope, "redirect_uris": []string{op.app.redirect}, "scope": scope,
	})
	if resp.StatusCode != http.StatusBadRequest || body["error"] != clients.ErrCodeInvalidClientMetadata {
		t.Errorf("registering scope %q: status %d, body %v; want 400 invalid_client_metadata", scope, resp.StatusCode, body)
	}
	q := op.params(t, scope)
	op.wantErrorRedirect(t, op.s.newAgent(t).get(op.authURL(q)), q.Get("state"), "invalid_scope")
}

// basicFirstAuthorization signs in with agent a, allows q remembering
// the decision, and redeems the code; it returns the tokens and the ID
// token's claims.
func basicFirstAuthorization(t *testing.T, op *basicOP, a *agent, q url.Values) (*oauth2.Token, map[string]any) {
	t.Helper()
	p := a.get(op.authURL(q))
	p = a.signIn(p, basicEmail, basicPassword)
	tok := op.exchange(t, op.code(t, basicAllowRemembering(t, a, p), q.Get("state")))
	_, claims := op.idToken(t, tok, q.Get("nonce"))
	return tok, claims
}

// basicSilentAuthorization sends q with agent a and expects the code at
// once, with no page on the way; it returns the tokens and the ID token's
// claims.
func basicSilentAuthorization(t *testing.T, op *basicOP, a *agent, q url.Values) (*oauth2.Token, map[string]any) {
	t.Helper()
	p := a.get(op.authURL(q))
	if p.url.Path != "/authorize" || p.status != http.StatusSeeOther {
		t.Fatalf("the authorization showed %s (status %d), want a redirect from /authorize at once", p.url, p.status)
	}
	tok := op.exchange(t, op.code(t, redirectOf(p), q.Get("state")))
	_, claims := op.idToken(t, tok, q.Get("nonce"))
	return tok, claims
}

// basicSameAuthentication checks that two ID tokens come from one
// sign-in: same sub, same auth_time.
func basicSameAuthentication(t *testing.T, first, second map[string]any) {
	t.Helper()
	if first["sub"] != second["sub"] {
		t.Errorf("sub changed from %v to %v", first["sub"], second["sub"])
	}
	if a1, a2 := basicAuthTime(t, first), basicAuthTime(t, second); a1 != a2 {
		t.Errorf("auth_time changed from %d to %d without a new sign-in", a1, a2)
	}
}

// basicCodeReuse redeems a code, runs wait, redeems it again, and checks
// the refusal (RFC 6749 §4.1.2, §5.2) and that the tokens of the first
// redemption died: UserInfo (the plan's protected resource) refuses the
// access token and introspection calls both tokens inactive.
func basicCodeReuse(t *testing.T, op *basicOP, wait func()) {
	t.Helper()
	rsID, rsSecret := op.s.resourceServer(t)
	q := op.params(t, "openid offline_access")
	code := op.code(t, op.authorize(t, q), q.Get("state"))
	first := op.exchange(t, code)
	op.idToken(t, first, q.Get("nonce"))
	if first.RefreshToken == "" {
		t.Fatal("the first redemption gave no refresh token")
	}
	if intro := op.s.introspect(t, rsID, rsSecret, first.AccessToken); intro["active"] != true {
		t.Fatalf("the first access token is not active before the replay: %v", intro)
	}
	if wait != nil {
		wait()
	}

	resp, body := op.s.postForm(t, "/token", url.Values{
		"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {op.app.redirect},
	}, op.app.id, op.app.secret)
	basicWantTokenError(t, resp, body, "invalid_grant")

	if resp, _ := op.userinfo(t, http.MethodGet, first.AccessToken, false); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("UserInfo with the first access token after the replay: status %d, want 401", resp.StatusCode)
	}
	for name, token := range map[string]string{"access": first.AccessToken, "refresh": first.RefreshToken} {
		if intro := op.s.introspect(t, rsID, rsSecret, token); intro["active"] != false {
			t.Errorf("the first %s token is still active after the replay: %v", name, intro)
		}
	}
}

// basicRequestHost serves one request object at a request_uri on
// loopback and counts how often it is fetched.
type basicRequestHost struct {
	url    string
	mu     sync.Mutex
	object string
	hits   int
}

func newBasicRequestHost(t *testing.T) *basicRequestHost {
	t.Helper()
	h := &basicRequestHost{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		h.hits++
		object := h.object
		h.mu.Unlock()
		w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
		_, _ = io.WriteString(w, object)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/request-" + randomString(t) + ".jwt"
	return h
}

func (h *basicRequestHost) serve(object string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.object = object
}

func (h *basicRequestHost) fetches() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits
}

// basicRefreshTokenFlow runs the refresh-token module's authorization for
// op's client: scope offline_access with prompt=consent (OpenID Connect
// Core §11). It returns the tokens, which must include a refresh token,
// and the ID token's claims.
func basicRefreshTokenFlow(t *testing.T, op *basicOP) (*oauth2.Token, map[string]any) {
	t.Helper()
	q := op.params(t, "openid offline_access")
	q.Set("prompt", "consent")
	tok := op.exchange(t, op.code(t, op.authorize(t, q), q.Get("state")))
	_, claims := op.idToken(t, tok, q.Get("nonce"))
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for a client registered with the refresh_token grant")
	}
	basicCheckRefreshToken(t, tok.RefreshToken)
	return tok, claims
}

// basicCheckRefreshToken checks a refresh token's characters (RFC 6749
// Appendix A.17: VSCHAR), length and entropy (§10.10).
func basicCheckRefreshToken(t *testing.T, rt string) {
	t.Helper()
	for _, r := range rt {
		if r < 0x20 || r > 0x7e {
			t.Errorf("refresh token %q has the character %q, outside VSCHAR", rt, r)
			break
		}
	}
	if len(rt)*8 < 128 || basicEntropy(rt) <= 96 {
		t.Errorf("refresh token %q is too short or not random enough", rt)
	}
}

// basicSameJSON compares two decoded JSON values.
func basicSameJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return bytes.Equal(ja, jb)
}

// basicBrowserOP is the plan's provider with a client whose redirect URI
// is a real app server, so the browser has somewhere to land.
type basicBrowserOP struct {
	*basicOP
	site  *appServer
	clock *storagetest.Clock
}

// basicInBrowser runs test in one browser for each backend, in turn; each
// run gets a fresh provider, app server and clock, and no cookies.
func basicInBrowser(t *testing.T, test func(t *testing.T, br *browser, op *basicBrowserOP)) {
	t.Helper()
	br := newBrowser(t)
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			if _, err := chromedp.Call(br.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatalf("clear the browser's cookies: %v", err)
			}
			app := newAppServer(t)
			clock := storagetest.NewClock()
			op := newBasicOPAt(t, b, app.URL+"/callback", withClock(clock))
			test(t, br, &basicBrowserOP{basicOP: op, site: app, clock: clock})
			checkNoPageErrors(t, br, op.s)
		})
	}
}

// signInPage opens q's authorization in the browser and expects a normal
// sign-in page: a 200 with the email and password fields and the button.
func (op *basicBrowserOP) signInPage(t *testing.T, br *browser, q url.Values) {
	t.Helper()
	resp := br.open(t, op.authURL(q))
	br.expectAt(t, op.s.URL+"/login?flow=")
	if resp.Status != http.StatusOK {
		t.Errorf("the sign-in page answered %d, want 200", resp.Status)
	}
	if got := br.text(t, "h1"); got != "Sign in" {
		t.Errorf("the page's heading is %q, want %q", got, "Sign in")
	}
	for _, sel := range []string{"#email", "#password", "#sign-in"} {
		if br.count(t, sel) != 1 {
			t.Errorf("the sign-in page has no %s: %s", sel, br.describe(t))
		}
	}
}

// finish types what signInPage left for the person (the email unless
// skipEmail, and the password), submits, allows on the consent page, and
// redeems the code the app received after its before earlier callbacks.
// It returns the tokens and the ID token's claims.
func (op *basicBrowserOP) finish(t *testing.T, br *browser, q url.Values, before int, skipEmail bool) (*oauth2.Token, map[string]any) {
	t.Helper()
	if !skipEmail {
		br.do(t, "type the email", chromedp.SendKeys(chromedp.ID("email"), basicEmail))
	}
	br.do(t, "type the password", chromedp.SendKeys(chromedp.ID("password"), basicPassword))
	br.follow(t, "submit the sign-in form", chromedp.Click(chromedp.ID("sign-in")))
	br.expectAt(t, op.s.URL+"/consent?flow=")
	decide(t, br, op.site, "allow")
	cb := op.site.lastCallback(t, before)
	loc, _ := url.Parse(op.site.URL + "/callback?" + cb.Encode())
	tok := op.exchange(t, op.code(t, loc, q.Get("state")))
	_, claims := op.idToken(t, tok, q.Get("nonce"))
	return tok, claims
}

// signInAgain opens q's authorization in a browser that has a session
// and expects to be asked to sign in again, then does so.
func (op *basicBrowserOP) signInAgain(t *testing.T, br *browser, q url.Values, before int) map[string]any {
	t.Helper()
	mark := br.mark()
	op.signInPage(t, br, q)
	if reqs := br.requestsSince(mark); len(reqs) < 2 || !strings.HasPrefix(reqs[0], op.s.URL+"/authorize?") {
		t.Errorf("the browser went %v, want from /authorize to the sign-in page", reqs)
	}
	_, claims := op.finish(t, br, q, before, false)
	return claims
}

// basicSameSubject checks that two ID tokens are for the same person.
func basicSameSubject(t *testing.T, first, second map[string]any) {
	t.Helper()
	if first["sub"] != second["sub"] {
		t.Errorf("sub changed from %v to %v", first["sub"], second["sub"])
	}
}
