package provider_test

import (
	"errors"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestDecodeIDTokenTakesOnlyIDTokensToAClient(t *testing.T) {
	t.Parallel()
	store := storagetest.NewSQLite(t)
	const issuer = "https://auth.example.com"
	p, err := provider.New(t.Context(), store, provider.Options{Issuer: issuer, Secret: []byte("unit-test-secret-unit-test-secret-unit-test"),
		AccessTokenTTL: time.Hour, RefreshTokenTTL: time.Hour, AuthCodeTTL: time.Minute, IDTokenTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := clients.New(clients.Spec{Name: "App", RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateClient(t.Context(), c); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	claims := func(change func(map[string]any)) map[string]any {
		m := map[string]any{"iss": issuer, "sub": "usr_1", "aud": []string{c.ID}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		if change != nil {
			change(m)
		}
		return m
	}
	tests := []struct {
		name   string
		claims map[string]any
		ok     bool
	}{
		{"an ID token to a client is taken", claims(nil), true},
		{"an aud that is a string is taken", claims(func(m map[string]any) { m["aud"] = c.ID }), true},
		{"an expired ID token is taken", claims(func(m map[string]any) {
			m["iat"], m["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		}), true},
		{"no exp is refused", claims(func(m map[string]any) { delete(m, "exp") }), false},
		{"no iat is refused", claims(func(m map[string]any) { delete(m, "iat") }), false},
		{"an expired token without iat is refused", claims(func(m map[string]any) {
			delete(m, "iat")
			m["exp"] = now.Add(-time.Hour).Unix()
		}), false},
		{"an aud that is no client is refused", claims(func(m map[string]any) { m["aud"] = []string{"cl_other"} }), false},
		{"no aud is refused", claims(func(m map[string]any) { delete(m, "aud") }), false},
		{"another issuer is refused", claims(func(m map[string]any) { m["iss"] = "https://other.example.com" }), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, alg := range []string{provider.AlgRS256, provider.AlgES256} {
				token, err := p.SignJWT(alg, tc.claims)
				if err != nil {
					t.Fatal(err)
				}
				_, err = p.DecodeIDToken(t.Context(), token)
				switch {
				case tc.ok && err != nil:
					t.Errorf("%s: refused: %v", alg, err)
				case !tc.ok && !errors.Is(err, provider.ErrNotIDToken):
					t.Errorf("%s: got %v, want ErrNotIDToken", alg, err)
				}
			}
		})
	}
}
