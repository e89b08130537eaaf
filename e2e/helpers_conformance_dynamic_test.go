// The OpenID Connect Dynamic OP certification plan's vocabulary: the
// dynamically registered client (dynClient), its flows and checks, the
// server keys, sector and request_uri hosts its modules use, and the
// browser half of the plan (logos and links on the consent page).

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The person every module signs in as.
const (
	dynEmail    = "conformance@example.com"
	dynPassword = "correct horse battery"
)

// dynScope is what the suite's authorization requests ask for
// (SetScopeInClientConfigurationToOpenId); the refresh token modules add
// offline_access.
const (
	dynScope        = "openid"
	dynOfflineScope = "openid offline_access"
)

// dynClient is a client the suite registered at /register, with the client
// libraries an RP uses: golang.org/x/oauth2 for the code exchange and
// go-oidc for discovery and ID token verification.
type dynClient struct {
	s        *server
	id       string
	reg      registered
	key      clientKey // signs the client assertions (and request objects)
	redirect string
	op       *oidc.Provider
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

// dynKey is an RS256 key as the suite generates it for a client: with a kid
// (GenerateRS256ClientJWKsWithKeyID) or without (GenerateRS256ClientJWKs).
func dynKey(t testing.TB, withKid bool) clientKey {
	t.Helper()
	k := newClientKey(t, jose.RS256)
	if !withKid {
		k.kid = ""
	}
	return k
}

// dynUnsigned serializes claims as an unsigned JWT, {"alg":"none"} and an
// empty signature (SerializeRequestObjectWithNullAlgorithm).
func dynUnsigned(t testing.TB, claims any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + "."
}

// dynRedirect is a redirect URI on a loopback port nothing listens on: the
// agent stops at the redirect and reads it.
func dynRedirect(t testing.TB) string {
	t.Helper()
	return "http://" + freePort(t) + "/callback"
}

// dynMetadata is the registration request of the suite's
// OIDCCCreateDynamicClientRegistrationRequest for the code response type:
// a client name, the authorization code grant, the public key in jwks,
// private_key_jwt, response_types code, one redirect URI and a contact.
func dynMetadata(module string, key clientKey, redirect string) map[string]any {
	return map[string]any{
		"client_name":                "OIDF Conformance Test " + module,
		"grant_types":                []string{"authorization_code"},
		"jwks":                       keySet(key),
		"token_endpoint_auth_method": "private_key_jwt",
		"response_types":             []string{"code"},
		"redirect_uris":              []string{redirect},
		"contacts":                   []string{"certification@oidf.org"},
	}
}

// dynWithJWKSURI replaces the jwks of meta with a jwks_uri
// (AddJwksUriToDynamicRegistrationRequest).
func dynWithJWKSURI(meta map[string]any, location string) map[string]any {
	delete(meta, "jwks")
	meta["jwks_uri"] = location
	return meta
}

// dynRegister registers meta and checks the answer as the suite does
// (EnsureContentTypeJson, EnsureHttpStatusCodeIs201,
// ExtractDynamicRegistrationResponse); key is the client's private key and
// the first redirect URI of meta the one it uses.
func dynRegister(t *testing.T, s *server, meta map[string]any, key clientKey) *dynClient {
	t.Helper()
	reg := s.register(t, meta)
	dynWantJSON(t, "the registration answer", reg.resp)
	if reg.id == "" {
		t.Fatalf("the registration answer has no client_id: %v", reg.body)
	}
	if reg.secret != "" {
		t.Errorf("a private_key_jwt client was given a client_secret: %v", reg.body)
	}
	if got := reg.body["token_endpoint_auth_method"]; got != "private_key_jwt" {
		t.Errorf("token_endpoint_auth_method = %v, want private_key_jwt", got)
	}
	op, err := oidc.NewProvider(t.Context(), s.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	redirect := meta["redirect_uris"].([]string)[0]
	endpoint := op.Endpoint()
	endpoint.AuthStyle = oauth2.AuthStyleInParams // client_id in the body, no secret
	return &dynClient{
		s: s, id: reg.id, reg: reg, key: key, redirect: redirect, op: op,
		config: oauth2.Config{
			ClientID: reg.id, Endpoint: endpoint, RedirectURL: redirect, Scopes: strings.Fields(dynScope),
		},
		verifier: op.Verifier(&oidc.Config{ClientID: reg.id, SupportedSigningAlgs: []string{oidc.RS256}}),
	}
}

// dynWantJSON fails unless resp is JSON (application/json, any parameters).
func dynWantJSON(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		t.Errorf("%s has Content-Type %q, want application/json", what, resp.Header.Get("Content-Type"))
	}
}

// dynAuthz is one authorization request: its state and nonce
// (CreateRandomStateValue, CreateRandomNonceValue) and its URL.
type dynAuthz struct {
	state, nonce string
	url          string
}

// authorization builds the suite's plain authorization request
// (BuildPlainRedirectToAuthorizationEndpoint): response_type=code,
// client_id, scope, redirect_uri, state and nonce, plus opts.
func (c *dynClient) authorization(t *testing.T, opts ...oauth2.AuthCodeOption) dynAuthz {
	t.Helper()
	az := dynAuthz{state: randomString(t), nonce: randomString(t)}
	az.url = c.config.AuthCodeURL(az.state, append([]oauth2.AuthCodeOption{oidc.Nonce(az.nonce)}, opts...)...)
	return az
}

// authorize signs in through the pages and allows, and returns where the
// provider sent the browser.
func (c *dynClient) authorize(t *testing.T, authURL string) *url.URL {
	t.Helper()
	return c.s.newAgent(t).authorize(authURL, dynEmail, dynPassword, "allow")
}

// code checks a successful authorization response at the client's
// redirect URI (CheckMatchingCallbackParameters, CheckIfAuthorizationEndpointError,
// CheckMatchingStateParameter, EnsureMinimumAuthorizationCodeLength) and
// returns its code.
func (c *dynClient) code(t *testing.T, redirect *url.URL, state string) string {
	t.Helper()
	if got := dynWithoutQuery(redirect); got != dynWithoutQuery(dynMustParse(t, c.redirect)) {
		t.Fatalf("the provider redirected to %s, want the registered %s", redirect, c.redirect)
	}
	q := redirect.Query()
	if q.Has("error") {
		t.Fatalf("the authorization endpoint answered error=%s (%s)", q.Get("error"), q.Get("error_description"))
	}
	if got := q.Get("state"); got != state {
		t.Errorf("state = %q, want %q", got, state)
	}
	if got := q.Get("iss"); got != c.s.URL {
		t.Errorf("iss = %q, want %q (RFC 9207)", got, c.s.URL)
	}
	code := q.Get("code")
	if code == "" {
		t.Fatalf("no code in %s", redirect)
	}
	if len(code)*8 < 128 {
		t.Errorf("the code has %d bits, want at least 128 (RFC 6749 §10.10)", len(code)*8)
	}
	return code
}

// assertion is a client assertion for aud (the token endpoint unless the
// test says otherwise): iss = sub = the client, a fresh jti
// (CreateClientAuthenticationAssertionClaims).
func (c *dynClient) assertion(t testing.TB, aud string) string {
	t.Helper()
	return c.key.sign(t, assertionClaims(t, c.id, aud))
}

// exchange redeems a code with golang.org/x/oauth2, authenticating with a
// client assertion whose audience is aud, and checks the token response as
// requestAuthorizationCode does (CheckForAccessTokenValue,
// ValidateExpiresIn, ExtractIdTokenFromTokenResponse).
func (c *dynClient) exchange(t *testing.T, code, aud string) *oauth2.Token {
	t.Helper()
	tok, err := c.config.Exchange(t.Context(), code,
		oauth2.SetAuthURLParam("client_assertion_type", jwtBearer),
		oauth2.SetAuthURLParam("client_assertion", c.assertion(t, aud)))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	dynCheckTokenResponse(t, tok)
	return tok
}

// dynCheckTokenResponse checks a successful token response: an access
// token of allowed characters, token_type Bearer, a positive expires_in
// and an id_token.
func dynCheckTokenResponse(t *testing.T, tok *oauth2.Token) {
	t.Helper()
	if tok.AccessToken == "" || strings.ContainsFunc(tok.AccessToken, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
		t.Errorf("access_token %q is empty or has characters outside RFC 6749 A.12", tok.AccessToken)
	}
	if !strings.EqualFold(tok.TokenType, "Bearer") {
		t.Errorf("token_type = %q, want Bearer", tok.TokenType)
	}
	if exp, ok := tok.Extra("expires_in").(float64); !ok || exp <= 0 || exp != float64(int64(exp)) {
		t.Errorf("expires_in = %v, want a positive integer", tok.Extra("expires_in"))
	}
	if raw, _ := tok.Extra("id_token").(string); raw == "" {
		t.Error("the token response has no id_token")
	}
}

// dynHeader is the protected header of a JWS.
type dynHeader struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// dynJWSHeader decodes the protected header of a compact JWS.
func dynJWSHeader(t *testing.T, raw string) dynHeader {
	t.Helper()
	first, _, _ := strings.Cut(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(first)
	var h dynHeader
	if err != nil || json.Unmarshal(b, &h) != nil {
		t.Fatalf("the JWS header %q does not decode", first)
	}
	return h
}

// dynIDToken is a verified ID token with its header and claims.
type dynIDToken struct {
	raw    string
	header dynHeader
	token  *oidc.IDToken
	claims map[string]any
}

// idToken verifies the ID token of a token response as the suite does
// (ValidateIdToken, ValidateIdTokenNonce, ValidateIdTokenSignature,
// ValidateIdTokenSignatureUsingKid, CheckForSubjectInIdToken, and at_hash
// when present): go-oidc checks the signature against the JWKS by kid, iss,
// aud and exp; nonce is checked when one was sent.
func (c *dynClient) idToken(t *testing.T, tok *oauth2.Token, nonce string) dynIDToken {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatal("no id_token in the token response")
	}
	return c.verifyIDToken(t, c.verifier, raw, tok.AccessToken, nonce)
}

// verifyIDToken verifies raw with v and checks what idToken says.
func (c *dynClient) verifyIDToken(t *testing.T, v *oidc.IDTokenVerifier, raw, accessToken, nonce string) dynIDToken {
	t.Helper()
	idt, err := v.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify the ID token: %v", err)
	}
	out := dynIDToken{raw: raw, header: dynJWSHeader(t, raw), token: idt}
	if err := idt.Claims(&out.claims); err != nil {
		t.Fatal(err)
	}
	if out.header.Kid == "" {
		t.Error("the ID token's header has no kid (OpenID Connect Core §10.1)")
	}
	if idt.Subject == "" {
		t.Error("the ID token has no sub")
	}
	if !slices.Equal(idt.Audience, []string{c.id}) {
		t.Errorf("aud = %v, want [%s]", idt.Audience, c.id)
	}
	if iat, ok := out.claims["iat"].(float64); !ok || time.Unix(int64(iat), 0).After(time.Now().Add(5*time.Minute)) || !idt.Expiry.After(time.Unix(int64(iat), 0)) {
		t.Errorf("iat = %v, exp = %v: want an iat that is not in the future and before exp", out.claims["iat"], idt.Expiry)
	}
	if nonce != "" && idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	if idt.AccessTokenHash != "" && accessToken != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
	}
	return out
}

// refresh sends a refresh token request authenticated by a client
// assertion signed with key (CreateRefreshTokenRequest,
// AddScopeToTokenEndpointRequest when scope is set).
func (c *dynClient) refresh(t *testing.T, key clientKey, refreshToken, scope string) (*http.Response, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
	if scope != "" {
		form.Set("scope", scope)
	}
	return c.s.postForm(t, "/token", withAssertion(form, key.sign(t, assertionClaims(t, c.id, c.s.URL+"/token"))))
}

// dynRefreshed checks a refresh answer as RefreshTokenRequestSteps does:
// 200, JSON, no caching, a new Bearer access token, expires_in.
func dynRefreshed(t *testing.T, before *oauth2.Token, resp *http.Response, body map[string]any) *oauth2.Token {
	t.Helper()
	dynWantJSON(t, "the refresh answer", resp)
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("the refresh answer has Cache-Control %q, want no-store", resp.Header.Get("Cache-Control"))
	}
	tok := tokenFrom(t, resp, body)
	dynCheckTokenResponse(t, tok)
	if tok.AccessToken == before.AccessToken {
		t.Error("the refresh returned the same access token")
	}
	return tok
}

// dynWantRefreshGrant checks that discovery lists the refresh_token grant
// (EnsureServerConfigurationSupportsRefreshToken).
func dynWantRefreshGrant(t *testing.T, s *server) {
	t.Helper()
	if gt, _ := discovery(t, s, "/.well-known/openid-configuration")["grant_types_supported"].([]any); !slices.Contains(gt, any("refresh_token")) {
		t.Errorf("grant_types_supported = %v, want refresh_token among them", gt)
	}
}

// dynCompareRefreshedIDToken compares the ID token of a refresh with the
// first one (CompareIdTokenClaims, OpenID Connect Core §12.2): the same
// iss, sub, aud, auth_time and azp, and an iat that is the time the new one
// was issued, between issuedAfter and issuedBefore.
func dynCompareRefreshedIDToken(t *testing.T, first, second dynIDToken, issuedAfter, issuedBefore time.Time) {
	t.Helper()
	for _, claim := range []string{"iss", "sub", "auth_time"} {
		if first.claims[claim] == nil || first.claims[claim] != second.claims[claim] {
			t.Errorf("the refreshed ID token's %s = %v, want the first one's %v", claim, second.claims[claim], first.claims[claim])
		}
	}
	if !slices.Equal(first.token.Audience, second.token.Audience) {
		t.Errorf("the refreshed ID token's aud = %v, want %v", second.token.Audience, first.token.Audience)
	}
	if first.claims["azp"] != second.claims["azp"] {
		t.Errorf("azp changed from %v to %v", first.claims["azp"], second.claims["azp"])
	}
	iat, _ := second.claims["iat"].(float64)
	if int64(iat) < issuedAfter.Unix() || int64(iat) > issuedBefore.Unix() {
		t.Errorf("the refreshed ID token's iat = %v, want the time it was issued (between %d and %d)", second.claims["iat"], issuedAfter.Unix(), issuedBefore.Unix())
	}
	if firstIat, _ := first.claims["iat"].(float64); iat < firstIat {
		t.Errorf("the refreshed ID token's iat %v is before the first one's %v", iat, firstIat)
	}
}

// userinfo calls the UserInfo endpoint with the access token as a Bearer
// token (CallUserInfoEndpointWithBearerToken) and returns the raw answer.
func (c *dynClient) userinfo(t *testing.T, accessToken string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, c.s.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+accessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	return resp, body
}

// userinfoSub calls UserInfo and checks that it answers with the sub
// of the ID token (requestProtectedResource, EnsureUserInfoContainsSub).
func (c *dynClient) userinfoSub(t *testing.T, accessToken, sub string) {
	t.Helper()
	resp, body := c.userinfo(t, accessToken)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo: status %d: %s", resp.StatusCode, body)
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		t.Fatalf("userinfo is not JSON: %s", body)
	}
	if claims["sub"] != sub {
		t.Errorf("userinfo sub = %v, want the ID token's %q", claims["sub"], sub)
	}
}

func dynMustParse(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// dynWithoutQuery is a URL without its query and fragment.
func dynWithoutQuery(u *url.URL) string {
	c := *u
	c.RawQuery, c.Fragment = "", ""
	return c.String()
}

// dynErrorPage checks that an authorization request was answered with the
// provider's error page and no redirect (ExpectRedirectUriErrorPage:
// "the authorization server should display an error"), and returns the
// page's message.
func dynErrorPage(t *testing.T, s *server, p page) string {
	t.Helper()
	if loc := p.header.Get("Location"); loc != "" {
		t.Fatalf("the provider redirected to %s, want its error page", loc)
	}
	if p.status != http.StatusBadRequest || p.url.Host != hostOf(s.URL) || p.url.Path != "/authorize" {
		t.Fatalf("status %d at %s, want a 400 error page at /authorize:\n%s", p.status, p.url, p.body)
	}
	m := dynErrorMessagePattern.FindStringSubmatch(p.body)
	if m == nil || strings.TrimSpace(m[1]) == "" || !strings.Contains(p.body, `id="error-heading"`) {
		t.Fatalf("the error page has no heading or message:\n%s", p.body)
	}
	return strings.TrimSpace(m[1])
}

var dynErrorMessagePattern = regexp.MustCompile(`id="error-message">([^<]*)<`)

// dynSignInAndExchange runs the suite's code flow for c from the
// authorization request to verified tokens.
func (c *dynClient) signInAndExchange(t *testing.T, opts ...oauth2.AuthCodeOption) (*oauth2.Token, dynIDToken) {
	t.Helper()
	az := c.authorization(t, opts...)
	code := c.code(t, c.authorize(t, az.url), az.state)
	tok := c.exchange(t, code, c.op.Endpoint().TokenURL)
	return tok, c.idToken(t, tok, az.nonce)
}

// dynNewServer starts a server with open registration and the person the
// modules sign in as.
func dynNewServer(t *testing.T, b storagetest.Backend, adjust ...func(*serverOptions)) *server {
	t.Helper()
	s := newServer(t, b, append([]func(*serverOptions){withRegistration("open")}, adjust...)...)
	s.createUser(t, dynEmail, dynPassword, "Conformance Tester")
	return s
}

// dynBase64URL matches unpadded base64url.
var dynBase64URL = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// dynServerKeys fetches the provider's JWKS (FetchServerKeys) and checks it
// as ValidateServerJWKs, CheckForKeyIdInServerJWKs,
// CheckDistinctKeyIdValueInServerJWKs and
// EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys do. It returns the
// keys by kid.
func dynServerKeys(t *testing.T, s *server) map[string]map[string]any {
	t.Helper()
	jwksURI, _ := discovery(t, s, "/.well-known/openid-configuration")["jwks_uri"].(string)
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, jwksURI, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("fetch the JWKS: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the JWKS: status %d", resp.StatusCode)
	}
	dynWantJSON(t, "the JWKS", resp)
	var raw json.RawMessage
	if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
		t.Fatalf("the JWKS is not JSON: %v", err)
	}
	var doc struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil || doc.Keys == nil {
		t.Fatalf("the JWKS is not an object with a keys array: %s", raw)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatalf("the JWKS does not parse as a JSON Web Key Set: %v", err)
	}
	for _, k := range set.Keys {
		if !k.Valid() || !k.IsPublic() {
			t.Errorf("key %q is not a valid public key", k.KeyID)
		}
	}
	out := map[string]map[string]any{}
	for _, k := range doc.Keys {
		kid, _ := k["kid"].(string)
		if kid == "" {
			t.Errorf("a key has no kid (OpenID Connect Core §10.1): %v", k)
		} else if _, dup := out[kid]; dup {
			t.Errorf("two keys have the kid %q (RFC 7517 §4.5)", kid)
		}
		out[kid] = k
		var members []string
		switch k["kty"] {
		case "RSA":
			members = []string{"n", "e"}
		case "EC":
			members = []string{"crv", "x", "y"}
		default:
			t.Errorf("key %q has kty %v, want RSA or EC (no symmetric keys)", kid, k["kty"])
		}
		for _, m := range members {
			v, _ := k[m].(string)
			if m != "crv" && !dynBase64URL.MatchString(v) {
				t.Errorf("key %q: %s = %q is not unpadded base64url", kid, m, v)
			}
			if v == "" {
				t.Errorf("key %q has no %s", kid, m)
			}
		}
		for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
			if _, ok := k[private]; ok {
				t.Errorf("key %q publishes the private member %q", kid, private)
			}
		}
	}
	return out
}

// dynSectorHost serves a sector_identifier_uri document listing uris and
// counts how often it is fetched.
func dynSectorHost(t *testing.T, uris ...string) (string, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(uris)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/redirect_uris.json", &hits
}

// dynWantPublicSubjectsOnly checks that discovery offers public subject
// identifiers only, so the suite skips its pairwise modules.
func dynWantPublicSubjectsOnly(t *testing.T, s *server) {
	t.Helper()
	if st, _ := discovery(t, s, "/.well-known/openid-configuration")["subject_types_supported"].([]any); !slices.Equal(st, []any{"public"}) {
		t.Errorf("subject_types_supported = %v, want [public]", st)
	}
}

// dynWantSectorRefused checks the refusal of a registration that asks for
// pairwise subjects: 400, JSON, invalid_client_metadata naming the field
// (CheckErrorFromDynamicRegistrationEndpointIsInvalidClientMetadata).
func dynWantSectorRefused(t *testing.T, resp *http.Response, body map[string]any, field string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_client_metadata" {
		t.Fatalf("status %d, %v; want 400 invalid_client_metadata", resp.StatusCode, body)
	}
	dynWantJSON(t, "the registration error", resp)
	if desc, _ := body["error_description"].(string); !strings.Contains(desc, field) {
		t.Errorf("error_description %q does not name %s", desc, field)
	}
}

// dynRequestURIHost serves request objects at request_uri addresses of its
// own (CreateRandomRequestUri) and counts fetches.
type dynRequestURIHost struct {
	base   string
	object atomic.Value // string
	hits   atomic.Int32
}

func dynNewRequestURIHost(t *testing.T) *dynRequestURIHost {
	t.Helper()
	h := &dynRequestURIHost{}
	h.object.Store("")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/requesturi/") {
			http.NotFound(w, r)
			return
		}
		h.hits.Add(1)
		w.Header().Set("Content-Type", "application/jose")
		_, _ = w.Write([]byte(h.object.Load().(string)))
	}))
	t.Cleanup(srv.Close)
	h.base = srv.URL
	return h
}

// uri returns a fresh request_uri of the host.
func (h *dynRequestURIHost) uri(t testing.TB) string {
	return h.base + "/requesturi/" + randomString(t)
}

// requestObjectClaims are the claims of a request object made from an
// authorization request (ConvertAuthorizationEndpointRequestToRequestObject).
func (c *dynClient) requestObjectClaims(az dynAuthz, redirect string) map[string]any {
	return map[string]any{
		"response_type": "code", "client_id": c.id, "scope": strings.Join(c.config.Scopes, " "),
		"redirect_uri": redirect, "state": az.state, "nonce": az.nonce,
	}
}

// requestObjectURL is the authorization request that carries a request
// object (param "request" or "request_uri"), repeating response_type,
// client_id, scope and redirect_uri in the query as OpenID Connect Core §6.1
// requires (BuildRequestObject*RedirectToAuthorizationEndpoint).
func (c *dynClient) requestObjectURL(param, value, redirect string) string {
	q := url.Values{param: {value}, "response_type": {"code"}, "client_id": {c.id},
		"scope": {strings.Join(c.config.Scopes, " ")}, "redirect_uri": {redirect}}
	return c.op.Endpoint().AuthURL + "?" + q.Encode()
}

// dynRequestURIFlow runs the code flow with the authorization request in
// the object sign makes and serves at a registered request_uri: state and
// nonce travel only in the object, so the answer shows it was used.
func dynRequestURIFlow(t *testing.T, c *dynClient, host *dynRequestURIHost, requestURI string, sign func(map[string]any) string) {
	t.Helper()
	az := dynAuthz{state: randomString(t), nonce: randomString(t)}
	host.object.Store(sign(c.requestObjectClaims(az, c.redirect)))
	before := host.hits.Load()
	code := c.code(t, c.authorize(t, c.requestObjectURL("request_uri", requestURI, c.redirect)), az.state)
	if n := host.hits.Load() - before; n != 1 {
		t.Errorf("the request_uri was fetched %d times for one authorization, want once", n)
	}
	tok := c.exchange(t, code, c.op.Endpoint().TokenURL)
	c.idToken(t, tok, az.nonce)
}

// dynWantRequestURISupport checks discovery as AbstractOIDCCRequestUriServerTest
// does (CheckDiscEndpointRequestUriParameterSupported).
func dynWantRequestURISupport(t *testing.T, s *server) map[string]any {
	t.Helper()
	doc := discovery(t, s, "/.well-known/openid-configuration")
	if doc["request_uri_parameter_supported"] != true {
		t.Errorf("request_uri_parameter_supported = %v, want true (OpenID Connect Core §15.2)", doc["request_uri_parameter_supported"])
	}
	return doc
}

// dynPNG is a small image for a logo.
func dynPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		for y := range 3 {
			img.Set(x, y, color.RGBA{R: 0x20, G: 0x60, B: 0xc0, A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dynLogoBrowser returns a browser whose tab answers requests for logoURL
// itself with a 4×3 PNG, as the app's server would (the test has no
// network), and counts them.
func dynLogoBrowser(t *testing.T, logoURL string) (*browser, *atomic.Int32) {
	t.Helper()
	base := newBrowser(t)
	logo := dynPNG(t)
	var served atomic.Int32
	b := &browser{output: base.output}
	ready := make(chan struct{})
	// A second tab of the same browser, with a listener that records what
	// the harness's does and fulfils the paused logo requests. The
	// listener runs in the tab's event loop, so it answers from a goroutine.
	var tab context.Context
	tab, cancel := chromedp.NewContext(base.ctx, chromedp.WithListener(func(ev any) {
		b.record(ev)
		if ev, ok := ev.(*fetch.EventRequestPaused); ok {
			go func() {
				<-ready
				served.Add(1)
				_, _ = chromedp.Call(tab, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID:       ev.RequestID,
					ResponseCode:    200,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "image/png"}},
					Body:            logo,
				})
			}()
		}
	}))
	t.Cleanup(cancel) // before the browser closes: cleanups run last in, first out
	b.ctx = tab
	close(ready)
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: logoURL}}}); err != nil {
		t.Fatalf("browser: intercept %s: %v", logoURL, err)
	}
	return b, &served
}

// dynConsentPage registers a dynamic client with meta's extra members,
// signs in with the browser and leaves it on the consent page.
func dynConsentPage(t *testing.T, br *browser, module string, extra map[string]any) *server {
	t.Helper()
	s := dynNewServer(t, storagetest.Backends()[0])
	key := dynKey(t, false)
	meta := dynMetadata(module, key, dynRedirect(t))
	for k, v := range extra {
		meta[k] = v
	}
	c := dynRegister(t, s, meta, key)
	for k, v := range extra {
		if c.reg.body[k] != v {
			t.Errorf("the registration answer has %s %v, want %v", k, c.reg.body[k], v)
		}
	}
	signIn(t, br, s, c.authorization(t).url, dynEmail, dynPassword)
	if got := br.text(t, "#app-name"); got != meta["client_name"] {
		t.Errorf("the consent page names the app %q, want %q", got, meta["client_name"])
	}
	return s
}

// dynLink checks that the consent page links to href with the element sel,
// shown with words, and opened without handing the app the page.
func dynLink(t *testing.T, br *browser, sel, href string) {
	t.Helper()
	if n := br.count(t, sel); n != 1 {
		t.Fatalf("the consent page has %d elements %s, want 1", n, sel)
	}
	attrs := run(t, br, "read "+sel, chromedp.Attributes(chromedp.CSS(sel)))
	if attrs["href"] != href {
		t.Errorf("%s links to %q, want the registered %q", sel, attrs["href"], href)
	}
	if !slices.Contains(strings.Fields(attrs["rel"]), "noopener") {
		t.Errorf("%s has rel %q, want noopener", sel, attrs["rel"])
	}
	if text := br.text(t, sel); text == "" {
		t.Errorf("%s has no text", sel)
	}
}
