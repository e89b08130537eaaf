package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/cmd/example-api/api"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// exchangeAPIKey trades a key for a JWT at the token endpoint (the
// API-key grant), as a form or a JSON body.
func exchangeAPIKey(t *testing.T, s *server, key, scope string, asJSON bool) map[string]any {
	t.Helper()
	params := map[string]string{
		"grant_type":         provider.GrantTypeTokenExchange,
		"subject_token":      key,
		"subject_token_type": provider.TokenTypeAPIKey,
	}
	if scope != "" {
		params["scope"] = scope
	}
	var resp *http.Response
	var body map[string]any
	if asJSON {
		resp, body = s.postJSON(t, "/token", params)
	} else {
		form := url.Values{}
		for k, v := range params {
			form.Set(k, v)
		}
		resp, body = s.postForm(t, "/token", form)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("exchange: status %d: %v", resp.StatusCode, body)
	}
	if body["issued_token_type"] != provider.TokenTypeAccessToken || body["token_type"] != "Bearer" {
		t.Fatalf("exchange answer: %v", body)
	}
	return body
}

func TestExampleAPIWithAnAPIKey(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		e := startExampleAPI(t, s)
		acme := newExampleOrg(t, s, "owner@acme.example")
		key, secret := acme.key(t, s, "CI deploys", "read projects:write billing:read")

		// read covers projects:read; projects:write and billing:read (which
		// only owners hold, and which read never stands in for at a resource
		// server) are held by name.
		a := e.call(t, "GET", "/v1/projects", secret, "").want(t, "GET /v1/projects", http.StatusOK)
		want := map[string]any{"sub": acme.user.ID, "org": acme.org.ID, "client_id": key.ID, "scope": "read projects:write billing:read",
			"credential": "api_key", "checked_by": "introspection", "key_id": key.ID}
		if got := a.caller(); !sameJSON(got, want) {
			t.Errorf("caller = %v, want %v", got, want)
		}
		if projects, _ := a.body["projects"].([]any); projects == nil || len(projects) != 0 {
			t.Errorf("projects = %v, want []", a.body["projects"])
		}
		created := e.call(t, "POST", "/v1/projects", secret, `{"name":"Apollo"}`).want(t, "POST /v1/projects", http.StatusCreated)
		project := created.body["project"].(map[string]any)
		if project["name"] != "Apollo" || project["created_by"] != acme.user.ID {
			t.Errorf("project = %v", project)
		}
		a = e.call(t, "GET", "/v1/projects", secret, "").want(t, "GET /v1/projects again", http.StatusOK)
		if projects := a.body["projects"].([]any); len(projects) != 1 || projects[0].(map[string]any)["id"] != project["id"] {
			t.Errorf("projects = %v", projects)
		}
		a = e.call(t, "GET", "/v1/billing", secret, "").want(t, "GET /v1/billing", http.StatusOK)
		if a.body["billing"].(map[string]any)["org"] != acme.org.ID {
			t.Errorf("billing = %v", a.body)
		}
		e.call(t, "GET", "/v1/team", secret, "").wantInsufficientScope(t, "GET /v1/team", "team:manage", "read projects:write billing:read")
		_, reader := acme.key(t, s, "Reader", "read")
		e.call(t, "GET", "/v1/billing", reader, "").wantInsufficientScope(t, "GET /v1/billing with read", "billing:read", "read")

		// A key for the team only, in another organization: its own org, and nothing else.
		globex := newExampleOrg(t, s, "owner@globex.example")
		_, teamKey := globex.key(t, s, "Team admin", "team:manage")
		a = e.call(t, "GET", "/v1/team", teamKey, "").want(t, "GET /v1/team with team:manage", http.StatusOK)
		if a.body["team"].(map[string]any)["org"] != globex.org.ID || a.caller()["org"] != globex.org.ID {
			t.Errorf("team = %v", a.body)
		}
		e.call(t, "GET", "/v1/projects", teamKey, "").wantInsufficientScope(t, "GET /v1/projects with team:manage", "projects:read", "team:manage")
		e.call(t, "POST", "/v1/projects", teamKey, `{"name":"x"}`).wantInsufficientScope(t, "POST /v1/projects with team:manage", "projects:write", "team:manage")
		e.call(t, "GET", "/v1/billing", teamKey, "").wantInsufficientScope(t, "GET /v1/billing with team:manage", "billing:read", "team:manage")
		_, globexReader := globex.key(t, s, "Reader", "projects:read")
		if a := e.call(t, "GET", "/v1/projects", globexReader, "").want(t, "globex's projects", http.StatusOK); len(a.body["projects"].([]any)) != 0 {
			t.Errorf("globex sees acme's projects: %v", a.body["projects"])
		}

		// No credential: 401 and a challenge without an error code (RFC 6750 §3.1).
		a = e.call(t, "GET", "/v1/projects", "", "").want(t, "no Authorization header", http.StatusUnauthorized)
		if a.challenge != `Bearer realm="example-api"` {
			t.Errorf("WWW-Authenticate = %q, want Bearer realm=\"example-api\"", a.challenge)
		}
		// In the query string: refused, even for a good key.
		a = e.call(t, "GET", "/v1/projects?access_token="+url.QueryEscape(secret), "", "").want(t, "a key in the query string", http.StatusBadRequest)
		if !strings.HasPrefix(a.challenge, `Bearer realm="example-api", error="invalid_request"`) {
			t.Errorf("WWW-Authenticate = %s", a.challenge)
		}
		// A key nobody issued.
		e.call(t, "GET", "/v1/projects", "sk_live_"+strings.Repeat("Z", 43), "").wantInvalidToken(t, "an unknown key")
	})
}

func TestExampleAPIWithAnExchangedJWT(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		e := startExampleAPI(t, s)
		acme := newExampleOrg(t, s, "owner@acme.example")
		key, secret := acme.key(t, s, "Deploys", "read write")

		// Down-scoped to the projects: read covers projects:read, write projects:write.
		tok := exchangeAPIKey(t, s, secret, "projects:read projects:write", false)
		jwt := tok["access_token"].(string)
		if !provider.LooksLikeJWT(jwt) || tok["scope"] != "projects:read projects:write" {
			t.Fatalf("exchange answer: %v", tok)
		}
		a := e.call(t, "GET", "/v1/projects", jwt, "").want(t, "GET /v1/projects with the JWT", http.StatusOK)
		want := map[string]any{"sub": acme.user.ID, "org": acme.org.ID, "client_id": key.ID, "scope": "projects:read projects:write",
			"credential": "access_token", "checked_by": "jwt", "key_id": key.ID}
		if got := a.caller(); !sameJSON(got, want) {
			t.Errorf("caller = %v, want %v", got, want)
		}
		e.call(t, "POST", "/v1/projects", jwt, `{"name":"Gemini"}`).want(t, "POST /v1/projects with the JWT", http.StatusCreated)
		e.call(t, "GET", "/v1/billing", jwt, "").wantInsufficientScope(t, "GET /v1/billing with the down-scoped JWT", "billing:read", "projects:read projects:write")

		// The same exchange as a JSON body, with the key's own scopes.
		tok = exchangeAPIKey(t, s, secret, "", true)
		jsonJWT := tok["access_token"].(string)
		if tok["scope"] != "read write" {
			t.Errorf("exchange as JSON: %v", tok)
		}
		a = e.call(t, "GET", "/v1/projects", jsonJWT, "").want(t, "GET /v1/projects with the JSON-exchanged JWT", http.StatusOK)
		if a.caller()["checked_by"] != "jwt" {
			t.Errorf("caller = %v", a.caller())
		}

		// An API whose audience is another one refuses the JWT.
		other := startExampleAPI(t, s, func(o *api.Options) { o.Audience = "https://other.example" })
		other.call(t, "GET", "/v1/projects", jwt, "").wantInvalidToken(t, "a JWT for another audience")

		// Forgeries. A token signed with the provider's real key and the
		// exchange's claims passes, so each refusal below is for its one change.
		claims := func(edit func(map[string]any)) map[string]any {
			now := time.Now()
			c := map[string]any{"iss": s.URL, "sub": acme.user.ID, "aud": []string{provider.DefaultAPIAudience}, "org": acme.org.ID,
				"exp": now.Add(10 * time.Minute).Unix(), "iat": now.Unix(), "nbf": now.Unix(), "jti": "forged",
				"scope": "projects:read", "client_id": key.ID, "key_id": key.ID}
			if edit != nil {
				edit(c)
			}
			return c
		}
		e.call(t, "GET", "/v1/projects", signWithProviderKey(t, s, "at+jwt", claims(nil)), "").want(t, "a token as the provider signs them", http.StatusOK)
		e.call(t, "GET", "/v1/projects", signWithProviderKey(t, s, "JWT", claims(nil)), "").wantInvalidToken(t, "typ JWT")
		e.call(t, "GET", "/v1/projects", signWithProviderKey(t, s, "at+jwt", claims(func(c map[string]any) {
			c["aud"] = []string{"https://other.example"}
		})), "").wantInvalidToken(t, "aud another API")
		e.call(t, "GET", "/v1/projects", signWithProviderKey(t, s, "at+jwt", claims(func(c map[string]any) {
			c["iss"] = "https://evil.example"
		})), "").wantInvalidToken(t, "another issuer")
		e.call(t, "GET", "/v1/projects", signWithProviderKey(t, s, "at+jwt", claims(func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Hour).Unix()
		})), "").wantInvalidToken(t, "expired")
		// Tampered: the exchanged JWT with more scope claimed, signature kept.
		parts := strings.Split(jwt, ".")
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c map[string]any
		_ = json.Unmarshal(payload, &c)
		c["scope"] = "read write team:manage billing:read"
		forged, _ := json.Marshal(c)
		tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString(forged) + "." + parts[2]
		e.call(t, "GET", "/v1/team", tampered, "").wantInvalidToken(t, "a tampered JWT")
	})
}

func TestExampleAPIWithCodeFlowTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		e := startExampleAPI(t, s)
		alice := newExampleOrg(t, s, "alice@example.com")

		// An opaque at_live_ token with the app's scopes (openid ... read).
		app := newWebApp(t, s, false)
		az := app.newAuthorization(t)
		code := app.code(t, az, "alice@example.com", "correct horse battery")
		tok, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if !strings.HasPrefix(tok.AccessToken, provider.PrefixAccessToken) {
			t.Fatalf("access token %q is not opaque", tok.AccessToken)
		}
		a := e.call(t, "GET", "/v1/projects", tok.AccessToken, "").want(t, "GET /v1/projects with an access token", http.StatusOK)
		want := map[string]any{"sub": alice.user.ID, "org": alice.org.ID, "client_id": app.id, "scope": appScopes,
			"credential": "access_token", "checked_by": "introspection"}
		if got := a.caller(); !sameJSON(got, want) {
			t.Errorf("caller = %v, want %v", got, want)
		}
		e.call(t, "GET", "/v1/billing", tok.AccessToken, "").wantInsufficientScope(t, "GET /v1/billing with read", "billing:read", appScopes)
		e.call(t, "POST", "/v1/projects", tok.AccessToken, `{"name":"x"}`).wantInsufficientScope(t, "POST /v1/projects with read", "projects:write", appScopes)
		e.call(t, "GET", "/v1/team", tok.AccessToken, "").wantInsufficientScope(t, "GET /v1/team with read", "team:manage", appScopes)

		// The ID token is a JWT the provider signed, but not an access token.
		idToken := verifyIDToken(t, app, tok, az.nonce)
		raw := tok.Extra("id_token").(string)
		if idToken.Subject != alice.user.ID {
			t.Fatalf("id token subject %q", idToken.Subject)
		}
		a = e.call(t, "GET", "/v1/projects", raw, "")
		a.wantInvalidToken(t, "an ID token")
		if !strings.Contains(a.body["error_description"].(string), "at+jwt") {
			t.Errorf("the refusal of an ID token does not say why: %v", a.body)
		}
		// Nor is the refresh token.
		e.call(t, "GET", "/v1/projects", tok.RefreshToken, "").wantInvalidToken(t, "a refresh token")

		// A client set to JWT access tokens: checked locally.
		jwtApp := newWebAppWith(t, s, clients.Spec{Name: "JWT App", RedirectURIs: []string{"http://" + freePort(t) + "/callback"},
			Scopes: strings.Fields(appScopes), AccessTokenFormat: clients.AccessTokenJWT})
		az = jwtApp.newAuthorization(t)
		code = jwtApp.code(t, az, "alice@example.com", "correct horse battery")
		jtok, err := jwtApp.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		a = e.call(t, "GET", "/v1/projects", jtok.AccessToken, "").want(t, "GET /v1/projects with a JWT client's token", http.StatusOK)
		if c := a.caller(); c["checked_by"] != "jwt" || c["sub"] != alice.user.ID || c["org"] != alice.org.ID || c["client_id"] != jwtApp.id {
			t.Errorf("caller = %v", c)
		}

		// A client acting for itself acts for no organization.
		worker, workerSecret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
		resp, body := s.postForm(t, "/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, worker.ID, workerSecret)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("client credentials: %d %v", resp.StatusCode, body)
		}
		a = e.call(t, "GET", "/v1/projects", body["access_token"].(string), "").want(t, "a client's own token", http.StatusForbidden)
		if a.body["error"] != "organization_required" || a.caller()["client_id"] != worker.ID || a.challenge != "" {
			t.Errorf("a client's own token: %s %v", a.challenge, a.body)
		}
	})
}

func TestExampleAPIStopsAcceptingARevokedKey(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		rsID, rsSecret := s.resourceServer(t)
		e := startExampleAPI(t, s) // introspection answers cached for a minute
		uncached := startExampleAPI(t, s, func(o *api.Options) { o.CacheTTL = 0 })
		acme := newExampleOrg(t, s, "owner@acme.example")
		key, secret := acme.key(t, s, "Soon revoked", "read")
		jwt := exchangeAPIKey(t, s, secret, "", false)["access_token"].(string)

		e.call(t, "GET", "/v1/projects", secret, "").want(t, "before revocation", http.StatusOK)
		uncached.call(t, "GET", "/v1/projects", secret, "").want(t, "before revocation, uncached", http.StatusOK)
		e.call(t, "GET", "/v1/projects", jwt, "").want(t, "the JWT before revocation", http.StatusOK)

		if err := s.Store.RevokeAPIKey(context.Background(), key.ID); err != nil {
			t.Fatal(err)
		}
		uncached.call(t, "GET", "/v1/projects", secret, "").wantInvalidToken(t, "revoked, without a cache")
		// The cached answer serves until the cache TTL ends, then the key fails.
		e.call(t, "GET", "/v1/projects", secret, "").want(t, "revoked, within the cache TTL", http.StatusOK)
		e.clock.advance(time.Minute)
		e.call(t, "GET", "/v1/projects", secret, "").wantInvalidToken(t, "revoked, after the cache TTL")
		if resp, body := s.postForm(t, "/token", url.Values{"grant_type": {provider.GrantTypeTokenExchange},
			"subject_token": {secret}, "subject_token_type": {provider.TokenTypeAPIKey}}); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" {
			t.Errorf("exchanging a revoked key: %d %v", resp.StatusCode, body)
		}
		// A JWT minted before is verified locally: it works until its exp
		// (15 minutes at most), though introspection already says inactive.
		// Resource servers that must stop it at once introspect it instead.
		e.call(t, "GET", "/v1/projects", jwt, "").want(t, "the JWT after revocation, checked locally", http.StatusOK)
		if intro := s.introspect(t, rsID, rsSecret, jwt); intro["active"] != false {
			t.Errorf("introspection of the revoked key's JWT = %v", intro)
		}
	})
}

func TestExampleAPIAnswers503WhenTheProviderIsAway(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		e := startExampleAPI(t, s)
		acme := newExampleOrg(t, s, "owner@acme.example")
		_, secret := acme.key(t, s, "Key", "read")
		jwt := exchangeAPIKey(t, s, secret, "", false)["access_token"].(string)
		s.HTTP.Close()
		a := e.call(t, "GET", "/v1/projects", secret, "").want(t, "a key while the provider is away", http.StatusServiceUnavailable)
		if a.challenge != "" || a.body["error"] != "temporarily_unavailable" {
			t.Errorf("503 answer: %s %v", a.challenge, a.body)
		}
		// The JWKS was never fetched: a JWT cannot be checked either.
		e.call(t, "GET", "/v1/projects", jwt, "").want(t, "a JWT while the provider is away", http.StatusServiceUnavailable)
	})
}

// TestExampleAPIKeyJWTExpiresInIsItsLifetime shows a provider bug met while
// running the README's examples: the token endpoint rewrites expires_in with
// expiresIn(AccessTokenTTL, left) (handlers/oauth.go), which knows only the
// access-token lifetime, so a 15-minute API-key JWT reads 899, every time,
// where a one-hour access token reads 3600.
func TestExampleAPIKeyJWTExpiresInIsItsLifetime(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	_, secret := newExampleOrg(t, s, "owner@acme.example").key(t, s, "Key", "read")
	tok := exchangeAPIKey(t, s, secret, "", false)
	if want := float64(provider.DefaultAPIKeyJWTTTL / time.Second); tok["expires_in"] != want {
		t.Errorf("expires_in = %v, want %v (the configured api_key_jwt_ttl)", tok["expires_in"], want)
	}
}
