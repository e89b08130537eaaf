// OAuth clients as apps use them: a registered web app with
// golang.org/x/oauth2 and go-oidc (webApp), its authorization requests,
// code flow and ID token check, and the token answers tests read.

package e2e

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
)

// webApp is a third-party web app registered with the provider, with the
// real client libraries it would use.
type webApp struct {
	s        *server
	id       string
	secret   string
	redirect string
	oidc     *oidc.Provider
	config   oauth2.Config
	verifier *oidc.IDTokenVerifier
}

const appScopes = "openid profile email offline_access read"

func newWebApp(t *testing.T, s *server, public bool) *webApp {
	t.Helper()
	return newWebAppAt(t, s, "http://"+freePort(t)+"/callback", public)
}

// newWebAppAt registers an app whose redirect URI is redirect.
func newWebAppAt(t *testing.T, s *server, redirect string, public bool) *webApp {
	t.Helper()
	return newWebAppWith(t, s, clients.Spec{
		Name:         "Example App",
		RedirectURIs: []string{redirect},
		Scopes:       strings.Fields(appScopes),
		Public:       public,
	})
}

// newWebAppWith registers an app as spec says (its first redirect URI is
// the one the app uses) and sets up its client libraries.
func newWebAppWith(t *testing.T, s *server, spec clients.Spec) *webApp {
	t.Helper()
	c, secret := s.createClient(t, spec)
	op, err := oidc.NewProvider(t.Context(), s.URL) // discovery; checks the issuer
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	redirect := spec.RedirectURIs[0]
	return &webApp{
		s: s, id: c.ID, secret: secret, redirect: redirect, oidc: op,
		config: oauth2.Config{
			ClientID:     c.ID,
			ClientSecret: secret,
			Endpoint:     op.Endpoint(),
			RedirectURL:  redirect,
			Scopes:       spec.Scopes,
		},
		verifier: op.Verifier(&oidc.Config{ClientID: c.ID}),
	}
}

// authorization is one authorization request of a web app.
type authorization struct {
	state, nonce, verifier string
	url                    string
}

func (w *webApp) newAuthorization(t *testing.T) authorization {
	a := authorization{state: randomString(t), nonce: randomString(t), verifier: oauth2.GenerateVerifier()}
	a.url = w.config.AuthCodeURL(a.state, oidc.Nonce(a.nonce), oauth2.S256ChallengeOption(a.verifier))
	return a
}

// alicesCode registers alice and a confidential web app, and runs one
// authorization: it returns the app, the authorization and its code.
func alicesCode(t *testing.T, s *server) (*webApp, authorization, string) {
	t.Helper()
	s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	app := newWebApp(t, s, false)
	az := app.newAuthorization(t)
	return app, az, app.code(t, az, "alice@example.com", "correct horse battery")
}

// code signs in through the pages and returns the code the app receives.
func (w *webApp) code(t *testing.T, az authorization, email, password string) string {
	t.Helper()
	redirect := w.s.newAgent(t).authorize(az.url, email, password, "allow")
	q := redirect.Query()
	if got := q.Get("state"); got != az.state {
		t.Fatalf("state = %q, want %q", got, az.state)
	}
	if got := q.Get("iss"); got != w.s.URL {
		t.Fatalf("iss = %q, want %q (RFC 9207)", got, w.s.URL)
	}
	code := q.Get("code")
	if !strings.HasPrefix(code, provider.PrefixAuthorizeCode) {
		t.Fatalf("code %q does not start with %s (redirect %s)", code, provider.PrefixAuthorizeCode, redirect)
	}
	return code
}

// exchange redeems an authorization's code with the app's client library.
func (w *webApp) exchange(t *testing.T, az authorization, redirect *url.URL) *oauth2.Token {
	t.Helper()
	code := redirect.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", redirect)
	}
	tok, err := w.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	return tok
}

// verifyIDToken checks an ID token from a token response: signature by
// JWKS, issuer, audience, expiry, nonce (when one was sent) and at_hash.
func verifyIDToken(t *testing.T, app *webApp, tok *oauth2.Token, nonce string) *oidc.IDToken {
	t.Helper()
	raw, ok := tok.Extra("id_token").(string)
	if !ok || raw == "" {
		t.Fatal("no id_token in the token response")
	}
	idt, err := app.verifier.Verify(t.Context(), raw)
	if err != nil {
		t.Fatalf("verify id token: %v", err)
	}
	if nonce != "" && idt.Nonce != nonce {
		t.Errorf("nonce = %q, want %q", idt.Nonce, nonce)
	}
	if idt.AccessTokenHash == "" {
		t.Error("ID token has no at_hash")
	} else if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Errorf("at_hash: %v", err)
	}
	return idt
}

// tokenFrom reads a successful token response.
func tokenFrom(t testing.TB, resp *http.Response, body map[string]any) *oauth2.Token {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token request: status %d: %v", resp.StatusCode, body)
	}
	at, _ := body["access_token"].(string)
	rt, _ := body["refresh_token"].(string)
	tt, _ := body["token_type"].(string)
	if at == "" {
		t.Fatalf("no access_token in %v", body)
	}
	return (&oauth2.Token{AccessToken: at, RefreshToken: rt, TokenType: tt}).WithExtra(body)
}

// mustToken posts a token request and wants tokens.
func (s *server) mustToken(t testing.TB, form url.Values, basic ...string) *oauth2.Token {
	t.Helper()
	resp, body := s.postForm(t, "/token", form, basic...)
	return tokenFrom(t, resp, body)
}

// clientCredentials is a client credentials token request for "read".
func clientCredentials() url.Values {
	return url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
}

// wantInvalidClient checks a 401 invalid_client answer with its challenge.
func wantInvalidClient(t *testing.T, resp *http.Response, body map[string]any) {
	t.Helper()
	if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
		t.Errorf("status %d, body %v; want 401 invalid_client", resp.StatusCode, body)
	} else if resp.Header.Get("WWW-Authenticate") == "" {
		t.Error("a 401 without WWW-Authenticate")
	}
	if body["access_token"] != nil || body["active"] != nil {
		t.Errorf("a refused client got an answer: %v", body)
	}
}

// oauthError returns the RFC 6749 error code of a failed oauth2 library call.
func oauthError(err error) string {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		return re.ErrorCode
	}
	return ""
}

// clientSecretWorks reports whether /introspect takes id and secret as client
// credentials: 200, or 401 invalid_client.
func (s *server) clientSecretWorks(t *testing.T, id, secret string) bool {
	t.Helper()
	resp, body := s.postForm(t, "/introspect", url.Values{"token": {"at_live_unknown"}}, id, secret)
	switch {
	case resp.StatusCode == http.StatusOK && body["active"] == false:
		return true
	case resp.StatusCode == http.StatusUnauthorized && body["error"] == "invalid_client":
		return false
	}
	t.Fatalf("introspection as %s: status %d: %v", id, resp.StatusCode, body)
	return false
}
