package storagetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/storage"
)

// throttleCases are the cases of the sign-in throttle.
var throttleCases = []testCase{
	{"failed sign-ins slow down with growing delays that stop at a maximum", testThrottle},
}

func testThrottle(t *testing.T, s *storage.Store, clock *Clock) {
	p := storage.ThrottlePolicy{Free: 3, Base: time.Second, Max: 8 * time.Second, Window: 15 * time.Minute}
	for i := 1; i <= 3; i++ {
		until, err := s.RecordFailure(ctx(t), "acct:a", p)
		Must(t, err)
		if !until.IsZero() {
			t.Fatalf("failure %d blocked until %v; the first %d are free", i, until, p.Free)
		}
	}
	var delays []time.Duration
	for range 5 {
		until, err := s.RecordFailure(ctx(t), "acct:a", p)
		Must(t, err)
		delays = append(delays, until.Sub(clock.Now()))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if diff := cmp.Diff(want, delays); diff != "" {
		t.Fatalf("delays grow and stop at Max (-want +got):\n%s", diff)
	}
	until, err := s.BlockedUntil(ctx(t), "ip:192.0.2.1", "acct:a")
	Must(t, err)
	if !until.Equal(clock.Now().Add(8 * time.Second)) {
		t.Fatalf("blocked until %v", until)
	}
	clock.Advance(9 * time.Second)
	if until, _ := s.BlockedUntil(ctx(t), "acct:a"); !until.IsZero() {
		t.Fatalf("still blocked after the delay: %v", until)
	}
	// A new window forgets the old failures.
	clock.Advance(p.Window)
	if until, _ := s.RecordFailure(ctx(t), "acct:a", p); !until.IsZero() {
		t.Fatalf("the first failure of a new window blocks until %v", until)
	}
	// A success clears the count.
	for range 4 {
		_, err := s.RecordFailure(ctx(t), "acct:b", p)
		Must(t, err)
	}
	Must(t, s.ClearFailures(ctx(t), "acct:b"))
	if until, _ := s.BlockedUntil(ctx(t), "acct:b"); !until.IsZero() {
		t.Fatalf("blocked after a clear: %v", until)
	}
	// Concurrent failures are all counted.
	ok, errs := race(8, func(int) error { _, err := s.RecordFailure(ctx(t), "acct:c", p); return err })
	if ok != 8 {
		t.Fatalf("concurrent failures: %v", errs)
	}
	until, err = s.RecordFailure(ctx(t), "acct:c", p)
	Must(t, err)
	if got := until.Sub(clock.Now()); got != p.Max {
		t.Fatalf("after 9 failures blocked for %v, want %v", got, p.Max)
	}
}
