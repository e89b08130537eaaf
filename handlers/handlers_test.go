package handlers_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/handlers"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
)

const issuer = webtest.Issuer

// newRouter builds the router over a fresh SQLite store.
func newRouter(t *testing.T) http.Handler {
	t.Helper()
	return newHandlers(t).Public
}

func newHandlers(t *testing.T) *handlers.Handlers {
	t.Helper()
	store, p, key := webtest.NewProvider(t)
	hs, err := handlers.NewHandlers(handlers.Options{Provider: p, Store: store, CookieKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

func get(t *testing.T, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

func TestDiscoveryDocument(t *testing.T) {
	t.Parallel()
	rec := get(t, newRouter(t), "/.well-known/openid-configuration")
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d", rec.Code)
	}
	var got map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"issuer":                 issuer,
		"authorization_endpoint": issuer + "/authorize",
		"token_endpoint":         issuer + "/token",
		"userinfo_endpoint":      issuer + "/userinfo",
		"jwks_uri":               issuer + "/.well-known/jwks.json",
		"introspection_endpoint": issuer + "/introspect",
		"revocation_endpoint":    issuer + "/revoke",
		"end_session_endpoint":   issuer + "/logout",
		"scopes_supported": []any{"openid", "profile", "email", "offline_access", "read", "write",
			"projects:read", "projects:write", "team:manage", "billing:read"},
		"response_types_supported":                         []any{"code"},
		"response_modes_supported":                         []any{"query", "fragment", "form_post"},
		"grant_types_supported":                            []any{"authorization_code", "refresh_token", "client_credentials", "urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_types_supported":                          []any{"public"},
		"id_token_signing_alg_values_supported":            []any{"RS256", "ES256"},
		"userinfo_signing_alg_values_supported":            []any{"RS256", "ES256"},
		"request_object_signing_alg_values_supported":      []any{"none", "RS256", "ES256"},
		"registration_endpoint":                            issuer + "/register",
		"token_endpoint_auth_methods_supported":            []any{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": []any{"RS256", "ES256"},
		"introspection_endpoint_auth_methods_supported":    []any{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"revocation_endpoint_auth_methods_supported":       []any{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"code_challenge_methods_supported":                 []any{"S256"},
		"claims_supported": []any{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "amr",
			"name", "email", "email_verified", "org"},
		"prompt_values_supported":                        []any{"none", "login", "consent"},
		"display_values_supported":                       []any{"page", "popup", "touch", "wap"},
		"claim_types_supported":                          []any{"normal"},
		"claims_parameter_supported":                     true,
		"request_parameter_supported":                    true,
		"request_uri_parameter_supported":                true,
		"require_request_uri_registration":               true,
		"authorization_response_iss_parameter_supported": true,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("discovery document (-want +got):\n%s", diff)
	}
	// RFC 8414's well-known path serves the same document.
	if other := get(t, newRouter(t), "/.well-known/oauth-authorization-server"); other.Code != http.StatusOK {
		t.Fatalf("oauth-authorization-server: status %d", other.Code)
	}
}

func TestJWKSPublishesTheSigningKeys(t *testing.T) {
	t.Parallel()
	rec := get(t, newRouter(t), "/.well-known/jwks.json")
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil {
		t.Fatal(err)
	}
	algs := map[string]bool{}
	for _, k := range set.Keys {
		if k["kid"] == "" || k["use"] != "sig" || k["d"] != nil {
			t.Errorf("key %v", k)
		}
		algs[k["alg"].(string)] = true
	}
	if !algs["RS256"] || !algs["ES256"] {
		t.Fatalf("published algorithms %v, want RS256 and ES256", algs)
	}
}

func TestHealthChecks(t *testing.T) {
	t.Parallel()
	h := newRouter(t)
	for _, path := range []string{"/health/alive", "/health/ready"} {
		if rec := get(t, h, path); rec.Code != http.StatusOK {
			t.Errorf("%s: status %d", path, rec.Code)
		}
	}
}

// Finding 19 of the December audit: /metrics was public. It is served on
// the operations listener only, where it counts the public listener's
// requests.
func TestMetricsAreOnTheOperationsListenerOnly(t *testing.T) {
	t.Parallel()
	hs := newHandlers(t)
	get(t, hs.Public, "/health/alive")
	if rec := get(t, hs.Public, "/metrics"); rec.Code != http.StatusNotFound {
		t.Errorf("/metrics on the public listener: status %d, want 404", rec.Code)
	}
	if rec := get(t, hs.Ops, "/metrics"); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `ajrly_http_requests_total{code="200",method="GET",route="/health/alive"}`) {
		t.Errorf("/metrics on the operations listener: status %d:\n%.500s", rec.Code, rec.Body.String())
	}
	for _, path := range []string{"/health/alive", "/health/ready"} {
		if rec := get(t, hs.Ops, path); rec.Code != http.StatusOK {
			t.Errorf("%s on the operations listener: status %d", path, rec.Code)
		}
	}
	if rec := get(t, hs.Ops, "/token"); rec.Code != http.StatusNotFound {
		t.Errorf("/token on the operations listener: status %d, want 404", rec.Code)
	}
}

func TestPagesSetSecurityHeaders(t *testing.T) {
	t.Parallel()
	h := newRouter(t)
	for _, path := range []string{"/login", "/logout", "/authorize?client_id=nope", "/no-such-page"} {
		rec := get(t, h, path)
		for header, want := range map[string]string{
			"X-Frame-Options":        "DENY",
			"Referrer-Policy":        "no-referrer",
			"X-Content-Type-Options": "nosniff",
		} {
			if got := rec.Header().Get(header); got != want {
				t.Errorf("%s: %s = %q, want %q", path, header, got, want)
			}
		}
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: Content-Security-Policy = %q", path, csp)
		}
	}
	// Under an https issuer, cookies carry the __Host- prefix and Secure.
	rec := get(t, h, "/login")
	found := false
	for _, c := range rec.Result().Cookies() {
		if c.Name == "__Host-ajrly_csrf" {
			found = true
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" {
				t.Errorf("csrf cookie %+v", c)
			}
		}
	}
	if !found {
		t.Errorf("no __Host-ajrly_csrf cookie among %v", rec.Result().Cookies())
	}
}
