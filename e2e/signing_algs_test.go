package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Clients choose how their ID tokens and UserInfo answers are signed
// (id_token_signed_response_alg, userinfo_signed_response_alg).

func TestClientsChooseTheirSigningAlgorithms(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0], withRegistration(clients.RegistrationOpen))
	s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	tests := []struct {
		name               string
		idTokenAlg         string // registered; "" leaves the default
		userinfoAlg        string
		wantIDAlg          string
		wantUserinfoSigned bool
	}{
		{"the defaults: RS256 ID tokens and plain UserInfo", "", "", "RS256", false},
		{"ES256 ID tokens", "ES256", "", "ES256", false},
		{"RS256 signed UserInfo", "", "RS256", "RS256", true},
		{"ES256 for both", "ES256", "ES256", "ES256", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			meta := map[string]any{
				"client_name": "Signing " + tc.name, "redirect_uris": []string{"http://" + freePort(t) + "/callback"},
				"scope": appScopes, "grant_types": []string{"authorization_code", "refresh_token"},
			}
			if tc.idTokenAlg != "" {
				meta["id_token_signed_response_alg"] = tc.idTokenAlg
			}
			if tc.userinfoAlg != "" {
				meta["userinfo_signed_response_alg"] = tc.userinfoAlg
			}
			reg := s.register(t, meta)
			if got := reg.body["id_token_signed_response_alg"]; tc.idTokenAlg != "" && got != tc.idTokenAlg {
				t.Errorf("registration answer id_token_signed_response_alg = %v", got)
			}
			app := s.appFor(t, reg, oauth2.AuthStyleInHeader)
			az := app.newAuthorization(t)
			tok, err := app.config.Exchange(t.Context(), app.code(t, az, "alice@example.com", "correct horse battery"),
				oauth2.VerifierOption(az.verifier))
			if err != nil {
				t.Fatalf("exchange: %v", err)
			}

			// go-oidc verifies only the algorithms it is told to expect.
			raw, _ := tok.Extra("id_token").(string)
			verifier := app.oidc.Verifier(&oidc.Config{ClientID: reg.id, SupportedSigningAlgs: []string{tc.wantIDAlg}})
			idt, err := verifier.Verify(t.Context(), raw)
			if err != nil {
				t.Fatalf("verify the ID token as %s: %v", tc.wantIDAlg, err)
			}
			if idt.Nonce != az.nonce || idt.VerifyAccessToken(tok.AccessToken) != nil {
				t.Errorf("ID token nonce %q or at_hash do not match", idt.Nonce)
			}
			// Refreshed ID tokens keep the client's algorithm.
			refreshed, err := app.config.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if raw, _ := refreshed.Extra("id_token").(string); raw != "" {
				if _, err := verifier.Verify(t.Context(), raw); err != nil {
					t.Errorf("the refreshed ID token does not verify as %s: %v", tc.wantIDAlg, err)
				}
			}

			req, _ := http.NewRequest(http.MethodGet, s.URL+"/userinfo", nil)
			req.Header.Set("Authorization", "Bearer "+refreshed.AccessToken) // the refresh revoked the first
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("userinfo: status %d: %s", resp.StatusCode, body)
			}
			var claims map[string]any
			if !tc.wantUserinfoSigned {
				if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Fatalf("userinfo Content-Type %q, want JSON", ct)
				}
				if err := json.Unmarshal(body, &claims); err != nil {
					t.Fatal(err)
				}
			} else {
				if ct := resp.Header.Get("Content-Type"); ct != "application/jwt" {
					t.Fatalf("userinfo Content-Type %q, want application/jwt", ct)
				}
				jws, err := jose.ParseSigned(string(body))
				if err != nil {
					t.Fatalf("userinfo is not a JWS: %v", err)
				}
				if alg := jws.Signatures[0].Header.Algorithm; alg != tc.userinfoAlg {
					t.Fatalf("userinfo signed with %s, want %s", alg, tc.userinfoAlg)
				}
				key := publishedKey(t, s, jws.Signatures[0].Header.KeyID)
				payload, err := jws.Verify(key)
				if err != nil {
					t.Fatalf("userinfo signature does not verify with the published key: %v", err)
				}
				if err := json.Unmarshal(payload, &claims); err != nil {
					t.Fatal(err)
				}
				if claims["iss"] != s.URL || claims["aud"] != reg.id {
					t.Errorf("signed userinfo iss %v, aud %v; want the issuer and the client", claims["iss"], claims["aud"])
				}
			}
			if claims["sub"] != idt.Subject || claims["email"] != "alice@example.com" || claims["name"] != "Alice" {
				t.Errorf("userinfo claims %v", claims)
			}
		})
	}

	// Algorithms the server does not offer are refused at registration.
	for _, field := range []string{"id_token_signed_response_alg", "userinfo_signed_response_alg"} {
		for _, alg := range []string{"none", "HS256", "PS256"} {
			resp, body := s.registrationCall(t, http.MethodPost, "/register", "", map[string]any{
				"redirect_uris": []string{"https://app.example.com/callback"}, field: alg,
			})
			if resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_client_metadata" ||
				!strings.Contains(body["error_description"].(string), field) {
				t.Errorf("%s %s: status %d, %v; want invalid_client_metadata naming the field", field, alg, resp.StatusCode, body)
			}
		}
	}
}

// publishedKey returns the key of the server's JWKS with kid.
func publishedKey(t *testing.T, s *server, kid string) *jose.JSONWebKey {
	t.Helper()
	set := s.jwks(t)
	keys := set.Key(kid)
	if len(keys) != 1 {
		t.Fatalf("the JWKS has %d keys with kid %q", len(keys), kid)
	}
	return &keys[0]
}
