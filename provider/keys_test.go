package provider_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func sealKey(t *testing.T, secret string) []byte {
	t.Helper()
	k, err := provider.DeriveKey([]byte(secret), provider.PurposeSigningKeys)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeysAreGeneratedOnceSealedAndPublished(t *testing.T) {
	t.Parallel()
	store := storagetest.NewSQLite(t)
	ctx := context.Background()
	key := sealKey(t, "a-system-secret-of-at-least-32-bytes!!")
	first, err := provider.LoadKeys(ctx, store, key, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	rsa, err := first.SigningKey(provider.AlgRS256)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := first.SigningKey(provider.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	if rsa.KeyID == "" || ec.KeyID == "" || rsa.IsPublic() {
		t.Fatalf("signing keys: %q %q", rsa.KeyID, ec.KeyID)
	}

	// A second start loads the same keys instead of making new ones.
	second, err := provider.LoadKeys(ctx, store, key, time.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := second.SigningKey(provider.AlgRS256)
	if again.KeyID != rsa.KeyID {
		t.Fatalf("second start signs with %q, want %q", again.KeyID, rsa.KeyID)
	}

	// The JWKS publishes both, by kid, without private parts.
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(first.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 {
		t.Fatalf("JWKS has %d keys, want 2", len(set.Keys))
	}
	for _, k := range set.Keys {
		if !k.IsPublic() || k.KeyID == "" || k.Use != "sig" {
			t.Errorf("published key %q: public=%v use=%q", k.KeyID, k.IsPublic(), k.Use)
		}
	}
	if strings.Contains(string(first.JWKS()), `"d":`) {
		t.Error("the JWKS contains a private exponent")
	}

	// The database holds the private keys only sealed.
	rows, err := store.ListSigningKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	privateJSON, _ := rsa.MarshalJSON()
	var priv map[string]any
	_ = json.Unmarshal(privateJSON, &priv)
	for _, r := range rows {
		if strings.Contains(string(r.PrivateEnc), priv["d"].(string)) || strings.Contains(r.PublicJWK, `"d"`) {
			t.Fatalf("key %s is stored in the clear", r.KID)
		}
	}

	// Another system secret cannot open them, and says why.
	_, err = provider.LoadKeys(ctx, store, sealKey(t, "another-system-secret-of-32-bytes!!!"), time.Now, nil)
	if err == nil || !strings.Contains(err.Error(), "system secret") {
		t.Fatalf("loading with the wrong secret: %v", err)
	}
}

func TestDeriveKeyNeedsALongSecret(t *testing.T) {
	t.Parallel()
	if _, err := provider.DeriveKey([]byte("short"), provider.PurposeCookies); err == nil {
		t.Fatal("a 5-byte secret was accepted")
	}
	a, _ := provider.DeriveKey([]byte("a-system-secret-of-at-least-32-bytes!!"), provider.PurposeCookies)
	b, _ := provider.DeriveKey([]byte("a-system-secret-of-at-least-32-bytes!!"), provider.PurposeTokenHMAC)
	if string(a) == string(b) {
		t.Fatal("two purposes share a key")
	}
}
