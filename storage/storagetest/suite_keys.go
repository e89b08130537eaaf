package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// keyCases are the cases of signing keys.
var keyCases = []testCase{
	{"signing keys rotate once however many rotate at once, and are listed until their expiry", testSigningKeys},
	{"replacing signing keys withdraws the old ones at once", testReplaceSigningKeys},
}

func signingKey(kid, alg string, clock *Clock) *storage.SigningKey {
	return &storage.SigningKey{KID: kid, Alg: alg, PublicJWK: `{"kty":"` + kid + `"}`, PrivateEnc: []byte(kid + "-sealed"), CreatedAt: clock.Now()}
}

func testSigningKeys(t *testing.T, s *storage.Store, clock *Clock) {
	Must(t, s.CreateSigningKey(ctx(t), signingKey("k1", "RS256", clock)))
	Must(t, s.CreateSigningKey(ctx(t), signingKey("e1", "ES256", clock)))
	clock.Advance(time.Second)

	// Five rotations of k1 at once: one stores its key, the others learn
	// they came second and store nothing.
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		won, lost int
	)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.RotateSigningKey(ctx(t), signingKey(fmt.Sprintf("k2-%d", i), "RS256", clock), "k1", clock.Now().Add(10*time.Minute), clock.Now().Add(2*time.Hour))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, storage.ErrConflict):
				lost++
			default:
				t.Errorf("rotate: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || lost != 4 {
		t.Fatalf("5 concurrent rotations: %d stored, %d refused; want 1 and 4", won, lost)
	}
	keys, err := s.ListSigningKeys(ctx(t))
	Must(t, err)
	if len(keys) != 3 {
		t.Fatalf("after the rotation keys = %+v", keys)
	}
	var prev, next storage.SigningKey
	for _, k := range keys {
		switch {
		case k.KID == "k1":
			prev = k
		case k.Alg == "RS256":
			next = k
		}
	}
	if prev.RetiredAt == nil || !prev.RetiredAt.Equal(clock.Now().Add(10*time.Minute)) ||
		prev.ExpiresAt == nil || !prev.ExpiresAt.Equal(clock.Now().Add(2*time.Hour)) {
		t.Fatalf("k1 retires at %v and expires at %v", prev.RetiredAt, prev.ExpiresAt)
	}
	if next.RetiredAt != nil || string(next.PrivateEnc) != next.KID+"-sealed" {
		t.Fatalf("the new key = %+v", next)
	}

	// A rotation of a key already replaced stores nothing.
	if err := s.RotateSigningKey(ctx(t), signingKey("k3", "RS256", clock), "k1", clock.Now(), clock.Now()); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("rotating a replaced key: %v, want ErrConflict", err)
	}
	clock.Advance(2 * time.Hour)
	keys, err = s.ListSigningKeys(ctx(t))
	Must(t, err)
	if len(keys) != 2 || keys[0].KID != "e1" || keys[1].KID != next.KID {
		t.Fatalf("after k1 expired keys = %+v", keys)
	}
}

func testReplaceSigningKeys(t *testing.T, s *storage.Store, clock *Clock) {
	Must(t, s.CreateSigningKey(ctx(t), signingKey("k1", "RS256", clock)))
	Must(t, s.CreateSigningKey(ctx(t), signingKey("e1", "ES256", clock)))
	clock.Advance(time.Second)
	Must(t, s.RotateSigningKey(ctx(t), signingKey("k2", "RS256", clock), "k1", clock.Now().Add(10*time.Minute), clock.Now().Add(time.Hour)))
	clock.Advance(time.Second)
	Must(t, s.ReplaceSigningKeys(ctx(t), signingKey("k3", "RS256", clock)))
	keys, err := s.ListSigningKeys(ctx(t))
	Must(t, err)
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KID)
	}
	if !slices.Equal(kids, []string{"e1", "k3"}) {
		t.Fatalf("after replacing the RS256 keys the published keys are %v, want e1 and k3", kids)
	}
}
