package storagetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// migrationCases are the cases of the schema migrations.
var migrationCases = []testCase{
	{"migrations are recorded and a second run applies nothing", testMigrateIdempotent},
	{"a database newer than the binary is refused", testNewerDatabaseRefused},
}

func testMigrateIdempotent(t *testing.T, s *storage.Store, _ *Clock) {
	v, err := s.Version(ctx(t))
	Must(t, err)
	if v != storage.SchemaVersion() {
		t.Fatalf("version = %d, want %d", v, storage.SchemaVersion())
	}
	applied, err := s.Migrate(ctx(t))
	Must(t, err)
	if len(applied) != 0 {
		t.Fatalf("second migrate applied %v, want nothing", applied)
	}
	Must(t, s.CheckVersion(ctx(t)))
}

func testNewerDatabaseRefused(t *testing.T, s *storage.Store, _ *Clock) {
	Must(t, s.DB().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		storage.SchemaVersion()+1, "from the future", time.Now().UTC()).Error)
	_, err := s.Migrate(ctx(t))
	if !errors.Is(err, storage.ErrDatabaseNewer) {
		t.Fatalf("migrate error = %v, want ErrDatabaseNewer", err)
	}
	if !strings.Contains(err.Error(), "newer ajrly-auth") {
		t.Errorf("message %q does not say what to do", err)
	}
	if err := s.CheckVersion(ctx(t)); !errors.Is(err, storage.ErrDatabaseNewer) {
		t.Fatalf("check version error = %v, want ErrDatabaseNewer", err)
	}
}
