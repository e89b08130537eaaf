package storage

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Finding S1 of the December 2026 audit: every argon2id computation takes
// 19 MiB, and nothing bounded how many ran at once. Counting the
// verifications in flight shows the bound without timing anything.
func TestParallelPasswordChecksNeverRunMoreThanTheCapAtOnce(t *testing.T) {
	ctx := context.Background()
	s := storeWithAlice(t)
	// Long enough that no check gives up waiting on a slow machine.
	wait := passwordSlotWait
	passwordSlotWait = time.Minute
	t.Cleanup(func() { passwordSlotWait = wait })

	var inFlight, most atomic.Int32
	real := verifyPassword
	verifyPassword = func(hash, password string) bool {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		return real(hash, password)
	}
	t.Cleanup(func() { verifyPassword = real })

	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			password := "correct horse battery"
			if i%2 == 1 {
				password = "wrong password!"
			}
			_, errs[i] = s.AuthenticateUser(ctx, "alice@example.com", password)
			if i%2 == 1 && errors.Is(errs[i], ErrInvalidCredentials) {
				errs[i] = nil
			}
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("check %d: %v", i, err)
		}
	}
	if got, limit := most.Load(), int32(PasswordSlots()); got > limit {
		t.Fatalf("%d argon2id verifications ran at once, want at most %d", got, limit)
	}
}

// A check that cannot get a slot before its request ends is ErrBusy, and
// computes nothing.
func TestPasswordCheckIsBusyWhileEverySlotIsTaken(t *testing.T) {
	s := storeWithAlice(t)
	for range PasswordSlots() {
		release, err := AcquirePasswordSlot(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(release)
	}
	// No waiting: every slot is held until the test ends.
	wait := passwordSlotWait
	passwordSlotWait = 0
	t.Cleanup(func() { passwordSlotWait = wait })
	ctx := context.Background()
	if _, err := s.AuthenticateUser(ctx, "alice@example.com", "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Errorf("sign-in with every slot taken: %v, want ErrBusy", err)
	}
	if _, err := s.CreateUser(ctx, "bob@example.com", "Bob", "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Errorf("new user with every slot taken: %v, want ErrBusy", err)
	}
}
