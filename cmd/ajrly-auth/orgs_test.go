package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// The orgs commands build a team from the command line through the rules
// of the team pages, refuse what those refuse with exit 1 (a wrong
// command line with exit 2), revoke at once what a removed member held
// there, and record every change as the operator's.
func TestOrgsCommandsManageTeams(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		for _, args := range [][]string{
			{"users", "create", "--email", "alice@example.com", "--password", "alice-password-1", "--name", "Alice", "--org", "Acme"},
			{"users", "create", "--email", "bob@example.com", "--password", "bob-password-12", "--name", "Bob"},
			{"users", "create", "--email", "carol@example.com", "--password", "carol-password-1", "--name", "Carol"},
		} {
			wantCode(t, db.run(t, args...), 0)
		}
		steps := []struct {
			name string
			args []string
			code int
			want []string // in stdout for 0, in stderr otherwise
		}{
			{"create an organization", []string{"orgs", "create", "Globex", "--owner", "Alice@Example.com"}, 0, []string{"Created organization Globex (org_", "owned by alice@example.com"}},
			{"a taken name", []string{"orgs", "create", " globex ", "--owner", "bob@example.com"}, 1, []string{`an organization is already named "globex"`}},
			{"an owner without an account", []string{"orgs", "create", "Initech", "--owner", "nobody@example.com"}, 1, []string{"no user has the email nobody@example.com"}},
			{"no owner", []string{"orgs", "create", "Initech"}, 2, []string{"orgs create: --owner is required"}},
			{"an empty name", []string{"orgs", "create", "  ", "--owner", "bob@example.com"}, 2, []string{"the organization name is empty"}},
			{"no name", []string{"orgs", "create", "--owner", "bob@example.com"}, 2, []string{"usage: ajrly-auth orgs create NAME --owner EMAIL"}},
			{"add a member", []string{"orgs", "add-member", "globex", "bob@example.com"}, 0, []string{"Added bob@example.com to Globex (org_", "as member"}},
			{"add them again", []string{"orgs", "add-member", "Globex", "bob@example.com"}, 1, []string{"bob@example.com is already a member of Globex"}},
			{"add an admin", []string{"orgs", "add-member", "Globex", "carol@example.com", "--role", "admin"}, 0, []string{"as admin"}},
			{"an unknown role", []string{"orgs", "add-member", "Globex", "carol@example.com", "--role", "boss"}, 2, []string{`the role must be owner, admin or member, not "boss"`}},
			{"an unknown organization", []string{"orgs", "add-member", "Hooli", "carol@example.com"}, 1, []string{`no organization is named or has the id "Hooli"`}},
			{"raise a role", []string{"orgs", "set-role", "Globex", "bob@example.com", "admin"}, 0, []string{"bob@example.com is an admin of Globex"}},
			{"demote the last owner", []string{"orgs", "set-role", "Globex", "alice@example.com", "member"}, 1, []string{"alice@example.com is the last owner of Globex", "make someone else an owner first"}},
			{"set an unknown role", []string{"orgs", "set-role", "Globex", "bob@example.com", "boss"}, 2, []string{"owner, admin or member"}},
			{"set-role without the role", []string{"orgs", "set-role", "Globex", "bob@example.com"}, 2, []string{"usage: ajrly-auth orgs set-role ORG EMAIL owner|admin|member"}},
			{"the role of a non-member", []string{"orgs", "set-role", "Acme", "bob@example.com", "admin"}, 1, []string{"bob@example.com is not a member of Acme"}},
			{"remove the last owner", []string{"orgs", "remove-member", "Globex", "alice@example.com"}, 1, []string{"alice@example.com is the last owner of Globex"}},
			{"remove-member without the email", []string{"orgs", "remove-member", "Globex"}, 2, []string{"usage: ajrly-auth orgs remove-member ORG EMAIL"}},
			{"members of nowhere", []string{"orgs", "members", "Hooli"}, 1, []string{`no organization is named or has the id "Hooli"`}},
		}
		for _, s := range steps {
			r := db.run(t, s.args...)
			if r.code != s.code {
				t.Fatalf("%s: want exit %d, got %s", s.name, s.code, r)
			}
			out := r.stdout
			if s.code != 0 {
				out = r.stderr
			}
			wantContains(t, s.name, out, s.want...)
		}

		r := db.run(t, "orgs", "members", "Globex")
		wantCode(t, r, 0)
		rows := regexp.MustCompile(`(?m)^usr_\w+\s+(\S+)\s+\S+\s+(\w+)\s+\S+$`).FindAllStringSubmatch(r.stdout, -1)
		var got []string
		for _, row := range rows {
			got = append(got, row[1]+" "+row[2])
		}
		if want := "alice@example.com owner|bob@example.com admin|carol@example.com admin"; strings.Join(got, "|") != want {
			t.Errorf("orgs members Globex lists %q, want %q:\n%s", strings.Join(got, "|"), want, r.stdout)
		}
		wantContains(t, "orgs members", r.stdout, "USER ID", "EMAIL", "NAME", "ROLE", "JOINED")

		// Bob's key in Globex stops at once when he is removed; he keeps his
		// own organization.
		wantCode(t, db.run(t, "keys", "create", "--user", "bob@example.com", "--org", "Globex", "--name", "CI", "--scope", "read"), 0)
		var globexID string
		db.withStore(t, func(s *storage.Store) {
			org, err := s.OrganizationByName(t.Context(), "Globex")
			if err != nil {
				t.Fatal(err)
			}
			globexID = org.ID
		})
		r = db.run(t, "orgs", "remove-member", globexID, "bob@example.com")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "Removed bob@example.com from Globex", "API keys they created there", "are revoked")
		if strings.Contains(r.stdout, "personal") {
			t.Errorf("Bob, who has his own organization, was given a personal one:\n%s", r.stdout)
		}
		r = db.run(t, "orgs", "remove-member", "Globex", "bob@example.com")
		wantCode(t, r, 1)
		wantContains(t, "stderr", r.stderr, "bob@example.com is not a member of Globex")

		// Dave, in Globex alone, gets a personal organization when removed.
		wantCode(t, db.run(t, "users", "create", "--email", "dave@example.com", "--password", "dave-password-12", "--org", "Globex"), 0)
		r = db.run(t, "orgs", "remove-member", "Globex", "dave@example.com")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "They belonged to no other organization and now own their personal one, dave's organization (org_")

		db.withStore(t, func(s *storage.Store) {
			bob, err := s.UserByEmail(t.Context(), "bob@example.com")
			if err != nil {
				t.Fatal(err)
			}
			keys, err := s.ListAPIKeys(t.Context(), globexID, bob.ID)
			if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
				t.Errorf("Bob's keys in Globex after his removal: %+v, %v; want the one, revoked", keys, err)
			}
			if orgs, _ := s.UserOrganizations(t.Context(), bob.ID); len(orgs) != 1 || orgs[0].Name != "Bob's organization" {
				t.Errorf("Bob's organizations: %+v, want his own alone", orgs)
			}
			events, err := s.ListAuditEvents(t.Context(), storage.AuditQuery{OrgID: globexID, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for i := len(events) - 1; i >= 0; i-- {
				ev := events[i]
				if ev.Actor != "operator" || ev.ActorID != "" {
					t.Errorf("event %s is recorded as %q (%q), want the operator", ev.Kind, ev.Actor, ev.ActorID)
				}
				target := ev.Target
				if ev.Kind == audit.KeyCreated {
					target, _, _ = strings.Cut(target, " (") // the key's hint is random
				}
				got = append(got, ev.Kind+" "+target)
			}
			want := []string{
				audit.OrgCreated + " Globex",
				audit.MemberJoined + " bob@example.com",
				audit.MemberJoined + " carol@example.com",
				audit.RoleChanged + " bob@example.com",
				audit.KeyCreated + " CI",
				audit.MemberRemoved + " bob@example.com",
				audit.MemberRemoved + " dave@example.com",
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("Globex's audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	})
}
