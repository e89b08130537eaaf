package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestLoopbackRedirectURIsMatchOnAnyPort(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	c, _ := s.createClient(t, clients.Spec{Name: "CLI tool", Public: true, RedirectURIs: []string{"http://127.0.0.1/callback"}})
	v := oauth2.GenerateVerifier()
	for _, tc := range []struct {
		name, redirect string
		ok             bool
	}{
		{"another port on the registered loopback IP (RFC 8252 7.3)", "http://127.0.0.1:49152/callback", true},
		{"the registered URI itself", "http://127.0.0.1/callback", true},
		{"another path", "http://127.0.0.1:49152/other", false},
		{"another loopback host", "http://localhost:49152/callback", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {tc.redirect},
				"scope": {"openid"}, "state": {"state-12345678"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(v)},
				"code_challenge_method": {"S256"}}
			p := s.newAgent(t).get(s.URL + "/authorize?" + q.Encode())
			if tc.ok && p.url.Path != "/login" {
				t.Fatalf("status %d at %s; want the sign-in page", p.status, p.url.Path)
			}
			if !tc.ok && (p.status != http.StatusBadRequest || p.header.Get("Location") != "") {
				t.Fatalf("status %d, Location %q; want the error page", p.status, p.header.Get("Location"))
			}
		})
	}
}

func TestOnlyTheCodeResponseTypeIsOffered(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	app := newWebApp(t, s, false)
	for _, rt := range []string{"token", "id_token", "code id_token", "code token"} {
		q := url.Values{"client_id": {app.id}, "response_type": {rt}, "redirect_uri": {app.redirect},
			"scope": {"openid"}, "state": {"state-12345678"}, "nonce": {"nonce-12345678"}}
		p := s.newAgent(t).get(s.URL + "/authorize?" + q.Encode())
		loc := redirectOf(p)
		if loc == nil || loc.Query().Get("code") != "" || loc.Query().Get("access_token") != "" || loc.Fragment != "" && strings.Contains(loc.Fragment, "token=") {
			t.Fatalf("response_type=%s: status %d, Location %q", rt, p.status, p.header.Get("Location"))
		}
		if e := loc.Query().Get("error"); e != "unsupported_response_type" && e != "invalid_request" {
			t.Errorf("response_type=%s: error %q, want unsupported_response_type", rt, e)
		}
	}
}

func TestTheIssuerNeverComesFromTheHostHeader(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/.well-known/openid-configuration", nil)
	req.Host = "evil.example.com"
	req.Header.Set("X-Forwarded-Host", "evil.example.com")
	req.Header.Set("X-Forwarded-Proto", "https")
	_, doc := doJSON(t, req)
	if doc["issuer"] != s.URL || !strings.HasPrefix(doc["token_endpoint"].(string), s.URL) {
		t.Fatalf("discovery with a forged Host: issuer %v, token_endpoint %v", doc["issuer"], doc["token_endpoint"])
	}
}

// forgeJWT signs claims with HMAC under key, whatever the header says.
func forgeJWT(t *testing.T, header, claims map[string]any, key []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	signing := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	if key == nil {
		return signing + "."
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestForgedIDTokenHintsAreRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	u := s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	app := newWebApp(t, s, false)
	rsa, err := s.Provider.Keys().SigningKey(provider.AlgRS256)
	if err != nil {
		t.Fatal(err)
	}
	public, _ := rsa.Public().MarshalJSON()
	claims := map[string]any{"iss": s.URL, "sub": u.ID, "aud": app.id, "exp": time.Now().Add(time.Hour).Unix(), "iat": time.Now().Unix()}
	for name, hint := range map[string]string{
		"alg none":                            forgeJWT(t, map[string]any{"alg": "none", "kid": rsa.KeyID}, claims, nil),
		"HS256 keyed with the public key":     forgeJWT(t, map[string]any{"alg": "HS256", "kid": rsa.KeyID}, claims, public),
		"HS256 with an unknown kid":           forgeJWT(t, map[string]any{"alg": "HS256", "kid": "nope"}, claims, []byte("k")),
		"not a JWT":                           "not-a-jwt",
		"a well-formed token by no one's key": forgeJWT(t, map[string]any{"alg": "RS256", "kid": rsa.KeyID}, claims, []byte("x")),
	} {
		t.Run(name, func(t *testing.T) {
			p := s.newAgent(t).get(app.newAuthorization(t).url + "&id_token_hint=" + url.QueryEscape(hint))
			loc := redirectOf(p)
			if loc == nil || loc.Query().Get("error") != "invalid_request" {
				t.Fatalf("status %d, Location %q; want error=invalid_request", p.status, p.header.Get("Location"))
			}
		})
	}
}

func TestSecretsNeverReachTheLog(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b) // logs at debug
		const password = "correct horse battery staple"
		s.createUser(t, "alice@example.com", password, "Alice")
		app := newWebApp(t, s, false)
		a := s.newAgent(t)
		az := app.newAuthorization(t)

		// A failed sign-in, then the real one.
		login := a.get(az.url)
		a.signIn(login, "alice@example.com", password+"-wrong")
		code := app.code(t, az, "alice@example.com", password)
		tok, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		// Refused requests that carry secrets.
		s.postForm(t, "/token", url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {app.redirect}, "code_verifier": {az.verifier}}, app.id, app.secret)
		s.postForm(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, app.id, app.secret+"x")
		s.postForm(t, "/introspect", url.Values{"token": {tok.AccessToken}}, app.id, app.secret+"x")

		logs := s.logs.String()
		if !strings.Contains(logs, "path=/token") {
			t.Fatalf("the log does not show the requests at all:\n%s", logs)
		}
		for name, secret := range map[string]string{
			"password": password, "client secret": app.secret, "code": strings.TrimPrefix(code, provider.PrefixAuthorizeCode),
			"access token":  strings.TrimPrefix(tok.AccessToken, provider.PrefixAccessToken),
			"refresh token": strings.TrimPrefix(tok.RefreshToken, provider.PrefixRefreshToken),
			"code verifier": az.verifier, "id token": tok.Extra("id_token").(string),
		} {
			if strings.Contains(logs, secret) {
				t.Errorf("the %s appears in the log", name)
			}
		}
	})
}
