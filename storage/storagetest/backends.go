package storagetest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for the schema set-up

	"github.com/ajrly/ajrly-auth/storage"
)

// PostgresEnv is the variable that names the PostgreSQL server tests use.
const PostgresEnv = "AJRLY_TEST_POSTGRES_DSN"

// PostgresDSN returns the test server's DSN. Without one the test is
// skipped with a message saying why, except in CI (CI=true), where a missing
// database is a failure.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(PostgresEnv)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set but CI=true: the PostgreSQL tests must run in CI", PostgresEnv)
		}
		t.Skipf("%s not set; PostgreSQL tests skipped", PostgresEnv)
	}
	return dsn
}

// Options returns store options for tests; now may be nil.
func Options(dsn string, now func() time.Time) storage.Options {
	return storage.Options{DSN: dsn, ClientCacheTTL: 5 * time.Second, Now: now}
}

// NewSQLite returns an empty, migrated store in a fresh SQLite file.
func NewSQLite(t testing.TB) *storage.Store {
	t.Helper()
	return NewSQLiteAt(t, nil)
}

// NewSQLiteAt is NewSQLite with a clock.
func NewSQLiteAt(t testing.TB, now func() time.Time) *storage.Store {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "ajrly.db")
	return open(t, Options(dsn, now))
}

// NewPostgresAt returns an empty, migrated store on clock now in a fresh
// schema of the test server; the schema is dropped when the test ends.
func NewPostgresAt(t testing.TB, now func() time.Time) *storage.Store {
	t.Helper()
	dsn := FreshPostgresSchema(t, PostgresDSN(t))
	return open(t, Options(dsn, now))
}

// FreshPostgresSchema creates a schema, drops it when the test ends and
// returns base with its search_path set to it.
func FreshPostgresSchema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open postgres: %v", err)
	}
	t.Cleanup(func() { _ = admin.Close() })
	schema := "t_" + strings.ToLower(storage.RandomBase62(12))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema (is PostgreSQL running at %s?): %v", redact(base), err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, opts storage.Options) *storage.Store {
	t.Helper()
	ctx := context.Background()
	s, err := storage.Open(ctx, opts)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(unparsable dsn)"
	}
	return u.Redacted()
}

// Backend is a named way to open an empty, migrated store.
type Backend struct {
	Name string
	Open func(t testing.TB, now func() time.Time) *storage.Store
	// FreshDSN names an empty database, not migrated, for tests that
	// open it themselves.
	FreshDSN func(t testing.TB) string
}

// Backends lists SQLite and PostgreSQL; PostgreSQL's Open skips (or fails
// in CI) without a server, so tests can range over both.
func Backends() []Backend {
	return []Backend{
		{Name: "sqlite", Open: NewSQLiteAt, FreshDSN: func(t testing.TB) string {
			return "sqlite://" + filepath.Join(t.TempDir(), "ajrly.db")
		}},
		{Name: "postgres", Open: NewPostgresAt, FreshDSN: func(t testing.TB) string {
			return FreshPostgresSchema(t, PostgresDSN(t))
		}},
	}
}

// Must fails the test on err.
func Must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
