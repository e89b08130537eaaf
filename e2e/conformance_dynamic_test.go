package e2e

import (
	"encoding/base64"
	"encoding/json"
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

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The OpenID Foundation conformance suite's Config OP plan
// (OIDCCConfigTestPlan) and Dynamic OP plan (OIDCCDynamicTestPlan), one test
// per module, named after it. Each test drives the provider the way the
// module does (net/openid/conformance/openid/OIDCC*.java and the conditions
// it calls) and asserts what the module asserts. The Dynamic plan registers
// its clients at /register and authenticates them with private_key_jwt.

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

// oidcc-discovery-endpoint-verification (Config OP): the discovery document holds what OpenID Connect Discovery requires, and the JWKS only valid public keys.
func TestOIDCCDiscoveryEndpointVerification(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		ctx := t.Context()

		// GetDynamicServerConfiguration, EnsureDiscoveryEndpointResponseStatusCodeIs200,
		// CheckDiscoveryEndpointReturnedJsonContentType.
		discoveryURL := s.URL + "/.well-known/openid-configuration"
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, discoveryURL, nil)
		resp, doc := doJSON(t, req)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("discovery: status %d", resp.StatusCode)
		}
		dynWantJSON(t, "the discovery document", resp)
		// go-oidc refuses a document whose issuer is not where it was found.
		if _, err := oidc.NewProvider(ctx, s.URL); err != nil {
			t.Errorf("go-oidc refuses the discovery document: %v", err)
		}
		str := func(k string) string { v, _ := doc[k].(string); return v }
		strs := func(k string) ([]string, bool) {
			list, ok := doc[k].([]any)
			out := make([]string, 0, len(list))
			for _, v := range list {
				s, isStr := v.(string)
				if !isStr {
					return nil, false
				}
				out = append(out, s)
			}
			return out, ok
		}

		// CheckDiscEndpointIssuer, CheckDiscEndpointIssuerIsValidUrl:
		// the issuer is the discovery URL without the well-known path, an
		// absolute URL without query or fragment (RFC 8414 §2).
		issuer := str("issuer")
		if want := strings.TrimSuffix(discoveryURL, "/.well-known/openid-configuration"); strings.TrimSuffix(issuer, "/") != want {
			t.Errorf("issuer = %q, want %q (OpenID Connect Discovery §4.3)", issuer, want)
		}
		if u, err := url.Parse(issuer); err != nil || !u.IsAbs() || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			t.Errorf("issuer %q is not an absolute URL without query and fragment", issuer)
		}

		// OIDCCCheckDiscEndpointResponseTypesSupported (static client): at
		// least one OpenID Connect response type; this provider offers code
		// alone.
		if rt, ok := strs("response_types_supported"); !ok || !slices.Equal(rt, []string{"code"}) {
			t.Errorf("response_types_supported = %v, want [code]", doc["response_types_supported"])
		}
		// CheckDiscEndpointSubjectTypesSupported: public or pairwise.
		if st, ok := strs("subject_types_supported"); !ok || !(slices.Contains(st, "public") || slices.Contains(st, "pairwise")) {
			t.Errorf("subject_types_supported = %v, want public or pairwise", doc["subject_types_supported"])
		}
		// OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported: RS256.
		if algs, ok := strs("id_token_signing_alg_values_supported"); !ok || !slices.Contains(algs, "RS256") {
			t.Errorf("id_token_signing_alg_values_supported = %v, want RS256 among them", doc["id_token_signing_alg_values_supported"])
		}
		// OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported: an array when present.
		if _, present := doc["userinfo_signing_alg_values_supported"]; present {
			if _, ok := strs("userinfo_signing_alg_values_supported"); !ok {
				t.Errorf("userinfo_signing_alg_values_supported = %v, want an array of strings", doc["userinfo_signing_alg_values_supported"])
			}
		}

		// CheckDiscEndpointAuthorizationEndpoint, CheckDiscEndpointTokenEndpoint,
		// CheckDiscEndpointUserinfoEndpoint, CheckDiscEndpointRegistrationEndpoint,
		// CheckJwksUri and CheckDiscEndpointAllEndpointsAreHttps: every
		// endpoint is an absolute URL of this issuer. (The suite wants
		// https; the test server's issuer is http on loopback, which the
		// configuration allows only there.)
		endpoints := []string{"jwks_uri"}
		for k := range doc {
			if strings.HasSuffix(k, "_endpoint") {
				endpoints = append(endpoints, k)
			}
		}
		for _, k := range []string{"authorization_endpoint", "token_endpoint", "userinfo_endpoint", "registration_endpoint", "jwks_uri"} {
			if !slices.Contains(endpoints, k) || str(k) == "" {
				t.Errorf("the discovery document has no %s", k)
			}
		}
		for _, k := range endpoints {
			u, err := url.Parse(str(k))
			if err != nil || !u.IsAbs() || !strings.HasPrefix(str(k), issuer+"/") {
				t.Errorf("%s = %v, want an absolute URL under the issuer %s", k, doc[k], issuer)
			}
		}

		// FetchServerKeys, ValidateServerJWKs,
		// EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys; the keys
		// sign ID tokens in RS256.
		keys := dynServerKeys(t, s)
		rsa := 0
		for _, k := range keys {
			if k["kty"] == "RSA" {
				rsa++
			}
		}
		if rsa == 0 {
			t.Errorf("the JWKS has no RSA key to verify RS256 ID tokens: %v", keys)
		}

		// CheckDiscEndpointRequestParameterSupported,
		// CheckDiscEndpointRequestUriParameterSupported,
		// CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256,
		// CheckDiscEndpointClaimsParameterSupported: request objects by value
		// and by reference, RS256-signed, and the claims parameter.
		for _, k := range []string{"request_parameter_supported", "request_uri_parameter_supported", "claims_parameter_supported"} {
			if doc[k] != true {
				t.Errorf("%s = %v, want true", k, doc[k])
			}
		}
		if algs, ok := strs("request_object_signing_alg_values_supported"); !ok || !slices.Contains(algs, "RS256") {
			t.Errorf("request_object_signing_alg_values_supported = %v, want RS256 among them", doc["request_object_signing_alg_values_supported"])
		}
		// OIDCCCheckDiscEndpointClaimsSupported: an array.
		if claims, ok := strs("claims_supported"); !ok || !slices.Contains(claims, "sub") {
			t.Errorf("claims_supported = %v, want an array of claim names with sub", doc["claims_supported"])
		}
		// OIDCCCheckDiscEndpointGrantTypesSupported (static client): when
		// present, a non-empty array.
		if _, present := doc["grant_types_supported"]; present {
			if gt, ok := strs("grant_types_supported"); !ok || !slices.Contains(gt, "authorization_code") {
				t.Errorf("grant_types_supported = %v, want a non-empty array with authorization_code", doc["grant_types_supported"])
			}
		}
		// CheckDiscEndpointScopesSupportedContainsOpenId,
		// CheckDiscEndpointScopesSupportedSyntax: openid, and each value a
		// scope-token of RFC 6749 Appendix A.4.
		scopes, ok := strs("scopes_supported")
		if !ok || !slices.Contains(scopes, "openid") {
			t.Errorf("scopes_supported = %v, want openid among them", doc["scopes_supported"])
		}
		for _, sc := range scopes {
			if sc == "" || strings.ContainsFunc(sc, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) {
				t.Errorf("scopes_supported has %q, which is not a scope-token", sc)
			}
		}
		// CheckDiscEndpointLocalesSyntax: arrays when present.
		for _, k := range []string{"ui_locales_supported", "claims_locales_supported"} {
			if _, present := doc[k]; present {
				if _, ok := strs(k); !ok {
					t.Errorf("%s = %v, want an array of language tags", k, doc[k])
				}
			}
		}
		// EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray.
		if m, ok := strs("code_challenge_methods_supported"); !ok || !slices.Equal(m, []string{"S256"}) {
			t.Errorf("code_challenge_methods_supported = %v, want [S256]", doc["code_challenge_methods_supported"])
		}
	})
}

// oidcc-idtoken-rs256: a client that registered id_token_signed_response_alg RS256 gets RS256 ID tokens with a kid from the JWKS.
func TestOIDCCIdtokenRS256(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-idtoken-rs256", key, dynRedirect(t))
		meta["id_token_signed_response_alg"] = "RS256" // AddIdTokenSigningAlgRS256ToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, key)
		if c.reg.body["id_token_signed_response_alg"] != "RS256" {
			t.Errorf("the registration answer has id_token_signed_response_alg %v, want RS256", c.reg.body["id_token_signed_response_alg"])
		}

		_, idt := c.signInAndExchange(t)
		// EnsureIdTokenContainsKid, CheckIdTokenSignatureAlgorithm.
		if idt.header.Alg != "RS256" {
			t.Errorf("the ID token is signed with %q, want RS256", idt.header.Alg)
		}
		jwk, ok := dynServerKeys(t, s)[idt.header.Kid]
		if !ok || jwk["kty"] != "RSA" {
			t.Errorf("the ID token's kid %q is not an RSA key of the JWKS (%v)", idt.header.Kid, jwk)
		}
	})
}

// oidcc-userinfo-rs256: a client that registered userinfo_signed_response_alg RS256 gets UserInfo as an RS256 JWT from the issuer to it.
func TestOIDCCUserinfoRS256(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		// CheckDiscEndpointUserinfoSigningAlgValuesSupportedContainsRS256.
		if algs, _ := discovery(t, s, "/.well-known/openid-configuration")["userinfo_signing_alg_values_supported"].([]any); !slices.Contains(algs, any("RS256")) {
			t.Errorf("userinfo_signing_alg_values_supported = %v, want RS256 among them", algs)
		}
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-userinfo-rs256", key, dynRedirect(t))
		meta["userinfo_signed_response_alg"] = "RS256" // AddUserinfoSignedResponseAlgRS256ToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, key)

		tok, idt := c.signInAndExchange(t)
		resp, body := c.userinfo(t, tok.AccessToken)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("userinfo: status %d: %s", resp.StatusCode, body)
		}
		// EnsureContentTypeApplicationJwt.
		if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/jwt" {
			t.Errorf("userinfo Content-Type = %q, want application/jwt (OpenID Connect Core §5.3.2)", resp.Header.Get("Content-Type"))
		}
		// ValidateUserInfoResponseSignature (with the JWKS, by kid) and
		// ValidateUserInfoSigningAlgIsRS256.
		raw := string(body)
		h := dynJWSHeader(t, raw)
		if h.Alg != "RS256" {
			t.Errorf("the UserInfo JWT is signed with %q, want RS256", h.Alg)
		}
		if _, ok := dynServerKeys(t, s)[h.Kid]; !ok {
			t.Errorf("the UserInfo JWT's kid %q is not in the JWKS", h.Kid)
		}
		jwksURI, _ := discovery(t, s, "/.well-known/openid-configuration")["jwks_uri"].(string)
		payload, err := oidc.NewRemoteKeySet(t.Context(), jwksURI).VerifySignature(t.Context(), raw)
		if err != nil {
			t.Fatalf("the UserInfo JWT does not verify with the JWKS: %v", err)
		}
		var claims map[string]any
		if err := json.Unmarshal(payload, &claims); err != nil {
			t.Fatalf("the UserInfo JWT's claims are not JSON: %s", payload)
		}
		// ValidateSignedUserInfoResponseStandardJWTClaims: iss, aud, and
		// exp, iat, nbf sane when present.
		if claims["iss"] != s.URL {
			t.Errorf("UserInfo iss = %v, want %s", claims["iss"], s.URL)
		}
		switch aud := claims["aud"].(type) {
		case string:
			if aud != c.id {
				t.Errorf("UserInfo aud = %q, want %s", aud, c.id)
			}
		case []any:
			if !slices.Contains(aud, any(c.id)) {
				t.Errorf("UserInfo aud = %v, want it to hold %s", aud, c.id)
			}
		default:
			t.Errorf("UserInfo aud = %v, want %s", claims["aud"], c.id)
		}
		now := time.Now()
		if exp, ok := claims["exp"].(float64); ok && time.Unix(int64(exp), 0).Before(now.Add(-5*time.Minute)) {
			t.Errorf("UserInfo exp %v has passed", exp)
		}
		for _, k := range []string{"iat", "nbf"} {
			if v, ok := claims[k].(float64); ok && time.Unix(int64(v), 0).After(now.Add(5*time.Minute)) {
				t.Errorf("UserInfo %s %v is in the future", k, v)
			}
		}
		// EnsureUserInfoContainsSub (the ID token's, OpenID Connect Core
		// §5.3.2) and EnsureUserInfoDoesNotContainNonce.
		if claims["sub"] != idt.token.Subject {
			t.Errorf("UserInfo sub = %v, want the ID token's %q", claims["sub"], idt.token.Subject)
		}
		if _, ok := claims["nonce"]; ok {
			t.Errorf("UserInfo holds a nonce: %v", claims)
		}
		// go-oidc reads the signed answer too.
		info, err := c.op.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("go-oidc userinfo: %v", err)
		}
		if info.Subject != idt.token.Subject {
			t.Errorf("go-oidc reads UserInfo sub %q, want %q", info.Subject, idt.token.Subject)
		}
	})
}

// oidcc-ensure-redirect-uri-in-authorization-request: an OpenID Connect request without redirect_uri is refused on the provider's error page, with one redirect URI registered or several.
func TestOIDCCEnsureRedirectUriInAuthorizationRequest(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		unregistered := ""
		for _, tc := range []struct {
			name      string
			redirects int
		}{
			{"with one registered redirect URI the request is refused on the error page", 1},
			{"with two registered redirect URIs the request is refused on the error page", 2},
		} {
			t.Run(tc.name, func(t *testing.T) {
				key := dynKey(t, false)
				meta := dynMetadata("oidcc-ensure-redirect-uri-in-authorization-request", key, dynRedirect(t))
				if tc.redirects == 2 {
					meta["redirect_uris"] = []string{meta["redirect_uris"].([]string)[0], dynRedirect(t)}
				}
				c := dynRegister(t, s, meta, key)

				// RemoveRedirectUriFromAuthorizationEndpointRequest: OpenID
				// Connect Core §3.1.2.1 makes redirect_uri REQUIRED, however
				// many are registered.
				c.config.RedirectURL = ""
				az := c.authorization(t)
				if strings.Contains(az.url, "redirect_uri") {
					t.Fatalf("the request still has a redirect_uri: %s", az.url)
				}
				missing := dynErrorPage(t, s, s.newAgent(t).get(az.url))

				// The page says the address is missing, not that the app
				// asked for one it did not register (the screenshot the
				// module asks for).
				c.config.RedirectURL = c.redirect + "_unregistered"
				if unregistered == "" {
					unregistered = dynErrorPage(t, s, s.newAgent(t).get(c.authorization(t).url))
				}
				if missing == unregistered {
					t.Errorf("the error page for a missing redirect_uri says %q, the same as for an unregistered one", missing)
				}
			})
		}

		// RFC 6749 §3.1.2.3 lets a plain OAuth request (no openid scope)
		// of a client with one redirect URI leave it out: the refusal above
		// is OpenID Connect's.
		t.Run("a plain OAuth request of a client with one redirect URI may leave it out", func(t *testing.T) {
			key := dynKey(t, false)
			c := dynRegister(t, s, dynMetadata("oidcc-ensure-redirect-uri-in-authorization-request", key, dynRedirect(t)), key)
			c.config.RedirectURL = ""
			c.config.Scopes = []string{"read"}
			if p := s.newAgent(t).get(c.authorization(t).url); p.url.Path != "/login" {
				t.Errorf("status %d at %s, want the sign-in page:\n%s", p.status, p.url, p.body)
			}
		})
	})
}

// oidcc-redirect-uri-query-OK: a redirect URI registered with a query component is accepted as is, and the query is kept in the response.
func TestOIDCCRedirectUriQueryOK(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		redirect := dynRedirect(t) + "?bar=foo" // AddQueryToRedirectUri
		c := dynRegister(t, s, dynMetadata("oidcc-redirect-uri-query-OK", key, redirect), key)

		az := c.authorization(t)
		back := c.authorize(t, az.url)
		if got := back.Query()["bar"]; !slices.Equal(got, []string{"foo"}) {
			t.Errorf("the registered query component came back as bar=%v in %s, want bar=foo", got, back)
		}
		code := c.code(t, back, az.state)
		tok := c.exchange(t, code, c.op.Endpoint().TokenURL)
		c.idToken(t, tok, az.nonce)
	})
}

// oidcc-redirect-uri-query-mismatch: a redirect_uri whose query differs from the registered one is refused on the error page, never redirected to.
func TestOIDCCRedirectUriQueryMismatch(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		registered := dynRedirect(t) + "?bar=foo" // AddQueryToRedirectUri
		c := dynRegister(t, s, dynMetadata("oidcc-redirect-uri-query-mismatch", key, registered), key)

		// ReplaceRedirectUriQueryInAuthorizationRequest.
		c.config.RedirectURL = strings.Replace(registered, "?bar=foo", "?foo=bar", 1)
		dynErrorPage(t, s, s.newAgent(t).get(c.authorization(t).url))
	})
}

// oidcc-redirect-uri-query-added: a redirect_uri with a query added to the registered one is refused on the error page, never redirected to.
func TestOIDCCRedirectUriQueryAdded(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		registered := dynRedirect(t)
		c := dynRegister(t, s, dynMetadata("oidcc-redirect-uri-query-added", key, registered), key)

		// AddQueryToRedirectUriInAuthorizationRequest.
		c.config.RedirectURL = registered + "?foo=bar"
		dynErrorPage(t, s, s.newAgent(t).get(c.authorization(t).url))
	})
}

// oidcc-redirect-uri-regfrag: registering a redirect URI with a fragment is refused with a registration error.
func TestOIDCCRedirectUriRegfrag(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-redirect-uri-regfrag", key, dynRedirect(t)+"#foobar") // AddFragmentToRedirectUri

		// CallDynamicRegistrationEndpointExpectingError,
		// CheckErrorFromDynamicRegistrationEndpointIsInvalidRequestOrInvalidConfigurationParameterOrInvalidRedirectUri.
		resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("registration with a fragment: status %d: %v; want 400", resp.StatusCode, body)
		}
		dynWantJSON(t, "the registration error", resp)
		if e := body["error"]; !slices.Contains([]any{"invalid_request", "invalid_configuration_parameter", "invalid_redirect_uri"}, e) {
			t.Errorf("error = %v, want invalid_redirect_uri (RFC 6749 §3.1.2: no fragment)", e)
		}
		if body["client_id"] != nil {
			t.Errorf("the refusal carries a client_id: %v", body)
		}
	})
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

// oidcc-registration-sector-uri: pairwise subjects are not offered (discovery lists public only, so the suite skips the module), and a registration with a sector_identifier_uri is refused cleanly without fetching it.
func TestOIDCCRegistrationSectorUri(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		dynWantPublicSubjectsOnly(t, s)
		key := dynKey(t, false)
		redirect := dynRedirect(t)
		sector, hits := dynSectorHost(t, redirect) // CreateSectorRedirectUris: lists the redirect URI

		t.Run("pairwise with a sector_identifier_uri listing the redirect URI is invalid_client_metadata", func(t *testing.T) {
			meta := dynMetadata("oidcc-registration-sector-uri", key, redirect)
			meta["subject_type"] = "pairwise"      // AddSubjectTypePairwiseToDynamicRegistrationRequest
			meta["sector_identifier_uri"] = sector // AddSectorIdentifierUriToDynamicRegistrationRequest
			resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
			dynWantSectorRefused(t, resp, body, "subject_type")
		})
		t.Run("a sector_identifier_uri alone is invalid_client_metadata", func(t *testing.T) {
			meta := dynMetadata("oidcc-registration-sector-uri", key, redirect)
			meta["sector_identifier_uri"] = sector
			resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
			dynWantSectorRefused(t, resp, body, "sector_identifier_uri")
		})
		t.Run("subject_type public is registered", func(t *testing.T) {
			meta := dynMetadata("oidcc-registration-sector-uri", key, redirect)
			meta["subject_type"] = "public"
			dynRegister(t, s, meta, key)
		})
		if n := hits.Load(); n != 0 {
			t.Errorf("the sector_identifier_uri was fetched %d times for registrations that are refused anyway", n)
		}
	})
}

// oidcc-registration-sector-bad: a registration whose sector_identifier_uri does not list its redirect URI is refused with invalid_client_metadata.
func TestOIDCCRegistrationSectorBad(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		dynWantPublicSubjectsOnly(t, s)
		key := dynKey(t, false)
		sector, hits := dynSectorHost(t, "https://elsewhere.example.com/callback") // CreateInvalidSectorRedirectUris
		meta := dynMetadata("oidcc-registration-sector-bad", key, dynRedirect(t))
		meta["subject_type"] = "pairwise"
		meta["sector_identifier_uri"] = sector

		// CallDynamicRegistrationEndpoint, EnsureContentTypeJson,
		// EnsureHttpStatusCodeIs400,
		// CheckErrorFromDynamicRegistrationEndpointIsInvalidClientMetadata.
		resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
		dynWantSectorRefused(t, resp, body, "subject_type")
		if body["client_id"] != nil {
			t.Errorf("the refusal carries a client_id: %v", body)
		}
		if n := hits.Load(); n != 0 {
			t.Errorf("the sector_identifier_uri was fetched %d times", n)
		}
	})
}

// oidcc-registration-jwks-uri: a client registered with a jwks_uri completes the code flow, its assertion verified with the key fetched from there.
func TestOIDCCRegistrationJwksUri(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, true) // GenerateRS256ClientJWKsWithKeyID
		host := newJWKSHost(t, key)
		meta := dynWithJWKSURI(dynMetadata("oidcc-registration-jwks-uri", key, dynRedirect(t)), host.url)
		c := dynRegister(t, s, meta, key)
		if c.reg.body["jwks_uri"] != host.url || c.reg.body["jwks"] != nil {
			t.Errorf("the registration answer has jwks_uri %v and jwks %v, want the jwks_uri only", c.reg.body["jwks_uri"], c.reg.body["jwks"])
		}

		tok, idt := c.signInAndExchange(t)
		if n := host.fetches(); n != 1 {
			t.Errorf("the jwks_uri was fetched %d times for one assertion, want once", n)
		}
		c.userinfoSub(t, tok.AccessToken, idt.token.Subject)
	})
}

// oidcc-server-rotate-keys: after a rotation the JWKS has the new key at once and keeps the old one; once active, the new key signs ID tokens that a go-oidc verifier holding the old JWKS verifies by fetching again.
func TestOIDCCServerRotateKeys(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := dynNewServer(t, b, withClock(clock))
		ctx := t.Context()
		original := dynServerKeys(t, s) // "Fetch & validate current server keys"

		key := dynKey(t, false)
		meta := dynMetadata("oidcc-server-rotate-keys", key, dynRedirect(t))
		meta["grant_types"] = []string{"authorization_code", "refresh_token"}
		c := dynRegister(t, s, meta, key)
		// Refresh tokens only come with offline_access.
		c.config.Scopes = strings.Fields(dynOfflineScope)
		tok, first := c.signInAndExchange(t) // c.verifier caches the JWKS of before the rotation
		oldKid := first.header.Kid
		if _, ok := original[oldKid]; !ok {
			t.Fatalf("the ID token's kid %q is not in the JWKS %v", oldKid, original)
		}

		// TellUserToRotateOpKeys: a while later the operator rotates
		// (ajrly-auth keys rotate).
		clock.Advance(time.Minute)
		rotated, err := s.Provider.Keys().Rotate(ctx, provider.AlgRS256, false)
		if err != nil {
			t.Fatalf("rotate: %v", err)
		}
		if rotated.Replaced != oldKid || rotated.KID == oldKid || !rotated.SignsAt.Equal(clock.Now().Add(provider.KeyActivation)) {
			t.Fatalf("rotation = %+v, want a new key replacing %s that signs in %v", rotated, oldKid, provider.KeyActivation)
		}
		// "Fetch & validate new server keys", VerifyNewJwksHasNewSigningKey,
		// VerifyNewJwksStillHasOldSigningKey: published at once.
		published := dynServerKeys(t, s)
		if _, ok := published[rotated.KID]; !ok {
			t.Errorf("the new key %s is not published right after the rotation: %v", rotated.KID, published)
		}
		if _, ok := published[oldKid]; !ok {
			t.Errorf("the old key %s left the JWKS at the rotation", oldKid)
		}

		// Until it is active the old key still signs.
		refresh := func(rt string) (*oauth2.Token, dynIDToken) {
			t.Helper()
			resp, body := c.refresh(t, key, rt, "")
			next := tokenFrom(t, resp, body)
			raw, _ := next.Extra("id_token").(string)
			return next, c.verifyIDToken(t, c.verifier, raw, next.AccessToken, "")
		}
		tok, second := refresh(tok.RefreshToken)
		if second.header.Kid != oldKid {
			t.Errorf("an ID token right after the rotation has kid %q, want the old %q (the new key signs after %v)", second.header.Kid, oldKid, provider.KeyActivation)
		}

		// Past the activation, and once the keys are reloaded (the server
		// does it every minute), the new key signs. The verifier has not
		// seen it: go-oidc fetches the JWKS again for the unknown kid.
		clock.Advance(provider.KeyActivation + time.Minute)
		if err := s.Provider.Keys().Reload(ctx); err != nil {
			t.Fatalf("reload: %v", err)
		}
		_, third := refresh(tok.RefreshToken)
		if third.header.Kid != rotated.KID {
			t.Errorf("an ID token after the activation has kid %q, want the new %q", third.header.Kid, rotated.KID)
		}
		after := dynServerKeys(t, s)
		for _, kid := range []string{oldKid, rotated.KID} {
			if _, ok := after[kid]; !ok {
				t.Errorf("the JWKS after the activation lacks %s: %v", kid, after)
			}
		}
		// What the old key signed still verifies, for a verifier that
		// never saw the JWKS before.
		op, err := oidc.NewProvider(ctx, s.URL)
		if err != nil {
			t.Fatal(err)
		}
		c.verifyIDToken(t, op.Verifier(&oidc.Config{ClientID: c.id}), first.raw, "", first.token.Nonce)
	})
}

// oidcc-refresh-token-rp-key-rotation: after the client replaces its key at its jwks_uri, a refresh authenticated with the new kid succeeds at once, the provider fetching the key set again.
func TestOIDCCRefreshTokenRPKeyRotation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		// The clock stands still: the key set cache and the refetch limit
		// (10 minutes, 30 s) count on it, so the fetch counts are exact.
		s := dynNewServer(t, b, withClock(storagetest.NewClock()))
		dynWantRefreshGrant(t, s)
		oldKey := dynKey(t, true) // GenerateRS256ClientJWKsWithKeyID, served at CreateJwksUri
		host := newJWKSHost(t, oldKey)
		meta := dynWithJWKSURI(dynMetadata("oidcc-refresh-token-rp-key-rotation", oldKey, dynRedirect(t)), host.url)
		meta["grant_types"] = []string{"authorization_code", "refresh_token"} // AddRefreshTokenGrantTypeToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, oldKey)
		c.config.Scopes = strings.Fields(dynOfflineScope) // SetScopeInClientConfigurationToOpenIdOfflineAccess

		// AddPromptConsentToAuthorizationEndpointRequestIfScopeContainsOfflineAccess.
		tok, first := c.signInAndExchange(t, oauth2.SetAuthURLParam("prompt", "consent"))
		if tok.RefreshToken == "" || strings.ContainsFunc(tok.RefreshToken, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
			t.Fatalf("refresh_token = %q, want one of RFC 6749 A.17 characters", tok.RefreshToken)
		}
		if n := host.fetches(); n != 1 {
			t.Fatalf("the jwks_uri was fetched %d times before the rotation, want once", n)
		}

		// "Cycling keys in RP jwks_uri": a new key with a new kid replaces
		// the old one. The suite then waits 60 s for servers that limit
		// refetching; this one fetches at once for an unknown kid.
		newKey := dynKey(t, true)
		host.serve(newKey)
		before := time.Now()
		resp, body := c.refresh(t, newKey, tok.RefreshToken, dynOfflineScope)
		after := time.Now()
		refreshed := dynRefreshed(t, tok, resp, body)
		if n := host.fetches(); n != 2 {
			t.Errorf("the jwks_uri was fetched %d times, want twice (once more for the new kid)", n)
		}
		second := c.idToken(t, refreshed, "")
		dynCompareRefreshedIDToken(t, first, second, before, after)

		// requestProtectedResource with the new access token.
		c.userinfoSub(t, refreshed.AccessToken, first.token.Subject)
	})
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

// oidcc-request-uri-unsigned: an unsigned request object fetched from a registered request_uri completes the authorization with its parameters.
func TestOIDCCRequestUriUnsigned(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		dynWantRequestURISupport(t, s)
		host := dynNewRequestURIHost(t)
		requestURI := host.uri(t)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-request-uri-unsigned", key, dynRedirect(t))
		meta["request_uris"] = []string{requestURI} // AddRequestUriToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, key)

		// SerializeRequestObjectWithNullAlgorithm.
		dynRequestURIFlow(t, c, host, requestURI, func(claims map[string]any) string { return dynUnsigned(t, claims) })
	})
}

// oidcc-request-uri-signed-rs256: an RS256 request object fetched from a registered request_uri is verified with the client's key and its parameters used; one signed by another key is refused.
func TestOIDCCRequestUriSignedRS256(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		// CheckDiscEndpointRequestObjectSigningAlgValuesSupportedContainsRS256.
		if algs, _ := dynWantRequestURISupport(t, s)["request_object_signing_alg_values_supported"].([]any); !slices.Contains(algs, any("RS256")) {
			t.Errorf("request_object_signing_alg_values_supported = %v, want RS256 among them", algs)
		}
		host := dynNewRequestURIHost(t)
		requestURI := host.uri(t)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-request-uri-signed-rs256", key, dynRedirect(t))
		meta["request_uris"] = []string{requestURI}
		meta["request_object_signing_alg"] = "RS256" // AddRequestObjectSigningAlgRS256ToDynamicRegistrationRequest
		c := dynRegister(t, s, meta, key)

		// AddAudToRequestObject, AddIssToRequestObject, SignRequestObject.
		signWith := func(k clientKey) func(map[string]any) string {
			return func(claims map[string]any) string {
				claims["aud"], claims["iss"] = s.URL, c.id
				return k.sign(t, claims)
			}
		}
		dynRequestURIFlow(t, c, host, requestURI, signWith(key))

		t.Run("an object signed by a key the client does not have is invalid_request_object", func(t *testing.T) {
			az := dynAuthz{state: randomString(t), nonce: randomString(t)}
			host.object.Store(signWith(dynKey(t, false))(c.requestObjectClaims(az, c.redirect)))
			p := s.newAgent(t).get(c.requestObjectURL("request_uri", requestURI, c.redirect))
			back := redirectOf(p)
			if back == nil || dynWithoutQuery(back) != c.redirect {
				t.Fatalf("status %d at %s, want a redirect to %s with the error", p.status, p.url, c.redirect)
			}
			if q := back.Query(); q.Get("error") != "invalid_request_object" || q.Has("code") {
				t.Errorf("the forged object answered %s, want error=invalid_request_object and no code", back.RawQuery)
			}
		})
	})
}

// oidcc-ensure-client-assertion-with-iss-aud-succeeds: a client assertion whose aud is the issuer rather than the token endpoint is accepted at the token endpoint.
func TestOIDCCEnsureClientAssertionWithIssAudSucceeds(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		c := dynRegister(t, s, dynMetadata("oidcc-ensure-client-assertion-with-iss-aud-succeeds", key, dynRedirect(t)), key)

		az := c.authorization(t)
		code := c.code(t, c.authorize(t, az.url), az.state)
		// UpdateClientAuthenticationAssertionClaimsWithISSAud.
		tok := c.exchange(t, code, s.URL)
		c.idToken(t, tok, az.nonce)
	})
}

// oidcc-server (Dynamic OP, registered at /register with private_key_jwt): the happy code flow, from registration to a verified ID token, UserInfo and unregistration.
func TestOIDCCServerDynamic(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		meta := dynMetadata("oidcc-server", key, dynRedirect(t))
		c := dynRegister(t, s, meta, key)
		if c.reg.token == "" || c.reg.uri != s.URL+"/register/"+c.id {
			t.Errorf("registration_access_token %q, registration_client_uri %q: want both (RFC 7592)", c.reg.token, c.reg.uri)
		}

		tok, idt := c.signInAndExchange(t)
		// EnsureIdTokenDoesNotContainName: scope openid alone releases no
		// profile claims in the ID token.
		if _, ok := idt.claims["name"]; ok {
			t.Errorf("an ID token for scope openid holds name: %v", idt.claims)
		}
		if idt.token.AccessTokenHash == "" {
			t.Error("the ID token has no at_hash")
		}
		c.userinfoSub(t, tok.AccessToken, idt.token.Subject)

		// UnregisterDynamicallyRegisteredClient.
		resp, out := s.registrationCall(t, http.MethodDelete, "/register/"+c.id, c.reg.token, nil)
		if resp.StatusCode != http.StatusNoContent {
			t.Errorf("unregister: status %d: %v; want 204", resp.StatusCode, out)
		}
	})
}

// oidcc-ensure-request-object-with-redirect-uri (Dynamic OP): the redirect_uri in an unsigned request object wins over a different one in the query.
func TestOIDCCEnsureRequestObjectWithRedirectUriDynamic(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		key := dynKey(t, false)
		c := dynRegister(t, s, dynMetadata("oidcc-ensure-request-object-with-redirect-uri", key, dynRedirect(t)), key)

		// ConvertAuthorizationEndpointRequestToRequestObject,
		// AddAudToRequestObject, AddIssToRequestObject,
		// SerializeRequestObjectWithNullAlgorithm; then
		// AddInvalidRedirectUriToAuthorizationRequest puts another
		// redirect_uri in the query.
		az := dynAuthz{state: randomString(t), nonce: randomString(t)}
		claims := c.requestObjectClaims(az, c.redirect)
		claims["aud"], claims["iss"] = s.URL, c.id
		authURL := c.requestObjectURL("request", dynUnsigned(t, claims), c.redirect+"_invalid")

		code := c.code(t, c.authorize(t, authURL), az.state)
		tok := c.exchange(t, code, c.op.Endpoint().TokenURL)
		c.idToken(t, tok, az.nonce)
	})
}

// oidcc-refresh-token (Dynamic OP): a refresh returns new tokens and an ID token consistent with the first, and a refresh token works only for the client it was issued to.
func TestOIDCCRefreshTokenDynamic(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := dynNewServer(t, b)
		dynWantRefreshGrant(t, s)
		register := func() *dynClient {
			key := dynKey(t, false)
			meta := dynMetadata("oidcc-refresh-token", key, dynRedirect(t))
			meta["grant_types"] = []string{"authorization_code", "refresh_token"} // AddRefreshTokenGrantTypeToDynamicRegistrationRequest
			c := dynRegister(t, s, meta, key)
			c.config.Scopes = strings.Fields(dynOfflineScope)
			return c
		}
		// flow runs one client's authorization and refresh; the second
		// client sends no scope (RefreshTokenRequestSteps).
		flow := func(c *dynClient, scope string) *oauth2.Token {
			t.Helper()
			tok, first := c.signInAndExchange(t, oauth2.SetAuthURLParam("prompt", "consent"))
			// ExtractRefreshTokenFromTokenResponse, EnsureRefreshTokenContainsAllowedCharactersOnly.
			if tok.RefreshToken == "" || strings.ContainsFunc(tok.RefreshToken, func(r rune) bool { return r < 0x20 || r > 0x7e }) {
				t.Fatalf("refresh_token = %q, want one of RFC 6749 A.17 characters", tok.RefreshToken)
			}
			before := time.Now()
			resp, body := c.refresh(t, c.key, tok.RefreshToken, scope)
			after := time.Now()
			refreshed := dynRefreshed(t, tok, resp, body)
			dynCompareRefreshedIDToken(t, first, c.idToken(t, refreshed, ""), before, after)
			c.userinfoSub(t, refreshed.AccessToken, first.token.Subject)
			if refreshed.RefreshToken == "" {
				return tok // the old one stays valid when none is returned
			}
			return refreshed
		}
		client1, client2 := register(), register()
		flow(client1, dynOfflineScope)
		tok2 := flow(client2, "")

		// performSecondClientTests, RefreshTokenRequestExpectingErrorSteps:
		// client 2's refresh token sent by client 1 is 400 invalid_grant.
		resp, body := client1.refresh(t, client1.key, tok2.RefreshToken, dynOfflineScope)
		dynWantJSON(t, "the refusal", resp)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_grant" || body["access_token"] != nil {
			t.Errorf("another client's refresh token: status %d, %v; want 400 invalid_grant", resp.StatusCode, body)
		}
	})
}
