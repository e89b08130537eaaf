package accounts_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

const (
	issuer      = "https://auth.example.com"
	oldPassword = "correct horse battery"
	newPassword = "a brand new passphrase"
)

// recovery is one backend's world for the reset tests: a store on a
// clock, accounts mailing a real SMTP server, and alice.
type recovery struct {
	store *storage.Store
	clock *storagetest.Clock
	mail  *mailtest.Server
	a     *accounts.Accounts
	alice *storage.User
}

func newRecovery(t *testing.T, b storagetest.Backend) *recovery {
	t.Helper()
	r := &recovery{clock: storagetest.NewClock(), mail: mailtest.Start(t)}
	r.store = b.Open(t, r.clock.Now)
	r.a = accounts.New(r.store, accounts.Config{Mailer: r.mail.Mailer(t, issuer, nil), Issuer: issuer})
	made, err := r.a.Create(context.Background(), accounts.Person{Email: "alice@example.com", Name: "Alice", Password: oldPassword}, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r.alice = made.User
	return r
}

// requestReset asks for a reset link for alice and returns the token of
// the link the mail brings.
func (r *recovery) requestReset(t *testing.T) string {
	t.Helper()
	if err := r.a.RequestReset(context.Background(), " Alice@Example.com "); err != nil {
		t.Fatalf("request a reset: %v", err)
	}
	msg := r.mail.Next(t, "alice@example.com")
	if !strings.Contains(msg.Subject, "Reset your") || !strings.Contains(msg.HTML, "Choose a new password") {
		t.Errorf("the reset mail: subject %q, HTML %q", msg.Subject, msg.HTML)
	}
	return tokenOf(t, msg.Link(t, issuer+accounts.PathResetPassword+"?token="))
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("no token in the link %q (%v)", link, err)
	}
	return u.Query().Get("token")
}

// wantPassword checks which of the passwords signs alice in.
func (r *recovery) wantPassword(t *testing.T, works string, fails ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := r.a.Authenticate(ctx, "alice@example.com", works); err != nil {
		t.Errorf("the password %q does not work: %v", works, err)
	}
	for _, p := range fails {
		if _, err := r.a.Authenticate(ctx, "alice@example.com", p); !errors.Is(err, accounts.ErrInvalidCredentials) {
			t.Errorf("the password %q: %v, want ErrInvalidCredentials", p, err)
		}
	}
}

// A reset link lets alice choose a new password once; the reset ends her
// sessions and tells her by mail; an unknown address gets no mail and the
// same answer.
func TestResetPassword(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			r := newRecovery(t, b)
			ctx := context.Background()
			if _, _, err := r.store.CreateLoginSession(ctx, r.alice.ID, "", time.Hour, "another browser", "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
			if err := r.a.RequestReset(ctx, "nobody@example.com"); err != nil {
				t.Fatalf("an unknown address: %v, want the answer of a known one (nil)", err)
			}
			token := r.requestReset(t)
			r.mail.None(t, "nobody@example.com", 100*time.Millisecond)

			// Looking at the link does not use it up.
			for range 2 {
				if u, err := r.a.ResetFor(ctx, token); err != nil || u.ID != r.alice.ID {
					t.Fatalf("ResetFor: %v, %v; want alice", u, err)
				}
			}
			// The policy of sign-up, and a refused password leaves the link usable.
			for _, bad := range []string{"short", "Password123", "alice@example.com"} {
				var fe fields.Error
				if _, err := r.a.ResetPassword(ctx, token, bad); !errors.As(err, &fe) || fe.Field != "password" {
					t.Errorf("ResetPassword(%q): %v, want the password's problem", bad, err)
				}
			}
			u, err := r.a.ResetPassword(ctx, token, newPassword)
			if err != nil || u.ID != r.alice.ID {
				t.Fatalf("ResetPassword: %v, %v", u, err)
			}
			r.wantPassword(t, newPassword, oldPassword)
			if sessions, err := r.store.UserLoginSessions(ctx, r.alice.ID); err != nil || len(sessions) != 0 {
				t.Errorf("alice's sessions after the reset: %d, %v; want none", len(sessions), err)
			}
			told := r.mail.Next(t, "alice@example.com")
			if told.Subject != "Your Ajrly password was changed" || !strings.Contains(told.Text, issuer+"/password/forgot") {
				t.Errorf("the mail after the reset: %q\n%s", told.Subject, told.Text)
			}
			if strings.Contains(told.Text, newPassword) || strings.Contains(told.Text, token) {
				t.Error("the mail telling of the change holds the password or the link")
			}
			// Once only.
			if _, err := r.a.ResetPassword(ctx, token, "yet another passphrase"); !errors.Is(err, storage.ErrTokenUsed) {
				t.Errorf("the link again: %v, want ErrTokenUsed", err)
			}
			if _, err := r.a.ResetFor(ctx, token); !errors.Is(err, storage.ErrTokenUsed) {
				t.Errorf("ResetFor of a used link: %v, want ErrTokenUsed", err)
			}
			r.wantPassword(t, newPassword, "yet another passphrase")
		})
	}
}

// Every way a link stops working, each refusing without changing anything.
func TestResetLinkStopsWorking(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			tests := []struct {
				name string
				// spoil does what ends the link, and returns the token to try.
				spoil func(t *testing.T, r *recovery, token string) string
				want  error
			}{
				{"an hour later", func(t *testing.T, r *recovery, token string) string {
					r.clock.Advance(accounts.ResetLinkTTL - time.Second)
					if _, err := r.a.ResetFor(ctx, token); err != nil {
						t.Errorf("a second before the hour is up: %v", err)
					}
					r.clock.Advance(time.Second)
					return token
				}, storage.ErrTokenExpired},
				{"a newer link", func(t *testing.T, r *recovery, token string) string {
					newer := r.requestReset(t)
					if _, err := r.a.ResetFor(ctx, newer); err != nil {
						t.Errorf("the newer link: %v", err)
					}
					return token
				}, storage.ErrNotFound},
				{"a password change", func(t *testing.T, r *recovery, token string) string {
					if _, err := r.a.SetPassword(ctx, "alice@example.com", "changed meanwhile!"); err != nil {
						t.Fatal(err)
					}
					r.mail.Next(t, "alice@example.com") // the change is told
					return token
				}, storage.ErrNotFound},
				{"a changed address", func(t *testing.T, r *recovery, token string) string {
					if err := r.store.SetUserEmail(ctx, r.alice.ID, "alice@new.example.com"); err != nil {
						t.Fatal(err)
					}
					return token
				}, storage.ErrNotFound}, // SetUserEmail ends the links; ResetFor checks the address too
				{"a tampered token", func(t *testing.T, r *recovery, token string) string {
					return token[:len(token)-1] + map[bool]string{true: "A", false: "B"}[!strings.HasSuffix(token, "A")]
				}, storage.ErrNotFound},
				{"a verification token", func(t *testing.T, r *recovery, _ string) string {
					link, err := r.a.NewLink(ctx, storage.PurposeVerifyEmail, r.alice, r.alice.Email)
					if err != nil {
						t.Fatal(err)
					}
					return tokenOf(t, link)
				}, storage.ErrNotFound},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					r := newRecovery(t, b)
					bad := tc.spoil(t, r, r.requestReset(t))
					before, err := r.store.UserByID(ctx, r.alice.ID)
					if err != nil {
						t.Fatal(err)
					}
					if _, err := r.a.ResetFor(ctx, bad); !errors.Is(err, tc.want) {
						t.Errorf("ResetFor: %v, want %v", err, tc.want)
					}
					if _, err := r.a.ResetPassword(ctx, bad, newPassword); !errors.Is(err, tc.want) {
						t.Errorf("ResetPassword: %v, want %v", err, tc.want)
					}
					after, err := r.store.UserByID(ctx, r.alice.ID)
					if err != nil || after.PasswordHash != before.PasswordHash {
						t.Errorf("a refused link changed the password (%v)", err)
					}
					r.mail.None(t, after.Email, 50*time.Millisecond)
				})
			}
		})
	}
}

// Of many resets with one link at once, exactly one goes through, and its
// password is the one that works.
func TestResetLinkIsUsedOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			r := newRecovery(t, b)
			token := r.requestReset(t)
			const n = 6
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				won  []string
				errs []error
			)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					password := "racing passphrase " + string(rune('a'+i))
					_, err := r.a.ResetPassword(context.Background(), token, password)
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						won = append(won, password)
					} else if !errors.Is(err, storage.ErrTokenUsed) && !errors.Is(err, accounts.ErrBusy) {
						errs = append(errs, err)
					}
				}()
			}
			wg.Wait()
			if len(won) != 1 || len(errs) > 0 {
				t.Fatalf("%d resets went through (%v), other errors %v; want exactly one", len(won), won, errs)
			}
			r.wantPassword(t, won[0], oldPassword)
		})
	}
}

// Without mail nobody can ask for a link, but an operator can still make
// one (users reset-link), and set a password (users set-password), which
// ends sessions like a reset.
func TestResetWithoutMail(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := storagetest.NewSQLite(t)
	a := accounts.New(store, accounts.Config{Issuer: issuer + "/"})
	made, err := a.Create(ctx, accounts.Person{Email: "bob@example.com", Password: oldPassword}, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.RequestReset(ctx, "bob@example.com"); !errors.Is(err, accounts.ErrMailDisabled) {
		t.Errorf("RequestReset without mail: %v, want ErrMailDisabled", err)
	}
	if err := a.RequestReset(ctx, "nobody@example.com"); !errors.Is(err, accounts.ErrMailDisabled) {
		t.Errorf("RequestReset of an unknown address without mail: %v, want ErrMailDisabled", err)
	}
	if _, err := a.ResetLink(ctx, "nobody@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("ResetLink of an unknown address: %v, want ErrNotFound", err)
	}
	link, err := a.ResetLink(ctx, "BOB@example.com")
	if err != nil || !strings.HasPrefix(link, issuer+"/password/reset?token=") {
		t.Fatalf("ResetLink: %q, %v", link, err)
	}
	if _, _, err := store.CreateLoginSession(ctx, made.User.ID, "", time.Hour, "test", "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	var fe fields.Error
	if _, err := a.SetPassword(ctx, "bob@example.com", "qwertyuiop"); !errors.As(err, &fe) || fe.Code != accounts.CodeCommon {
		t.Errorf("SetPassword with a common password: %v, want %s", err, accounts.CodeCommon)
	}
	if _, err := a.SetPassword(ctx, "nobody@example.com", newPassword); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("SetPassword of an unknown address: %v, want ErrNotFound", err)
	}
	if _, err := a.SetPassword(ctx, "bob@example.com", newPassword); err != nil {
		t.Fatalf("SetPassword: %v", err)
	}
	if sessions, err := store.UserLoginSessions(ctx, made.User.ID); err != nil || len(sessions) != 0 {
		t.Errorf("sessions after set-password: %d, %v; want none", len(sessions), err)
	}
	if _, err := a.ResetFor(ctx, tokenOf(t, link)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("the link made before set-password: %v, want ErrNotFound", err)
	}
	if _, err := a.Authenticate(ctx, "bob@example.com", newPassword); err != nil {
		t.Errorf("the password set: %v", err)
	}
}
