package accounts

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// accountsWithAlice are the accounts of a fresh SQLite store with one
// person, alice@example.com, whose password is "correct horse battery".
func accountsWithAlice(t *testing.T) *Accounts {
	t.Helper()
	a := New(storagetest.NewSQLite(t), Config{})
	if _, err := a.Create(context.Background(), Person{Email: "alice@example.com", Name: "Alice", Password: "correct horse battery"}, Options{}); err != nil {
		t.Fatal(err)
	}
	return a
}

// An unknown email must cost what a wrong password costs: one argon2id
// verification each, so the time taken does not tell whether the email has
// an account. Counting the verifications shows it without timing anything.
func TestUnknownEmailCostsOneVerificationLikeAWrongPassword(t *testing.T) {
	ctx := context.Background()
	a := accountsWithAlice(t)
	var calls atomic.Int32
	real := verifyPassword
	verifyPassword = func(hash, password string) bool {
		calls.Add(1)
		if hash == "" {
			t.Error("verified against an empty hash")
		}
		return real(hash, password)
	}
	t.Cleanup(func() { verifyPassword = real })

	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		calls.Store(0)
		if _, err := a.Authenticate(ctx, email, "wrong password!"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("%s: error %v, want ErrInvalidCredentials", email, err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("%s: %d argon2id verifications, want exactly 1", email, n)
		}
	}
}

// Finding S1 of the December 2026 audit: every argon2id computation takes
// 19 MiB, and nothing bounded how many ran at once. Counting the
// verifications in flight shows the bound without timing anything.
func TestParallelPasswordChecksNeverRunMoreThanTheCapAtOnce(t *testing.T) {
	ctx := context.Background()
	a := accountsWithAlice(t)
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
			_, errs[i] = a.Authenticate(ctx, "alice@example.com", password)
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
// computes nothing; so is a new person, who is then not created.
func TestPasswordCheckIsBusyWhileEverySlotIsTaken(t *testing.T) {
	a := accountsWithAlice(t)
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
	before := PasswordVerifications()
	if _, err := a.Authenticate(ctx, "alice@example.com", "correct horse battery"); !errors.Is(err, ErrBusy) {
		t.Errorf("sign-in with every slot taken: %v, want ErrBusy", err)
	}
	if PasswordVerifications() != before {
		t.Error("a busy sign-in computed a hash")
	}
	if _, err := a.Create(ctx, Person{Email: "bob@example.com", Name: "Bob", Password: "correct horse battery"}, Options{}); !errors.Is(err, ErrBusy) {
		t.Errorf("new person with every slot taken: %v, want ErrBusy", err)
	}
	if _, err := a.store.UserByEmail(ctx, "bob@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("a busy sign-up created the person: %v", err)
	}
}
