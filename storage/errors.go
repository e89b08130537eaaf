package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"
)

var (
	// ErrNotFound is returned by the domain methods when a row does not exist.
	// The methods fosite calls return fosite.ErrNotFound instead.
	ErrNotFound = errors.New("not found")
	// ErrConflict is returned when a row would violate a unique constraint,
	// such as a second user with the same email.
	ErrConflict = errors.New("conflict")
	// ErrDatabaseNewer is returned by Migrate and Open when the database was
	// migrated by a newer binary than this one.
	ErrDatabaseNewer = errors.New("database schema is newer than this binary")
	// ErrUnavailable wraps errors that mean the database could not be reached.
	ErrUnavailable = errors.New("database unavailable")
)

// translate maps a driver error to the storage errors, in exactly one place.
// notFound is what a missing row becomes: ErrNotFound for the domain methods,
// fosite.ErrNotFound for the ones fosite calls.
func (s *Store) translate(err error, notFound error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, gorm.ErrRecordNotFound) || errors.Is(err, sql.ErrNoRows) {
		return notFound
	}
	if t, ok := s.db.Dialector.(gorm.ErrorTranslator); ok {
		err = t.Translate(err)
	}
	switch {
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return fmt.Errorf("%w: %w", ErrConflict, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case isConnectionError(err):
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// isConnectionError reports whether err means the database could not be
// reached or went away, as opposed to a query that failed.
func isConnectionError(err error) bool {
	var (
		connectErr *pgconn.ConnectError
		pgErr      *pgconn.PgError
		netErr     net.Error
	)
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, sql.ErrConnDone):
		return true
	case errors.As(err, &pgErr):
		// Class 08 is "connection exception"; 57P01-57P03 are shutdowns and
		// "cannot connect now" during start-up or recovery.
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02" || pgErr.Code == "57P03"
	}
	return pgconn.Timeout(err)
}
