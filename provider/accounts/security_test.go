package accounts_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// A password change needs the current password and the policy of sign-up;
// it keeps the browser that asked signed in, signs out the others, ends
// pending resets and tells the person by mail.
func TestChangePassword(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, b)
			ctx := context.Background()
			alice := w.person(t, "alice@example.com")
			var tokens []string
			for range 3 {
				token, _, err := w.store.CreateLoginSession(ctx, alice.ID, "", time.Hour, "test", "127.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				tokens = append(tokens, token)
			}
			reset, err := w.a.NewLink(ctx, storage.PurposeResetPassword, alice, alice.Email)
			if err != nil {
				t.Fatal(err)
			}
			const newPassword = "a brand new passphrase"
			change := func(current, next, confirm string) (int64, error) {
				return w.a.ChangePassword(ctx, w.fresh(t, alice), accounts.PasswordChange{Current: current, New: next, Confirm: confirm, KeepSession: tokens[0]})
			}
			for _, tc := range []struct {
				name, current, next, confirm string
				field, code                  string
			}{
				{"no current password", "", newPassword, newPassword, "current_password", accounts.CodeRequired},
				{"a short new one", password, "short", "short", "password", accounts.CodeTooShort},
				{"the email as the new one", password, "alice@example.com", "alice@example.com", "password", accounts.CodePasswordIsEmail},
				{"a confirmation that differs", password, newPassword, newPassword + "!", "confirm", accounts.CodeInvalid},
				{"the current one again", password, password, password, "password", accounts.CodeInvalid},
			} {
				if _, err := change(tc.current, tc.next, tc.confirm); !hasProblem(err, tc.field, tc.code) {
					t.Errorf("%s: %v, want problem %s %s", tc.name, err, tc.field, tc.code)
				}
			}
			if _, err := change("not the password", newPassword, newPassword); !errors.Is(err, accounts.ErrWrongPassword) {
				t.Errorf("a wrong current password: %v, want ErrWrongPassword", err)
			}
			if _, err := w.a.Authenticate(ctx, alice.Email, password); err != nil {
				t.Fatalf("a refused change changed the password: %v", err)
			}

			ended, err := change(password, newPassword, newPassword)
			if err != nil || ended != 2 {
				t.Fatalf("ChangePassword = %d, %v; want 2 other sessions ended", ended, err)
			}
			if _, err := w.a.Authenticate(ctx, alice.Email, newPassword); err != nil {
				t.Errorf("the new password does not work: %v", err)
			}
			if _, err := w.a.Authenticate(ctx, alice.Email, password); !errors.Is(err, accounts.ErrInvalidCredentials) {
				t.Errorf("the old password still works: %v", err)
			}
			if _, err := w.store.LoginSessionByToken(ctx, tokens[0]); err != nil {
				t.Errorf("the browser that changed it was signed out: %v", err)
			}
			for _, other := range tokens[1:] {
				if _, err := w.store.LoginSessionByToken(ctx, other); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("another browser is still signed in: %v", err)
				}
			}
			u, _ := url.Parse(reset)
			if _, err := w.store.AccountTokenFor(ctx, u.Query().Get("token"), storage.PurposeResetPassword); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a pending reset link still works: %v", err)
			}
			msg := w.mail.Next(t, alice.Email)
			if !strings.Contains(msg.Subject, "password was changed") || !strings.Contains(msg.Text, issuer+"/password/forgot") ||
				strings.Contains(msg.Text, newPassword) || strings.Contains(msg.HTML, newPassword) {
				t.Errorf("the mail about the change: %q\n%s", msg.Subject, msg.Text)
			}
		})
	}
}

func hasProblem(err error, field, code string) bool {
	f, c := problem(err)
	return f == field && c == code
}

// Wrong current passwords are counted per person, as failed sign-ins are:
// past the free ones each waits longer, and while a wait lasts not even
// the right password is checked. The wait ends by itself.
func TestCurrentPasswordIsThrottledPerPerson(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, b)
			ctx := context.Background()
			alice, bob := w.person(t, "alice@example.com"), w.person(t, "bob@example.com")
			change := func(u *storage.User, current string) error {
				_, err := w.a.RequestEmailChange(ctx, u, "elsewhere@example.com", current)
				return err
			}
			for i := 1; i <= 5; i++ {
				var attempt *accounts.AttemptError
				if err := change(alice, "wrong password"); !errors.As(err, &attempt) || !attempt.Checked || !attempt.Until.IsZero() {
					t.Fatalf("free failure %d: %v, want a wrong password and no wait", i, err)
				}
			}
			var attempt *accounts.AttemptError
			if err := change(alice, "wrong password"); !errors.As(err, &attempt) || !attempt.Checked || !attempt.Until.Equal(w.clock.Now().Add(time.Second)) {
				t.Fatalf("the sixth failure: %+v (%v), want a wrong password and a second's wait", attempt, err)
			}
			// Changing the password is guarded by the same counter.
			_, err := w.a.ChangePassword(ctx, alice, accounts.PasswordChange{Current: password, New: "another passphrase", Confirm: "another passphrase"})
			if !errors.Is(err, accounts.ErrTooManyAttempts) {
				t.Fatalf("the right password while blocked: %v, want ErrTooManyAttempts", err)
			}
			if err := change(bob, password); err != nil {
				t.Fatalf("another person is blocked too: %v", err)
			}
			w.clock.Advance(time.Second)
			if err := change(alice, password); err != nil {
				t.Fatalf("after the wait, the right password: %v", err)
			}
			// Success forgets the failures: the next wrong one is free again.
			if err := change(alice, "wrong password"); !errors.As(err, &attempt) || !attempt.Until.IsZero() {
				t.Errorf("a wrong password after a success: %+v, want no wait", attempt)
			}
		})
	}
}
