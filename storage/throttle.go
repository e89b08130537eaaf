package storage

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
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

// ThrottleKey is one counter a sign-in attempt is charged to, and the
// policy that counter follows.
type ThrottleKey struct {
	Key    string
	Policy ThrottlePolicy
}

// ReserveAttempt charges a sign-in attempt to every key before the password
// is checked, and says whether the check may run. Reading the counters
// first and counting a failure after the (slow) hash let every guess in
// flight through (audit finding 5); here one transaction counts the
// attempt and decides, so concurrent guesses are told apart:
//
//   - when any key is blocked it charges nothing and returns false and the
//     latest time until which a key is blocked;
//   - otherwise it counts the attempt on every key, blocks each key whose
//     policy says so from now on, and returns true and the latest such
//     time (zero when none): the wait to show if the password is wrong.
//
// Each counter's row is created or locked by one upsert (INSERT … ON
// CONFLICT DO UPDATE, which on PostgreSQL locks the row it finds as
// SELECT … FOR UPDATE would), in key order so that two attempts never wait
// on each other crosswise; SQLite's one connection and BEGIN IMMEDIATE
// serialise the transactions anyway. A successful sign-in gives the
// attempt back with ClearFailures.
func (s *Store) ReserveAttempt(ctx context.Context, keys ...ThrottleKey) (bool, time.Time, error) {
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b ThrottleKey) int { return strings.Compare(a.Key, b.Key) })
	keys = slices.CompactFunc(keys, func(a, b ThrottleKey) bool { return a.Key == b.Key })
	now := utc(s.now())
	type counter struct {
		failures    int
		windowStart time.Time
		blocked     sql.NullTime
	}
	var (
		allowed bool
		until   time.Time
	)
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.pool(ctx)
		counters := make([]counter, len(keys))
		allowed, until = true, time.Time{}
		for i, k := range keys {
			// One statement creates the counter or locks the one there:
			// an INSERT … DO NOTHING and then a SELECT … FOR UPDATE lost a
			// row that a successful sign-in's ClearFailures deleted in
			// between, and the attempt failed with "not found".
			c := &counters[i]
			if err := db.QueryRowContext(ctx, s.q(`INSERT INTO login_throttles (throttle_key, failures, window_start, blocked_until, expires_at)
				VALUES (?, 0, ?, NULL, ?)
				ON CONFLICT (throttle_key) DO UPDATE SET failures = login_throttles.failures
				RETURNING failures, window_start, blocked_until`), k.Key, now, now.Add(k.Policy.Window+k.Policy.Max)).
				Scan(&c.failures, &c.windowStart, &c.blocked); err != nil {
				return err
			}
			if c.blocked.Valid && c.blocked.Time.After(now) {
				allowed = false
				until = later(until, c.blocked.Time.UTC())
			}
		}
		if !allowed {
			return nil
		}
		for i, k := range keys {
			c := counters[i]
			if !c.windowStart.After(now.Add(-k.Policy.Window)) {
				c.failures, c.windowStart = 0, now
			}
			c.failures++
			var blocked *time.Time
			if d := k.Policy.Delay(c.failures); d > 0 {
				b := now.Add(d)
				blocked, until = &b, later(until, b)
			}
			if _, err := db.ExecContext(ctx, s.q("UPDATE login_throttles SET failures = ?, window_start = ?, blocked_until = ?, expires_at = ? WHERE throttle_key = ?"),
				c.failures, utc(c.windowStart), blocked, now.Add(k.Policy.Window+k.Policy.Max), k.Key); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, time.Time{}, fmt.Errorf("reserve sign-in attempt: %w", s.translate(err, ErrNotFound))
	}
	return allowed, until, nil
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// ClearFailures forgets the failures of keys after a successful sign-in.
func (s *Store) ClearFailures(ctx context.Context, keys ...string) error {
	if err := s.conn(ctx).Exec("DELETE FROM login_throttles WHERE throttle_key IN ?", keys).Error; err != nil {
		return fmt.Errorf("clear sign-in throttle: %w", s.translate(err, ErrNotFound))
	}
	return nil
}
