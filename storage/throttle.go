package storage

import (
	"context"
	"fmt"
	"time"
)

// ThrottlePolicy says how failed sign-ins slow down further attempts for
// one key (an account, or a client address).
type ThrottlePolicy struct {
	// Free is how many failures in a window cost nothing.
	Free int
	// Base is the first delay; each further failure doubles it, up to Max.
	Base, Max time.Duration
	// Window forgets failures this long after the first one of a series.
	Window time.Duration
}

// Delay returns how long to block after the n-th failure in a window.
func (p ThrottlePolicy) Delay(n int) time.Duration {
	if n <= p.Free {
		return 0
	}
	d := p.Base
	for i := p.Free + 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	return min(d, p.Max)
}

// BlockedUntil returns the latest time until which any of keys is blocked,
// or the zero time when none is.
func (s *Store) BlockedUntil(ctx context.Context, keys ...string) (time.Time, error) {
	// Not MAX(): SQLite returns an aggregate of DATETIME as plain text.
	var blocked []time.Time
	err := s.conn(ctx).Raw("SELECT blocked_until FROM login_throttles WHERE throttle_key IN ? AND blocked_until > ?", keys, utc(s.now())).
		Scan(&blocked).Error
	if err != nil {
		return time.Time{}, fmt.Errorf("read sign-in throttle: %w", s.translate(err, ErrNotFound))
	}
	var until time.Time
	for _, b := range blocked {
		if b.After(until) {
			until = b.UTC()
		}
	}
	return until, nil
}

// RecordFailure counts a failed sign-in for key and returns until when the
// key is now blocked (the zero time when it is not). One upsert counts the
// failure, so concurrent failures are all counted, on every instance.
func (s *Store) RecordFailure(ctx context.Context, key string, p ThrottlePolicy) (time.Time, error) {
	now := utc(s.now())
	var failures int
	err := s.pool(ctx).QueryRowContext(ctx, s.q(`INSERT INTO login_throttles (throttle_key, failures, window_start, blocked_until, expires_at)
		VALUES (?, 1, ?, NULL, ?)
		ON CONFLICT (throttle_key) DO UPDATE SET
			failures = CASE WHEN login_throttles.window_start <= ? THEN 1 ELSE login_throttles.failures + 1 END,
			window_start = CASE WHEN login_throttles.window_start <= ? THEN excluded.window_start ELSE login_throttles.window_start END,
			expires_at = excluded.expires_at
		RETURNING failures`),
		key, now, now.Add(p.Window+p.Max), now.Add(-p.Window), now.Add(-p.Window)).Scan(&failures)
	if err != nil {
		return time.Time{}, fmt.Errorf("record failed sign-in: %w", s.translate(err, ErrNotFound))
	}
	delay := p.Delay(failures)
	if delay == 0 {
		return time.Time{}, nil
	}
	until := now.Add(delay)
	if _, err := s.pool(ctx).ExecContext(ctx, s.q("UPDATE login_throttles SET blocked_until = ? WHERE throttle_key = ?"), until, key); err != nil {
		return time.Time{}, fmt.Errorf("record failed sign-in: %w", s.translate(err, ErrNotFound))
	}
	return until, nil
}

// ClearFailures forgets the failures of keys after a successful sign-in.
func (s *Store) ClearFailures(ctx context.Context, keys ...string) error {
	if err := s.conn(ctx).Exec("DELETE FROM login_throttles WHERE throttle_key IN ?", keys).Error; err != nil {
		return fmt.Errorf("clear sign-in throttle: %w", s.translate(err, ErrNotFound))
	}
	return nil
}
