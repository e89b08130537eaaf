package main

import (
	"maps"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
)

// users set-password reads the password from standard input (never a
// flag), applies the sign-up policy and does what a reset does: every
// session ended, the person told by mail when SMTP is configured.
func TestUsersSetPassword(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		const (
			oldPassword = "alice's first password"
			newPassword = "alice's operator-set password"
		)
		wantCode(t, db.run(t, "users", "create", "--email", "alice@example.com", "--password", oldPassword), 0)
		var aliceID string
		db.withStore(t, func(s *storage.Store) {
			u, err := s.UserByEmail(t.Context(), "alice@example.com")
			if err != nil {
				t.Fatal(err)
			}
			aliceID = u.ID
			if _, _, err := s.CreateLoginSession(t.Context(), u.ID, "", time.Hour, "a browser", "192.0.2.1"); err != nil {
				t.Fatal(err)
			}
		})
		var printed []string
		for _, tc := range []struct {
			name, stdin, email string
			code               int
			want               string
		}{
			{"a common password", "Password123\n", "alice@example.com", 2, "the password is one of the most common passwords"},
			{"a short one", "short\n", "alice@example.com", 2, "the password must be at least 10 characters"},
			{"no password", "", "alice@example.com", 2, "the password is required"},
			{"nobody has the address", newPassword + "\n", "nobody@example.com", 1, "no user has the email nobody@example.com"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := runCLI(t, db.env, tc.stdin, "users", "set-password", tc.email)
				printed = append(printed, r.all())
				wantCode(t, r, tc.code)
				wantContains(t, "stderr", r.stderr, tc.want)
			})
		}
		if r := db.run(t, "users", "set-password"); r.code != 2 {
			t.Errorf("no address: exit %d, want 2", r.code)
		}

		smtp := mailtest.Start(t)
		env := maps.Clone(db.env)
		env["AJRLY_SMTP_URL"], env["AJRLY_MAIL_FROM"] = smtp.URL(), "noreply@example.com"
		r := runCLI(t, env, newPassword+"\r\n", "users", "set-password", "ALICE@example.com")
		printed = append(printed, r.all())
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "Set the password of alice@example.com ("+aliceID+")", "signed out everywhere", "told by mail")
		if msg := smtp.Next(t, "alice@example.com"); msg.Subject != "Your Ajrly password was changed" {
			t.Errorf("the mail: %q", msg.Subject)
		}
		db.withStore(t, func(s *storage.Store) {
			a := accounts.New(s, accounts.Config{})
			if _, err := a.Authenticate(t.Context(), "alice@example.com", newPassword); err != nil {
				t.Errorf("the new password: %v", err)
			}
			if _, err := a.Authenticate(t.Context(), "alice@example.com", oldPassword); err == nil {
				t.Error("the old password still works")
			}
			if sessions, err := s.UserLoginSessions(t.Context(), aliceID); err != nil || len(sessions) != 0 {
				t.Errorf("alice's sessions: %d, %v; want none", len(sessions), err)
			}
		})
		for _, out := range printed {
			if strings.Contains(out, newPassword) || strings.Contains(out, "Password123") {
				t.Errorf("a command printed the password:\n%s", out)
			}
		}
	})
}

// users reset-link prints a working link of the configured issuer, without
// SMTP; a newer one ends it.
func TestUsersResetLink(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		wantCode(t, db.run(t, "users", "create", "--email", "bob@example.com", "--password", "bob's long password"), 0)
		env := maps.Clone(db.env)
		env["AJRLY_ISSUER"] = "https://auth.example.com"
		link := func() string {
			t.Helper()
			r := runCLI(t, env, "", "users", "reset-link", "Bob@Example.com")
			wantCode(t, r, 0)
			wantContains(t, "stderr", r.stderr, "A link for bob@example.com to choose a new password; it works once, for 60 minutes")
			l := strings.TrimSpace(r.stdout)
			if !strings.HasPrefix(l, "https://auth.example.com/password/reset?token=") || strings.Contains(l, "\n") {
				t.Fatalf("stdout is not one reset link of the issuer:\n%s", r.stdout)
			}
			return l
		}
		first, second := link(), link()
		tokenOf := func(l string) string {
			u, err := url.Parse(l)
			if err != nil {
				t.Fatal(err)
			}
			return u.Query().Get("token")
		}
		db.withStore(t, func(s *storage.Store) {
			a := accounts.New(s, accounts.Config{})
			if u, err := a.ResetFor(t.Context(), tokenOf(second)); err != nil || u.Email != "bob@example.com" {
				t.Errorf("the link printed: %v, %v; want it to work for bob", u, err)
			}
			if _, err := a.ResetFor(t.Context(), tokenOf(first)); err == nil {
				t.Error("the earlier link still works after a newer one")
			}
		})
		r := runCLI(t, env, "", "users", "reset-link", "nobody@example.com")
		wantCode(t, r, 1)
		wantContains(t, "stderr", r.stderr, "no user has the email nobody@example.com")
	})
}
