package oauth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers/oauth"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
)

// The token fuzz target's fixtures, which the seed corpus names: a
// confidential client with a known secret, a public client and an API key.
const (
	fuzzConfidentialID     = "cl_fuzzconfidential"
	fuzzConfidentialSecret = "fuzz-client-secret-fuzz-client-secret"
	fuzzPublicID           = "cl_fuzzpublic"
	fuzzAPIKey             = storage.APIKeyPrefix + "FuzzKeyFuzzKeyFuzzKeyFuzzKeyFuzzKeyFuzzKey1"
)

// tokenErrorCodes are the error codes of RFC 6749 §5.2 and RFC 8693
// §2.2.2 (invalid_target), the only ones a token endpoint answers with.
var tokenErrorCodes = []string{"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
	"unsupported_grant_type", "invalid_scope", "invalid_target"}

// FuzzTokenJSONBody posts any JSON body to /token through the real router,
// store and provider: never a 5xx (a panic is one: the router recovers it
// as 500); a 4xx is an RFC 6749 §5.2 JSON error object; a 200 carries a
// Bearer access token.
func FuzzTokenJSONBody(f *testing.F) {
	h := newFuzzTokenRouter(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/token", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		var got map[string]any
		decodeErr := json.Unmarshal(rec.Body.Bytes(), &got)
		switch code := rec.Code; {
		case code >= 500:
			t.Fatalf("status %d: %s", code, rec.Body)
		case code == http.StatusOK:
			if decodeErr != nil || got["access_token"] == nil || got["token_type"] != "Bearer" {
				t.Fatalf("200 without a Bearer access token: %s", rec.Body)
			}
		case code >= 400:
			if decodeErr != nil {
				t.Fatalf("status %d with a body that is not a JSON object (%v): %s", code, decodeErr, rec.Body)
			}
			e, _ := got["error"].(string)
			if !slices.Contains(tokenErrorCodes, e) {
				t.Fatalf("status %d with error %q, not an RFC 6749 §5.2 code: %s", code, e, rec.Body)
			}
		default:
			t.Fatalf("status %d: %s", code, rec.Body)
		}
	})
}

// newFuzzTokenRouter is the router over a fresh SQLite store holding the
// fuzz target's fixtures.
func newFuzzTokenRouter(tb testing.TB) http.Handler {
	tb.Helper()
	ctx := context.Background()
	env := webtest.New(tb)
	store := env.Store
	if err := oauth.Mount(env.Routes.API, oauth.Options{Kit: env.Kit, Provider: env.Provider, Store: store,
		RegistrationMode: clients.RegistrationToken}); err != nil {
		tb.Fatal(err)
	}
	confidential, _, err := clients.New(clients.Spec{Name: "Fuzz confidential",
		RedirectURIs: []string{"https://app.example.com/cb"},
		GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken, clients.GrantClientCredentials,
			provider.GrantTypeTokenExchange}})
	if err != nil {
		tb.Fatal(err)
	}
	confidential.ID, confidential.SecretDigest = fuzzConfidentialID, storage.Digest(fuzzConfidentialSecret)
	confidential.TokenEndpointAuthMethod = clients.AuthSecretPost
	public, _, err := clients.New(clients.Spec{Name: "Fuzz public", Public: true,
		RedirectURIs: []string{"http://127.0.0.1/cb"}})
	if err != nil {
		tb.Fatal(err)
	}
	public.ID = fuzzPublicID
	for _, c := range []*storage.Client{confidential, public} {
		if err := store.CreateClient(ctx, c); err != nil {
			tb.Fatal(err)
		}
	}
	made, err := accounts.New(store, accounts.Config{}).Create(ctx, accounts.Person{Email: "fuzz@example.com", Name: "Fuzz",
		Password: "a long enough password", Organization: "Fuzz Org"}, accounts.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	u, org := made.User, made.Org
	k, _, err := apikeys.New(apikeys.Spec{OrgID: org.ID, UserID: u.ID, Role: storage.RoleOwner,
		Name: "fuzz key", Scopes: []string{"read", "write"}}, time.Now())
	if err != nil {
		tb.Fatal(err)
	}
	random := fuzzAPIKey[len(storage.APIKeyPrefix):]
	k.Digest, k.Prefix, k.Last4 = storage.DigestHex(fuzzAPIKey), random[:4], random[len(random)-4:]
	if err := store.CreateAPIKey(ctx, k); err != nil {
		tb.Fatal(err)
	}
	return env.Routes.Handler()
}
