package storagetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/storage"
)

// apiKeyCases are the cases of API keys and their usage.
var apiKeyCases = []testCase{
	{"api keys are found by digest in one lookup, listed, rotated and revoked", testAPIKeys},
	{"key usage is counted in memory and flushed in batches without losing counts", testUsageFlush},
}

// newAPIKey stores a key for user in org with the digest of secret.
func newAPIKey(t *testing.T, s *storage.Store, clock *Clock, org, user, name, secret string) *storage.APIKey {
	t.Helper()
	k := &storage.APIKey{ID: storage.NewID("key"), OrgID: org, UserID: user, Name: name,
		Digest: storage.DigestHex(secret), Prefix: secret[8:12], Last4: secret[len(secret)-4:],
		Scopes: "read projects:write", CreatedAt: clock.Now()}
	Must(t, s.CreateAPIKey(ctx(t), k))
	return k
}

func testAPIKeys(t *testing.T, s *storage.Store, clock *Clock) {
	owner, err := s.CreateUser(ctx(t), "owner@example.com", "Owner", "a long password")
	Must(t, err)
	member, err := s.CreateUser(ctx(t), "member@example.com", "Member", "a long password")
	Must(t, err)
	org, err := s.CreateOrganization(ctx(t), "Acme", owner.ID)
	Must(t, err)
	Must(t, s.AddMember(ctx(t), org.ID, member.ID, storage.RoleMember))

	const secret = "sk_live_abcdEFGH0123456789abcdefghijklmnopqrstuvw"
	k := newAPIKey(t, s, clock, org.ID, owner.ID, "CI deploys", secret)
	if k.Hint() != "sk_live_abcd…tuvw" {
		t.Errorf("hint = %q", k.Hint())
	}
	got, err := s.APIKeyByDigest(ctx(t), storage.DigestHex(secret))
	Must(t, err)
	if got.ID != k.ID || got.Name != "CI deploys" || got.State(clock.Now()) != storage.KeyActive || !got.CreatedAt.Equal(clock.Now()) {
		t.Fatalf("by digest = %+v", got)
	}
	if _, err := s.APIKeyByDigest(ctx(t), storage.DigestHex(secret+"x")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown digest: %v", err)
	}
	var stored int64
	Must(t, s.DB().Raw("SELECT COUNT(*) FROM api_keys WHERE digest LIKE ? OR name LIKE ?", "%abcdEFGH%", "%abcdEFGH%").Scan(&stored).Error)
	if stored != 0 {
		t.Fatal("the key itself is stored")
	}

	clock.Advance(time.Second)
	mine := newAPIKey(t, s, clock, org.ID, member.ID, "laptop", "sk_live_ZYXW9876543210zyxwvutsrqponmlkjihgfedcbaAB")
	all, err := s.ListAPIKeys(ctx(t), org.ID, "")
	Must(t, err)
	if len(all) != 2 || all[0].ID != mine.ID || all[0].CreatorEmail != "member@example.com" || all[1].OrgName != "Acme" {
		t.Fatalf("list = %+v", all)
	}
	own, err := s.ListAPIKeys(ctx(t), org.ID, member.ID)
	Must(t, err)
	if len(own) != 1 || own[0].ID != mine.ID {
		t.Fatalf("the member's own keys = %+v", own)
	}

	// Rotation: the old key works for the grace period, then expires.
	next := &storage.APIKey{ID: storage.NewID("key"), OrgID: org.ID, UserID: owner.ID, Name: "CI deploys",
		Digest: storage.DigestHex("rotated"), Prefix: "rota", Last4: "ated", Scopes: k.Scopes, CreatedAt: clock.Now()}
	Must(t, s.RotateAPIKey(ctx(t), k.ID, next, time.Hour))
	old, _ := s.APIKeyByID(ctx(t), k.ID)
	if old.ReplacedBy != next.ID || old.State(clock.Now()) != storage.KeyActive || old.State(clock.Now().Add(time.Hour)) != storage.KeyExpired {
		t.Fatalf("rotated key = %+v", old)
	}
	if err := s.RotateAPIKey(ctx(t), k.ID, &storage.APIKey{ID: "key_x", OrgID: org.ID, UserID: owner.ID, Digest: "d"}, 0); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("rotating a rotated key: %v", err)
	}
	// No grace: revoked at once.
	third := &storage.APIKey{ID: storage.NewID("key"), OrgID: org.ID, UserID: member.ID, Name: "laptop",
		Digest: storage.DigestHex("third"), Prefix: "thir", Last4: "hird", Scopes: "read", CreatedAt: clock.Now()}
	Must(t, s.RotateAPIKey(ctx(t), mine.ID, third, 0))
	if m, _ := s.APIKeyByID(ctx(t), mine.ID); m.State(clock.Now()) != storage.KeyRevoked {
		t.Fatalf("a rotation without grace left the key %s", m.State(clock.Now()))
	}

	Must(t, s.RevokeAPIKey(ctx(t), next.ID))
	if n, _ := s.APIKeyByID(ctx(t), next.ID); n.State(clock.Now()) != storage.KeyRevoked {
		t.Fatal("a revoked key is not revoked")
	}
	if err := s.RevokeAPIKey(ctx(t), next.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	// An expiry in the past is expired.
	past := clock.Now().Add(-time.Minute)
	exp := &storage.APIKey{ID: storage.NewID("key"), OrgID: org.ID, UserID: owner.ID, Name: "old", Digest: storage.DigestHex("exp"),
		Prefix: "expi", Last4: "ired", Scopes: "read", CreatedAt: clock.Now(), ExpiresAt: &past}
	Must(t, s.CreateAPIKey(ctx(t), exp))
	if e, _ := s.APIKeyByDigest(ctx(t), storage.DigestHex("exp")); e.State(clock.Now()) != storage.KeyExpired {
		t.Fatal("an expired key is not expired")
	}
}

func testUsageFlush(t *testing.T, s *storage.Store, clock *Clock) {
	owner, err := s.CreateUser(ctx(t), "owner@example.com", "Owner", "a long password")
	Must(t, err)
	org, err := s.CreateOrganization(ctx(t), "Acme", owner.ID)
	Must(t, err)
	a := newAPIKey(t, s, clock, org.ID, owner.ID, "a", "sk_live_aaaa0000000000000000000000000000000000aaaa")
	b := newAPIKey(t, s, clock, org.ID, owner.ID, "b", "sk_live_bbbb0000000000000000000000000000000000bbbb")
	u := s.NewUsageCounter()

	// Counting writes nothing.
	for range 5 {
		u.Record(a.ID)
	}
	u.Record(b.ID)
	if got, _ := s.APIKeyUsage(ctx(t), []string{a.ID, b.ID}, clock.Now()); len(got) != 0 {
		t.Fatalf("usage written before a flush: %v", got)
	}
	Must(t, u.Flush(ctx(t)))
	clock.Advance(24 * time.Hour) // a new day
	ok, errs := race(8, func(int) error { u.Record(a.ID); return nil })
	if ok != 8 {
		t.Fatal(errs)
	}
	Must(t, u.Flush(ctx(t)))
	Must(t, u.Flush(ctx(t))) // nothing left: a no-op

	got, err := s.APIKeyUsage(ctx(t), []string{a.ID, b.ID}, clock.Now().Add(-48*time.Hour))
	Must(t, err)
	today, yesterday := storage.UsageDay(clock.Now()), storage.UsageDay(clock.Now().Add(-24*time.Hour))
	want := map[string]map[string]int64{a.ID: {yesterday: 5, today: 8}, b.ID: {yesterday: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("usage (-want +got):\n%s", diff)
	}
	k, _ := s.APIKeyByID(ctx(t), a.ID)
	if k.LastUsedAt == nil || !k.LastUsedAt.Equal(clock.Now()) {
		t.Fatalf("last used = %v, want %v", k.LastUsedAt, clock.Now())
	}

	// A flush that fails keeps its counts for the next one.
	u.Record(b.ID)
	failing, cancel := context.WithCancel(ctx(t))
	cancel()
	if err := u.Flush(failing); err == nil {
		t.Fatal("a flush with a cancelled context succeeded")
	}
	if u.Pending() != 1 {
		t.Fatalf("pending after a failed flush = %d, want 1", u.Pending())
	}
	Must(t, u.Flush(ctx(t)))
	got, _ = s.APIKeyUsage(ctx(t), []string{b.ID}, clock.Now())
	if got[b.ID][today] != 1 {
		t.Fatalf("the count kept through a failed flush was lost: %v", got)
	}

	// A key deleted before the flush does not make the batch fail.
	c := newAPIKey(t, s, clock, org.ID, owner.ID, "c", "sk_live_cccc0000000000000000000000000000000000cccc")
	u.Record(c.ID)
	u.Record(a.ID)
	Must(t, s.DB().Exec("DELETE FROM api_keys WHERE id = ?", c.ID).Error)
	Must(t, u.Flush(ctx(t)))
	got, _ = s.APIKeyUsage(ctx(t), []string{a.ID}, clock.Now())
	if got[a.ID][today] != 9 {
		t.Fatalf("after a flush with a deleted key: %v", got)
	}
}
