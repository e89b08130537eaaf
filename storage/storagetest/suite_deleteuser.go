package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/ajrly/ajrly-auth/storage"
)

// deleteUserCases are the cases of removing a person.
var deleteUserCases = []testCase{
	{"deleting a person removes their tokens, sessions, consents, keys, memberships and links, and no one else's", testDeleteUser},
	{"owned organizations are listed with the people and apps that depend on them", testOwnedOrganizations},
}

// requestFor is newRequest for the person userID.
func requestFor(t *testing.T, s *storage.Store, c fosite.Client, clock *Clock, userID string) *fosite.Request {
	t.Helper()
	r := newRequest(t, s, c, clock, time.Hour)
	sess := r.Session.(*openid.DefaultSession)
	sess.Subject, sess.Claims.Subject = userID, userID
	return r
}

func testDeleteUser(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	alice, err := s.CreateUser(ctx(t), "alice@example.com", "Alice", "$argon2id$x")
	Must(t, err)
	bob, err := s.CreateUser(ctx(t), "bob@example.com", "Bob", "$argon2id$x")
	Must(t, err)
	shared, err := s.CreateOrganization(ctx(t), "Shared", bob.ID)
	Must(t, err)
	Must(t, s.AddMember(ctx(t), shared.ID, alice.ID, storage.RoleMember))
	personal, err := s.CreateOrganization(ctx(t), "Alice's organization", alice.ID)
	Must(t, err)

	// What each of them has: tokens of every kind, a session, a consent,
	// an API key, a mail link, a flow.
	type theirs struct {
		signature string
		key       *storage.APIKey
		session   string
		link      string
	}
	give := func(u *storage.User, org *storage.Organization, n string) theirs {
		r := requestFor(t, s, c, clock, u.ID)
		sig := "sig-" + n
		Must(t, s.CreateAuthorizeCodeSession(ctx(t), sig, r))
		Must(t, s.CreateAccessTokenSession(ctx(t), sig, r))
		Must(t, s.CreateRefreshTokenSession(ctx(t), sig, sig, r))
		Must(t, s.CreatePKCERequestSession(ctx(t), sig, r))
		Must(t, s.CreateOpenIDConnectSession(ctx(t), sig, r))
		session, _, err := s.CreateLoginSession(ctx(t), u.ID, org.ID, time.Hour, "Firefox", "192.0.2.1")
		Must(t, err)
		_, err = s.SaveConsent(ctx(t), storage.Consent{UserID: u.ID, OrgID: org.ID, ClientID: c.ID, Scopes: "openid", Remember: true})
		Must(t, err)
		key := newAPIKey(t, s, clock, org.ID, u.ID, "CI "+n, "sk_live_"+n+"abcdefghijklmnop")
		link, _, err := s.CreateAccountToken(ctx(t), storage.PurposeVerifyEmail, u.ID, u.Email, time.Hour)
		Must(t, err)
		return theirs{signature: sig, key: key, session: session, link: link}
	}
	a, b := give(alice, shared, "alice"), give(bob, shared, "bobby")

	Must(t, s.DeleteUser(ctx(t), alice.ID, personal.ID))

	gone := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, storage.ErrNotFound) && !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("%s after the deletion: %v, want ErrNotFound", what, err)
		}
	}
	kept := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s of someone else after the deletion: %v, want it kept", what, err)
		}
	}
	check := func(x theirs, u *storage.User, want func(string, error)) {
		t.Helper()
		_, err := s.GetAuthorizeCodeSession(ctx(t), x.signature, newSession())
		want("code", err)
		_, err = s.GetAccessTokenSession(ctx(t), x.signature, newSession())
		want("access token", err)
		_, err = s.GetRefreshTokenSession(ctx(t), x.signature, newSession())
		want("refresh token", err)
		_, err = s.GetPKCERequestSession(ctx(t), x.signature, newSession())
		want("PKCE state", err)
		_, err = s.LoginSessionByToken(ctx(t), x.session)
		want("session", err)
		_, err = s.APIKeyByID(ctx(t), x.key.ID)
		want("API key", err)
		_, err = s.AccountTokenFor(ctx(t), x.link, storage.PurposeVerifyEmail)
		want("mail link", err)
		_, err = s.UserByID(ctx(t), u.ID)
		want("person", err)
	}
	check(a, alice, gone)
	check(b, bob, kept)
	if consents, _ := s.ConsentsFor(ctx(t), alice.ID, c.ID); len(consents) != 0 {
		t.Errorf("Alice's consents after the deletion: %+v", consents)
	}
	if consents, _ := s.ConsentsFor(ctx(t), bob.ID, c.ID); len(consents) != 1 {
		t.Errorf("Bob's consents after Alice's deletion: %+v, want his one", consents)
	}
	orgs, err := s.UserOrganizations(ctx(t), bob.ID)
	Must(t, err)
	if len(orgs) != 1 || orgs[0].ID != shared.ID {
		t.Errorf("Bob's organizations after Alice's deletion: %+v, want Shared", orgs)
	}
	if m, err := s.MembershipOf(ctx(t), shared.ID, alice.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Alice's membership of Shared after the deletion: %+v, %v", m, err)
	}
	_, err = s.OrganizationByID(ctx(t), personal.ID)
	gone("the organization named for deletion", err)
	kept("the shared organization", func() error { _, err := s.OrganizationByID(ctx(t), shared.ID); return err }())

	// Nobody to delete: ErrNotFound, and nothing else changes.
	if err := s.DeleteUser(ctx(t), alice.ID, shared.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleting a person twice: %v, want ErrNotFound", err)
	}
	kept("the organization named with an unknown person", func() error { _, err := s.OrganizationByID(ctx(t), shared.ID); return err }())
}

func testOwnedOrganizations(t *testing.T, s *storage.Store, _ *Clock) {
	alice, err := s.CreateUser(ctx(t), "alice@example.com", "Alice", "$argon2id$x")
	Must(t, err)
	bob, err := s.CreateUser(ctx(t), "bob@example.com", "Bob", "$argon2id$x")
	Must(t, err)
	_, err = s.CreateOrganization(ctx(t), "Alone", alice.ID)
	Must(t, err)
	withMember, err := s.CreateOrganization(ctx(t), "With a member", alice.ID)
	Must(t, err)
	Must(t, s.AddMember(ctx(t), withMember.ID, bob.ID, storage.RoleMember))
	coOwned, err := s.CreateOrganization(ctx(t), "Co-owned", alice.ID)
	Must(t, err)
	Must(t, s.AddMember(ctx(t), coOwned.ID, bob.ID, storage.RoleOwner))
	withApp, err := s.CreateOrganization(ctx(t), "With an app", alice.ID)
	Must(t, err)
	c := newClient(t, s)
	Must(t, s.DB().Exec("UPDATE clients SET org_id = ? WHERE id = ?", withApp.ID, c.ID).Error)
	bobs, err := s.CreateOrganization(ctx(t), "Bob's", bob.ID)
	Must(t, err)
	Must(t, s.AddMember(ctx(t), bobs.ID, alice.ID, storage.RoleMember))

	owned, err := s.OwnedOrganizations(ctx(t), alice.ID)
	Must(t, err)
	type row struct {
		name                     string
		owners, members, clients int
	}
	var got []row
	for _, o := range owned {
		got = append(got, row{o.Name, o.OtherOwners, o.OtherMembers, o.Clients})
	}
	want := []row{{"Alone", 0, 0, 0}, {"Co-owned", 1, 0, 0}, {"With a member", 0, 1, 0}, {"With an app", 0, 0, 1}}
	if len(got) != len(want) {
		t.Fatalf("OwnedOrganizations = %+v, want %+v (not Bob's, where Alice is a member)", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("OwnedOrganizations[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}
