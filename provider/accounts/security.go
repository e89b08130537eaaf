package accounts

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// The current password guards the changes a stolen session cookie must
// not be enough for (a new password, a new email address). Each check is
// counted per person before the hash runs (storage.ReserveAttempt), as
// sign-in counts its attempts: after a few free failures each one doubles
// the wait. Only someone holding the person's session can fail here, so
// the wait may grow longer than sign-in's own per-account wait.
var currentPasswordThrottle = storage.ThrottlePolicy{Free: 5, Base: time.Second, Max: 15 * time.Minute, Window: time.Hour}

func currentPasswordKey(userID string) string { return "curpw:" + userID }

// Errors of checking the current password.
var (
	// ErrWrongPassword: the current password given is not the person's.
	ErrWrongPassword = errors.New("the current password is wrong")
	// ErrTooManyAttempts: too many wrong current passwords; the check did
	// not run.
	ErrTooManyAttempts = errors.New("too many wrong passwords")
)

// AttemptError is a refused current password: wrong (ErrWrongPassword),
// or not checked at all because of earlier failures (ErrTooManyAttempts).
// Until, when not zero, is the time before which the next check will not
// run.
type AttemptError struct {
	Checked bool
	Until   time.Time
}

func (e *AttemptError) Error() string {
	if e.Checked {
		return ErrWrongPassword.Error()
	}
	return ErrTooManyAttempts.Error()
}

// Is makes errors.Is match ErrWrongPassword or ErrTooManyAttempts.
func (e *AttemptError) Is(target error) bool {
	return (e.Checked && target == ErrWrongPassword) || (!e.Checked && target == ErrTooManyAttempts)
}

// checkCurrentPassword proves that the person at the keyboard is u:
// nil for their password, an *AttemptError otherwise, ErrBusy when no
// hashing slot freed up in time.
func (a *Accounts) checkCurrentPassword(ctx context.Context, u *storage.User, password string) error {
	key := currentPasswordKey(u.ID)
	allowed, until, err := a.store.ReserveAttempt(ctx, storage.ThrottleKey{Key: key, Policy: currentPasswordThrottle})
	if err != nil {
		return err
	}
	if !allowed {
		return &AttemptError{Until: until}
	}
	ok, err := VerifyPassword(ctx, u.PasswordHash, password)
	if err != nil {
		return fmt.Errorf("check current password: %w", err)
	}
	if !ok {
		return &AttemptError{Checked: true, Until: until}
	}
	return a.store.ClearFailures(ctx, key)
}

// PasswordChange is a new password and what proves the person may set it.
type PasswordChange struct {
	Current, New, Confirm string
	// KeepSession is the token of the browser session asking (its
	// cookie), which stays signed in.
	KeepSession string
}

// ChangePassword sets u's password to c.New once c.Current proves it is
// them (errors as checkCurrentPassword's). The new one follows the
// policy of sign-up (CheckPassword) and c.Confirm repeats it: problems of
// the fields "current_password", "password" and "confirm" are
// fields.Errors. In one transaction it stores the hash (made before,
// so no connection waits on argon2id; pending reset links stop working),
// signs out every other browser session of u and revokes every token apps
// hold for u: someone who knew the old password may have signed in
// elsewhere, or into an app, and keeps neither. Apps on the browser that
// asked sign in again without a password, as its session remains. Then it
// mails u that their password changed (ErrNotSent when that could not be
// queued; the change stands). It returns how many other sessions it ended.
func (a *Accounts) ChangePassword(ctx context.Context, u *storage.User, c PasswordChange) (int64, error) {
	var e fields.Errors
	if c.Current == "" {
		e.AddCode(CodeRequired, "current_password", "is required")
	}
	e = append(e, CheckPassword(c.New, u.Email)...)
	if !e.Has("password") && c.Confirm != c.New {
		e.AddCode(CodeInvalid, "confirm", "does not match the new password")
	}
	if err := e.Err(); err != nil {
		return 0, err
	}
	if err := a.checkCurrentPassword(ctx, u, c.Current); err != nil {
		return 0, err
	}
	if c.New == c.Current {
		return 0, fields.Errors{{Field: "password", Code: CodeInvalid, Message: "must differ from your current password"}}
	}
	hash, err := HashPassword(ctx, c.New)
	if err != nil {
		return 0, err
	}
	var ended int64
	err = a.store.InTx(ctx, func(ctx context.Context) error {
		if err := a.store.SetUserPassword(ctx, u.ID, hash); err != nil {
			return err
		}
		var err error
		if ended, err = a.store.DeleteOtherLoginSessions(ctx, u.ID, c.KeepSession); err != nil {
			return err
		}
		if err := a.store.RevokeUserTokens(ctx, u.ID); err != nil {
			return err
		}
		return a.record(ctx, audit.Person(ctx, u), u, audit.PasswordChanged, "changed on the security page")
	})
	if err != nil {
		return 0, fmt.Errorf("change password: %w", err)
	}
	return ended, a.tellPasswordChanged(ctx, u)
}
