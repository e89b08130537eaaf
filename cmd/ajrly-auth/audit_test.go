package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// seedAudit stores, in the organization Acme, events of several kinds,
// actors and ages, and returns Acme's id.
func seedAudit(t *testing.T, db database) string {
	t.Helper()
	wantCode(t, db.run(t, "users", "create", "--email", "owner@example.com", "--password", "owner-password-1", "--org", "Acme"), 0)
	wantCode(t, db.run(t, "users", "create", "--email", "other@example.com", "--password", "other-password-1", "--org", "Globex"), 0)
	var acme string
	db.withStore(t, func(s *storage.Store) {
		org, err := s.OrganizationByName(t.Context(), "Acme")
		if err != nil {
			t.Fatal(err)
		}
		globex, err := s.OrganizationByName(t.Context(), "Globex")
		if err != nil {
			t.Fatal(err)
		}
		acme = org.ID
		now := time.Now()
		for _, e := range []storage.AuditEvent{
			{Kind: "signin.succeeded", OrgID: acme, ActorID: "usr_1", Actor: "owner@example.com", Target: "owner@example.com", IP: "192.0.2.7", UserAgent: "Firefox", CreatedAt: now.Add(-72 * time.Hour)},
			{Kind: "api_key.created", OrgID: acme, ActorID: "usr_1", Actor: "owner@example.com", TargetID: "key_1", Target: "CI (sk_live_AbCd…)", Detail: "read", IP: "192.0.2.7", CreatedAt: now.Add(-time.Hour)},
			{Kind: "signin.failed", OrgID: "", Actor: "nobody@example.com", Detail: "unknown address", IP: "198.51.100.2", CreatedAt: now.Add(-30 * time.Minute)},
			{Kind: "app.registered", OrgID: globex.ID, Actor: "other@example.com", Target: "Globex app", CreatedAt: now.Add(-10 * time.Minute)},
		} {
			if err := s.AppendAuditEvent(t.Context(), &e); err != nil {
				t.Fatal(err)
			}
		}
	})
	return acme
}

func TestAuditList(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		acme := seedAudit(t, db)

		r := db.run(t, "audit", "list")
		wantCode(t, r, 0)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if len(lines) != 5 || !strings.HasPrefix(lines[0], "TIME") {
			t.Fatalf("audit list printed %d lines, want a heading and 4 events:\n%s", len(lines), r.stdout)
		}
		wantContains(t, "the heading", lines[0], "KIND", "ORGANIZATION", "ACTOR", "TARGET", "DETAIL", "IP")
		for i, want := range []string{"app.registered", "signin.failed", "api_key.created", "signin.succeeded"} {
			if !strings.Contains(lines[i+1], want) {
				t.Errorf("line %d = %q, want %s (newest first)", i+1, lines[i+1], want)
			}
		}
		wantContains(t, "the key's line", lines[3], "Acme", "owner@example.com", "CI (sk_live_AbCd…)", "192.0.2.7")
		wantContains(t, "the failure's line", lines[2], "nobody@example.com", "unknown address")

		for _, tc := range []struct {
			name  string
			args  []string
			kinds []string
		}{
			{"by organization name", []string{"--org", "acme"}, []string{"api_key.created", "signin.succeeded"}},
			{"by organization id", []string{"--org", acme}, []string{"api_key.created", "signin.succeeded"}},
			{"since a duration", []string{"--since", "24h"}, []string{"app.registered", "signin.failed", "api_key.created"}},
			{"since a date", []string{"--since", time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)}, []string{"app.registered", "signin.failed", "api_key.created"}},
			{"by kind", []string{"--kind", "signin.failed,signin.succeeded"}, []string{"signin.failed", "signin.succeeded"}},
			{"every filter", []string{"--org", "Acme", "--since", "2h", "--kind", "api_key.created"}, []string{"api_key.created"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := db.run(t, append([]string{"audit", "list", "--json"}, tc.args...)...)
				wantCode(t, r, 0)
				var kinds []string
				for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
					var row map[string]any
					if err := json.Unmarshal([]byte(line), &row); err != nil {
						t.Fatalf("line %q is not one JSON object: %v", line, err)
					}
					if _, err := time.Parse(time.RFC3339, row["time"].(string)); err != nil {
						t.Errorf("time %v: %v", row["time"], err)
					}
					kinds = append(kinds, row["kind"].(string))
				}
				if !slices.Equal(kinds, tc.kinds) {
					t.Errorf("kinds = %v, want %v", kinds, tc.kinds)
				}
			})
		}

		r = db.run(t, "audit", "list", "--json", "--kind", "api_key.created")
		wantCode(t, r, 0)
		var row map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &row); err != nil {
			t.Fatal(err)
		}
		for k, want := range map[string]string{"org": "Acme", "org_id": acme, "actor": "owner@example.com", "actor_id": "usr_1",
			"target_id": "key_1", "detail": "read", "ip": "192.0.2.7"} {
			if row[k] != want {
				t.Errorf("%s = %v, want %q", k, row[k], want)
			}
		}

		for _, tc := range []struct {
			name string
			args []string
			code int
			want string
		}{
			{"an unknown organization", []string{"--org", "Initech"}, 1, `no organization is named or has the id "Initech"`},
			{"a since that is no duration", []string{"--since", "yesterday"}, 2, "--since takes a duration like 24h"},
			{"a negative since", []string{"--since", "-5h"}, 2, "--since must be a positive duration"},
			{"an unknown kind", []string{"--kind", "signin.maybe"}, 2, `unknown --kind "signin.maybe"`},
			{"an argument", []string{"Acme"}, 2, "takes no arguments"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := db.run(t, append([]string{"audit", "list"}, tc.args...)...)
				wantCode(t, r, tc.code)
				wantContains(t, "stderr", r.stderr, tc.want)
			})
		}
	})
}

func TestJanitorEnforcesAuditRetention(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		db.withStore(t, func(s *storage.Store) {
			now := time.Now()
			for _, age := range []time.Duration{500 * 24 * time.Hour, 401 * 24 * time.Hour, 399 * 24 * time.Hour, time.Hour} {
				if err := s.AppendAuditEvent(t.Context(), &storage.AuditEvent{Kind: "signin.succeeded", OrgID: "org_x", Detail: age.String(), CreatedAt: now.Add(-age)}); err != nil {
					t.Fatal(err)
				}
			}
		})
		remaining := func() []string {
			var out []string
			db.withStore(t, func(s *storage.Store) {
				events, err := s.ListAuditEvents(t.Context(), storage.AuditQuery{AllOrgs: true})
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range events {
					out = append(out, e.Detail)
				}
			})
			return out
		}

		r := db.run(t, "janitor")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "2 audit events older than 9600h")
		if got, want := remaining(), []string{"1h0m0s", "9576h0m0s"}; !slices.Equal(got, want) {
			t.Fatalf("after the janitor with the default retention: %v, want %v", got, want)
		}
		r = db.run(t, "janitor", "--audit-retention", "48h")
		wantCode(t, r, 0)
		wantContains(t, "stdout", r.stdout, "1 audit events older than 48h")
		if got, want := remaining(), []string{"1h0m0s"}; !slices.Equal(got, want) {
			t.Fatalf("after the janitor with 48h: %v, want %v", got, want)
		}
	})
}

// TestOperatorActionsAreRecorded: what the operator does with the command
// line — a person's password, API keys, apps, signing keys — is recorded
// once each, by "operator", in the organization it concerns, and no key,
// secret or password is in the log; audit list shows it.
func TestOperatorActionsAreRecorded(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, db database) {
		db.migrate(t)
		const password, newPassword = "owner-password-1", "owner-password-set-by-the-operator"
		wantCode(t, db.run(t, "users", "create", "--email", "owner@example.com", "--password", password, "--org", "Acme"), 0)
		var acme string
		db.withStore(t, func(s *storage.Store) {
			org, err := s.OrganizationByName(t.Context(), "Acme")
			if err != nil {
				t.Fatal(err)
			}
			acme = org.ID
		})
		secrets := []string{password, newPassword}
		wantCode(t, runCLI(t, db.env, newPassword+"\n", "users", "set-password", "owner@example.com"), 0)

		r := db.run(t, "keys", "create", "--user", "owner@example.com", "--name", "CI", "--scope", "read", "--json")
		wantCode(t, r, 0)
		var key map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &key); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, key["key"].(string))
		wantCode(t, db.run(t, "keys", "revoke", key["id"].(string)), 0)

		r = db.run(t, "clients", "create", "--name", "Ops app", "--redirect-uri", "https://ops.example.com/cb", "--json")
		wantCode(t, r, 0)
		var client map[string]any
		if err := json.Unmarshal([]byte(r.stdout), &client); err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, client["client_secret"].(string))
		id := client["client_id"].(string)
		wantCode(t, db.run(t, "clients", "update", id, "--first-party=true"), 0)
		wantCode(t, db.run(t, "clients", "delete", id), 0)
		wantCode(t, db.run(t, "keys", "rotate", "--alg", "ES256"), 0)

		r = db.run(t, "audit", "list", "--json")
		wantCode(t, r, 0)
		var kinds, orgs []string
		for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
			var row auditRow
			if err := json.Unmarshal([]byte(line), &row); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			kinds = append(kinds, row.Kind)
			orgs = append(orgs, row.OrgID)
			if row.Actor != "operator" || row.ActorID != "" || row.IP != "" {
				t.Errorf("the %s event's actor is %q (%q) from %q, want the operator", row.Kind, row.Actor, row.ActorID, row.IP)
			}
		}
		slices.Reverse(kinds)
		slices.Reverse(orgs)
		wantKinds := []string{"password.changed", "api_key.created", "api_key.revoked", "app.registered", "app.changed", "app.deleted", "signing_key.rotated"}
		if !slices.Equal(kinds, wantKinds) {
			t.Errorf("kinds %v,\nwant %v", kinds, wantKinds)
		}
		// The operator's apps belong to no organization, and nor do the
		// server's signing keys.
		if wantOrgs := []string{acme, acme, acme, "", "", "", ""}; !slices.Equal(orgs, wantOrgs) {
			t.Errorf("organizations %v, want %v", orgs, wantOrgs)
		}
		db.withStore(t, func(s *storage.Store) {
			storagetest.CheckNoSecret(t, storagetest.AuditEvents(t, s), secrets...)
		})
	})
}
