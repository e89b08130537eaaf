package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	gormlogger "gorm.io/gorm/logger"
)

// Options configures Open.
type Options struct {
	// DSN is sqlite://relative/file.db, sqlite:///absolute/file.db,
	// sqlite://:memory: (a database that lives as long as the Store) or a
	// postgres:// (libpq URL) connection string.
	DSN string
	// MaxConns caps the connection pool; 0 picks a default for the driver.
	MaxConns int
	// ClientCacheTTL is how long a client read from the database is served
	// from memory. Changes made through this Store are seen at once; changes
	// made by another instance are seen after at most this long. 0 disables.
	ClientCacheTTL time.Duration
	// Logger receives slow-query and driver warnings; nil discards them.
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Store is the one storage implementation for every fosite interface the
// provider uses and for the domain's own tables.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect string // "sqlite" or "postgres"
	now     func() time.Time
	clients *clientCache
	queries sync.Map // query with ? placeholders -> query for this dialect
}

// Dialect names the driver: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.dialect }

// DB exposes the GORM handle for tests and tools that need raw access.
func (s *Store) DB() *gorm.DB { return s.db }

// Open connects to the database the DSN names. It does not migrate: call
// Migrate (or CheckVersion when migrations are run separately).
func Open(ctx context.Context, opts Options) (*Store, error) {
	dialect, dialector, err := dialectorFor(opts.DSN)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		TranslateError:         true,
		SkipDefaultTransaction: true,
		// GORM's prepared-statement cache stays off. pgx caches prepared
		// statements per connection; on SQLite's one connection GORM's cache
		// deadlocks: a statement's first preparation outside a transaction
		// waits for the connection the transaction holds while the
		// transaction, reaching the same statement, waits for that
		// preparation (GORM issues 7350 and 7465).
		PrepareStmt: false,
		NowFunc:     func() time.Time { return utc(now()) },
		Logger:      newGormLogger(logger),
	})
	if err != nil {
		// gorm.Open pings: an unreachable server surfaces here.
		return nil, fmt.Errorf("open %s database: %w", dialect, translateOpen(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s database: %w", dialect, err)
	}
	switch dialect {
	case "sqlite":
		// SQLite allows one writer at a time. One connection serialises
		// everything in the pool instead of failing with SQLITE_BUSY when a
		// read transaction tries to upgrade, and keeps fosite's transactions
		// (code exchange, refresh rotation) strictly ordered.
		sqlDB.SetMaxOpenConns(1)
		sqlDB.SetMaxIdleConns(1)
		sqlDB.SetConnMaxLifetime(0)
	default:
		n := opts.MaxConns
		if n <= 0 {
			n = 24
		}
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		sqlDB.SetConnMaxLifetime(30 * time.Minute)
	}
	s := &Store{
		db:      db,
		sqlDB:   sqlDB,
		dialect: dialect,
		now:     now,
		clients: newClientCache(opts.ClientCacheTTL, now),
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	return s, nil
}

// Close closes the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Ping checks that the database answers; /health/ready uses it.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return s.translate(err, ErrNotFound)
	}
	return nil
}

// Stats reports the connection pool's state for metrics.
func (s *Store) Stats() sql.DBStats { return s.sqlDB.Stats() }

// dialectorFor turns a DSN into a GORM dialector.
func dialectorFor(dsn string) (string, gorm.Dialector, error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite://"):
		path := strings.TrimPrefix(dsn, "sqlite://")
		if path == "" {
			return "", nil, errors.New("sqlite dsn has no file path (use sqlite://ajrly.db)")
		}
		if i := strings.IndexByte(path, '?'); i >= 0 {
			return "", nil, fmt.Errorf("sqlite dsn takes no parameters, got %q", path[i:])
		}
		if path != ":memory:" {
			if dir := filepath.Dir(path); dir != "." {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					return "", nil, fmt.Errorf("create directory for sqlite database: %w", err)
				}
			}
			// The file holds password hashes and sealed keys: only its owner
			// reads it. SQLite gives its -wal and -shm files the same mode.
			f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600) //nolint:gosec // G304: the path is the operator's DSN
			if err != nil {
				return "", nil, fmt.Errorf("open sqlite database file: %w", err)
			}
			_ = f.Close()
		}
		return "sqlite", sqlite.Open("file:" + path + "?" + sqliteParams().Encode()), nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "postgres", postgres.Open(dsn), nil
	}
	scheme, _, ok := strings.Cut(dsn, "://")
	if !ok {
		scheme = dsn
	}
	return "", nil, fmt.Errorf("unknown dsn scheme %q (use sqlite://path or postgres://...)", scheme)
}

// sqliteParams are the connection parameters of every SQLite database
// (modernc.org/sqlite's DSN parameters), applied to each new connection.
func sqliteParams() url.Values {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	// Times are written as "2006-01-02 15:04:05.999999999-07:00" (in UTC,
	// see utc), the text databases written by earlier versions hold and
	// that the queries compare: set here rather than left to the dialector's
	// defaults. DATETIME columns are read back as time.Time; text and
	// integers anywhere else stay what they are.
	q.Set("_time_format", "sqlite")
	q.Set("_texttotime", "0")
	q.Set("_inttotime", "0")
	return q
}

// txKey holds the *gorm.DB of a transaction begun by BeginTX.
type txKey struct{}

// conn returns the transaction in ctx, if any, or the pool, bound to ctx.
func (s *Store) conn(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.WithContext(ctx)
	}
	return s.db.WithContext(ctx)
}

// pool returns the raw connection (transaction or pool) for hand-written SQL.
func (s *Store) pool(ctx context.Context) gorm.ConnPool {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx.Statement.ConnPool
	}
	return s.db.Statement.ConnPool
}

// BeginTX starts a transaction and returns a context that carries it; every
// Store method called with that context runs inside it. It implements
// fosite's storage.Transactional.
func (s *Store) BeginTX(ctx context.Context) (context.Context, error) {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return ctx, errors.New("begin transaction: a transaction is already open in this context")
	}
	tx := s.db.WithContext(ctx).Begin()
	if tx.Error != nil {
		return ctx, fmt.Errorf("begin transaction: %w", s.translate(tx.Error, ErrNotFound))
	}
	return context.WithValue(ctx, txKey{}, tx), nil
}

// Commit commits the transaction in ctx.
func (s *Store) Commit(ctx context.Context) error {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return errors.New("commit: no transaction in context")
	}
	if err := tx.Commit().Error; err != nil {
		return fmt.Errorf("commit: %w", s.translate(err, ErrNotFound))
	}
	return nil
}

// Rollback rolls back the transaction in ctx.
func (s *Store) Rollback(ctx context.Context) error {
	tx, ok := ctx.Value(txKey{}).(*gorm.DB)
	if !ok {
		return errors.New("rollback: no transaction in context")
	}
	if err := tx.Rollback().Error; err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// InTx runs fn inside a transaction, committing when fn returns nil.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	txCtx, err := s.BeginTX(ctx)
	if err != nil {
		return err
	}
	if err := fn(txCtx); err != nil {
		_ = s.Rollback(txCtx)
		return err
	}
	return s.Commit(txCtx)
}

// q rewrites a query written with ? placeholders for the dialect; the
// result is cached so the hot paths pay for the rewrite once.
func (s *Store) q(query string) string {
	if s.dialect != "postgres" {
		return query
	}
	if v, ok := s.queries.Load(query); ok {
		return v.(string)
	}
	var b strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(r)
	}
	out := b.String()
	s.queries.Store(query, out)
	return out
}

// utc normalises a time for storage: UTC, microsecond precision (what
// PostgreSQL keeps), so that values read back compare Equal and SQLite's
// text timestamps sort in time order.
func utc(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

// gormLogger sends GORM's warnings and errors to slog without query values,
// which may hold personal data.
type gormLogger struct {
	log *slog.Logger
}

func newGormLogger(log *slog.Logger) gormlogger.Interface {
	return gormLogger{log: log}
}

func (l gormLogger) LogMode(gormlogger.LogLevel) gormlogger.Interface { return l }
func (l gormLogger) Info(ctx context.Context, msg string, args ...any) {
	l.log.DebugContext(ctx, fmt.Sprintf(msg, args...))
}
func (l gormLogger) Warn(ctx context.Context, msg string, args ...any) {
	l.log.WarnContext(ctx, fmt.Sprintf(msg, args...))
}
func (l gormLogger) Error(ctx context.Context, msg string, args ...any) {
	if strings.HasPrefix(msg, "failed to initialize database") {
		// Open returns this error; logging it here too would say it twice.
		l.log.DebugContext(ctx, fmt.Sprintf(msg, args...))
		return
	}
	l.log.ErrorContext(ctx, fmt.Sprintf(msg, args...))
}

// translateOpen maps an error of gorm.Open, which has no Store yet to
// translate it.
func translateOpen(err error) error {
	if isConnectionError(err) {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// Trace logs slow statements; failed ones are returned to and logged by callers.
func (l gormLogger) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if elapsed := time.Since(begin); elapsed > 250*time.Millisecond {
		sql, rows := fc()
		l.log.WarnContext(ctx, "slow query", "elapsed", elapsed, "rows", rows, "sql", sql)
	}
}

func (l gormLogger) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	return sql, nil
}
