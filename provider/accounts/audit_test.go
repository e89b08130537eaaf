package accounts_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// TestAccountChangesAreRecorded: a reset by the mailed link, a change on
// the security page and one by the operator each record one
// password.changed event, and following an email-change link one
// email.changed — each by whoever acted, in the person's organization,
// from the request's address (none for the operator), never with a
// password or a link's token. Verifying an address records nothing.
func TestAccountChangesAreRecorded(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			r := newRecovery(t, b)
			orgs, err := r.store.UserOrganizations(context.Background(), r.alice.ID)
			if err != nil || len(orgs) != 1 {
				t.Fatalf("alice's organizations: %v, %v", orgs, err)
			}
			ctx := audit.WithOrigin(context.Background(), "198.51.100.9", "Browser/1.0")
			var secrets []string

			token := r.requestReset(t)
			secrets = append(secrets, token)
			if _, err := r.a.ResetPassword(ctx, token, newPassword); err != nil {
				t.Fatal(err)
			}
			r.mail.Next(t, "alice@example.com") // the notice of the change
			const changed, operators = "a third passphrase here", "the operator's passphrase"
			alice, err := r.store.UserByID(ctx, r.alice.ID) // as the next request reads her
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.a.ChangePassword(ctx, alice, accounts.PasswordChange{Current: newPassword, New: changed, Confirm: changed}); err != nil {
				t.Fatal(err)
			}
			r.mail.Next(t, "alice@example.com")
			if _, err := r.a.SetPassword(context.Background(), "alice@example.com", operators); err != nil {
				t.Fatal(err)
			}
			r.mail.Next(t, "alice@example.com")
			secrets = append(secrets, oldPassword, newPassword, changed, operators)

			if alice, err = r.store.UserByID(ctx, r.alice.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := r.a.RequestEmailChange(ctx, alice, "alice@new.example.com", operators); err != nil {
				t.Fatal(err)
			}
			u, err := url.Parse(r.mail.Next(t, "alice@new.example.com").Link(t, accounts.PathVerifyEmail))
			if err != nil {
				t.Fatal(err)
			}
			secrets = append(secrets, u.Query().Get("token"))
			if _, err := r.a.ConfirmEmail(ctx, u.Query().Get("token")); err != nil {
				t.Fatal(err)
			}

			events := storagetest.AuditEvents(t, r.store)
			type row struct{ Kind, ActorID, Actor, IP, Detail string }
			var got []row
			for _, e := range events {
				got = append(got, row{e.Kind, e.ActorID, e.Actor, e.IP, e.Detail})
				if e.OrgID != orgs[0].ID || e.TargetID != r.alice.ID {
					t.Errorf("the %s event is in %q about %q, want alice's organization and alice", e.Kind, e.OrgID, e.TargetID)
				}
			}
			want := []row{
				{audit.PasswordChanged, r.alice.ID, "alice@example.com", "198.51.100.9", "reset by a link sent by mail"},
				{audit.PasswordChanged, r.alice.ID, "alice@example.com", "198.51.100.9", "changed on the security page"},
				{audit.PasswordChanged, "", "operator", "", "set by the operator"},
				{audit.EmailChanged, r.alice.ID, "alice@new.example.com", "198.51.100.9", "from alice@example.com to alice@new.example.com"},
			}
			if !slices.Equal(got, want) {
				t.Errorf("events:\n got %+v\nwant %+v", got, want)
			}
			storagetest.CheckNoSecret(t, events, secrets...)
		})
	}
}
