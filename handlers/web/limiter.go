package web

import (
	"math"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Budget is how much of something one client address may do: burst at
// once, then one more every Every.
type Budget struct {
	Burst int
	Every time.Duration
}

// maxTrackedAddresses bounds the memory of an AddressLimiter.
const maxTrackedAddresses = 10000

// AddressLimiter keeps a token bucket (golang.org/x/time/rate) per client
// address, driven by the caller's clock so that tests move time instead
// of sleeping. The zero value is ready to use.
type AddressLimiter struct {
	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

// Reserve takes one unit of addr's budget at now. When the budget is
// spent it returns no reservation and how long until the next unit. A
// caller that ends up not doing the work cancels the reservation
// (Reservation.CancelAt) to give the unit back.
func (l *AddressLimiter) Reserve(addr string, now time.Time, b Budget) (*rate.Reservation, time.Duration) {
	key := addressKey(addr)
	l.mu.Lock()
	defer l.mu.Unlock()
	lim := l.buckets[key]
	if lim == nil {
		if l.buckets == nil {
			l.buckets = map[string]*rate.Limiter{}
		}
		if len(l.buckets) >= maxTrackedAddresses {
			l.forgetIdle(now)
		}
		lim = rate.NewLimiter(rate.Every(b.Every), b.Burst)
		l.buckets[key] = lim
	}
	r := lim.ReserveN(now, 1)
	if wait := r.DelayFrom(now); wait > 0 {
		r.CancelAt(now)
		return nil, wait
	}
	return r, 0
}

// forgetIdle drops the buckets that are full again, which hold nothing a
// new bucket would not; if that is not enough, it starts over rather than
// grow without bound (an attacker with that many addresses gets a fresh
// budget, never the server's memory).
func (l *AddressLimiter) forgetIdle(now time.Time) {
	for k, lim := range l.buckets {
		if lim.TokensAt(now) >= float64(lim.Burst()) {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxTrackedAddresses {
		l.buckets = map[string]*rate.Limiter{}
	}
}

// addressKey is what a budget is kept per: the address, or for IPv6 its
// /64, since one host is given a whole /64 (RFC 4291 §2.5.4) and could
// otherwise take a fresh budget from each of its addresses.
func addressKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	if err != nil || !ip.Is6() || ip.Is4In6() {
		return addr
	}
	return netip.PrefixFrom(ip, 64).Masked().String()
}

// RetryAfter is the Retry-After value for a wait (RFC 9110 §10.2.3):
// whole seconds, rounded up, at least one.
func RetryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}
