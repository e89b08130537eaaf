package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestAPIKeyExchange(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner := s.newKeyOwner(t, "owner@example.com")
		key, secret := s.newAPIKey(t, owner, "read projects:write", nil)
		rsID, rsSecret := s.resourceServer(t)

		resp, body := s.postForm(t, "/token", exchangeForm(secret))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("exchange: status %d: %v", resp.StatusCode, body)
		}
		if body["issued_token_type"] != provider.TokenTypeAccessToken || body["token_type"] != "Bearer" ||
			body["scope"] != "read projects:write" || body["refresh_token"] != nil {
			t.Fatalf("exchange answer = %v", body)
		}
		if exp, _ := body["expires_in"].(float64); exp < 890 || exp > 900 {
			t.Errorf("expires_in = %v, want 15 minutes", body["expires_in"])
		}
		jwt := body["access_token"].(string)
		claims := verifyAccessJWT(t, s, jwt)
		for name, want := range map[string]any{
			"iss": s.URL, "sub": owner.user.ID, "org": owner.org.ID, "scope": "read projects:write",
			"client_id": key.ID, "key_id": key.ID,
		} {
			if claims[name] != want {
				t.Errorf("claim %s = %v, want %v", name, claims[name], want)
			}
		}
		if aud, _ := claims["aud"].([]any); len(aud) != 1 || aud[0] != provider.DefaultAPIAudience {
			t.Errorf("aud = %v, want [%s]", claims["aud"], provider.DefaultAPIAudience)
		}
		for _, c := range []string{"exp", "iat", "jti"} {
			if claims[c] == nil || claims[c] == "" {
				t.Errorf("claim %s is missing", c)
			}
		}

		// The same as JSON, down-scoped through the hierarchy.
		resp, body = s.postJSON(t, "/token", map[string]string{
			"grant_type": provider.GrantTypeTokenExchange, "subject_token": secret,
			"subject_token_type": provider.TokenTypeAPIKey, "scope": "projects:read",
		})
		if resp.StatusCode != http.StatusOK || body["scope"] != "projects:read" {
			t.Fatalf("JSON exchange for projects:read: status %d: %v", resp.StatusCode, body)
		}

		// A client allowed the grant may authenticate; it is then the client_id.
		c, cs := s.createClient(t, clients.Spec{Name: "CLI", GrantTypes: []string{provider.GrantTypeTokenExchange}, Scopes: []string{"read"}})
		resp, body = s.postForm(t, "/token", exchangeForm(secret, "scope", "read"), c.ID, cs)
		if resp.StatusCode != http.StatusOK || verifyAccessJWT(t, s, body["access_token"].(string))["client_id"] != c.ID {
			t.Fatalf("exchange by a client: status %d: %v", resp.StatusCode, body)
		}

		// Introspection of the key and of its JWT.
		intro := s.introspect(t, rsID, rsSecret, secret)
		if intro["active"] != true || intro["key_id"] != key.ID || intro["org"] != owner.org.ID ||
			intro["sub"] != owner.user.ID || intro["scope"] != "read projects:write" || intro["token_use"] != "api_key" {
			t.Errorf("key introspection = %v", intro)
		}
		if intro := s.introspect(t, rsID, rsSecret, jwt); intro["active"] != true || intro["key_id"] != key.ID || intro["org"] != owner.org.ID {
			t.Errorf("JWT introspection = %v", intro)
		}

		// Revoking the key ends the key and every JWT exchanged for it.
		if err := s.Store.RevokeAPIKey(context.Background(), key.ID); err != nil {
			t.Fatal(err)
		}
		for name, token := range map[string]string{"key": secret, "JWT": jwt} {
			if intro := s.introspect(t, rsID, rsSecret, token); intro["active"] != false {
				t.Errorf("the %s is still active after revocation: %v", name, intro)
			}
		}
		if resp, body := s.postForm(t, "/token", exchangeForm(secret)); body["error"] != "invalid_request" ||
			!strings.Contains(body["error_description"].(string), "revoked") {
			t.Errorf("exchange of a revoked key: status %d: %v", resp.StatusCode, body)
		}

		// Nothing of the exchanges was stored, least of all the key.
		var rows int64
		if err := s.Store.DB().Raw("SELECT COUNT(*) FROM oauth_access_tokens WHERE form LIKE ? OR session LIKE ?", "%sk_live_%", "%sk_live_%").Scan(&rows).Error; err != nil {
			t.Fatal(err)
		}
		if rows != 0 {
			t.Error("an API key reached the token tables")
		}
		if strings.Contains(s.logs.String(), secret[8:]) {
			t.Error("the API key reached the log")
		}
	})
}

func TestBadAPIKeyExchanges(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	owner := s.newKeyOwner(t, "owner@example.com")
	_, secret := s.newAPIKey(t, owner, "read projects:write", nil)
	past := time.Now().Add(-time.Minute)
	_, expired := s.newAPIKey(t, owner, "read", &past)
	revokedKey, revoked := s.newAPIKey(t, owner, "read", nil)
	if err := s.Store.RevokeAPIKey(context.Background(), revokedKey.ID); err != nil {
		t.Fatal(err)
	}
	unauthorized, us := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
	allowed, as := s.createClient(t, clients.Spec{Name: "CLI", GrantTypes: []string{provider.GrantTypeTokenExchange}, Scopes: []string{"read"}})
	unknown := "sk_live_" + strings.Repeat("Z", 43)

	tests := []struct {
		name   string
		form   url.Values
		basic  []string
		status int
		code   string
		says   string
	}{
		{"no key", exchangeForm(""), nil, 400, "invalid_request", "missing"},
		{"a malformed key", exchangeForm("sk_live_short"), nil, 400, "invalid_request", "not a well-formed API key"},
		{"not an API key at all", exchangeForm("at_live_abc.def"), nil, 400, "invalid_request", "not a well-formed API key"},
		{"an unknown key", exchangeForm(unknown), nil, 400, "invalid_request", "unknown"},
		{"an expired key", exchangeForm(expired), nil, 400, "invalid_request", "expired"},
		{"a revoked key", exchangeForm(revoked), nil, 400, "invalid_request", "revoked"},
		{"the wrong subject token type", exchangeForm(secret, "subject_token_type", "urn:ietf:params:oauth:token-type:access_token"), nil, 400, "invalid_request", "subject_token_type must be"},
		{"a scope beyond the key", exchangeForm(secret, "scope", "team:manage"), nil, 400, "invalid_scope", "team:manage"},
		{"write when the key has only projects:write", exchangeForm(secret, "scope", "write"), nil, 400, "invalid_scope", "write"},
		{"an audience the key cannot use", exchangeForm(secret, "audience", "https://evil.example.com"), nil, 400, "invalid_target", "evil.example.com"},
		{"a resource the key cannot use", exchangeForm(secret, "resource", "https://evil.example.com"), nil, 400, "invalid_target", "evil.example.com"},
		{"an actor token", exchangeForm(secret, "actor_token", "x", "actor_token_type", provider.TokenTypeAccessToken), nil, 400, "invalid_request", "actor_token"},
		{"a refresh token asked for", exchangeForm(secret, "requested_token_type", "urn:ietf:params:oauth:token-type:refresh_token"), nil, 400, "invalid_request", "requested_token_type"},
		{"a client with a wrong secret", exchangeForm(secret), []string{allowed.ID, as + "x"}, 401, "invalid_client", ""},
		{"a client not allowed the grant", exchangeForm(secret), []string{unauthorized.ID, us}, 400, "unauthorized_client", ""},
		{"a client that may not ask for the scope", exchangeForm(secret, "scope", "projects:write"), []string{allowed.ID, as}, 400, "invalid_scope", "client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := s.postForm(t, "/token", tc.form, tc.basic...)
			if resp.StatusCode != tc.status || body["error"] != tc.code {
				t.Fatalf("status %d, body %v; want %d %s", resp.StatusCode, body, tc.status, tc.code)
			}
			if desc, _ := body["error_description"].(string); !strings.Contains(desc, tc.says) {
				t.Errorf("error_description %q does not say %q", desc, tc.says)
			}
			if key := tc.form.Get("subject_token"); len(key) > 12 && strings.Contains(body["error_description"].(string), key[8:]) {
				t.Error("the error repeats the key")
			}
		})
	}
}

func TestJWTAccessTokensForClients(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		u, org := s.signUp(t, "alice@example.com", "Alice", "correct horse battery", "Acme")
		app := newWebAppWith(t, s, clients.Spec{Name: "Mobile", RedirectURIs: []string{"http://" + freePort(t) + "/callback"},
			Scopes: []string{"openid", "email", "offline_access", "projects:read"}, AccessTokenFormat: clients.AccessTokenJWT})
		rsID, rsSecret := s.resourceServer(t)
		az := app.newAuthorization(t)
		tok := app.exchange(t, az, s.newAgent(t).authorize(az.url, "alice@example.com", "correct horse battery", "allow"))

		claims := verifyAccessJWT(t, s, tok.AccessToken)
		for name, want := range map[string]any{"iss": s.URL, "sub": u.ID, "org": org.ID, "client_id": app.id,
			"scope": "openid email offline_access projects:read"} {
			if claims[name] != want {
				t.Errorf("claim %s = %v, want %v", name, claims[name], want)
			}
		}
		if claims["key_id"] != nil {
			t.Error("a client's token names an API key")
		}
		verifyIDToken(t, app, tok, az.nonce) // at_hash of the JWT
		if _, err := app.oidc.UserInfo(t.Context(), oauth2.StaticTokenSource(tok)); err != nil {
			t.Errorf("userinfo with a JWT access token: %v", err)
		}
		if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["active"] != true || intro["org"] != org.ID {
			t.Errorf("introspection = %v", intro)
		}
		// Its claims signed by anyone else, as they are or naming an API
		// key, are not.
		for name, keyID := range map[string]string{"as they are": "", "naming an API key": "key_forged"} {
			forged := map[string]any{}
			for k, v := range claims {
				forged[k] = v
			}
			if keyID != "" {
				forged["key_id"] = keyID
			}
			if intro := s.introspect(t, rsID, rsSecret, forgeAccessJWT(t, tok.AccessToken, forged)); intro["active"] != false {
				t.Errorf("the token's claims %s, signed by a stranger: %v", name, intro)
			}
		}
		// An ID token is never taken for an access token.
		if intro := s.introspect(t, rsID, rsSecret, tok.Extra("id_token").(string)); intro["active"] != false {
			t.Errorf("an ID token introspects as %v", intro)
		}
		// Revocation works as for opaque tokens.
		if resp, _ := s.postForm(t, "/revoke", url.Values{"token": {tok.AccessToken}}, app.id, app.secret); resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["active"] != false {
			t.Errorf("a revoked JWT access token: %v", intro)
		}
	})
}

// forgeAccessJWT signs claims as an at+jwt with a key of its own, under
// the kid of the real token like.
func forgeAccessJWT(t *testing.T, like string, claims map[string]any) string {
	t.Helper()
	real, err := jose.ParseSigned(like)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", real.Signatures[0].Header.KeyID))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return token
}
