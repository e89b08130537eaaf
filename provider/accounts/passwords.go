package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters: OWASP's recommendation of 19 MiB, two passes, one lane.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	argonSaltLen = 16
)

// ErrBusy is returned when every password-hashing slot stayed taken for
// longer than a short wait: the server is answering too many sign-ins at
// once, and the person should try again in a moment (503 with Retry-After).
var ErrBusy = errors.New("too many password hashes in progress")

// Each argon2id computation holds argonMemory (19 MiB) while it runs, so
// without a bound a thousand parallel sign-ins would want 19 GiB (audit
// finding S1). Two slots per CPU keep every core busy while one computation
// waits to be scheduled; more would only queue in memory. A request waits
// at most passwordSlotWait for a slot, then gets ErrBusy, so the queue
// cannot grow without bound either.
var (
	passwordSlots    = make(chan struct{}, 2*runtime.GOMAXPROCS(0))
	passwordSlotWait = 2 * time.Second
	// passwordChecks counts the argon2id verifications run, for tests that
	// show how many guesses reached the hash.
	passwordChecks atomic.Int64
	// argonRuns counts every argon2id computation, hash or verification,
	// for tests that compare the hashing work of two paths (sign-up with
	// a new address and with a taken one) rather than their wall time.
	argonRuns atomic.Int64
)

// PasswordSlots returns how many argon2id computations may run at once.
func PasswordSlots() int { return cap(passwordSlots) }

// PasswordVerifications returns how many argon2id password verifications
// this process has run.
func PasswordVerifications() int64 { return passwordChecks.Load() }

// PasswordHashWork returns how many argon2id computations (hashes and
// verifications alike) this process has run: the test hook that shows two
// answers cost the same hashing work.
func PasswordHashWork() int64 { return argonRuns.Load() }

// AcquirePasswordSlot takes one of the slots that bound concurrent argon2id
// computations, waiting a short while (or until ctx ends) for one to free
// up, and returns the function that gives it back. HashPassword and
// VerifyPassword take one themselves; code that runs argon2id some other
// way takes one with this.
func AcquirePasswordSlot(ctx context.Context) (release func(), err error) {
	release = sync.OnceFunc(func() { <-passwordSlots })
	select {
	case passwordSlots <- struct{}{}:
		return release, nil
	default:
	}
	if passwordSlotWait <= 0 {
		return nil, ErrBusy
	}
	timer := time.NewTimer(passwordSlotWait)
	defer timer.Stop()
	select {
	case passwordSlots <- struct{}{}:
		return release, nil
	case <-timer.C:
		return nil, ErrBusy
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrBusy, ctx.Err())
	}
}

// dummyHash is verified against for unknown emails. It is computed once,
// outside the slots: a request holding a slot may be the one that needs it.
var dummyHash = sync.OnceValue(func() string {
	h, err := argonHash("no account has this password")
	if err != nil {
		panic(err)
	}
	return h
})

// HashPassword returns an argon2id hash in the PHC string format with a
// fresh random salt; it is ErrBusy when no slot frees up in time.
func HashPassword(ctx context.Context, password string) (string, error) {
	release, err := AcquirePasswordSlot(ctx)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	defer release()
	return argonHash(password)
}

func argonHash(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	argonRuns.Add(1)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword checks a password against a hash made by HashPassword,
// using the parameters recorded in the hash; it is ErrBusy when no slot
// frees up in time.
func VerifyPassword(ctx context.Context, hash, password string) (bool, error) {
	release, err := AcquirePasswordSlot(ctx)
	if err != nil {
		return false, fmt.Errorf("verify password: %w", err)
	}
	defer release()
	return verifyPassword(hash, password), nil
}

// verifyPassword is checkPassword; tests count and watch its calls.
var verifyPassword = checkPassword

// checkPassword is the argon2id verification itself, without a slot.
func checkPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var memory, iterations uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &memory, &iterations, &threads); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false
	}
	passwordChecks.Add(1)
	argonRuns.Add(1)
	got := argon2.IDKey([]byte(password), salt, iterations, memory, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}
