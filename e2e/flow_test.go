package e2e

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestCodeFlowWithPKCE(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		user := s.createUser(t, "alice@example.com", "correct horse battery", "Alice Example")
		app := newWebApp(t, s, false)
		rsID, rsSecret := s.resourceServer(t)
		ctx := t.Context()

		az := app.newAuthorization(t)
		code := app.code(t, az, "alice@example.com", "correct horse battery")
		tok, err := app.config.Exchange(ctx, code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if !strings.HasPrefix(tok.AccessToken, provider.PrefixAccessToken) || !strings.HasPrefix(tok.RefreshToken, provider.PrefixRefreshToken) {
			t.Fatalf("tokens %q / %q lack their prefixes", tok.AccessToken, tok.RefreshToken)
		}
		if tok.TokenType != "Bearer" {
			t.Errorf("token_type = %q, want Bearer", tok.TokenType)
		}
		if left := time.Until(tok.Expiry); left < 59*time.Minute || left > time.Hour+time.Second {
			t.Errorf("access token lives %v, want 3600s", left)
		}

		// The ID token verifies against the JWKS (go-oidc fetches it by kid).
		idt := verifyIDToken(t, app, tok, az.nonce)
		if idt.Subject != user.ID {
			t.Errorf("sub = %q, want %q", idt.Subject, user.ID)
		}
		var claims struct {
			AuthTime int64    `json:"auth_time"`
			AMR      []string `json:"amr"`
			Email    string   `json:"email"`
			Name     string   `json:"name"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.AuthTime == 0 || time.Since(time.Unix(claims.AuthTime, 0)) > time.Minute {
			t.Errorf("auth_time = %d, want the sign-in just now", claims.AuthTime)
		}
		if !slices.Equal(claims.AMR, []string{"pwd"}) || claims.Email != "alice@example.com" || claims.Name != "Alice Example" {
			t.Errorf("ID token claims = %+v", claims)
		}

		// UserInfo with the access token.
		info, err := app.oidc.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var uiClaims map[string]any
		_ = info.Claims(&uiClaims)
		if info.Subject != user.ID || info.Email != "alice@example.com" || uiClaims["name"] != "Alice Example" {
			t.Errorf("userinfo = %+v", uiClaims)
		}

		// A resource server introspects the access token.
		intro := s.introspect(t, rsID, rsSecret, tok.AccessToken)
		if intro["active"] != true || intro["sub"] != user.ID || intro["client_id"] != app.id ||
			intro["scope"] != appScopes || intro["token_type"] != "Bearer" {
			t.Errorf("introspection = %v", intro)
		}
		if exp, _ := intro["exp"].(float64); int64(exp) != tok.Expiry.Unix() && int64(exp) != tok.Expiry.Unix()+1 && int64(exp) != tok.Expiry.Unix()-1 {
			t.Errorf("introspection exp = %v, token expiry %v", intro["exp"], tok.Expiry.Unix())
		}

		// Refresh: new tokens, the old pair rotated out.
		stale := *tok
		stale.Expiry = time.Now().Add(-time.Minute)
		refreshed, err := app.config.TokenSource(ctx, &stale).Token()
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == tok.RefreshToken || refreshed.RefreshToken == "" {
			t.Fatal("refresh did not rotate both tokens")
		}
		verifyIDToken(t, app, refreshed, "")
		if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["active"] != false {
			t.Errorf("the access token replaced by a refresh is still active: %v", intro)
		}
		if intro := s.introspect(t, rsID, rsSecret, refreshed.RefreshToken); intro["active"] != true || intro["token_type"] != "refresh_token" {
			t.Errorf("new refresh token introspection = %v", intro)
		}

		// The app revokes the grant (RFC 7009): both tokens stop working.
		resp, _ := s.postForm(t, "/revoke", map[string][]string{"token": {refreshed.RefreshToken}, "token_type_hint": {"refresh_token"}}, app.id, app.secret)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("revoke: status %d", resp.StatusCode)
		}
		for _, token := range []string{refreshed.AccessToken, refreshed.RefreshToken} {
			if intro := s.introspect(t, rsID, rsSecret, token); intro["active"] != false {
				t.Errorf("revoked token still active: %v", intro)
			}
		}
		if _, err := app.config.TokenSource(ctx, &oauth2.Token{RefreshToken: refreshed.RefreshToken}).Token(); err == nil {
			t.Error("a revoked refresh token still refreshes")
		}
	})
}

func TestTokenExchangeAsJSONBody(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "bob@example.com", "correct horse battery", "Bob")
		app := newWebApp(t, s, false)
		az := app.newAuthorization(t)
		code := app.code(t, az, "bob@example.com", "correct horse battery")

		resp, body := s.postJSON(t, "/token", map[string]string{
			"grant_type":    "authorization_code",
			"code":          code,
			"client_id":     app.id,
			"client_secret": app.secret,
			"redirect_uri":  app.redirect,
			"code_verifier": az.verifier,
		})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d: %v", resp.StatusCode, body)
		}
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Pragma") != "no-cache" {
			t.Errorf("token response caching headers: %v", resp.Header)
		}
		at, _ := body["access_token"].(string)
		rt, _ := body["refresh_token"].(string)
		if !strings.HasPrefix(at, "at_live_") || !strings.HasPrefix(rt, "rt_live_") || body["token_type"] != "Bearer" ||
			body["expires_in"] != float64(3600) || body["scope"] != appScopes || body["id_token"] == nil {
			t.Fatalf("token response = %v", body)
		}

		// A refresh as JSON too.
		resp, body = s.postJSON(t, "/token", map[string]string{
			"grant_type": "refresh_token", "refresh_token": rt, "client_id": app.id, "client_secret": app.secret,
		})
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(body["access_token"].(string), "at_live_") {
			t.Fatalf("JSON refresh: status %d: %v", resp.StatusCode, body)
		}
	})
}

func TestClientCredentials(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		c, secret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read", "projects:write"}})
		rsID, rsSecret := s.resourceServer(t)
		resp, body := s.postForm(t, "/token", map[string][]string{"grant_type": {"client_credentials"}, "scope": {"projects:read projects:write"}}, c.ID, secret)
		if resp.StatusCode != http.StatusOK || body["scope"] != "projects:read projects:write" || body["refresh_token"] != nil {
			t.Fatalf("client credentials: status %d: %v", resp.StatusCode, body)
		}
		intro := s.introspect(t, rsID, rsSecret, body["access_token"].(string))
		if intro["active"] != true || intro["client_id"] != c.ID || intro["sub"] != nil {
			t.Errorf("introspection = %v", intro)
		}
		// read covers projects:read (and billing:read); nothing covers team:manage.
		resp, body = s.postForm(t, "/token", map[string][]string{"grant_type": {"client_credentials"}, "scope": {"team:manage"}}, c.ID, secret)
		if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_scope" {
			t.Fatalf("scope escalation: status %d: %v", resp.StatusCode, body)
		}
	})
}
