package storagetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/storage"
)

// throttleCases are the cases of the sign-in throttle.
var throttleCases = []testCase{
	{"failed sign-ins slow down with growing delays that stop at a maximum", testThrottle},
	{"a sign-in attempt reserved while a success clears the same key never fails", testReserveRacesClear},
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

// testReserveRacesClear races ReserveAttempt against ClearFailures (a
// successful sign-in) on one key. A reservation that found the counter's
// row and then lost it to the clear answered "not found", and the sign-in
// a 500; every reservation must succeed and be allowed.
func testReserveRacesClear(t *testing.T, s *storage.Store, _ *Clock) {
	key := storage.ThrottleKey{Key: "acct:race", Policy: storage.ThrottlePolicy{Free: 1000, Base: time.Second, Max: time.Minute, Window: time.Hour}}
	const rounds, callers = 100, 8
	for round := range rounds {
		// The row exists, as it does once one attempt was charged.
		if allowed, _, err := s.ReserveAttempt(ctx(t), key); err != nil || !allowed {
			t.Fatalf("round %d: first reservation: allowed %v, %v", round, allowed, err)
		}
		ok, errs := race(callers, func(i int) error {
			if i%2 == 1 {
				return s.ClearFailures(ctx(t), key.Key)
			}
			allowed, until, err := s.ReserveAttempt(ctx(t), key)
			if err == nil && (!allowed || !until.IsZero()) {
				err = fmt.Errorf("reservation refused or blocked until %v", until)
			}
			return err
		})
		if ok != callers {
			t.Fatalf("round %d: %d of %d calls failed: %v", round, callers-ok, callers, errs)
		}
	}
}
