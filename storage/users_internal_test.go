package storage

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
)

// An unknown email must cost what a wrong password costs: one argon2id
// verification each, so the time taken does not tell whether the email has
// an account. Counting the verifications shows it without timing anything.
func TestUnknownEmailCostsOneVerificationLikeAWrongPassword(t *testing.T) {
	ctx := context.Background()
	s := storeWithAlice(t)
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
		if _, err := s.AuthenticateUser(ctx, email, "wrong password!"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("%s: error %v, want ErrInvalidCredentials", email, err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("%s: %d argon2id verifications, want exactly 1", email, n)
		}
	}
}

// storeWithAlice is a migrated SQLite store in a temporary file, with one
// person, alice@example.com, whose password is "correct horse battery".
func storeWithAlice(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, Options{DSN: "sqlite://" + filepath.Join(t.TempDir(), "a.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(ctx, "alice@example.com", "Alice", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	return s
}
