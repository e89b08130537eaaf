package e2e

import (
	"bytes"
	"context"
	"crypto/rsa"
	"crypto/sha256"
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
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The OpenID Foundation's Basic OP certification plan (OIDCCBasicTestPlan
// of openid-certification/conformance-suite), one test per module, each
// named after its module: response_type=code and client_secret_basic
// unless the module says otherwise. Each test drives the provider the way
// the module does and checks what the module checks; where the module
// only warns, the test still checks what this provider is meant to do.
// The browser side runs through the HTTP agent, except for the modules
// whose point is a page (browser_conformance_basic_test.go).

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
	app := newWebAppWith(t, s, provider.ClientSpec{
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

// oidcc-server: the happy code flow with client_secret_basic, checked end to end (discovery, JWKS, code, tokens, ID token, UserInfo).
func TestOIDCCServer(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)

		// CheckServerConfiguration; go-oidc already checked the issuer.
		doc := basicDiscovery(t, op.s)
		for _, member := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"} {
			if v, _ := doc[member].(string); !strings.HasPrefix(v, op.s.URL+"/") {
				t.Errorf("discovery %s = %q, want an endpoint of %s", member, v, op.s.URL)
			}
		}
		if !slices.Contains(basicStrings(doc, "response_types_supported"), "code") ||
			!slices.Contains(basicStrings(doc, "id_token_signing_alg_values_supported"), "RS256") ||
			len(basicStrings(doc, "subject_types_supported")) == 0 {
			t.Errorf("discovery lacks the code response type, RS256 or subject types: %v", doc)
		}
		// CheckForKeyIdInServerJWKs: every key has a kid (OpenID Connect Core §10.1).
		keys := op.s.jwks(t)
		if len(keys.Keys) == 0 {
			t.Fatal("the JWKS has no keys")
		}
		for _, k := range keys.Keys {
			if k.KeyID == "" || !k.IsPublic() {
				t.Errorf("JWKS key %+v has no kid or is not public", k)
			}
		}

		q := op.params(t, "openid")
		code := op.code(t, op.authorize(t, q), q.Get("state"))
		rec := &basicRecorder{}
		tok, err := op.app.config.Exchange(rec.context(t.Context()), code)
		if err != nil {
			t.Fatalf("exchange the code: %v", err)
		}
		call := rec.last(t)
		if !strings.HasPrefix(call.authorization, "Basic ") || call.form.Has("client_secret") {
			t.Errorf("the token request authenticated with Authorization %q and form %v, want client_secret_basic", call.authorization, call.form)
		}
		if call.header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(call.header.Get("Content-Type"), "application/json") {
			t.Errorf("token response headers: %v", call.header)
		}
		if !strings.EqualFold(tok.TokenType, "Bearer") || tok.ExpiresIn <= 0 || tok.AccessToken == "" {
			t.Errorf("token response: type %q, expires_in %d", tok.TokenType, tok.ExpiresIn)
		}
		idt, claims := op.idToken(t, tok, q.Get("nonce"))
		// EnsureIdTokenDoesNotContainName: scope openid releases no profile claim.
		if claims["name"] != nil || claims["email"] != nil {
			t.Errorf("an ID token for scope openid carries profile or email claims: %v", claims)
		}
		resp, info := op.userinfo(t, http.MethodGet, tok.AccessToken, false)
		op.wantUserinfo(t, resp, info, idt)
	})
}

// oidcc-response-type-missing: a request without response_type is refused with invalid_request or unsupported_response_type, never a code.
func TestOIDCCResponseTypeMissing(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		q.Del("response_type")
		p := op.s.newAgent(t).get(op.authURL(q))
		// The suite accepts an error page or an error sent to the client;
		// the client and redirect URI are valid, so the error goes back.
		op.wantErrorRedirect(t, p, q.Get("state"), "invalid_request", "unsupported_response_type")
	})
}

// oidcc-idtoken-signature: a client that asks for no algorithm gets RS256 ID tokens with a kid that names a JWKS key.
func TestOIDCCIdtokenSignature(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := basicRegisteredOP(t, b, nil)
		q := op.params(t, "openid")
		tok := op.exchange(t, op.code(t, op.authorize(t, q), q.Get("state")))
		op.idToken(t, tok, q.Get("nonce")) // verified by the key its kid names

		alg, kid := basicJOSEHeader(t, tok.Extra("id_token").(string))
		if alg != "RS256" {
			t.Errorf("the ID token is signed with %s, want RS256 (OpenID Connect Core §3.1.3.7)", alg)
		}
		var key *jose.JSONWebKey
		for _, k := range op.s.jwks(t).Keys {
			if k.KeyID == kid {
				key = &k
			}
		}
		if key == nil {
			t.Fatalf("the ID token's kid %q names no key of the JWKS", kid)
		}
		if _, ok := key.Key.(*rsa.PublicKey); !ok || (key.Algorithm != "" && key.Algorithm != "RS256") {
			t.Errorf("the key %q is %T with alg %q, want an RSA key for RS256", kid, key.Key, key.Algorithm)
		}
	})
}

// oidcc-idtoken-unsigned: not applicable, ID tokens are always signed; a client asking for alg none is refused at registration and discovery does not offer none (so the module skips).
func TestOIDCCIdtokenUnsigned(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		if algs := basicStrings(basicDiscovery(t, s), "id_token_signing_alg_values_supported"); slices.Contains(algs, "none") || len(algs) == 0 {
			t.Errorf("id_token_signing_alg_values_supported = %v, want signing algorithms without none", algs)
		}
		resp, body := s.registrationCall(t, http.MethodPost, "/register", "", map[string]any{
			"client_name":                  "Unsigned ID Tokens",
			"redirect_uris":                []string{"http://" + freePort(t) + "/callback"},
			"id_token_signed_response_alg": "none",
		})
		if resp.StatusCode != http.StatusBadRequest || body["error"] != provider.ErrCodeInvalidClientMetadata {
			t.Fatalf("registration asking for unsigned ID tokens: status %d, body %v; want 400 invalid_client_metadata", resp.StatusCode, body)
		}
		if desc, _ := body["error_description"].(string); !strings.Contains(desc, "id_token_signed_response_alg") {
			t.Errorf("error_description %q does not name id_token_signed_response_alg", desc)
		}
		if body["client_id"] != nil {
			t.Errorf("the refusal carries a client_id: %v", body)
		}
	})
}

// oidcc-userinfo-get: UserInfo answers a GET with the bearer token in the header, with the ID token's sub.
func TestOIDCCUserinfoGet(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		tok := op.exchange(t, op.code(t, op.authorize(t, q), q.Get("state")))
		idt, _ := op.idToken(t, tok, q.Get("nonce"))

		// go-oidc is the client here: it sends a GET with the header.
		info, err := op.app.oidc.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		if info.Subject != idt.Subject {
			t.Errorf("userinfo sub = %q, want %q", info.Subject, idt.Subject)
		}
		resp, claims := op.userinfo(t, http.MethodGet, tok.AccessToken, false)
		op.wantUserinfo(t, resp, claims, idt)
	})
}

// oidcc-userinfo-post-header: UserInfo answers a POST with the bearer token in the Authorization header.
func TestOIDCCUserinfoPostHeader(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		tok := op.exchange(t, op.code(t, op.authorize(t, q), q.Get("state")))
		idt, _ := op.idToken(t, tok, q.Get("nonce"))
		resp, claims := op.userinfo(t, http.MethodPost, tok.AccessToken, false)
		op.wantUserinfo(t, resp, claims, idt)
	})
}

// oidcc-userinfo-post-body: UserInfo answers a POST with the access token in the form body (RFC 6750 §2.2).
func TestOIDCCUserinfoPostBody(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		tok := op.exchange(t, op.code(t, op.authorize(t, q), q.Get("state")))
		idt, _ := op.idToken(t, tok, q.Get("nonce"))
		// The suite only warns when the body form is unsupported; this
		// provider supports it, so anything but 200 fails here.
		resp, claims := op.userinfo(t, http.MethodPost, tok.AccessToken, true)
		op.wantUserinfo(t, resp, claims, idt)
		// The token in the body was what authenticated: a wrong one is refused.
		if resp, _ := op.userinfo(t, http.MethodPost, tok.AccessToken+"x", true); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("a wrong access token in the body: status %d, want 401", resp.StatusCode)
		}
	})
}

// oidcc-ensure-request-without-nonce-succeeds-for-code-flow: the code flow needs no nonce, and the ID token then carries none.
func TestOIDCCEnsureRequestWithoutNonceSucceedsForCodeFlow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		q.Del("nonce")
		code := op.code(t, op.authorize(t, q), q.Get("state"))
		op.idToken(t, op.exchange(t, code), "") // checks no nonce appears
	})
}

// oidcc-scope-profile: scope profile is advertised and releases the profile claims (name) from UserInfo.
func TestOIDCCScopeProfile(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		if !slices.Contains(basicStrings(basicDiscovery(t, op.s), "scopes_supported"), "profile") {
			t.Fatal("scopes_supported lacks profile")
		}
		_, _, info := op.flow(t, op.params(t, "openid profile"))
		if info["name"] != basicName {
			t.Errorf("userinfo name = %v, want %q", info["name"], basicName)
		}
		if info["email"] != nil || info["email_verified"] != nil {
			t.Errorf("scope profile released the email claims: %v", info)
		}
	})
}

// oidcc-scope-email: scope email is advertised and releases email and email_verified (a boolean) from UserInfo.
func TestOIDCCScopeEmail(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		if !slices.Contains(basicStrings(basicDiscovery(t, op.s), "scopes_supported"), "email") {
			t.Fatal("scopes_supported lacks email")
		}
		_, _, info := op.flow(t, op.params(t, "openid email"))
		basicWantEmailClaims(t, info)
		if info["name"] != nil {
			t.Errorf("scope email released the name: %v", info)
		}
	})
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
	if resp.StatusCode != http.StatusBadRequest || body["error"] != provider.ErrCodeInvalidClientMetadata {
		t.Errorf("registering scope %q: status %d, body %v; want 400 invalid_client_metadata", scope, resp.StatusCode, body)
	}
	q := op.params(t, scope)
	op.wantErrorRedirect(t, op.s.newAgent(t).get(op.authURL(q)), q.Get("state"), "invalid_scope")
}

// oidcc-scope-address: not applicable, there is no address claim; address is not advertised (the module skips) and a request for it is refused with invalid_scope.
func TestOIDCCScopeAddress(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		basicUnsupportedScope(t, b, "openid address", "address")
	})
}

// oidcc-scope-phone: not applicable, there are no phone claims; phone is not advertised (the module skips) and a request for it is refused with invalid_scope.
func TestOIDCCScopePhone(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		basicUnsupportedScope(t, b, "openid phone", "phone")
	})
}

// oidcc-scope-all: the module's four scopes are not all advertised (it skips) and are refused together; the advertised ones release all their claims.
func TestOIDCCScopeAll(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		basicUnsupportedScope(t, b, "openid email phone address profile", "address", "phone")

		op := newBasicOP(t, b)
		_, _, info := op.flow(t, op.params(t, "openid email profile"))
		basicWantEmailClaims(t, info)
		if info["name"] != basicName {
			t.Errorf("userinfo name = %v, want %q", info["name"], basicName)
		}
	})
}

// oidcc-ensure-other-scope-order-succeeds: scope "email openid" works like "openid email" (RFC 6749 §3.3: order does not matter).
func TestOIDCCEnsureOtherScopeOrderSucceeds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		tok, _, info := op.flow(t, op.params(t, "email openid"))
		basicWantEmailClaims(t, info)
		if got := strings.Fields(tok.Extra("scope").(string)); !sameElements(got, []string{"openid", "email"}) {
			t.Errorf("granted scope = %v, want openid and email", got)
		}
	})
}

// oidcc-prompt-none-not-logged-in: prompt=none without a session comes straight back with login_required and the long state unchanged.
func TestOIDCCPromptNoneNotLoggedIn(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		// The suite sends a 128-character state to see it come back whole.
		q.Set("state", strings.Repeat(randomString(t), 6)[:128])
		q.Set("prompt", "none")
		got := op.wantErrorRedirect(t, op.s.newAgent(t).get(op.authURL(q)), q.Get("state"),
			"login_required", "interaction_required", "consent_required", "account_selection_required")
		if got != "login_required" {
			t.Errorf("error = %q, want login_required: nobody is signed in", got)
		}
	})
}

// oidcc-prompt-none-logged-in: with a session and remembered consent, prompt=none answers at once with the same sub and auth_time.
func TestOIDCCPromptNoneLoggedIn(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		a := op.s.newAgent(t)
		_, first := basicFirstAuthorization(t, op, a, op.params(t, "openid"))

		q := op.params(t, "openid")
		q.Set("prompt", "none")
		_, second := basicSilentAuthorization(t, op, a, q)
		basicSameAuthentication(t, first, second)
	})
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

// oidcc-max-age-10000: a sign-in younger than max_age is reused without a sign-in page, and both ID tokens carry the same auth_time.
func TestOIDCCMaxAge10000(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		a := op.s.newAgent(t)
		q := op.params(t, "openid")
		q.Set("max_age", "15000")
		loc := a.authorize(op.authURL(q), basicEmail, basicPassword, "allow")
		tok := op.exchange(t, op.code(t, loc, q.Get("state")))
		_, first := op.idToken(t, tok, q.Get("nonce"))
		basicAuthTime(t, first) // max_age makes auth_time required

		q = op.params(t, "openid")
		q.Set("max_age", "10000")
		p := a.get(op.authURL(q))
		if p.url.Path != "/consent" {
			t.Fatalf("with max_age=10000 the person landed on %s, want the consent page without signing in again", p.url)
		}
		tok = op.exchange(t, op.code(t, redirectOf(a.decide(p, "allow")), q.Get("state")))
		_, second := op.idToken(t, tok, q.Get("nonce"))
		basicSameAuthentication(t, first, second)
	})
}

// oidcc-ensure-request-with-unknown-parameter-succeeds: an unknown parameter (extra=foobar) is ignored (RFC 6749 §3.1).
func TestOIDCCEnsureRequestWithUnknownParameterSucceeds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		q.Set("extra", "foobar")
		op.flow(t, q)
	})
}

// oidcc-id-token-hint: prompt=none with the first ID token as id_token_hint answers at once for the same person and sign-in.
func TestOIDCCIdTokenHint(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		a := op.s.newAgent(t)
		tok, first := basicFirstAuthorization(t, op, a, op.params(t, "openid"))

		q := op.params(t, "openid")
		q.Set("prompt", "none")
		q.Set("id_token_hint", tok.Extra("id_token").(string))
		_, second := basicSilentAuthorization(t, op, a, q)
		basicSameAuthentication(t, first, second)
	})
}

// oidcc-claims-locales: claims_locales=se does not make the request fail.
func TestOIDCCClaimsLocales(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid profile")
		q.Set("claims_locales", "se")
		_, _, info := op.flow(t, q)
		if info["name"] != basicName {
			t.Errorf("userinfo name = %v, want %q (the claims in their only locale)", info["name"], basicName)
		}
	})
}

// oidcc-ensure-request-with-acr-values-succeeds: acr_values (none advertised, so "1 2") does not make the request fail.
func TestOIDCCEnsureRequestWithAcrValuesSucceeds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		requested := []string{"1", "2"}
		if adv := basicStrings(basicDiscovery(t, op.s), "acr_values_supported"); len(adv) > 0 {
			requested = adv
		}
		q := op.params(t, "openid")
		q.Set("acr_values", strings.Join(requested, " "))
		code := op.code(t, op.authorize(t, q), q.Get("state"))
		_, claims := op.idToken(t, op.exchange(t, code), q.Get("nonce"))
		// The suite only warns when acr is not a requested value. fosite
		// answers "0" (level 0: no assurance claimed) when it has none.
		if acr, ok := claims["acr"].(string); ok && acr != "0" && !slices.Contains(requested, acr) {
			t.Errorf("acr = %q, neither a requested value %v nor level 0", acr, requested)
		}
	})
}

// oidcc-codereuse: a code redeemed twice fails the second time with invalid_grant, and the first redemption's tokens are revoked.
func TestOIDCCCodereuse(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		basicCodeReuse(t, op, nil)
	})
}

// oidcc-codereuse-30seconds: a code redeemed again 30 seconds later fails with invalid_grant, and the access token it gave no longer works.
func TestOIDCCCodereuse30Seconds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		op := newBasicOP(t, b, withClock(clock))
		basicCodeReuse(t, op, func() { clock.Advance(30 * time.Second) })
	})
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

// oidcc-ensure-registered-redirect-uri: an unregistered redirect_uri gets an error page and is never redirected to.
func TestOIDCCEnsureRegisteredRedirectUri(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		q.Set("redirect_uri", op.app.redirect+"/"+randomString(t))
		p := op.s.newAgent(t).get(op.authURL(q))
		if loc := p.header.Get("Location"); loc != "" {
			t.Fatalf("redirected to %q; an unregistered redirect URI must never be used", loc)
		}
		if p.status != http.StatusBadRequest || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.body, `id="error-heading"`) {
			t.Fatalf("status %d (%s), want the 400 error page:\n%.500s", p.status, p.header.Get("Content-Type"), p.body)
		}
		if !strings.Contains(p.body, "has not registered") {
			t.Errorf("the error page does not say the address is not registered:\n%.1000s", p.body)
		}
	})
}

// oidcc-ensure-post-request-succeeds: the authorization endpoint takes the request as a POSTed form (OpenID Connect Core §3.1.2.1).
func TestOIDCCEnsurePostRequestSucceeds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		a := op.s.newAgent(t)
		p := a.post(op.app.oidc.Endpoint().AuthURL, q)
		p = a.decide(a.signIn(p, basicEmail, basicPassword), "allow")
		tok := op.exchange(t, op.code(t, redirectOf(p), q.Get("state")))
		op.idToken(t, tok, q.Get("nonce"))
	})
}

// oidcc-server-client-secret-post: the happy code flow with the client secret sent in the token request body.
func TestOIDCCServerClientSecretPost(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		op.app.config.Endpoint.AuthStyle = oauth2.AuthStyleInParams
		q := op.params(t, "openid")
		code := op.code(t, op.authorize(t, q), q.Get("state"))
		rec := &basicRecorder{}
		tok, err := op.app.config.Exchange(rec.context(t.Context()), code)
		if err != nil {
			t.Fatalf("exchange the code with client_secret_post: %v", err)
		}
		call := rec.last(t)
		if call.authorization != "" || call.form.Get("client_id") != op.app.id || call.form.Get("client_secret") != op.app.secret {
			t.Errorf("the token request sent Authorization %q and client_id %q: not client_secret_post", call.authorization, call.form.Get("client_id"))
		}
		if call.status != http.StatusOK {
			t.Errorf("token endpoint status %d", call.status)
		}
		idt, _ := op.idToken(t, tok, q.Get("nonce"))
		resp, info := op.userinfo(t, http.MethodGet, tok.AccessToken, false)
		op.wantUserinfo(t, resp, info, idt)
	})
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

// oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported: an unsigned request object at a registered request_uri is fetched and processed (its state and nonce are used).
func TestOIDCCRequestUriUnsignedSupportedCorrectlyOrRejectedAsUnsupported(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		host := newBasicRequestHost(t)
		op := basicRegisteredOP(t, b, map[string]any{"request_uris": []string{host.url}})
		doc := basicDiscovery(t, op.s)
		if !slices.Contains(basicStrings(doc, "request_object_signing_alg_values_supported"), "none") || doc["request_uri_parameter_supported"] != true {
			t.Fatalf("discovery does not offer unsigned request objects by reference: %v", doc)
		}

		claims, query := basicRequestObject(op.params(t, "openid"))
		host.serve(basicUnsigned(t, claims))
		query.Set("request_uri", host.url)
		// state and nonce travel only in the object: getting them back
		// shows the object was used (not request_uri_not_supported).
		code := op.code(t, op.authorize(t, query), claims["state"].(string))
		op.idToken(t, op.exchange(t, code), claims["nonce"].(string))
		if n := host.fetches(); n != 1 {
			t.Errorf("the request_uri was fetched %d times, want once", n)
		}
	})
}

// oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: an unsigned request object by value is processed (its state and nonce are used).
func TestOIDCCUnsignedRequestObjectSupportedCorrectlyOrRejectedAsUnsupported(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		doc := basicDiscovery(t, op.s)
		if !slices.Contains(basicStrings(doc, "request_object_signing_alg_values_supported"), "none") || doc["request_parameter_supported"] != true {
			t.Fatalf("discovery does not offer unsigned request objects: %v", doc)
		}
		claims, query := basicRequestObject(op.params(t, "openid"))
		claims["iss"] = op.app.id
		claims["aud"] = op.s.URL
		query.Set("request", basicUnsigned(t, claims))
		code := op.code(t, op.authorize(t, query), claims["state"].(string))
		op.idToken(t, op.exchange(t, code), claims["nonce"].(string))
	})
}

// oidcc-claims-essential: an essential name claim for UserInfo (claims parameter) is shown on consent under profile and released by UserInfo, not in the ID token.
func TestOIDCCClaimsEssential(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		q := op.params(t, "openid")
		q.Set("claims", `{"userinfo":{"name":{"essential":true}}}`)
		a := op.s.newAgent(t)
		consent := a.signIn(a.get(op.authURL(q)), basicEmail, basicPassword)
		if consent.url.Path != "/consent" {
			t.Fatalf("expected the consent page, got %s (status %d)", consent.url, consent.status)
		}
		if !strings.Contains(consent.body, `data-scope="profile"`) {
			t.Errorf("the consent page does not list profile, which covers the name asked for:\n%s", consent.body)
		}
		tok := op.exchange(t, op.code(t, redirectOf(a.decide(consent, "allow")), q.Get("state")))
		idt, claims := op.idToken(t, tok, q.Get("nonce"))
		if claims["name"] != nil {
			t.Errorf("the ID token carries name, which was asked for UserInfo only: %v", claims)
		}
		resp, info := op.userinfo(t, http.MethodGet, tok.AccessToken, false)
		op.wantUserinfo(t, resp, info, idt)
		if info["name"] != basicName {
			t.Errorf("userinfo name = %v, want %q (asked for as essential)", info["name"], basicName)
		}
		if info["email"] != nil {
			t.Errorf("userinfo released email, which nobody asked for: %v", info)
		}
	})
}

// oidcc-ensure-request-object-with-redirect-uri: the request object's redirect_uri wins over a different one in the query.
func TestOIDCCEnsureRequestObjectWithRedirectUri(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		claims, query := basicRequestObject(op.params(t, "openid"))
		claims["iss"] = op.app.id
		claims["aud"] = op.s.URL
		query.Set("redirect_uri", op.app.redirect+"_invalid")
		query.Set("request", basicUnsigned(t, claims))
		// code checks the response reached the object's (registered)
		// redirect URI, not the query's.
		code := op.code(t, op.authorize(t, query), claims["state"].(string))
		op.idToken(t, op.exchange(t, code), claims["nonce"].(string))
	})
}

// oidcc-refresh-token: a refresh token rotates, gives a new access token and a consistent ID token, and is bound to its client.
func TestOIDCCRefreshToken(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		refreshing := map[string]any{"grant_types": []string{"authorization_code", "refresh_token"}}
		op := basicRegisteredOP(t, b, refreshing)
		other := &basicOP{s: op.s, app: basicRegister(t, op.s, refreshing), user: op.user}

		first, firstID := basicRefreshTokenFlow(t, op)
		second, _ := basicRefreshTokenFlow(t, other)

		// The refresh, as x/oauth2 sends it, recorded to see the answer's headers.
		rec := &basicRecorder{}
		refreshed, err := op.app.config.TokenSource(rec.context(t.Context()), &oauth2.Token{RefreshToken: first.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		call := rec.last(t)
		if call.status != http.StatusOK || !strings.HasPrefix(call.header.Get("Content-Type"), "application/json") ||
			call.header.Get("Cache-Control") != "no-store" {
			t.Errorf("refresh answer: status %d, headers %v", call.status, call.header)
		}
		if !strings.EqualFold(refreshed.TokenType, "Bearer") || refreshed.ExpiresIn <= 0 {
			t.Errorf("refresh answer: token_type %q, expires_in %d", refreshed.TokenType, refreshed.ExpiresIn)
		}
		if refreshed.AccessToken == first.AccessToken {
			t.Error("the refresh gave the same access token")
		}
		if refreshed.RefreshToken == "" || refreshed.RefreshToken == first.RefreshToken {
			t.Error("the refresh token did not rotate")
		}
		basicCheckRefreshToken(t, refreshed.RefreshToken)

		// OpenID Connect Core §12.2: same iss, sub, aud, auth_time and azp.
		_, refreshedID := op.idToken(t, refreshed, "")
		for _, claim := range []string{"iss", "sub", "auth_time", "azp"} {
			if !basicSameJSON(firstID[claim], refreshedID[claim]) {
				t.Errorf("the refreshed ID token's %s is %v, the first's %v", claim, refreshedID[claim], firstID[claim])
			}
		}
		if !basicSameJSON(firstID["aud"], refreshedID["aud"]) {
			t.Errorf("the refreshed ID token's aud is %v, the first's %v", refreshedID["aud"], firstID["aud"])
		}
		// iat must be when the new token was issued. fosite stamps it from
		// the wall clock in whole seconds, so without the suite's one
		// second wait it can equal the first; it must never be earlier.
		if refreshedID["iat"].(float64) < firstID["iat"].(float64) {
			t.Errorf("the refreshed ID token's iat %v is before the first's %v", refreshedID["iat"], firstID["iat"])
		}
		if refreshed.Extra("id_token") == first.Extra("id_token") {
			t.Error("the refresh returned the first ID token again")
		}
		resp, info := op.userinfo(t, http.MethodGet, refreshed.AccessToken, false)
		if resp.StatusCode != http.StatusOK || info["sub"] != op.user.ID {
			t.Errorf("UserInfo with the refreshed access token: status %d, %v", resp.StatusCode, info)
		}

		// The suite's refresh request also names the scope (RFC 6749 §6),
		// which x/oauth2 never sends: the rotated token refreshes with it.
		resp, body := op.s.postForm(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshed.RefreshToken},
			"scope": {"openid offline_access"}}, op.app.id, op.app.secret)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("refresh naming the scope: status %d, headers %v: %v", resp.StatusCode, resp.Header, body)
		}
		if rt, _ := body["refresh_token"].(string); rt == "" || rt == refreshed.RefreshToken || body["id_token"] == nil ||
			!sameElements(strings.Fields(body["scope"].(string)), []string{"openid", "offline_access"}) {
			t.Errorf("refresh naming the scope answered %v", body)
		}

		// The other client's refresh token is no good to this client.
		resp, body = op.s.postForm(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second.RefreshToken},
			"scope": {"openid offline_access"}}, op.app.id, op.app.secret)
		basicWantTokenError(t, resp, body, "invalid_grant")
	})
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

// oidcc-ensure-request-with-valid-pkce-succeeds: a confidential client that also uses PKCE (S256) succeeds when it sends its verifier.
func TestOIDCCEnsureRequestWithValidPkceSucceeds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		op := newBasicOP(t, b)
		verifier := oauth2.GenerateVerifier()
		sum := sha256.Sum256([]byte(verifier))
		q := op.params(t, "openid")
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
		code := op.code(t, op.authorize(t, q), q.Get("state"))
		op.idToken(t, op.exchange(t, code, oauth2.VerifierOption(verifier)), q.Get("nonce"))
	})
}
