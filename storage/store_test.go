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
