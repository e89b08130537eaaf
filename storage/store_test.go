package storage_test

import (
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"

	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			storagetest.Run(t, storagetest.Open(b.Open))
		})
	}
}

// A database an older binary left behind, with data in it, migrates to the
// current schema and keeps its data.
func TestMigrationsUpgradeADatabaseWithData(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s, err := storage.Open(ctx, storagetest.Options(b.FreshDSN(t), nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if _, err := s.MigrateTo(ctx, 1); err != nil {
				t.Fatal(err)
			}
			// Version 1 data: a user, a client and a consent.
			err = s.DB().Exec(`INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES ('usr_1', 'a@example.com', 'A', 'x', ?, ?)`, time.Now().UTC(), time.Now().UTC()).Error
			storagetest.Must(t, err)
			err = s.DB().Exec(`INSERT INTO clients (id, name, token_endpoint_auth_method, created_at, updated_at) VALUES ('cl_1', 'App', 'none', ?, ?)`, time.Now().UTC(), time.Now().UTC()).Error
			storagetest.Must(t, err)
			err = s.DB().Exec(`INSERT INTO consents (id, user_id, client_id, scopes, remember, created_at, updated_at) VALUES ('cns_1', 'usr_1', 'cl_1', 'openid', TRUE, ?, ?)`, time.Now().UTC(), time.Now().UTC()).Error
			storagetest.Must(t, err)

			applied, err := s.Migrate(ctx)
			storagetest.Must(t, err)
			if len(applied) != storage.SchemaVersion()-1 || applied[0] != 2 {
				t.Fatalf("applied %v", applied)
			}
			consents, err := s.ConsentsFor(ctx, "usr_1", "cl_1")
			storagetest.Must(t, err)
			if len(consents) != 1 || consents[0].OrgID != "" || !consents[0].Remember {
				t.Fatalf("the consent after migrating: %+v", consents)
			}
			c, err := s.FindClient(ctx, "cl_1")
			storagetest.Must(t, err)
			if c.FirstParty || len(c.PostLogoutRedirectURIs) != 0 {
				t.Fatalf("the client after migrating: %+v", c)
			}
		})
	}
}

// Everyone belongs to an organization (DESIGN.md, "Tenancy and roles"):
// migration 5 gives the people an older binary created without one (the
// command line without --org) a personal organization they own, and
// leaves everyone else as they were.
func TestMigrationGivesEveryPersonWithoutAnOrganizationAPersonalOne(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s, err := storage.Open(ctx, storagetest.Options(b.FreshDSN(t), nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			if _, err := s.MigrateTo(ctx, 4); err != nil {
				t.Fatal(err)
			}
			now := time.Now().UTC()
			for _, u := range []struct{ id, email, name string }{
				{"usr_carol", "carol@example.com", "Carol"}, {"usr_dan", "dan@example.com", ""}, {"usr_erin", "erin@example.com", "Erin"},
				{"usr_carol2", "carol2@example.com", "Carol"},
			} {
				storagetest.Must(t, s.DB().Exec(`INSERT INTO users (id, email, name, password_hash, created_at, updated_at) VALUES (?, ?, ?, 'x', ?, ?)`,
					u.id, u.email, u.name, now, now).Error)
			}
			storagetest.Must(t, s.DB().Exec(`INSERT INTO organizations (id, name, name_key, created_at, updated_at) VALUES ('org_acme', 'Acme', 'acme', ?, ?)`, now, now).Error)
			storagetest.Must(t, s.DB().Exec(`INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ('org_acme', 'usr_erin', 'member', ?)`, now).Error)

			if _, err := s.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			want := map[string][]string{
				"usr_carol":  {"Carol's organization", storage.RoleOwner},
				"usr_dan":    {"dan's organization", storage.RoleOwner},
				"usr_carol2": {"Carol's organization (carol2@example.com)", storage.RoleOwner},
				"usr_erin":   {"Acme", storage.RoleMember},
			}
			for id, w := range want {
				orgs, err := s.UserOrganizations(ctx, id)
				storagetest.Must(t, err)
				if len(orgs) != 1 || orgs[0].Name != w[0] || orgs[0].Role != w[1] {
					t.Errorf("%s after migrating belongs to %+v; want only %q as %s", id, orgs, w[0], w[1])
				}
			}
		})
	}
}
