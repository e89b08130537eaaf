package storage

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// usageKey is one key's count on one day.
type usageKey struct {
	keyID string
	day   string
}

// UsageCounter counts API key uses in memory and writes them in batches,
// so that a request made with a key costs no database write. Flush on a
// timer (Run) and once more at shutdown; a failed flush keeps its counts
// for the next one, so a normal stop loses nothing.
type UsageCounter struct {
	store *Store
	now   func() time.Time

	mu       sync.Mutex
	counts   map[usageKey]int64
	lastUsed map[string]time.Time
}

// NewUsageCounter returns a counter that flushes to s.
func (s *Store) NewUsageCounter() *UsageCounter {
	return &UsageCounter{store: s, now: s.now, counts: map[usageKey]int64{}, lastUsed: map[string]time.Time{}}
}

// Record counts one use of a key now.
func (u *UsageCounter) Record(keyID string) {
	now := u.now()
	k := usageKey{keyID: keyID, day: UsageDay(now)}
	u.mu.Lock()
	u.counts[k]++
	if now.After(u.lastUsed[keyID]) {
		u.lastUsed[keyID] = now
	}
	u.mu.Unlock()
}

// Pending returns how many uses are counted but not yet written.
func (u *UsageCounter) Pending() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	var n int64
	for _, c := range u.counts {
		n += c
	}
	return n
}

// Flush writes what was counted since the last flush.
func (u *UsageCounter) Flush(ctx context.Context) error {
	u.mu.Lock()
	counts, lastUsed := u.counts, u.lastUsed
	u.counts, u.lastUsed = map[usageKey]int64{}, map[string]time.Time{}
	u.mu.Unlock()
	if len(counts) == 0 && len(lastUsed) == 0 {
		return nil
	}
	if err := u.store.addUsage(ctx, counts, lastUsed); err != nil {
		// Keep them for the next flush.
		u.mu.Lock()
		for k, n := range counts {
			u.counts[k] += n
		}
		for id, at := range lastUsed {
			if at.After(u.lastUsed[id]) {
				u.lastUsed[id] = at
			}
		}
		u.mu.Unlock()
		return err
	}
	return nil
}

// Run flushes every interval until ctx ends. It does not flush at the end:
// the server does, after it stopped taking requests.
func (u *UsageCounter) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := u.Flush(ctx); err != nil && !errors.Is(err, context.Canceled) {
				log.WarnContext(ctx, "flush api key usage", "err", err, "pending", u.Pending())
			}
		}
	}
}
