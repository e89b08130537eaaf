package storagetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/ajrly/ajrly-auth/storage"
)

// teamCases are the cases of teams' storage: invitations, members and
// their roles, what a removed member loses, renaming and deleting an
// organization.
var teamCases = []testCase{
	{"an invitation's token is stored as a digest and works once, until it expires or is revoked", testInvitationLifecycle},
	{"a new invitation to the same address, and a resend, end the old link", testInvitationReplaced},
	{"of two acceptances of one invitation at once, exactly one succeeds", testInvitationRace},
	{"members are listed by role then name, their roles change and they are removed", testMembers},
	{"a removed member loses their sessions, keys, consents and tokens there, and nothing elsewhere; one who left stays signed in", testRevokeMemberAccess},
	{"a lowered role's consents narrow and their access tokens there go", testNarrowMember},
	{"an organization is renamed under the name rules", testRenameOrganization},
	{"deleting an organization takes its keys, apps, grants, tokens and invitations, and moves its sessions", testDeleteOrganization},
	{"with the organization locked, two owners demoting each other leave one owner", testOwnersDemoteEachOther},
	{"the janitor removes expired invitations", testInvitationJanitor},
}

// newTeam makes an organization owned by a new person and returns both.
func newTeam(t *testing.T, s *storage.Store, name, ownerEmail string) (*storage.Organization, *storage.User) {
	t.Helper()
	u, err := s.CreateUser(ctx(t), ownerEmail, strings.Split(ownerEmail, "@")[0], "$argon2id$x")
	Must(t, err)
	org, err := s.CreateOrganization(ctx(t), name, u.ID)
	Must(t, err)
	return org, u
}

// newMember makes a person and adds them to org with role.
func newMember(t *testing.T, s *storage.Store, org *storage.Organization, email, name, role string) *storage.User {
	t.Helper()
	u, err := s.CreateUser(ctx(t), email, name, "$argon2id$x")
	Must(t, err)
	Must(t, s.AddMember(ctx(t), org.ID, u.ID, role))
	return u
}

// requestIn is requestFor acting in the organization orgID.
func requestIn(t *testing.T, s *storage.Store, c fosite.Client, clock *Clock, userID, orgID string) *fosite.Request {
	t.Helper()
	r := requestFor(t, s, c, clock, userID)
	r.Session.(*openid.DefaultSession).Claims.Extra[storage.ClaimOrg] = orgID
	return r
}

func testInvitationLifecycle(t *testing.T, s *storage.Store, clock *Clock) {
	org, _ := newTeam(t, s, "Acme", "owner@example.com")
	token, inv, err := s.CreateInvitation(ctx(t), org.ID, " New@Example.com ", storage.RoleAdmin, "Owner", 24*time.Hour)
	Must(t, err)
	if len(token) < 43 || strings.Contains(inv.Digest, token) || inv.Digest != storage.DigestHex(token) || inv.Email != "new@example.com" {
		t.Fatalf("token %q, row %+v: want 32 random bytes stored only as a digest, the address normalized", token, inv)
	}
	if !inv.ExpiresAt.Equal(clock.Now().UTC().Truncate(time.Microsecond).Add(24 * time.Hour)) {
		t.Errorf("expires at %v, want 24 hours from now", inv.ExpiresAt)
	}
	got, err := s.InvitationByToken(ctx(t), token)
	Must(t, err)
	if diff := cmp.Diff(inv, got, cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })); diff != "" {
		t.Errorf("invitation read back (-want +got):\n%s", diff)
	}
	if _, err := s.InvitationByToken(ctx(t), token+"x"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("tampered token: %v, want ErrNotFound", err)
	}
	pending, err := s.PendingInvitations(ctx(t), org.ID)
	Must(t, err)
	if len(pending) != 1 || pending[0].ID != inv.ID {
		t.Fatalf("pending = %+v, want the invitation", pending)
	}
	if _, err := s.RedeemInvitation(ctx(t), token, ""); err == nil {
		t.Fatal("redeemed for nobody")
	}
	u, err := s.CreateUser(ctx(t), "new@example.com", "New", "$argon2id$x")
	Must(t, err)
	used, err := s.RedeemInvitation(ctx(t), token, u.ID)
	Must(t, err)
	if used.AcceptedAt == nil || used.AcceptedBy != u.ID {
		t.Fatalf("redeemed = %+v", used)
	}
	if _, err := s.RedeemInvitation(ctx(t), token, u.ID); !errors.Is(err, storage.ErrTokenUsed) || !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("reused invitation: %v, want ErrTokenUsed (an ErrNotFound)", err)
	}
	if _, err := s.RevokeInvitation(ctx(t), org.ID, inv.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoking an accepted invitation: %v, want ErrNotFound", err)
	}
	if pending, _ := s.PendingInvitations(ctx(t), org.ID); len(pending) != 0 {
		t.Fatalf("pending after acceptance = %+v", pending)
	}

	revoked, inv2, err := s.CreateInvitation(ctx(t), org.ID, "other@example.com", storage.RoleMember, "Owner", time.Hour)
	Must(t, err)
	other, _ := newTeam(t, s, "Other", "other-owner@example.com")
	if _, err := s.RevokeInvitation(ctx(t), other.ID, inv2.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoking through another organization: %v, want ErrNotFound", err)
	}
	r, err := s.RevokeInvitation(ctx(t), org.ID, inv2.ID)
	Must(t, err)
	if r.RevokedAt == nil || r.Email != "other@example.com" {
		t.Fatalf("revoked = %+v", r)
	}
	if _, err := s.InvitationByToken(ctx(t), revoked); !errors.Is(err, storage.ErrInvitationRevoked) || !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoked invitation: %v, want ErrInvitationRevoked (an ErrNotFound)", err)
	}
	if _, _, err := s.ResendInvitation(ctx(t), org.ID, inv2.ID, time.Hour); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("resending a revoked invitation: %v, want ErrNotFound", err)
	}

	late, _, err := s.CreateInvitation(ctx(t), org.ID, "late@example.com", storage.RoleMember, "Owner", time.Hour)
	Must(t, err)
	clock.Advance(time.Hour)
	if _, err := s.RedeemInvitation(ctx(t), late, u.ID); !errors.Is(err, storage.ErrTokenExpired) || !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired invitation: %v, want ErrTokenExpired (an ErrNotFound)", err)
	}
	if pending, _ := s.PendingInvitations(ctx(t), org.ID); len(pending) != 0 {
		t.Fatalf("pending with only an expired one = %+v", pending)
	}

	for _, bad := range []struct{ org, email, role string }{
		{"", "a@example.com", storage.RoleMember},
		{org.ID, "not an address", storage.RoleMember},
		{org.ID, "a@example.com", "boss"},
	} {
		if _, _, err := s.CreateInvitation(ctx(t), bad.org, bad.email, bad.role, "Owner", time.Hour); err == nil {
			t.Errorf("CreateInvitation(%q, %q, %q) succeeded", bad.org, bad.email, bad.role)
		}
	}
}

func testInvitationReplaced(t *testing.T, s *storage.Store, clock *Clock) {
	org, _ := newTeam(t, s, "Acme", "owner@example.com")
	other, _ := newTeam(t, s, "Other", "other@example.com")
	first, inv, err := s.CreateInvitation(ctx(t), org.ID, "new@example.com", storage.RoleMember, "Owner", time.Hour)
	Must(t, err)
	elsewhere, _, err := s.CreateInvitation(ctx(t), other.ID, "new@example.com", storage.RoleMember, "Other", time.Hour)
	Must(t, err)
	second, inv2, err := s.CreateInvitation(ctx(t), org.ID, "NEW@example.com", storage.RoleAdmin, "Owner", time.Hour)
	Must(t, err)
	if _, err := s.InvitationByToken(ctx(t), first); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("replaced invitation: %v, want ErrNotFound", err)
	}
	if _, err := s.InvitationByToken(ctx(t), elsewhere); err != nil {
		t.Fatalf("the invitation into another organization: %v, want it kept", err)
	}
	pending, err := s.PendingInvitations(ctx(t), org.ID)
	Must(t, err)
	if len(pending) != 1 || pending[0].ID != inv2.ID || pending[0].Role != storage.RoleAdmin || inv2.ID == inv.ID {
		t.Fatalf("pending = %+v, want the new one only", pending)
	}

	clock.Advance(30 * time.Minute)
	third, resent, err := s.ResendInvitation(ctx(t), org.ID, inv2.ID, time.Hour)
	Must(t, err)
	if _, err := s.InvitationByToken(ctx(t), second); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the link before the resend: %v, want ErrNotFound", err)
	}
	if resent.ID != inv2.ID || !resent.ExpiresAt.After(inv2.ExpiresAt) || resent.Digest != storage.DigestHex(third) {
		t.Fatalf("resent = %+v, want the same invitation with a new token and expiry", resent)
	}
	if _, _, err := s.ResendInvitation(ctx(t), other.ID, inv2.ID, time.Hour); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("resending through another organization: %v, want ErrNotFound", err)
	}
	if got, err := s.InvitationByToken(ctx(t), third); err != nil || got.ID != inv2.ID {
		t.Fatalf("the resent link: %+v, %v", got, err)
	}
}

func testInvitationRace(t *testing.T, s *storage.Store, _ *Clock) {
	org, _ := newTeam(t, s, "Acme", "owner@example.com")
	token, _, err := s.CreateInvitation(ctx(t), org.ID, "new@example.com", storage.RoleMember, "Owner", time.Hour)
	Must(t, err)
	u, err := s.CreateUser(ctx(t), "new@example.com", "New", "$argon2id$x")
	Must(t, err)
	ok, errs := race(8, func(int) error {
		return s.InTx(ctx(t), func(c context.Context) error {
			if _, err := s.RedeemInvitation(c, token, u.ID); err != nil {
				return err
			}
			return s.AddMember(c, org.ID, u.ID, storage.RoleMember)
		})
	})
	for _, err := range errs {
		if !errors.Is(err, storage.ErrTokenUsed) && !errors.Is(err, storage.ErrConflict) {
			t.Errorf("redeem: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d acceptances succeeded, want exactly 1", ok)
	}
}

func testMembers(t *testing.T, s *storage.Store, clock *Clock) {
	org, owner := newTeam(t, s, "Acme", "zed@example.com")
	clock.Advance(time.Minute)
	bea := newMember(t, s, org, "bea@example.com", "Bea", storage.RoleMember)
	ann := newMember(t, s, org, "ann@example.com", "ann", storage.RoleAdmin)
	noName := newMember(t, s, org, "carl@example.com", "", storage.RoleMember)
	got, err := s.OrgMembers(ctx(t), org.ID)
	Must(t, err)
	var order []string
	for _, m := range got {
		order = append(order, m.Email+":"+m.Role)
	}
	want := []string{"zed@example.com:owner", "ann@example.com:admin", "bea@example.com:member", "carl@example.com:member"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Fatalf("members (-want +got):\n%s", diff)
	}
	if got[0].UserID != owner.ID || got[3].UserID != noName.ID || got[0].Name != "zed" || got[0].JoinedAt.IsZero() || !got[2].JoinedAt.After(got[0].JoinedAt) {
		t.Errorf("members = %+v, want ids, names and when they joined", got)
	}
	n, err := s.CountOwners(ctx(t), org.ID)
	Must(t, err)
	if n != 1 {
		t.Fatalf("owners = %d, want 1", n)
	}
	Must(t, s.SetMemberRole(ctx(t), org.ID, bea.ID, storage.RoleOwner))
	if n, _ := s.CountOwners(ctx(t), org.ID); n != 2 {
		t.Fatalf("owners after a promotion = %d, want 2", n)
	}
	if m, _ := s.MembershipOf(ctx(t), org.ID, bea.ID); m == nil || m.Role != storage.RoleOwner {
		t.Fatalf("Bea's membership = %+v", m)
	}
	if err := s.SetMemberRole(ctx(t), org.ID, bea.ID, "boss"); err == nil {
		t.Fatal("an unknown role was set")
	}
	outsider, err := s.CreateUser(ctx(t), "out@example.com", "Out", "$argon2id$x")
	Must(t, err)
	if err := s.SetMemberRole(ctx(t), org.ID, outsider.ID, storage.RoleAdmin); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the role of a non-member: %v, want ErrNotFound", err)
	}
	Must(t, s.RemoveMember(ctx(t), org.ID, ann.ID))
	if err := s.RemoveMember(ctx(t), org.ID, ann.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("removing twice: %v, want ErrNotFound", err)
	}
	if got, _ := s.OrgMembers(ctx(t), org.ID); len(got) != 3 {
		t.Fatalf("members after a removal = %+v", got)
	}
	Must(t, s.LockOrganization(ctx(t), org.ID))
	if err := s.LockOrganization(ctx(t), "org_nope"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("locking no organization: %v, want ErrNotFound", err)
	}
}

func testRevokeMemberAccess(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	org, owner := newTeam(t, s, "Acme", "owner@example.com")
	other, _ := newTeam(t, s, "Other", "other@example.com")
	bob := newMember(t, s, org, "bob@example.com", "Bob", storage.RoleMember)
	Must(t, s.AddMember(ctx(t), other.ID, bob.ID, storage.RoleMember))

	type held struct {
		sig, session string
		key          *storage.APIKey
	}
	give := func(u *storage.User, o *storage.Organization, n string) held {
		r := requestIn(t, s, c, clock, u.ID, o.ID)
		sig := "sig-" + n
		Must(t, s.CreateAuthorizeCodeSession(ctx(t), sig, r))
		Must(t, s.CreateAccessTokenSession(ctx(t), sig, r))
		Must(t, s.CreateRefreshTokenSession(ctx(t), sig, sig, r))
		session, _, err := s.CreateLoginSession(ctx(t), u.ID, o.ID, time.Hour, "Firefox", "192.0.2.1")
		Must(t, err)
		_, err = s.SaveConsent(ctx(t), storage.Consent{UserID: u.ID, OrgID: o.ID, ClientID: c.ID, Scopes: "openid read", Remember: true})
		Must(t, err)
		key := newAPIKey(t, s, clock, o.ID, u.ID, "CI "+n, "sk_live_"+n+"abcdefghijklmnop")
		return held{sig: sig, session: session, key: key}
	}
	there, elsewhere, owners := give(bob, org, "bobby"), give(bob, other, "bobel"), give(owner, org, "owner")

	Must(t, s.InTx(ctx(t), func(c context.Context) error {
		if err := s.RemoveMember(c, org.ID, bob.ID); err != nil {
			return err
		}
		if n, err := s.DeleteMemberLoginSessions(c, org.ID, bob.ID); err != nil || n != 1 {
			return fmt.Errorf("deleted %d sessions (%v), want 1", n, err)
		}
		return s.RevokeMemberAccess(c, org.ID, bob.ID)
	}))

	check := func(who string, h held, wantGone bool) {
		t.Helper()
		state := func(what string, err error) {
			t.Helper()
			gone := errors.Is(err, storage.ErrNotFound) || errors.Is(err, fosite.ErrNotFound)
			if !gone && err != nil {
				t.Fatalf("%s %s: %v", who, what, err)
			}
			if gone != wantGone {
				t.Errorf("%s %s gone = %v, want %v", who, what, gone, wantGone)
			}
		}
		_, err := s.GetAuthorizeCodeSession(ctx(t), h.sig, newSession())
		state("code", err)
		_, err = s.GetAccessTokenSession(ctx(t), h.sig, newSession())
		state("access token", err)
		_, err = s.GetRefreshTokenSession(ctx(t), h.sig, newSession())
		state("refresh token", err)
		_, err = s.LoginSessionByToken(ctx(t), h.session)
		state("session", err)
		k, err := s.APIKeyByID(ctx(t), h.key.ID)
		Must(t, err)
		if revoked := k.RevokedAt != nil; revoked != wantGone {
			t.Errorf("%s API key revoked = %v, want %v", who, revoked, wantGone)
		}
	}
	check("Bob's in Acme", there, true)
	check("Bob's in Other", elsewhere, false)
	check("the owner's in Acme", owners, false)
	consents, err := s.ConsentsFor(ctx(t), bob.ID, c.ID)
	Must(t, err)
	if len(consents) != 1 || consents[0].OrgID != other.ID {
		t.Errorf("Bob's consents = %+v, want only the one in Other", consents)
	}
	if got, _ := s.MemberConsents(ctx(t), org.ID, owner.ID); len(got) != 1 {
		t.Errorf("the owner's consents in Acme = %+v, want kept", got)
	}
	if _, err := s.DeleteMemberConsents(ctx(t), "", bob.ID); err == nil {
		t.Error("deleted consents in no organization")
	}
	if _, err := s.DeleteMemberLoginSessions(ctx(t), "", bob.ID); err == nil {
		t.Error("deleted sessions in no organization")
	}

	// A person who leaves stays signed in, working in no organization.
	if n, err := s.ClearMemberLoginSessions(ctx(t), other.ID, bob.ID); err != nil || n != 1 {
		t.Fatalf("moved %d sessions out of Other (%v), want 1", n, err)
	}
	ls, err := s.LoginSessionByToken(ctx(t), elsewhere.session)
	Must(t, err)
	if ls.OrgID != "" {
		t.Errorf("the session moved out of Other works in %q", ls.OrgID)
	}
	if _, err := s.ClearMemberLoginSessions(ctx(t), "", bob.ID); err == nil {
		t.Error("moved sessions out of no organization")
	}
}

func testNarrowMember(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	org, _ := newTeam(t, s, "Acme", "owner@example.com")
	other, _ := newTeam(t, s, "Other", "other@example.com")
	ann := newMember(t, s, org, "ann@example.com", "Ann", storage.RoleAdmin)
	Must(t, s.AddMember(ctx(t), other.ID, ann.ID, storage.RoleAdmin))
	cns, err := s.SaveConsent(ctx(t), storage.Consent{UserID: ann.ID, OrgID: org.ID, ClientID: c.ID, Scopes: "openid read team:manage", Remember: true})
	Must(t, err)
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-acme", requestIn(t, s, c, clock, ann.ID, org.ID)))
	Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-acme", "at-acme", requestIn(t, s, c, clock, ann.ID, org.ID)))
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-other", requestIn(t, s, c, clock, ann.ID, other.ID)))

	got, err := s.MemberConsents(ctx(t), org.ID, ann.ID)
	Must(t, err)
	if len(got) != 1 || got[0].ID != cns.ID {
		t.Fatalf("consents in Acme = %+v", got)
	}
	Must(t, s.SetConsentScopes(ctx(t), cns.ID, "openid read"))
	if err := s.SetConsentScopes(ctx(t), "cns_nope", "openid"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("narrowing no consent: %v, want ErrNotFound", err)
	}
	Must(t, s.RevokeUserOrgAccessTokens(ctx(t), ann.ID, org.ID))
	if got, _ := s.ConsentsFor(ctx(t), ann.ID, c.ID); len(got) != 1 || got[0].Scopes != "openid read" {
		t.Fatalf("narrowed consent = %+v", got)
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "at-acme", newSession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("access token in Acme: %v, want gone", err)
	}
	if _, err := s.GetRefreshTokenSession(ctx(t), "rt-acme", newSession()); err != nil {
		t.Errorf("refresh token in Acme: %v, want kept (it narrows on use)", err)
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "at-other", newSession()); err != nil {
		t.Errorf("access token in Other: %v, want kept", err)
	}
	if err := s.RevokeUserOrgAccessTokens(ctx(t), ann.ID, ""); err == nil {
		t.Error("revoked access tokens in no organization")
	}
}

func testRenameOrganization(t *testing.T, s *storage.Store, _ *Clock) {
	org, _ := newTeam(t, s, "Acme", "owner@example.com")
	newTeam(t, s, "Globex", "other@example.com")
	renamed, err := s.RenameOrganization(ctx(t), org.ID, "  Acme \u202e Corp ")
	Must(t, err)
	if renamed.Name != "Acme Corp" || renamed.ID != org.ID {
		t.Fatalf("renamed = %+v, want the name cleaned as at creation", renamed)
	}
	if found, err := s.OrganizationByName(ctx(t), "acme corp"); err != nil || found.ID != org.ID {
		t.Fatalf("found by the new name: %+v, %v", found, err)
	}
	if _, err := s.RenameOrganization(ctx(t), org.ID, "ACME corp"); err != nil {
		t.Fatalf("renaming to its own name in other case: %v", err)
	}
	if _, err := s.RenameOrganization(ctx(t), org.ID, " globex "); !errors.Is(err, storage.ErrOrgNameTaken) {
		t.Fatalf("renaming to a taken name: %v, want ErrOrgNameTaken", err)
	}
	if _, err := s.RenameOrganization(ctx(t), org.ID, "   "); err == nil {
		t.Fatal("renamed to an empty name")
	}
	if _, err := s.RenameOrganization(ctx(t), org.ID, strings.Repeat("x", 81)); err == nil {
		t.Fatal("renamed to a name longer than 80 characters")
	}
	if _, err := s.RenameOrganization(ctx(t), "org_nope", "Fresh"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("renaming no organization: %v, want ErrNotFound", err)
	}
}

func testDeleteOrganization(t *testing.T, s *storage.Store, clock *Clock) {
	shared := newClient(t, s)
	org, owner := newTeam(t, s, "Acme", "owner@example.com")
	other, _ := newTeam(t, s, "Other", "other@example.com")
	Must(t, s.AddMember(ctx(t), other.ID, owner.ID, storage.RoleMember))
	app := &storage.Client{ID: storage.NewID("cli"), Name: "Acme's app", OrgID: org.ID,
		RedirectURIs: []string{"https://acme.example.com/cb"}, GrantTypes: []string{"authorization_code"},
		ResponseTypes: []string{"code"}, Scopes: []string{"openid"}, TokenEndpointAuthMethod: "none", Public: true}
	Must(t, s.CreateClient(ctx(t), app))

	Must(t, s.CreateAccessTokenSession(ctx(t), "at-app", requestIn(t, s, app, clock, owner.ID, org.ID)))
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-acme", requestIn(t, s, shared, clock, owner.ID, org.ID)))
	Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-acme", "at-acme", requestIn(t, s, shared, clock, owner.ID, org.ID)))
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-other", requestIn(t, s, shared, clock, owner.ID, other.ID)))
	_, err := s.SaveConsent(ctx(t), storage.Consent{UserID: owner.ID, OrgID: org.ID, ClientID: shared.ID, Scopes: "openid"})
	Must(t, err)
	_, err = s.SaveConsent(ctx(t), storage.Consent{UserID: owner.ID, OrgID: other.ID, ClientID: shared.ID, Scopes: "openid"})
	Must(t, err)
	key := newAPIKey(t, s, clock, org.ID, owner.ID, "CI", "sk_live_acmeabcdefghijklmnop")
	otherKey := newAPIKey(t, s, clock, other.ID, owner.ID, "CI", "sk_live_othrabcdefghijklmnop")
	session, _, err := s.CreateLoginSession(ctx(t), owner.ID, org.ID, time.Hour, "Firefox", "192.0.2.1")
	Must(t, err)
	invite, _, err := s.CreateInvitation(ctx(t), org.ID, "new@example.com", storage.RoleMember, "Owner", time.Hour)
	Must(t, err)

	Must(t, s.DeleteOrganization(ctx(t), org.ID))

	if _, err := s.OrganizationByID(ctx(t), org.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the organization after its deletion: %v", err)
	}
	if _, err := s.FindClient(ctx(t), app.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("its app: %v, want gone", err)
	}
	if _, err := s.FindClient(ctx(t), shared.ID); err != nil {
		t.Errorf("another organization's app: %v, want kept", err)
	}
	for _, sig := range []string{"at-app", "at-acme"} {
		if _, err := s.GetAccessTokenSession(ctx(t), sig, newSession()); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("access token %s: %v, want gone", sig, err)
		}
	}
	if _, err := s.GetRefreshTokenSession(ctx(t), "rt-acme", newSession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Errorf("refresh token in it: %v, want gone", err)
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "at-other", newSession()); err != nil {
		t.Errorf("access token in another organization: %v, want kept", err)
	}
	if _, err := s.APIKeyByID(ctx(t), key.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("its API key: %v, want gone", err)
	}
	if k, err := s.APIKeyByID(ctx(t), otherKey.ID); err != nil || k.RevokedAt != nil {
		t.Errorf("an API key elsewhere: %+v, %v, want kept", k, err)
	}
	if consents, _ := s.ConsentsFor(ctx(t), owner.ID, shared.ID); len(consents) != 1 || consents[0].OrgID != other.ID {
		t.Errorf("consents = %+v, want only the one in Other", consents)
	}
	ls, err := s.LoginSessionByToken(ctx(t), session)
	Must(t, err)
	if ls.OrgID != "" {
		t.Errorf("the session that worked in it works in %q, want none", ls.OrgID)
	}
	if _, err := s.InvitationByToken(ctx(t), invite); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("its invitation: %v, want gone", err)
	}
	if orgs, _ := s.UserOrganizations(ctx(t), owner.ID); len(orgs) != 1 || orgs[0].ID != other.ID {
		t.Errorf("the owner's organizations = %+v, want Other", orgs)
	}
	if err := s.DeleteOrganization(ctx(t), org.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleting twice: %v, want ErrNotFound", err)
	}
}

func testOwnersDemoteEachOther(t *testing.T, s *storage.Store, _ *Clock) {
	org, ann := newTeam(t, s, "Acme", "ann@example.com")
	bob := newMember(t, s, org, "bob@example.com", "Bob", storage.RoleOwner)
	errLast := errors.New("the last owner")
	people := []string{ann.ID, bob.ID}
	ok, errs := race(2, func(i int) error {
		return s.InTx(ctx(t), func(c context.Context) error {
			if err := s.LockOrganization(c, org.ID); err != nil {
				return err
			}
			if err := s.SetMemberRole(c, org.ID, people[i], storage.RoleAdmin); err != nil {
				return err
			}
			if n, err := s.CountOwners(c, org.ID); err != nil {
				return err
			} else if n == 0 {
				return errLast
			}
			return nil
		})
	})
	for _, err := range errs {
		if !errors.Is(err, errLast) {
			t.Errorf("demote: %v", err)
		}
	}
	if n, _ := s.CountOwners(ctx(t), org.ID); ok != 1 || n != 1 {
		t.Fatalf("%d demotions succeeded and %d owners are left, want 1 and 1", ok, n)
	}
}

func testInvitationJanitor(t *testing.T, s *storage.Store, clock *Clock) {
	org, _ := newTeam(t, s, "Acme", "owner@example.com")
	_, old, err := s.CreateInvitation(ctx(t), org.ID, "old@example.com", storage.RoleMember, "Owner", time.Minute)
	Must(t, err)
	live, _, err := s.CreateInvitation(ctx(t), org.ID, "live@example.com", storage.RoleMember, "Owner", time.Hour)
	Must(t, err)
	clock.Advance(2 * time.Minute)
	_, err = s.DeleteExpired(ctx(t), 10)
	Must(t, err)
	var n int64
	Must(t, s.DB().Model(&storage.Invitation{}).Where("id = ?", old.ID).Count(&n).Error)
	if n != 0 {
		t.Error("the janitor kept an expired invitation")
	}
	if _, err := s.InvitationByToken(ctx(t), live); err != nil {
		t.Errorf("the janitor removed a live invitation: %v", err)
	}
}
