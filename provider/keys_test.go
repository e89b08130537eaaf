package provider_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
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

// jwksKIDs returns the kids a key set publishes.
func jwksKIDs(t *testing.T, k *provider.KeySet) []string {
	t.Helper()
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(k.JWKS(), &set); err != nil {
		t.Fatal(err)
	}
	var kids []string
	for _, key := range set.Keys {
		kids = append(kids, key.KeyID)
	}
	return kids
}

func signingKID(t *testing.T, k *provider.KeySet, alg string) string {
	t.Helper()
	key, err := k.SigningKey(alg)
	if err != nil {
		t.Fatal(err)
	}
	return key.KeyID
}

func TestRotatedKeysArePublishedBeforeTheySignAndKeptUntilTheirTokensExpire(t *testing.T) {
	t.Parallel()
	clock := storagetest.NewClock()
	ctx := context.Background()
	keys, _ := newKeySet(t, clock)
	keys.SetRotation(provider.KeyRotation{Lifetime: time.Hour})
	old := signingKID(t, keys, provider.AlgRS256)
	es := signingKID(t, keys, provider.AlgES256)

	clock.Advance(time.Minute)
	r, err := keys.Rotate(ctx, provider.AlgRS256, false)
	if err != nil {
		t.Fatal(err)
	}
	if r.Replaced != old || r.KID == old || !r.SignsAt.Equal(clock.Now().Add(provider.KeyActivation)) {
		t.Fatalf("rotation = %+v", r)
	}
	// Published at once, but the old key signs until the new one is
	// activated, so no one meets a kid they have not been able to fetch.
	if got := jwksKIDs(t, keys); !slices.Contains(got, r.KID) || !slices.Contains(got, old) {
		t.Fatalf("JWKS right after the rotation: %v", got)
	}
	if got := signingKID(t, keys, provider.AlgRS256); got != old {
		t.Fatalf("right after the rotation %s signs, want the old %s", got, old)
	}

	clock.Advance(provider.KeyActivation)
	if err := keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := signingKID(t, keys, provider.AlgRS256); got != r.KID {
		t.Fatalf("after the activation %s signs, want %s", got, r.KID)
	}
	if got := signingKID(t, keys, provider.AlgES256); got != es {
		t.Fatalf("rotating RS256 changed the ES256 key to %s", got)
	}
	// The old key verifies what it signed for as long as that lives.
	if got := jwksKIDs(t, keys); !slices.Contains(got, old) {
		t.Fatalf("the old key left the JWKS before its tokens expired: %v", got)
	}
	clock.Advance(time.Hour + 5*time.Minute)
	if err := keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if got := jwksKIDs(t, keys); slices.Contains(got, old) || len(got) != 2 {
		t.Fatalf("after its tokens expired the JWKS is %v; want the old key gone", got)
	}
}

func TestRotatingALeakedKeyWithdrawsItAtOnce(t *testing.T) {
	t.Parallel()
	clock := storagetest.NewClock()
	ctx := context.Background()
	keys, _ := newKeySet(t, clock)
	keys.SetRotation(provider.KeyRotation{Lifetime: time.Hour})
	leaked := signingKID(t, keys, provider.AlgES256)
	// A scheduled rotation is pending when the leak is found: neither the
	// leaked key nor its pending successor may sign or stay published.
	pending, err := keys.Rotate(ctx, provider.AlgES256, false)
	if err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	r, err := keys.Rotate(ctx, provider.AlgES256, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := signingKID(t, keys, provider.AlgES256); got != r.KID {
		t.Fatalf("after an immediate rotation %s signs, want %s", got, r.KID)
	}
	if got := jwksKIDs(t, keys); slices.Contains(got, leaked) || slices.Contains(got, pending.KID) || len(got) != 2 {
		t.Fatalf("after an immediate rotation the JWKS is %v", got)
	}
}

func TestKeysRotateOnTheirSchedule(t *testing.T) {
	t.Parallel()
	clock := storagetest.NewClock()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	keys, store := newKeySet(t, clock)
	keys.SetRotation(provider.KeyRotation{Every: 24 * time.Hour, Lifetime: time.Hour})
	before := jwksKIDs(t, keys)
	clock.Advance(24 * time.Hour)
	// A second instance runs the same schedule: still one rotation each.
	other, err := provider.LoadKeys(ctx, store, sealKey(t, "a-system-secret-of-at-least-32-bytes!!"), clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	other.SetRotation(provider.KeyRotation{Every: 24 * time.Hour, Lifetime: time.Hour})
	go keys.Run(ctx, time.Millisecond)
	go other.Run(ctx, time.Millisecond)
	for len(jwksKIDs(t, keys)) < 4 {
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
	cancel()
	rows, err := store.ListSigningKeys(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("two instances rotating on schedule made %d keys, want 4 (two per algorithm): %+v", len(rows), rows)
	}
	for _, kid := range before {
		if !slices.Contains(jwksKIDs(t, keys), kid) {
			t.Fatalf("the replaced key %s left the JWKS at once", kid)
		}
	}
	// Each rotation is in the audit log once, the ones refused (the other
	// instance rotated first) not at all.
	events := storagetest.AuditEvents(t, store)
	var rotated []string
	for _, e := range events {
		if e.Kind != "signing_key.rotated" || e.Actor != "scheduled rotation (signing_key_rotation)" || e.OrgID != "" {
			t.Errorf("event %+v, want a scheduled rotation", e)
		}
		rotated = append(rotated, e.TargetID)
	}
	var made []string
	for _, row := range rows {
		if !slices.Contains(before, row.KID) {
			made = append(made, row.KID)
		}
	}
	slices.Sort(rotated)
	slices.Sort(made)
	if !slices.Equal(rotated, made) {
		t.Errorf("the log names the keys %v, the rotations made %v", rotated, made)
	}
}

func TestARotationInTheSecondAKeyWasMadeStillWaitsForActivation(t *testing.T) {
	t.Parallel()
	clock := storagetest.NewClock() // frozen: every key below is made in the same second
	ctx := context.Background()
	keys, _ := newKeySet(t, clock)
	// Kids are random, so a tie broken by kid would pass some rounds.
	for range 8 {
		fresh, err := keys.Rotate(ctx, provider.AlgES256, true)
		if err != nil {
			t.Fatal(err)
		}
		next, err := keys.Rotate(ctx, provider.AlgES256, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := signingKID(t, keys, provider.AlgES256); got != fresh.KID {
			t.Fatalf("right after rotating %s (same second) %s signs, want it to wait for activation", fresh.KID, next.KID)
		}
	}
}

// newKeySet loads the keys of a fresh store on clock.
func newKeySet(t *testing.T, clock *storagetest.Clock) (*provider.KeySet, *storage.Store) {
	t.Helper()
	store := storagetest.NewSQLiteAt(t, clock.Now)
	keys, err := provider.LoadKeys(context.Background(), store, sealKey(t, "a-system-secret-of-at-least-32-bytes!!"), clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	return keys, store
}
