package storage

import (
	"context"
	"path/filepath"
	"testing"
)

// storeWithAlice is a migrated SQLite store in a temporary file, with one
// person, alice@example.com (whose password hash is a placeholder: the
// passwords are provider/accounts').
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
	if _, err := s.CreateUser(ctx, "alice@example.com", "Alice", "$argon2id$placeholder"); err != nil {
		t.Fatal(err)
	}
	return s
}
