package storage_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"gorm.io/gorm"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Tokens issued while a transaction holds the pool's only connection (a
// code exchange in progress on SQLite, whose pool is one connection) wait
// for it and then go through; the transaction, meanwhile, runs the same
// statement for the first time and commits. A statement cache that makes
// the transaction wait for a preparation that itself waits for the
// transaction's connection would hang both until their deadline.
func TestTokensIssuedWhileATransactionHoldsTheConnectionDoNotHang(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			opts := storagetest.Options(b.FreshDSN(t), nil)
			opts.MaxConns = 1 // what SQLite always has; PostgreSQL gets the same shape
			s, err := storage.Open(t.Context(), opts)
			storagetest.Must(t, err)
			t.Cleanup(func() { s.Close() })
			_, err = s.Migrate(t.Context())
			storagetest.Must(t, err)
			c := &storage.Client{
				ID:                      storage.NewID("cl"),
				Name:                    "Service",
				SecretDigest:            storage.Digest("s3cret-s3cret-s3cret-s3cret-s3cret"),
				GrantTypes:              storage.Strings{"client_credentials"},
				Scopes:                  storage.Strings{"read"},
				TokenEndpointAuthMethod: "client_secret_basic",
			}
			storagetest.Must(t, s.CreateClient(t.Context(), c))

			// The deadline bounds a hang; without one the test would never end.
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			txCtx, err := s.BeginTX(ctx)
			storagetest.Must(t, err)

			const requests = 8
			errs := make(chan error, requests)
			waitsBefore := s.Stats().WaitCount
			for i := range requests {
				go func() {
					errs <- s.CreateAccessTokenSession(ctx, fmt.Sprintf("at-outside-%d", i), tokenRequest(c))
				}()
			}
			// Once one of them waits for the connection, it has begun its
			// statement (and, with a statement cache, its preparation).
			waitFor(ctx, t, "a token request waiting for the connection", func() bool {
				return s.Stats().WaitCount > waitsBefore
			})

			if err := s.CreateAccessTokenSession(txCtx, "at-inside", tokenRequest(c)); err != nil {
				_ = s.Rollback(txCtx)
				if errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("the token stored inside the transaction waited until the deadline (deadlock): %v", err)
				}
				t.Fatalf("the token stored inside the transaction: %v", err)
			}
			storagetest.Must(t, s.Commit(txCtx))
			for range requests {
				if err := <-errs; err != nil {
					t.Errorf("a token request outside the transaction: %v", err)
				}
			}
			for _, sig := range []string{"at-inside", "at-outside-0", fmt.Sprintf("at-outside-%d", requests-1)} {
				if _, err := s.GetAccessTokenSession(t.Context(), sig, openid.NewDefaultSession()); err != nil {
					t.Errorf("reading back %s: %v", sig, err)
				}
			}
		})
	}
}

// tokenRequest is a client credentials request of client c.
func tokenRequest(c *storage.Client) *fosite.Request {
	sess := openid.NewDefaultSession()
	sess.SetExpiresAt(fosite.AccessToken, time.Now().Add(time.Hour))
	r := fosite.NewRequest()
	r.ID = storage.NewID("req")
	r.RequestedAt = time.Now()
	r.Client = c
	r.RequestedScope = fosite.Arguments{"read"}
	r.GrantedScope = fosite.Arguments{"read"}
	r.Form = url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
	r.Session = sess
	return r
}

// waitFor polls cond until it holds, failing the test when ctx ends first.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-tick.C:
		}
	}
}

// The SQLite connection is set up as the store needs it: WAL, a busy
// timeout, synchronous=NORMAL, foreign keys enforced (and their violation
// translated), and transactions that take the write lock when they begin,
// so that two of them never deadlock upgrading a read lock.
func TestSQLiteConnectionSettings(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ajrly.db")
	s := openSQLite(t, "sqlite://"+path)
	for _, p := range []struct{ pragma, want string }{
		{"journal_mode", "wal"},
		{"busy_timeout", "10000"},
		{"synchronous", "1"}, // NORMAL
		{"foreign_keys", "1"},
	} {
		var got string
		storagetest.Must(t, s.DB().Raw("PRAGMA "+p.pragma).Row().Scan(&got))
		if got != p.want {
			t.Errorf("PRAGMA %s = %s, want %s", p.pragma, got, p.want)
		}
	}

	now := time.Now().UTC()
	err := s.DB().Exec(`INSERT INTO login_sessions (id_digest, user_id, auth_time, created_at, last_seen_at, expires_at)
		VALUES ('d', 'usr_nobody', ?, ?, ?, ?)`, now, now, now, now).Error
	if !errors.Is(err, gorm.ErrForeignKeyViolated) {
		t.Errorf("a login session of no one: error %v, want gorm.ErrForeignKeyViolated", err)
	}

	// A second connection, not waiting on locks, cannot start writing
	// while a transaction of the store's is open, even an empty one.
	other := rawSQLite(t, path)
	tx, err := s.BeginTX(t.Context())
	storagetest.Must(t, err)
	if _, err := other.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err == nil || !strings.Contains(err.Error(), "SQLITE_BUSY") {
		t.Errorf("BEGIN IMMEDIATE beside an open transaction: error %v, want SQLITE_BUSY", err)
		_, _ = other.ExecContext(t.Context(), "ROLLBACK")
	}
	storagetest.Must(t, s.Rollback(tx))
	if _, err := other.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatalf("BEGIN IMMEDIATE once the transaction ended: %v", err)
	}
	_, err = other.ExecContext(t.Context(), "ROLLBACK")
	storagetest.Must(t, err)
}

// Times are stored as the text earlier versions wrote, which the queries
// compare as text: a database written before keeps working, and rows
// written now sort among the old ones.
func TestSQLiteTimesKeepTheirStoredFormat(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "ajrly.db")
	s := openSQLite(t, "sqlite://"+path)
	c := &storage.Client{ID: storage.NewID("cl"), Name: "Service", TokenEndpointAuthMethod: "client_secret_basic"}
	storagetest.Must(t, s.CreateClient(t.Context(), c))
	req := tokenRequest(c)
	expires := time.Date(2031, 2, 3, 4, 5, 6, 789123000, time.UTC)
	req.Session.SetExpiresAt(fosite.AccessToken, expires)
	storagetest.Must(t, s.CreateAccessTokenSession(t.Context(), "at-new", req))

	other := rawSQLite(t, path)
	var stored string
	storagetest.Must(t, other.QueryRowContext(t.Context(),
		"SELECT expires_at || '' FROM oauth_access_tokens WHERE signature = 'at-new'").Scan(&stored))
	if want := "2031-02-03 04:05:06.789123+00:00"; stored != want {
		t.Errorf("expires_at is stored as %q, want %q", stored, want)
	}

	// A row as an earlier version wrote it: read back, found unexpired,
	// and its times parsed.
	_, err := other.ExecContext(t.Context(), `INSERT INTO oauth_access_tokens
		(signature, request_id, client_id, subject, requested_at, expires_at, scopes, granted_scopes,
		 audience, granted_audience, form, session, active)
		VALUES ('at-old', 'req_old', ?, '', '2026-01-02 03:04:05.5+00:00', '2031-01-01 00:00:00+00:00',
		 'read', 'read', '', '', '', '{}', TRUE)`, c.ID)
	storagetest.Must(t, err)
	got, err := s.GetAccessTokenSession(t.Context(), "at-old", openid.NewDefaultSession())
	storagetest.Must(t, err)
	if want := time.Date(2026, 1, 2, 3, 4, 5, 500000000, time.UTC); !got.GetRequestedAt().Equal(want) {
		t.Errorf("requested_at read back as %v, want %v", got.GetRequestedAt(), want)
	}
	var order []string
	rows, err := other.QueryContext(t.Context(), "SELECT signature FROM oauth_access_tokens ORDER BY expires_at")
	storagetest.Must(t, err)
	defer rows.Close()
	for rows.Next() {
		var sig string
		storagetest.Must(t, rows.Scan(&sig))
		order = append(order, sig)
	}
	storagetest.Must(t, rows.Err())
	if strings.Join(order, " ") != "at-old at-new" {
		t.Errorf("rows in expires_at order: %v, want [at-old at-new]", order)
	}
}

// sqlite://:memory: is a database in memory: it works like a file and
// leaves none behind.
func TestSQLiteInMemory(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	s := openSQLite(t, "sqlite://:memory:")
	c := &storage.Client{ID: storage.NewID("cl"), Name: "Service", TokenEndpointAuthMethod: "client_secret_basic"}
	storagetest.Must(t, s.CreateClient(t.Context(), c))
	storagetest.Must(t, s.CreateAccessTokenSession(t.Context(), "at", tokenRequest(c)))
	if _, err := s.GetAccessTokenSession(t.Context(), "at", openid.NewDefaultSession()); err != nil {
		t.Fatalf("reading the token back: %v", err)
	}
	entries, err := os.ReadDir(dir)
	storagetest.Must(t, err)
	for _, e := range entries {
		t.Errorf("sqlite://:memory: left %q in the working directory", e.Name())
	}
}

// SQLite DSNs take no parameters: the store sets them all.
func TestSQLiteDSNErrors(t *testing.T) {
	t.Parallel()
	for dsn, want := range map[string]string{
		"sqlite://": "no file path",
		"sqlite://" + t.TempDir() + "/a.db?mode=ro": "takes no parameters",
	} {
		_, err := storage.Open(t.Context(), storage.Options{DSN: dsn})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q): error %v, want one saying %q", dsn, err, want)
		}
	}
}

// openSQLite opens and migrates the store dsn names.
func openSQLite(t *testing.T, dsn string) *storage.Store {
	t.Helper()
	s, err := storage.Open(t.Context(), storage.Options{DSN: dsn})
	storagetest.Must(t, err)
	t.Cleanup(func() { s.Close() })
	_, err = s.Migrate(t.Context())
	storagetest.Must(t, err)
	return s
}

// rawSQLite is a second connection to the database file at path, outside
// the store and with the driver's defaults: it does not wait on locks.
func rawSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	storagetest.Must(t, err)
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}
