package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Client authentication at /token, /introspect and /revoke: RFC 7523
// client assertions (private_key_jwt) in detail, and the secret methods.

func TestClientAssertionAudience(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		key := newClientKey(t, jose.RS256)
		reg := s.registerAssertionClient(t, key, map[string]any{"jwks": keySet(key)})
		tokenURL := discovery(t, s, "/.well-known/openid-configuration")["token_endpoint"].(string)
		tests := []struct {
			name     string
			audience jwt.Audience
			ok       bool
		}{
			{"the token endpoint URL is accepted", jwt.Audience{tokenURL}, true},
			{"the issuer is accepted", jwt.Audience{s.URL}, true},
			// A list is refused even when it holds ours: the OpenID
			// Foundation's January 2025 advisory on audience injection.
			{"a list holding the token endpoint URL is invalid_client", jwt.Audience{"https://other.example.com", tokenURL}, false},
			{"another server's token endpoint is invalid_client", jwt.Audience{"https://other.example.com/token"}, false},
			{"another endpoint of this server is invalid_client", jwt.Audience{s.URL + "/introspect"}, false},
			{"the issuer with another path is invalid_client", jwt.Audience{s.URL + "/tenant/token"}, false},
			{"no audience is invalid_client", nil, false},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				claims := assertionClaims(t, reg.id, tokenURL)
				claims.Audience = tc.audience
				resp, body := s.postForm(t, "/token", withAssertion(clientCredentials(), key.sign(t, claims)))
				if tc.ok {
					tokenFrom(t, resp, body)
					return
				}
				wantInvalidClient(t, resp, body)
			})
		}
	})
}

func TestClientAssertionRefusals(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		key, stranger := newClientKey(t, jose.RS256), newClientKey(t, jose.RS256)
		reg := s.registerAssertionClient(t, key, map[string]any{"jwks": keySet(key)})
		ecKey := newClientKey(t, jose.ES256)
		ecReg := s.registerAssertionClient(t, ecKey, map[string]any{"jwks": keySet(ecKey)})
		secretClient := s.register(t, map[string]any{"grant_types": []string{"client_credentials"}, "scope": "read"})
		tokenURL := s.URL + "/token"
		claims := func(change func(*jwt.Claims)) jwt.Claims {
			c := assertionClaims(t, reg.id, tokenURL)
			if change != nil {
				change(&c)
			}
			return c
		}
		forger := clientKey{kid: key.kid, alg: jose.RS256, priv: stranger.priv} // the client's kid, another key
		tests := []struct {
			name      string
			assertion func() string
		}{
			{"an expired assertion", func() string {
				return key.sign(t, claims(func(c *jwt.Claims) {
					c.IssuedAt, c.Expiry = jwt.NewNumericDate(time.Now().Add(-2*time.Minute)), jwt.NewNumericDate(time.Now().Add(-time.Minute))
				}))
			}},
			{"an assertion not valid for another hour", func() string {
				return key.sign(t, claims(func(c *jwt.Claims) { c.NotBefore = jwt.NewNumericDate(time.Now().Add(time.Hour)) }))
			}},
			{"an assertion issued an hour from now", func() string {
				return key.sign(t, claims(func(c *jwt.Claims) {
					c.IssuedAt, c.Expiry = jwt.NewNumericDate(time.Now().Add(time.Hour)), jwt.NewNumericDate(time.Now().Add(time.Hour+time.Minute))
				}))
			}},
			{"an assertion without exp", func() string { return key.sign(t, claims(func(c *jwt.Claims) { c.Expiry = nil })) }},
			{"a bad signature under the client's kid", func() string { return forger.sign(t, claims(nil)) }},
			{"a signature whose last bytes were changed", func() string {
				raw := key.sign(t, claims(nil))
				return raw[:len(raw)-4] + strings.Map(func(r rune) rune {
					if r == 'A' {
						return 'B'
					}
					return 'A'
				}, raw[len(raw)-4:])
			}},
			{"a kid the client does not have", func() string { return stranger.sign(t, claims(nil)) }},
			{"no kid and a key the client does not have", func() string {
				signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: stranger.priv}, nil)
				raw, _ := jwt.Signed(signer).Claims(claims(nil)).CompactSerialize()
				return raw
			}},
			{"PS256 for a client registered with RS256", func() string { return key.signAs(t, jose.PS256, claims(nil)) }},
			{"RS256 for a client registered with ES256", func() string {
				return key.sign(t, assertionClaims(t, ecReg.id, tokenURL))
			}},
			{"HS256 keyed with the client's public key", func() string { return hmacWithPublicKey(t, key, claims(nil)) }},
			{"an unsigned assertion (alg none)", func() string { return unsigned(t, key.kid, claims(nil)) }},
			{"iss different from sub", func() string {
				return key.sign(t, claims(func(c *jwt.Claims) { c.Issuer = secretClient.id }))
			}},
			{"no iss", func() string { return key.sign(t, claims(func(c *jwt.Claims) { c.Issuer = "" })) }},
			{"a missing jti", func() string { return key.sign(t, claims(func(c *jwt.Claims) { c.ID = "" })) }},
			{"an assertion for a client that uses a secret", func() string {
				return key.sign(t, assertionClaims(t, secretClient.id, tokenURL))
			}},
			{"an assertion for an unknown client", func() string {
				return key.sign(t, assertionClaims(t, "cl_unknown", tokenURL))
			}},
			{"a value that is not a JWT", func() string { return "not.a.jwt" }},
		}
		forms := []struct {
			endpoint string
			form     url.Values
		}{
			{"/token", clientCredentials()},
			{"/introspect", url.Values{"token": {"at_live_x.y"}}},
			{"/revoke", url.Values{"token": {"at_live_x.y"}}},
		}
		for _, tc := range tests {
			t.Run(tc.name+" is invalid_client", func(t *testing.T) {
				t.Parallel()
				for _, f := range forms {
					t.Run(strings.TrimPrefix(f.endpoint, "/"), func(t *testing.T) {
						resp, body := s.postForm(t, f.endpoint, withAssertion(f.form, tc.assertion()))
						wantInvalidClient(t, resp, body)
					})
				}
			})
		}
		// The client itself still authenticates.
		s.mustToken(t, withAssertion(clientCredentials(), key.sign(t, claims(nil))))
	})
}

func TestClientAssertionJTIIsSingleUse(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		key := newClientKey(t, jose.ES256)
		reg := s.registerAssertionClient(t, key, map[string]any{"jwks": keySet(key)})
		tokenURL := s.URL + "/token"

		t.Run("the same assertion twice is refused the second time", func(t *testing.T) {
			t.Parallel()
			assertion := key.sign(t, assertionClaims(t, reg.id, tokenURL))
			s.mustToken(t, withAssertion(clientCredentials(), assertion))
			resp, body := s.postForm(t, "/token", withAssertion(clientCredentials(), assertion))
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || body["access_token"] != nil {
				t.Fatalf("replayed assertion: status %d, body %v; want a 4xx refusal", resp.StatusCode, body)
			}
			if e := body["error"]; e != "invalid_client" && e != "jti_known" {
				t.Errorf("replayed assertion: error %v, want invalid_client or jti_known", e)
			}
		})
		t.Run("a new assertion with a used jti is refused", func(t *testing.T) {
			t.Parallel()
			first := assertionClaims(t, reg.id, tokenURL)
			s.mustToken(t, withAssertion(clientCredentials(), key.sign(t, first)))
			again := assertionClaims(t, reg.id, s.URL) // another audience, another exp, the same jti
			again.ID = first.ID
			again.Expiry = jwt.NewNumericDate(time.Now().Add(2 * time.Minute))
			resp, body := s.postForm(t, "/token", withAssertion(clientCredentials(), key.sign(t, again)))
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || body["access_token"] != nil {
				t.Fatalf("reused jti: status %d, body %v; want a 4xx refusal", resp.StatusCode, body)
			}
		})
		t.Run("a jti used at /token is refused at /introspect", func(t *testing.T) {
			t.Parallel()
			assertion := key.sign(t, assertionClaims(t, reg.id, tokenURL))
			tok := s.mustToken(t, withAssertion(clientCredentials(), assertion))
			resp, body := s.postForm(t, "/introspect", withAssertion(url.Values{"token": {tok.AccessToken}}, assertion))
			if resp.StatusCode < 400 || resp.StatusCode >= 500 || body["active"] != nil {
				t.Fatalf("replayed at /introspect: status %d, body %v; want a 4xx refusal", resp.StatusCode, body)
			}
		})
		t.Run("of concurrent uses of one assertion exactly one succeeds", func(t *testing.T) {
			t.Parallel()
			assertion := key.sign(t, assertionClaims(t, reg.id, tokenURL))
			const n = 8
			statuses := make([]int, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					resp, _ := s.postForm(t, "/token", withAssertion(clientCredentials(), assertion))
					statuses[i] = resp.StatusCode
				})
			}
			wg.Wait()
			ok := 0
			for _, st := range statuses {
				switch {
				case st == http.StatusOK:
					ok++
				case st >= 500:
					t.Errorf("a concurrent replay answered %d", st)
				}
			}
			if ok != 1 {
				t.Errorf("%d of %d concurrent uses of one assertion succeeded (statuses %v), want exactly 1", ok, n, statuses)
			}
		})
	})
}

func TestClientAssertionKeyRotationWithJWKSURI(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withRegistration(clients.RegistrationOpen), withClock(clock))
		keyA, keyB, keyC := newClientKey(t, jose.RS256), newClientKey(t, jose.RS256), newClientKey(t, jose.RS256)
		host := newJWKSHost(t, keyA)
		reg := s.registerAssertionClient(t, keyA, map[string]any{"jwks_uri": host.url})
		base := host.fetches()
		auth := func(k clientKey) (*http.Response, map[string]any) {
			t.Helper()
			return s.postForm(t, "/token", withAssertion(clientCredentials(), k.sign(t, assertionClaims(t, reg.id, s.URL+"/token"))))
		}
		authOK := func(k clientKey) {
			t.Helper()
			resp, body := auth(k)
			tokenFrom(t, resp, body)
		}
		wantFetches := func(step string, n int) {
			t.Helper()
			if got := host.fetches() - base; got != n {
				t.Fatalf("%s: the jwks_uri was fetched %d times, want %d", step, got, n)
			}
		}

		authOK(keyA)
		wantFetches("the first assertion", 1)
		authOK(keyA)
		wantFetches("a second assertion with the same key (cached)", 1)

		// The app rotates at once: it publishes B only and signs with it.
		// The unknown kid makes the server fetch again, however recent the
		// last fetch.
		host.serve(keyB)
		authOK(keyB)
		wantFetches("the first assertion with the new key", 2)

		// Right after, another unknown kid does not make it fetch again;
		// the removed key is no longer accepted.
		if resp, body := auth(keyC); resp.StatusCode < 400 || resp.StatusCode >= 500 || body["access_token"] != nil {
			t.Errorf("an unknown kid: status %d, %v; want a 4xx refusal", resp.StatusCode, body)
		}
		wantFetches("an unknown kid within 30 s of the last fetch", 2)
		if resp, body := auth(keyA); resp.StatusCode < 400 || resp.StatusCode >= 500 || body["access_token"] != nil {
			t.Errorf("the removed key: status %d, %v; want a 4xx refusal", resp.StatusCode, body)
		}
		wantFetches("the removed key within 30 s of the last fetch", 2)
		authOK(keyB)
		wantFetches("the current key", 2)

		// 30 s later an unknown kid may fetch again.
		clock.Advance(31 * time.Second)
		host.serve(keyB, keyC)
		authOK(keyC)
		wantFetches("an unknown kid 30 s later", 3)

		// After 10 minutes the cached set is stale even for a known kid.
		clock.Advance(10 * time.Minute)
		authOK(keyB)
		wantFetches("a known kid after 10 minutes", 4)

		// When the app's server is down, one failed fetch answers for
		// 30 s rather than each request trying again.
		clock.Advance(10 * time.Minute)
		host.fail(true)
		for range 3 {
			if resp, body := auth(keyB); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Fatalf("with the jwks_uri down: status %d, %v; want 401 invalid_client", resp.StatusCode, body)
			}
		}
		wantFetches("three assertions while the jwks_uri is down", 5)
		host.fail(false)
		clock.Advance(31 * time.Second)
		authOK(keyB)
		wantFetches("once the jwks_uri is back, 30 s later", 6)
	})
}

func TestClientAssertionAtIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		rsID, rsSecret := s.resourceServer(t)
		key := newClientKey(t, jose.ES256)
		host := newJWKSHost(t, key)
		reg := s.registerAssertionClient(t, key, map[string]any{"jwks_uri": host.url})
		assertion := func() string { return key.sign(t, assertionClaims(t, reg.id, s.URL+"/token")) }

		tok := s.mustToken(t, withAssertion(clientCredentials(), assertion()))
		resp, intro := s.postForm(t, "/introspect", withAssertion(url.Values{"token": {tok.AccessToken}}, assertion()))
		if resp.StatusCode != http.StatusOK || intro["active"] != true || intro["client_id"] != reg.id {
			t.Fatalf("introspection with an assertion: status %d, %v", resp.StatusCode, intro)
		}
		resp, out := s.postForm(t, "/revoke", withAssertion(url.Values{"token": {tok.AccessToken}}, assertion()))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revocation with an assertion: status %d, %v", resp.StatusCode, out)
		}
		if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["active"] != false {
			t.Errorf("the revoked token is still active: %v", intro)
		}
	})
}

func TestClientAssertionKeyWithoutUseAuthenticatesOrIsRefusedAtRegistration(t *testing.T) {
	t.Parallel()
	// RFC 7517 §4.2: "use" is optional, and many key sets leave it out.
	// A registration that is accepted must then work.
	s := newServer(t, storagetest.Backends()[0], withRegistration("open"))
	key := newClientKey(t, jose.RS256)
	jwk := key.public()
	jwk.Use = ""
	meta := map[string]any{"client_name": "No Use", "grant_types": []string{"client_credentials"}, "scope": "read",
		"token_endpoint_auth_method": "private_key_jwt", "jwks": jose.JSONWebKeySet{Keys: []jose.JSONWebKey{jwk}}}
	resp, body := s.registrationCall(t, http.MethodPost, "/register", "", meta)
	if resp.StatusCode == http.StatusBadRequest {
		if desc, _ := body["error_description"].(string); body["error"] != "invalid_client_metadata" || !strings.Contains(desc, "jwks") {
			t.Errorf("refused registration: %v; want invalid_client_metadata naming jwks", body)
		}
		return
	}
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: status %d: %v", resp.StatusCode, body)
	}
	id, _ := body["client_id"].(string)
	resp, body = s.postForm(t, "/token", withAssertion(clientCredentials(), key.sign(t, assertionClaims(t, id, s.URL+"/token"))))
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the registration with a key without \"use\" was accepted, but its assertion is refused: status %d: %v", resp.StatusCode, body)
	}
}

func TestClientAssertionJWKSURIOnAPrivateAddressIsNotFetched(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0], withRegistration("open"))
	key := newClientKey(t, jose.ES256)
	for _, location := range []string{
		"https://169.254.169.254/latest/meta-data/jwks.json", // cloud metadata
		"https://10.0.0.1/jwks.json",
		"https://[fd00::1]/jwks.json",
		"https://0.0.0.0/jwks.json",
	} {
		t.Run(location, func(t *testing.T) {
			t.Parallel()
			reg := s.registerAssertionClient(t, key, map[string]any{"jwks_uri": location})
			resp, body := s.postForm(t, "/token", withAssertion(clientCredentials(), key.sign(t, assertionClaims(t, reg.id, s.URL+"/token"))))
			wantInvalidClient(t, resp, body)
		})
	}
}

// secretCredentials returns how a request carries a client's id and
// secret: the header (basic) or the body.
func secretCredentials(form url.Values, id, secret string, inHeader bool) (url.Values, []string) {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	if inHeader {
		return out, []string{id, secret}
	}
	out.Set("client_id", id)
	out.Set("client_secret", secret)
	return out, nil
}

func TestClientAuthWithSecretsAtIntrospectionAndRevocation(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		rsID, rsSecret := s.resourceServer(t)
		for _, method := range []string{"client_secret_basic", "client_secret_post"} {
			reg := s.register(t, map[string]any{"client_name": "Worker", "grant_types": []string{"client_credentials"},
				"token_endpoint_auth_method": method, "scope": "read"})
			for _, inHeader := range []bool{true, false} {
				name := "a " + method + " client sending its secret in the body"
				if inHeader {
					name = "a " + method + " client sending its secret in the Authorization header"
				}
				t.Run(name+" introspects and revokes", func(t *testing.T) {
					t.Parallel()
					send := func(path string, form url.Values) (*http.Response, map[string]any) {
						f, basic := secretCredentials(form, reg.id, reg.secret, inHeader)
						return s.postForm(t, path, f, basic...)
					}
					resp, body := send("/token", clientCredentials())
					tok := tokenFrom(t, resp, body)
					resp, intro := send("/introspect", url.Values{"token": {tok.AccessToken}})
					if resp.StatusCode != http.StatusOK || intro["active"] != true || intro["client_id"] != reg.id {
						t.Fatalf("introspection: status %d, %v", resp.StatusCode, intro)
					}
					if resp, out := send("/revoke", url.Values{"token": {tok.AccessToken}}); resp.StatusCode != http.StatusOK {
						t.Fatalf("revocation: status %d, %v", resp.StatusCode, out)
					}
					if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["active"] != false {
						t.Errorf("the revoked token is still active: %v", intro)
					}
				})
			}
		}

		worker := s.register(t, map[string]any{"grant_types": []string{"client_credentials"}, "scope": "read"})
		key := newClientKey(t, jose.RS256)
		jwtWorker := s.registerAssertionClient(t, key, map[string]any{"jwks": keySet(key)})
		public := s.register(t, map[string]any{"token_endpoint_auth_method": "none", "redirect_uris": []string{"https://spa.example.com/callback"},
			"grant_types": []string{"authorization_code", "refresh_token"}, "scope": appScopes})
		endpoints := []struct {
			path string
			form url.Values
		}{
			{"/token", clientCredentials()},
			{"/introspect", url.Values{"token": {"at_live_x.y"}}},
			{"/revoke", url.Values{"token": {"at_live_x.y"}}},
		}
		refusals := []struct {
			name   string
			paths  []string // "" = every endpoint
			form   url.Values
			basic  []string
			status int
			code   string
		}{
			{name: "a public client cannot introspect", paths: []string{"/introspect"},
				form: url.Values{"client_id": {public.id}}, status: http.StatusUnauthorized, code: "invalid_client"},
			{name: "a public client with a made-up secret is refused", paths: []string{"/introspect", "/revoke"},
				form: url.Values{"client_id": {public.id}, "client_secret": {"guess"}}, status: http.StatusUnauthorized, code: "invalid_client"},
			{name: "credentials in both the header and the body are invalid_request",
				form: url.Values{"client_id": {worker.id}, "client_secret": {worker.secret}}, basic: []string{worker.id, worker.secret},
				status: http.StatusBadRequest, code: "invalid_request"},
			{name: "the Authorization header and a client_secret in the body are invalid_request",
				form: url.Values{"client_secret": {"other"}}, basic: []string{worker.id, worker.secret},
				status: http.StatusBadRequest, code: "invalid_request"},
			{name: "a private_key_jwt client sending a secret is invalid_client",
				basic: []string{jwtWorker.id, jwtWorker.secret + "x"}, status: http.StatusUnauthorized, code: "invalid_client"},
			{name: "a secret client sending an assertion is invalid_client",
				form:   url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {key.sign(t, assertionClaims(t, worker.id, s.URL+"/token"))}},
				status: http.StatusUnauthorized, code: "invalid_client"},
			{name: "an unknown client_assertion_type is invalid_request",
				form:   url.Values{"client_assertion_type": {"urn:example:saml"}, "client_assertion": {"x"}, "client_id": {worker.id}},
				status: http.StatusBadRequest, code: "invalid_request"},
			{name: "client_assertion_type without client_assertion is invalid_request",
				form: url.Values{"client_assertion_type": {jwtBearer}, "client_id": {jwtWorker.id}}, status: http.StatusBadRequest, code: "invalid_request"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				for _, e := range endpoints {
					if tc.paths != nil && !slices.Contains(tc.paths, e.path) {
						continue
					}
					t.Run(strings.TrimPrefix(e.path, "/"), func(t *testing.T) {
						form := url.Values{}
						for k, v := range e.form {
							form[k] = v
						}
						for k, v := range tc.form {
							form[k] = v
						}
						resp, body := s.postForm(t, e.path, form, tc.basic...)
						if resp.StatusCode != tc.status || body["error"] != tc.code {
							t.Errorf("status %d, body %v; want %d %s", resp.StatusCode, body, tc.status, tc.code)
						}
						if tc.status == http.StatusUnauthorized && resp.Header.Get("WWW-Authenticate") == "" {
							t.Error("a 401 without WWW-Authenticate")
						}
					})
				}
			})
		}

		// A public client revokes its own refresh token with its client_id
		// alone (discovery lists none for revocation).
		t.Run("a public client revokes its own token", func(t *testing.T) {
			t.Parallel()
			s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
			app := s.appFor(t, public, oauth2.AuthStyleInParams)
			az := app.newAuthorization(t)
			tok := app.exchange(t, az, s.newAgent(t).authorize(az.url, "alice@example.com", "correct horse battery", "allow"))
			resp, out := s.postForm(t, "/revoke", url.Values{"token": {tok.RefreshToken}, "client_id": {public.id}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("revocation by a public client: status %d, %v", resp.StatusCode, out)
			}
			if intro := s.introspect(t, rsID, rsSecret, tok.RefreshToken); intro["active"] != false {
				t.Errorf("the revoked refresh token is still active: %v", intro)
			}
		})
	})
}
