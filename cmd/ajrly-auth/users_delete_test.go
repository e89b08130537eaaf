package main

import (
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// users list says whether each address is verified.
func TestUsersListShowsTheVerifiedState(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		wantCode(t, db.run(t, "users", "create", "--email", "verified@example.com", "--password", "a long enough password"), 0)
		wantCode(t, db.run(t, "users", "create", "--email", "unverified@example.com", "--password", "a long enough password"), 0)
		db.withStore(t, func(s *storage.Store) {
			u, err := s.UserByEmail(t.Context(), "verified@example.com")
			if err == nil {
				err = s.MarkEmailVerified(t.Context(), u.ID, u.Email)
			}
			if err != nil {
				t.Fatal(err)
			}
		})
		r := db.run(t, "users", "list")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "VERIFIED")
		for email, want := range map[string]string{"verified@example.com": "yes", "unverified@example.com": "no"} {
			if !regexp.MustCompile(`(?m)^usr_\S+\s+` + regexp.QuoteMeta(email) + `\s+` + want + `\s`).MatchString(r.stdout) {
				t.Errorf("users list does not show %s as verified %q:\n%s", email, want, r.stdout)
			}
		}
	})
}

// users delete removes a person and what is theirs, but never the only
// owner of an organization others depend on: then it names the
// organizations, exits 1 and deletes nothing.
func TestUsersDelete(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		const password = "a long enough password"
		wantCode(t, db.run(t, "users", "create", "--email", "owner@example.com", "--password", password, "--org", "Acme"), 0)
		wantCode(t, db.run(t, "users", "create", "--email", "member@example.com", "--password", password, "--org", "Acme"), 0)
		wantCode(t, db.run(t, "users", "create", "--email", "loner@example.com", "--password", password), 0)
		r := db.run(t, "keys", "create", "--user", "member@example.com", "--org", "Acme", "--name", "CI", "--scope", "read", "--json")
		wantCode(t, r, 0)
		var key struct{ ID string }
		if err := json.Unmarshal([]byte(r.stdout), &key); err != nil || key.ID == "" {
			t.Fatalf("keys create --json: %v\n%s", err, r.stdout)
		}
		// Each has a session.
		sessions, ids := map[string]string{}, map[string]string{}
		db.withStore(t, func(s *storage.Store) {
			for _, email := range []string{"owner@example.com", "member@example.com", "loner@example.com"} {
				u, err := s.UserByEmail(t.Context(), email)
				if err != nil {
					t.Fatal(err)
				}
				token, _, err := s.CreateLoginSession(t.Context(), u.ID, "", time.Hour, "test", "127.0.0.1")
				if err != nil {
					t.Fatal(err)
				}
				sessions[email], ids[email] = token, u.ID
			}
		})

		t.Run("the only owner of an organization with members is refused", func(t *testing.T) {
			r := db.run(t, "users", "delete", "owner@example.com")
			wantCode(t, r, 1)
			wantContains(t, "stderr", r.stderr, "nothing was deleted", "owner@example.com is the only owner of", `"Acme"`, "make another member an owner")
			db.withStore(t, func(s *storage.Store) {
				if _, err := s.UserByEmail(t.Context(), "owner@example.com"); err != nil {
					t.Errorf("the refused deletion removed the person: %v", err)
				}
				if _, err := s.LoginSessionByToken(t.Context(), sessions["owner@example.com"]); err != nil {
					t.Errorf("the refused deletion removed the session: %v", err)
				}
			})
		})

		t.Run("a member goes with their session, API key and membership", func(t *testing.T) {
			r := db.run(t, "users", "delete", "MEMBER@example.com")
			wantCode(t, r, 0)
			wantContains(t, "stdout", r.stdout, "Deleted user usr_", "member@example.com")
			db.withStore(t, func(s *storage.Store) {
				if _, err := s.UserByEmail(t.Context(), "member@example.com"); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("the member is still there: %v", err)
				}
				if _, err := s.LoginSessionByToken(t.Context(), sessions["member@example.com"]); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("the member's session still works: %v", err)
				}
				if _, err := s.APIKeyByID(t.Context(), key.ID); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("the member's API key is still there: %v", err)
				}
				acme, err := s.OrganizationByName(t.Context(), "Acme")
				if err != nil {
					t.Fatalf("Acme went with its member: %v", err)
				}
				if m, err := s.MembershipOf(t.Context(), acme.ID, ids["member@example.com"]); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("the member's membership of Acme is still there: %+v, %v", m, err)
				}
				orgs, err := s.ListOrganizations(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				for _, o := range orgs {
					if o.ID == acme.ID && o.Members != 1 {
						t.Errorf("Acme has %d members after the member's deletion, want its owner alone", o.Members)
					}
				}
			})
		})

		t.Run("now alone in the organization, the owner goes, and it with them", func(t *testing.T) {
			r := db.run(t, "users", "delete", "owner@example.com")
			wantCode(t, r, 0)
			wantContains(t, "stdout", r.stdout, "Their organization Acme (org_", "is gone too")
			db.withStore(t, func(s *storage.Store) {
				if _, err := s.OrganizationByName(t.Context(), "Acme"); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("Acme outlived its last person: %v", err)
				}
			})
		})

		t.Run("an unknown address is refused", func(t *testing.T) {
			r := db.run(t, "users", "delete", "nobody@example.com")
			wantCode(t, r, 1)
			wantContains(t, "stderr", r.stderr, "no user has the email nobody@example.com")
		})

		db.withStore(t, func(s *storage.Store) {
			if _, err := s.LoginSessionByToken(t.Context(), sessions["loner@example.com"]); err != nil {
				t.Errorf("someone else's session went: %v", err)
			}
		})
		r = db.run(t, "users", "list")
		if strings.Contains(r.stdout, "owner@example.com") || strings.Contains(r.stdout, "member@example.com") || !strings.Contains(r.stdout, "loner@example.com") {
			t.Errorf("users list after the deletions:\n%s", r.stdout)
		}
	})
}
