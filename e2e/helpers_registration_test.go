// Dynamic client registration (RFC 7591, RFC 7592) as an app does it:
// calls to /register, what they answered, the metadata a web app
// registers, and the app set up with the client it got.

package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"
)

// registrationCall sends a request to /register or /register/{id} with an
// optional Bearer token; body is JSON-encoded unless it is a string or nil.
func (s *server) registrationCall(t testing.TB, method, path, bearer string, body any) (*http.Response, map[string]any) {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, s.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return doJSON(t, req)
}

// registered is what a registration answered (RFC 7591 §3.2.1).
type registered struct {
	id, secret, token, uri string
	resp                   *http.Response
	body                   map[string]any
}

// register posts meta to /register (open mode) and wants a 201.
func (s *server) register(t testing.TB, meta map[string]any) registered {
	t.Helper()
	return s.registerWith(t, "", meta)
}

// registerWith posts meta to /register with an initial access token.
func (s *server) registerWith(t testing.TB, bearer string, meta map[string]any) registered {
	t.Helper()
	resp, body := s.registrationCall(t, http.MethodPost, "/register", bearer, meta)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("register: status %d: %v", resp.StatusCode, body)
	}
	str := func(k string) string { v, _ := body[k].(string); return v }
	return registered{id: str("client_id"), secret: str("client_secret"), token: str("registration_access_token"),
		uri: str("registration_client_uri"), resp: resp, body: body}
}

// appMetadata is what a web app registers: a code flow with refresh
// tokens, its links, and the authentication method asked for.
func appMetadata(t testing.TB, method string) map[string]any {
	return map[string]any{
		"client_name":                "Registered App",
		"redirect_uris":              []string{"http://" + freePort(t) + "/callback"},
		"grant_types":                []string{"authorization_code", "refresh_token"},
		"response_types":             []string{"code"},
		"token_endpoint_auth_method": method,
		"scope":                      appScopes,
		"client_uri":                 "https://app.example.com",
		"logo_uri":                   "https://app.example.com/logo.png",
		"policy_uri":                 "https://app.example.com/privacy",
		"tos_uri":                    "https://app.example.com/terms",
		"contacts":                   []string{"dev@app.example.com"},
		"software_id":                "4NRB1-0XZABZI9E6-5SM3R",
		"software_version":           "2.1",
		"post_logout_redirect_uris":  []string{"https://app.example.com/signed-out"},
	}
}

// checkRegistrationAnswer checks a 201 answer: the identifiers, the
// secret only for clients that use one, the registration access token and
// URI, and every member of meta echoed.
func checkRegistrationAnswer(t *testing.T, s *server, reg registered, meta map[string]any, wantSecret bool) {
	t.Helper()
	if reg.resp.Header.Get("Cache-Control") != "no-store" || reg.resp.Header.Get("Pragma") != "no-cache" {
		t.Errorf("registration answer caching headers: %v", reg.resp.Header)
	}
	if !strings.HasPrefix(reg.id, "cl_") {
		t.Errorf("client_id = %q", reg.id)
	}
	if wantSecret {
		if len(reg.secret) < 43 { // 32 random bytes, base64url
			t.Errorf("client_secret = %q, want at least 32 random bytes", reg.secret)
		}
		if reg.body["client_secret_expires_at"] != float64(0) {
			t.Errorf("client_secret_expires_at = %v, want 0 (RFC 7591 §3.2.1: required with a secret)", reg.body["client_secret_expires_at"])
		}
	} else if reg.body["client_secret"] != nil || reg.body["client_secret_expires_at"] != nil {
		t.Errorf("a client that authenticates without a secret (%v) got secret members: %v", meta["token_endpoint_auth_method"], reg.body)
	}
	issued, _ := reg.body["client_id_issued_at"].(float64)
	if d := time.Since(time.Unix(int64(issued), 0)); d < -time.Minute || d > time.Minute {
		t.Errorf("client_id_issued_at = %v, want now", reg.body["client_id_issued_at"])
	}
	if len(reg.token) < 43 {
		t.Errorf("registration_access_token = %q, want at least 32 random bytes", reg.token)
	}
	if want := s.URL + "/register/" + reg.id; reg.uri != want || reg.resp.Header.Get("Location") != want {
		t.Errorf("registration_client_uri = %q, Location = %q, want %q", reg.uri, reg.resp.Header.Get("Location"), want)
	}
	for k, v := range meta {
		if diff := cmp.Diff(asJSON(t, v), reg.body[k]); diff != "" {
			t.Errorf("%s is not echoed as sent (-sent +answer):\n%s", k, diff)
		}
	}
}

// appFor sets up the client libraries of a registered app; style is how
// golang.org/x/oauth2 sends its secret.
func (s *server) appFor(t *testing.T, reg registered, style oauth2.AuthStyle) *webApp {
	t.Helper()
	op, err := oidc.NewProvider(t.Context(), s.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	redirects, _ := reg.body["redirect_uris"].([]any)
	if len(redirects) == 0 {
		t.Fatalf("no redirect_uris in %v", reg.body)
	}
	redirect := redirects[0].(string)
	endpoint := op.Endpoint()
	endpoint.AuthStyle = style
	return &webApp{
		s: s, id: reg.id, secret: reg.secret, redirect: redirect, oidc: op,
		config: oauth2.Config{
			ClientID: reg.id, ClientSecret: reg.secret, Endpoint: endpoint, RedirectURL: redirect,
			Scopes: strings.Fields(appScopes),
		},
		verifier: op.Verifier(&oidc.Config{ClientID: reg.id}),
	}
}

// registerAssertionClient registers a private_key_jwt client of the
// client credentials grant whose assertions use key's algorithm; keys is
// its "jwks" or "jwks_uri" member.
func (s *server) registerAssertionClient(t testing.TB, key clientKey, keys map[string]any) registered {
	t.Helper()
	meta := map[string]any{
		"client_name":                     "Assertion Worker",
		"grant_types":                     []string{"client_credentials"},
		"token_endpoint_auth_method":      "private_key_jwt",
		"token_endpoint_auth_signing_alg": string(key.alg),
		"scope":                           "read",
	}
	for k, v := range keys {
		meta[k] = v
	}
	return s.register(t, meta)
}
