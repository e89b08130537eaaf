package api

import (
	stdcmp "cmp"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/google/go-cmp/cmp"
)

func TestExampleAPIRoutesNeedTheirScopes(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, _ := newTestServer(t, f, func(o *Options) { o.CacheTTL = 0 })
	grants := []string{"read", "write", "projects:read", "projects:write", "team:manage", "billing:read", "read write", "openid profile email"}
	// For each route, the grants that may call it: read covers the *:read
	// and write the *:write scopes every role holds; the role-limited
	// team:manage and billing:read are covered by nothing but themselves
	// (the provider expanded an owner's read at issuance).
	allowed := map[string][]string{
		"GET /v1/projects":  {"read", "projects:read", "read write"},
		"POST /v1/projects": {"write", "projects:write", "read write"},
		"GET /v1/team":      {"team:manage"},
		"GET /v1/billing":   {"billing:read"},
	}
	if len(allowed) != len(Routes) {
		t.Fatalf("the table covers %d routes, the API has %d", len(allowed), len(Routes))
	}
	for _, rt := range Routes {
		route := rt.Method + " " + rt.Path
		for _, g := range grants {
			t.Run(route+" with "+g, func(t *testing.T) {
				body := ""
				if rt.Method == http.MethodPost {
					body = `{"name":"Apollo"}`
				}
				a := call(t, s, rt.Method, rt.Path, f.apiKey(t, "org_1", g), body)
				if slices.Contains(allowed[route], g) {
					if a.status != http.StatusOK && a.status != http.StatusCreated {
						t.Fatalf("status %d, want success: %v", a.status, a.body)
					}
					if a.challenge != "" {
						t.Errorf("a success carries a challenge: %s", a.challenge)
					}
					return
				}
				if a.status != http.StatusForbidden {
					t.Fatalf("status %d, want 403: %v", a.status, a.body)
				}
				want := `Bearer realm="example-api", error="insufficient_scope", error_description="This request needs the scope ` +
					rt.Scope + `; the credential has: ` + g + `.", scope="` + rt.Scope + `"`
				if a.challenge != want {
					t.Errorf("WWW-Authenticate:\n got %s\nwant %s", a.challenge, want)
				}
				if a.body["error"] != "insufficient_scope" || a.body["scope"] != rt.Scope || a.checkedBy() != CheckedByIntrospection {
					t.Errorf("body = %v", a.body)
				}
			})
		}
	}
}

func TestExampleAPIChallenges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  *AuthError
		want string
	}{
		{"no credential has no error code", noCredential("This API needs a credential."),
			`Bearer realm="example-api"`},
		{"an invalid token says why", invalidToken("The JWT has expired.", nil),
			`Bearer realm="example-api", error="invalid_token", error_description="The JWT has expired."`},
		{"a bad request is invalid_request", invalidRequest("Send one Authorization header."),
			`Bearer realm="example-api", error="invalid_request", error_description="Send one Authorization header."`},
		{"insufficient scope names the scope needed",
			&AuthError{Status: 403, Code: "insufficient_scope", Description: "Needs projects:read.", Scope: "projects:read"},
			`Bearer realm="example-api", error="insufficient_scope", error_description="Needs projects:read.", scope="projects:read"`},
		{"quotes, backslashes and non-ASCII cannot break the header",
			invalidToken("typ \"JWT\" \\ naïve\n", nil),
			`Bearer realm="example-api", error="invalid_token", error_description="typ 'JWT' / nave"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Challenge(); got != tc.want {
				t.Errorf("\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestExampleAPICredentialsOutsideTheHeaderOrMalformedAreRefused(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, _ := newTestServer(t, f)
	key := f.apiKey(t, "org_1", "read")
	tests := []struct {
		name          string
		target        string
		authorization []string
		status        int
		code          string // "" means no error in the challenge
	}{
		{"no Authorization header", "/v1/projects", nil, 401, ""},
		{"another scheme", "/v1/projects", []string{"Basic dXNlcjpwYXNz"}, 401, ""},
		{"the token in the query string", "/v1/projects?access_token=" + key, nil, 400, "invalid_request"},
		{"the token in the query string and the header", "/v1/projects?access_token=" + key, []string{"Bearer " + key}, 400, "invalid_request"},
		{"two Authorization headers", "/v1/projects", []string{"Bearer " + key, "Bearer " + key}, 400, "invalid_request"},
		{"an empty bearer", "/v1/projects", []string{"Bearer "}, 400, "invalid_request"},
		{"characters outside b64token", "/v1/projects", []string{"Bearer sk_live_abc,def"}, 401, "invalid_token"},
		{"a malformed API key", "/v1/projects", []string{"Bearer sk_live_short"}, 401, "invalid_token"},
		{"a refresh token", "/v1/projects", []string{"Bearer rt_live_abcdef"}, 401, "invalid_token"},
		{"something else", "/v1/projects", []string{"Bearer hello"}, 401, "invalid_token"},
		{"an unknown key", "/v1/projects", []string{"Bearer sk_live_" + strings.Repeat("x", 43)}, 401, "invalid_token"},
		{"the scheme in lower case works", "/v1/projects", []string{"bearer " + key}, 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.target, nil)
			for _, v := range tc.authorization {
				req.Header.Add("Authorization", v)
			}
			a := do(t, s, req)
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %v", a.status, tc.status, a.body)
			}
			if tc.status == 200 {
				return
			}
			want := `Bearer realm="example-api"`
			if tc.code != "" {
				want += `, error="` + tc.code + `", error_description="`
			}
			if a.challenge != want && (tc.code == "" || !strings.HasPrefix(a.challenge, want)) {
				t.Errorf("WWW-Authenticate = %s, want %s...", a.challenge, want)
			}
			if wantErr := stdcmp.Or(tc.code, "unauthorized"); a.body["error"] != wantErr || a.body["error_description"] == "" {
				t.Errorf("body = %v, want error %s", a.body, wantErr)
			}
		})
	}
	if n := f.introspections.Load(); n != 2 {
		t.Errorf("%d introspections, want 2 (the unknown key and the good one): malformed credentials need no round trip", n)
	}
}

func TestExampleAPIIntrospectionAnswersAreCachedByDigestUntilTTLOrExp(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, clock := newTestServer(t, f, func(o *Options) { o.CacheTTL = 10 * time.Second })
	key := f.apiKey(t, "org_1", "read billing:read")

	if a := call(t, s, "GET", "/v1/projects", key, ""); a.status != 200 || a.checkedBy() != CheckedByIntrospection {
		t.Fatalf("first call: %d %v", a.status, a.body)
	}
	if a := call(t, s, "GET", "/v1/billing", key, ""); a.status != 200 {
		t.Fatalf("second call: %d %v", a.status, a.body)
	}
	if n := f.introspections.Load(); n != 1 {
		t.Fatalf("%d introspections for two calls within the TTL, want 1", n)
	}
	// The cache holds the digest, never the key.
	if _, ok := s.intro.cache[sha256.Sum256([]byte(key))]; !ok || s.intro.cached() != 1 {
		t.Fatalf("the cache does not hold the key's digest")
	}

	// Revoked at the provider: the cached answer serves until the TTL ends.
	f.answer(key, map[string]any{"active": false})
	clock.advance(9 * time.Second)
	if a := call(t, s, "GET", "/v1/projects", key, ""); a.status != 200 {
		t.Fatalf("within the TTL: %d %v", a.status, a.body)
	}
	clock.advance(time.Second)
	a := call(t, s, "GET", "/v1/projects", key, "")
	if a.status != 401 || !strings.HasPrefix(a.challenge, `Bearer realm="example-api", error="invalid_token"`) {
		t.Fatalf("after the TTL: %d %s %v", a.status, a.challenge, a.body)
	}
	if n := f.introspections.Load(); n != 2 {
		t.Errorf("%d introspections, want 2", n)
	}
	// Negative answers are not cached.
	call(t, s, "GET", "/v1/projects", key, "")
	if n := f.introspections.Load(); n != 3 {
		t.Errorf("%d introspections, want 3: a refusal must not be cached", n)
	}

	// A token that expires before the TTL is kept only until its exp.
	token := "at_live_shortlived"
	f.answer(token, map[string]any{"active": true, "scope": "read", "sub": "usr_1", "org": "org_1", "client_id": "cl_app",
		"exp": clock.Now().Add(3 * time.Second).Unix(), "token_type": "Bearer", "token_use": "access_token", "iss": f.issuer})
	if a := call(t, s, "GET", "/v1/projects", token, ""); a.status != 200 || a.body["caller"].(map[string]any)["credential"] != CredentialAccessToken {
		t.Fatalf("access token: %d %v", a.status, a.body)
	}
	before := f.introspections.Load()
	clock.advance(4 * time.Second)
	call(t, s, "GET", "/v1/projects", token, "")
	if n := f.introspections.Load(); n != before+1 {
		t.Errorf("the cached answer outlived the token's exp")
	}
}

func TestExampleAPINoCacheWithTTLZero(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, _ := newTestServer(t, f, func(o *Options) { o.CacheTTL = 0 })
	key := f.apiKey(t, "org_1", "read")
	for range 3 {
		if a := call(t, s, "GET", "/v1/projects", key, ""); a.status != 200 {
			t.Fatalf("%d %v", a.status, a.body)
		}
	}
	if n := f.introspections.Load(); n != 3 || s.intro.cached() != 0 {
		t.Errorf("%d introspections and %d cached with TTL 0, want 3 and 0", n, s.intro.cached())
	}
}

func TestExampleAPIIntrospectionAnswersThatAreNotAccessCredentialsAreRefused(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, clock := newTestServer(t, f)
	base := func(edit func(map[string]any)) map[string]any {
		a := map[string]any{"active": true, "scope": "read", "sub": "usr_1", "org": "org_1", "client_id": "cl_app",
			"exp": clock.Now().Add(time.Hour).Unix(), "iss": f.issuer, "token_type": "Bearer", "token_use": "access_token"}
		if edit != nil {
			edit(a)
		}
		return a
	}
	tests := []struct {
		name   string
		answer map[string]any
		status int
	}{
		{"an active access token", base(nil), 200},
		{"one whose aud names this API", base(func(a map[string]any) { a["aud"] = []string{"https://other", DefaultAudience} }), 200},
		{"one whose aud is a string naming this API", base(func(a map[string]any) { a["aud"] = DefaultAudience }), 200},
		{"inactive", map[string]any{"active": false}, 401},
		{"a refresh token", base(func(a map[string]any) { a["token_type"] = "refresh_token"; a["token_use"] = "refresh_token" }), 401},
		{"another issuer's", base(func(a map[string]any) { a["iss"] = "https://evil.example" }), 401},
		{"for another API", base(func(a map[string]any) { a["aud"] = []string{"https://other"} }), 401},
		{"expired although active", base(func(a map[string]any) { a["exp"] = clock.Now().Add(-time.Minute).Unix() }), 401},
		{"not valid yet", base(func(a map[string]any) { a["nbf"] = clock.Now().Add(time.Hour).Unix() }), 401},
		{"without an organization", base(func(a map[string]any) { delete(a, "org") }), 403},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			token := "at_live_" + strings.Repeat("t", i+1)
			f.answer(token, tc.answer)
			a := call(t, s, "GET", "/v1/projects", token, "")
			if a.status != tc.status {
				t.Fatalf("status %d, want %d: %v", a.status, tc.status, a.body)
			}
			if tc.status == 401 && !strings.HasPrefix(a.challenge, `Bearer realm="example-api", error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %s", a.challenge)
			}
			if tc.status == 403 && (a.body["error"] != "organization_required" || a.challenge != "") {
				t.Errorf("403 answer %s %v", a.challenge, a.body)
			}
		})
	}
}

// signJWT signs claims as a JWS with the private key k (nil: unsigned,
// alg none), alg, kid and typ headers ("" leaves a header out).
func signJWT(t *testing.T, k any, alg jose.SignatureAlgorithm, kid, typ string, claims map[string]any) string {
	t.Helper()
	payload, _ := json.Marshal(claims)
	if k == nil {
		h, _ := json.Marshal(map[string]string{"alg": "none", "kid": kid, "typ": typ})
		return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
	}
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts.WithHeader("kid", kid)
	}
	if typ != "" {
		opts.WithType(jose.ContentType(typ))
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k}, opts)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestExampleAPIJWTsAreVerifiedLocally(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, clock := newTestServer(t, f)
	keys := testKeys()
	now := clock.Now()
	claims := func(edit func(map[string]any)) map[string]any {
		c := map[string]any{"iss": f.issuer, "sub": "usr_1", "aud": []string{DefaultAudience}, "org": "org_1",
			"exp": now.Add(15 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "jti": "jti-1",
			"scope": "projects:read", "client_id": "key_1", "key_id": "key_1"}
		if edit != nil {
			edit(c)
		}
		return c
	}
	es, rs := keys.es.Key, keys.rs.Key
	good := signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(nil))
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(mustJSON(claims(func(c map[string]any) { c["scope"] = "read write team:manage" }))) + "." + parts[2]
	ecPub, _ := json.Marshal(keys.es.Public())
	stranger, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)

	tests := []struct {
		name  string
		token string
		ok    bool
	}{
		{"an ES256 access token", good, true},
		{"an RS256 access token", signJWT(t, rs, jose.RS256, "rs-1", "at+jwt", claims(nil)), true},
		{"typ application/at+jwt", signJWT(t, es, jose.ES256, "es-1", "application/at+jwt", claims(nil)), true},
		{"aud as a string", signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(func(c map[string]any) { c["aud"] = DefaultAudience })), true},
		{"expired within the leeway", signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(func(c map[string]any) { c["exp"] = now.Add(-10 * time.Second).Unix() })), true},
		{"typ JWT (an ID token)", signJWT(t, rs, jose.RS256, "rs-1", "JWT", claims(nil)), false},
		{"no typ", signJWT(t, es, jose.ES256, "es-1", "", claims(nil)), false},
		{"alg none", signJWT(t, nil, "", "es-1", "at+jwt", claims(nil)), false},
		{"HS256 keyed with the public key", signJWT(t, ecPub, jose.HS256, "es-1", "at+jwt", claims(nil)), false},
		{"ES384 is not accepted", signJWT(t, mustEC(t, elliptic.P384()), jose.ES384, "es-1", "at+jwt", claims(nil)), false},
		{"tampered claims", tampered, false},
		{"signed by a key nobody publishes", signJWT(t, stranger, jose.ES256, "es-1", "at+jwt", claims(nil)), false},
		{"an unknown kid", signJWT(t, stranger, jose.ES256, "nobody", "at+jwt", claims(nil)), false},
		{"no kid", signJWT(t, es, jose.ES256, "", "at+jwt", claims(nil)), false},
		{"ES256 with the RSA key's kid", signJWT(t, es, jose.ES256, "rs-1", "at+jwt", claims(nil)), false},
		{"another issuer", signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(func(c map[string]any) { c["iss"] = "https://evil.example" })), false},
		{"another audience", signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(func(c map[string]any) { c["aud"] = []string{"https://other.example"} })), false},
		{"no audience", signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(func(c map[string]any) { delete(c, "aud") })), false},
		{"expired", signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(func(c map[string]any) { c["exp"] = now.Add(-time.Minute).Unix() })), false},
		{"no exp", signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(func(c map[string]any) { delete(c, "exp") })), false},
		{"not valid yet", signJWT(t, es, jose.ES256, "es-1", "at+jwt", claims(func(c map[string]any) { c["nbf"] = now.Add(time.Minute).Unix() })), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(t, s, "GET", "/v1/projects", tc.token, "")
			if tc.ok {
				if a.status != 200 || a.checkedBy() != CheckedByJWT {
					t.Fatalf("status %d, want 200 checked by jwt: %v", a.status, a.body)
				}
				want := map[string]any{"sub": "usr_1", "org": "org_1", "client_id": "key_1", "scope": "projects:read",
					"credential": "access_token", "checked_by": "jwt", "key_id": "key_1"}
				if d := cmp.Diff(want, a.body["caller"]); d != "" {
					t.Errorf("caller (-want +got):\n%s", d)
				}
				return
			}
			if a.status != 401 || !strings.HasPrefix(a.challenge, `Bearer realm="example-api", error="invalid_token", error_description="`) {
				t.Fatalf("status %d %s, want 401 invalid_token: %v", a.status, a.challenge, a.body)
			}
			t.Logf("refused: %s", a.body["error_description"])
		})
	}
	if n := f.introspections.Load(); n != 0 {
		t.Errorf("%d introspections: JWTs must be checked locally", n)
	}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func mustEC(t *testing.T, c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestExampleAPIJWKSIsFetchedAgainForUnknownKidsAtMostEvery30s(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, clock := newTestServer(t, f)
	keys := testKeys()
	token := func(k *jose.JSONWebKey) string {
		now := clock.Now()
		return signJWT(t, k.Key, jose.ES256, k.KeyID, "at+jwt", map[string]any{"iss": f.issuer, "sub": "usr_1",
			"aud": DefaultAudience, "org": "org_1", "exp": now.Add(time.Hour).Unix(), "scope": "read"})
	}
	status := func(k *jose.JSONWebKey) int { return call(t, s, "GET", "/v1/projects", token(k), "").status }

	if got := status(keys.es); got != 200 {
		t.Fatalf("known key: %d", got)
	}
	// The provider rotates: es-2 is published after our fetch.
	f.publish(keys.es2)
	if got := status(keys.es2); got != 401 {
		t.Fatalf("a kid unknown within 30 s of the last fetch: %d, want 401", got)
	}
	for range 5 {
		status(keys.es2)
	}
	if n := f.jwksFetches.Load(); n != 1 {
		t.Fatalf("%d JWKS fetches, want 1: unknown kids must not cause a fetch each", n)
	}
	clock.advance(DefaultJWKSRefetchInterval)
	if got := status(keys.es2); got != 200 {
		t.Fatalf("after 30 s the new key is fetched: %d, want 200", got)
	}
	if n := f.jwksFetches.Load(); n != 2 {
		t.Fatalf("%d JWKS fetches, want 2", n)
	}

	// The provider goes away: keys known keep working, even stale; an
	// unknown kid cannot be checked (503, not 401).
	f.down.Store(true)
	clock.advance(DefaultJWKSMaxAge)
	if got := status(keys.es); got != 200 {
		t.Errorf("a known key while the provider is away: %d, want 200", got)
	}
	stranger := &jose.JSONWebKey{Key: mustEC(t, elliptic.P256()), KeyID: "es-new"}
	clock.advance(DefaultJWKSRefetchInterval)
	if got := status(stranger); got != 503 {
		t.Errorf("an unknown kid while the provider is away: %d, want 503", got)
	}
	f.down.Store(false)
	clock.advance(retryAfterFailure)
	if got := status(stranger); got != 401 {
		t.Errorf("an unknown kid once the provider is back: %d, want 401", got)
	}
}

func TestExampleAPIProviderTroubleIs503Not401(t *testing.T) {
	t.Parallel()
	t.Run("introspection answers 503", func(t *testing.T) {
		f := newFakeProvider(t)
		s, _ := newTestServer(t, f)
		key := f.apiKey(t, "org_1", "read")
		f.down.Store(true)
		a := call(t, s, "GET", "/v1/projects", key, "")
		if a.status != 503 || a.challenge != "" || a.header.Get("Retry-After") == "" || a.body["error"] != "temporarily_unavailable" {
			t.Fatalf("%d %s %v", a.status, a.challenge, a.body)
		}
		f.down.Store(false)
		if a := call(t, s, "GET", "/v1/projects", key, ""); a.status != 200 {
			t.Fatalf("after the provider is back: %d %v", a.status, a.body)
		}
	})
	t.Run("the provider cannot be reached", func(t *testing.T) {
		f := newFakeProvider(t)
		s, clock := newTestServer(t, f)
		f.srv.Close()
		key := f.apiKey(t, "org_1", "read")
		if a := call(t, s, "GET", "/v1/projects", key, ""); a.status != 503 {
			t.Fatalf("API key: %d %v", a.status, a.body)
		}
		jwt := signJWT(t, testKeys().es.Key, jose.ES256, "es-1", "at+jwt", map[string]any{"iss": f.issuer,
			"aud": DefaultAudience, "org": "org_1", "exp": clock.Now().Add(time.Hour).Unix(), "scope": "read"})
		if a := call(t, s, "GET", "/v1/projects", jwt, ""); a.status != 503 {
			t.Fatalf("JWT: %d %v", a.status, a.body)
		}
	})
	t.Run("the provider refuses our client", func(t *testing.T) {
		f := newFakeProvider(t)
		s, _ := newTestServer(t, f, func(o *Options) { o.ClientSecret = "wrong" })
		if a := call(t, s, "GET", "/v1/projects", f.apiKey(t, "org_1", "read"), ""); a.status != 500 || a.body["error"] != "server_error" {
			t.Fatalf("%d %v", a.status, a.body)
		}
	})
	t.Run("discovery names another issuer", func(t *testing.T) {
		f := newFakeProvider(t)
		f.discoveryIssuer = "https://evil.example"
		s, _ := newTestServer(t, f)
		if a := call(t, s, "GET", "/v1/projects", f.apiKey(t, "org_1", "read"), ""); a.status != 500 {
			t.Fatalf("%d %v", a.status, a.body)
		}
	})
}

func TestExampleAPIProjectsBelongToTheirOrganization(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, _ := newTestServer(t, f)
	acme := f.apiKey(t, "org_acme", "read write")
	globex := f.apiKey(t, "org_globex", "read write")

	a := call(t, s, "POST", "/v1/projects", acme, `{"name": "  Rocket   launch "}`)
	if a.status != http.StatusCreated {
		t.Fatalf("create: %d %v", a.status, a.body)
	}
	p := a.body["project"].(map[string]any)
	if p["name"] != "Rocket launch" || !strings.HasPrefix(p["id"].(string), "prj_") || p["created_by"] != "usr_1" {
		t.Errorf("project = %v", p)
	}
	want := map[string]any{"sub": "usr_1", "org": "org_acme", "client_id": "key_1", "scope": "read write",
		"credential": "api_key", "checked_by": "introspection", "key_id": "key_1"}
	if d := cmp.Diff(want, a.body["caller"]); d != "" {
		t.Errorf("caller (-want +got):\n%s", d)
	}
	list := func(key string) []any {
		a := call(t, s, "GET", "/v1/projects", key, "")
		if a.status != 200 {
			t.Fatalf("list: %d %v", a.status, a.body)
		}
		return a.body["projects"].([]any)
	}
	if got := list(acme); len(got) != 1 || got[0].(map[string]any)["id"] != p["id"] {
		t.Errorf("acme's projects = %v", got)
	}
	if got := list(globex); len(got) != 0 {
		t.Errorf("globex sees %v", got)
	}

	for _, tc := range []struct{ name, contentType, body string }{
		{"no name", "application/json", `{}`},
		{"a blank name", "application/json", `{"name": "   "}`},
		{"not JSON", "application/json", `name=x`},
		{"two objects", "application/json", `{"name":"a"}{"name":"b"}`},
		{"a form", "application/x-www-form-urlencoded", `name=x`},
	} {
		req := httptest.NewRequest("POST", "/v1/projects", strings.NewReader(tc.body))
		req.Header.Set("Content-Type", tc.contentType)
		req.Header.Set("Authorization", "Bearer "+acme)
		if a := do(t, s, req); a.status/100 != 4 || a.body["error"] != "invalid_request" || a.body["caller"] == nil {
			t.Errorf("%s: %d %v", tc.name, a.status, a.body)
		}
	}

	a = call(t, s, "GET", "/v1/team", f.apiKey(t, "org_acme", "team:manage"), "")
	if a.status != 200 || a.body["team"].(map[string]any)["org"] != "org_acme" {
		t.Errorf("team: %d %v", a.status, a.body)
	}
	a = call(t, s, "GET", "/v1/billing", f.apiKey(t, "org_acme", "billing:read"), "")
	if a.status != 200 || a.body["billing"].(map[string]any)["org"] != "org_acme" {
		t.Errorf("billing: %d %v", a.status, a.body)
	}
}

func TestExampleAPIMethodsAndPaths(t *testing.T) {
	t.Parallel()
	f := newFakeProvider(t)
	s, _ := newTestServer(t, f)
	key := f.apiKey(t, "org_1", "read")
	a := call(t, s, "DELETE", "/v1/projects", key, "")
	if a.status != 405 || a.header.Get("Allow") != "GET, HEAD, POST" {
		t.Errorf("DELETE /v1/projects: %d Allow %q", a.status, a.header.Get("Allow"))
	}
	if a := call(t, s, "GET", "/v1/nothing", key, ""); a.status != 404 || a.body["error"] != "not_found" {
		t.Errorf("GET /v1/nothing: %d %v", a.status, a.body)
	}
	if a := call(t, s, "HEAD", "/v1/projects", key, ""); a.status != 200 {
		t.Errorf("HEAD /v1/projects: %d", a.status)
	}
	if got := call(t, s, "GET", "/v1/projects", key, "").header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q", got)
	}
}

func TestExampleAPIOptionsAreChecked(t *testing.T) {
	t.Parallel()
	good := Options{Issuer: DefaultIssuer, ClientID: "cl", ClientSecret: "s", Audience: DefaultAudience}
	if _, err := New(good); err != nil {
		t.Fatalf("good options: %v", err)
	}
	for _, tc := range []struct {
		name   string
		adjust func(*Options)
		want   string
	}{
		{"no issuer", func(o *Options) { o.Issuer = "" }, "issuer: required"},
		{"an issuer with a trailing slash", func(o *Options) { o.Issuer += "/" }, "issuer:"},
		{"an issuer that is not http", func(o *Options) { o.Issuer = "ftp://x" }, "issuer:"},
		{"no client", func(o *Options) { o.ClientID = "" }, "client id: required"},
		{"no secret", func(o *Options) { o.ClientSecret = "" }, "client secret: required"},
		{"no audience", func(o *Options) { o.Audience = "" }, "audience: required"},
		{"a negative TTL", func(o *Options) { o.CacheTTL = -time.Second }, "cache ttl"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := good
			tc.adjust(&o)
			if _, err := New(o); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}
