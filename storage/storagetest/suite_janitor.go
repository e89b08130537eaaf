package storagetest

import (
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// janitorCases are the cases of the janitor.
var janitorCases = []testCase{
	{"the janitor removes expired rows and keeps live ones", testJanitor},
}

func testJanitor(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	old := newRequest(t, s, c, clock, time.Minute)
	live := newRequest(t, s, c, clock, time.Hour)
	for i := range 5 {
		sig := string(rune('a' + i))
		Must(t, s.CreateAccessTokenSession(ctx(t), "old-"+sig, old))
		Must(t, s.CreateRefreshTokenSession(ctx(t), "old-rt-"+sig, "old-"+sig, old))
	}
	Must(t, s.CreateAccessTokenSession(ctx(t), "live", live))
	Must(t, s.SetClientAssertionJWT(ctx(t), "old-jti", clock.Now().Add(time.Minute)))
	clock.Advance(2 * time.Minute)
	n, err := s.DeleteExpired(ctx(t), 2) // small batches: several rounds per table
	Must(t, err)
	if n != 11 {
		t.Fatalf("janitor removed %d rows, want 11", n)
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "live", newSession()); err != nil {
		t.Fatalf("janitor removed a live token: %v", err)
	}
}
