package storagetest

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/ajrly/ajrly-auth/storage"
)

// sessionCases are the cases of sign-in sessions and consents.
var sessionCases = []testCase{
	{"login sessions are found by token only until they expire", testLoginSessions},
	{"consents are saved per organization, replaced and listed", testConsents},
	{"revoking a consent removes that person's tokens of that app only", testRevokeConsent},
}

func testLoginSessions(t *testing.T, s *storage.Store, clock *Clock) {
	u, err := s.CreateUser(ctx(t), "sess@example.com", "S", "a long password")
	Must(t, err)
	token, ls, err := s.CreateLoginSession(ctx(t), u.ID, "org_1", time.Hour, "Mozilla/5.0", "192.0.2.1")
	Must(t, err)
	if strings.Contains(ls.IDDigest, token) || len(token) < 43 {
		t.Fatalf("session token %q / digest %q: want a 256-bit token stored only as a digest", token, ls.IDDigest)
	}
	got, err := s.LoginSessionByToken(ctx(t), token)
	Must(t, err)
	if got.UserID != u.ID || !got.AuthTime.Equal(clock.Now()) || got.OrgID != "org_1" {
		t.Fatalf("session = %+v", got)
	}
	if _, err := s.LoginSessionByToken(ctx(t), token+"x"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("wrong token error = %v", err)
	}
	second, _, err := s.CreateLoginSession(ctx(t), u.ID, "", time.Hour, "", "")
	Must(t, err)
	Must(t, s.DeleteLoginSession(ctx(t), token))
	if _, err := s.LoginSessionByToken(ctx(t), token); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("deleted session error = %v", err)
	}
	n, err := s.DeleteUserLoginSessions(ctx(t), u.ID)
	Must(t, err)
	if n != 1 {
		t.Fatalf("deleted %d sessions, want 1", n)
	}
	if _, err := s.LoginSessionByToken(ctx(t), second); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("session after sign-out of all devices error = %v", err)
	}
}

func testConsents(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	u, err := s.CreateUser(ctx(t), "consent@example.com", "C", "a long password")
	Must(t, err)
	org, err := s.CreateOrganization(ctx(t), "Acme", u.ID)
	Must(t, err)
	if list, err := s.ConsentsFor(ctx(t), u.ID, c.ID); err != nil || len(list) != 0 {
		t.Fatalf("consents before any = %v, %v", list, err)
	}
	first, err := s.SaveConsent(ctx(t), storage.Consent{UserID: u.ID, OrgID: org.ID, ClientID: c.ID, Scopes: "openid read"})
	Must(t, err)
	clock.Advance(time.Second)
	second, err := s.SaveConsent(ctx(t), storage.Consent{UserID: u.ID, OrgID: org.ID, ClientID: c.ID, Scopes: "openid read offline_access", Remember: true})
	Must(t, err)
	if second.ID != first.ID {
		t.Errorf("a second grant for the same app and organization made a new row")
	}
	// Another organization is another grant.
	other, err := s.CreateOrganization(ctx(t), "Globex", u.ID)
	Must(t, err)
	clock.Advance(time.Second)
	_, err = s.SaveConsent(ctx(t), storage.Consent{UserID: u.ID, OrgID: other.ID, ClientID: c.ID, Scopes: "openid"})
	Must(t, err)
	list, err := s.ConsentsFor(ctx(t), u.ID, c.ID)
	Must(t, err)
	if len(list) != 2 || list[0].OrgID != other.ID || list[1].OrgID != org.ID {
		t.Fatalf("consents newest first = %+v", list)
	}
	if !list[1].Remember || !list[1].Covers([]string{"read", "openid"}) || list[1].Covers([]string{"write"}) {
		t.Fatalf("consent = %+v", list[1])
	}
	apps, err := s.ListConnectedApps(ctx(t), u.ID)
	Must(t, err)
	if len(apps) != 2 || apps[0].ClientName != c.Name || apps[0].OrgName != "Globex" || apps[1].OrgName != "Acme" {
		t.Fatalf("connected apps = %+v", apps)
	}
}

func testRevokeConsent(t *testing.T, s *storage.Store, clock *Clock) {
	c, otherClient := newClient(t, s), newClient(t, s)
	alice, err := s.CreateUser(ctx(t), "alice@example.com", "A", "a long password")
	Must(t, err)
	bob, err := s.CreateUser(ctx(t), "bob@example.com", "B", "a long password")
	Must(t, err)
	grant, err := s.SaveConsent(ctx(t), storage.Consent{UserID: alice.ID, ClientID: c.ID, Scopes: "openid"})
	Must(t, err)
	mint := func(client *storage.Client, user *storage.User, sig string) {
		req := newRequest(t, s, client, clock, time.Hour)
		req.Session.(*openid.DefaultSession).Subject = user.ID
		Must(t, s.CreateAccessTokenSession(ctx(t), "at-"+sig, req))
		Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-"+sig, "at-"+sig, req))
	}
	mint(c, alice, "alice-app")
	mint(c, bob, "bob-app")
	mint(otherClient, alice, "alice-other")

	if _, err := s.RevokeConsent(ctx(t), bob.ID, grant.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoking someone else's consent: %v, want ErrNotFound", err)
	}
	revoked, err := s.RevokeConsent(ctx(t), alice.ID, grant.ID)
	Must(t, err)
	if revoked.ClientID != c.ID {
		t.Fatalf("revoked %+v", revoked)
	}
	for sig, wantGone := range map[string]bool{"alice-app": true, "bob-app": false, "alice-other": false} {
		_, errAT := s.GetAccessTokenSession(ctx(t), "at-"+sig, newSession())
		_, errRT := s.GetRefreshTokenSession(ctx(t), "rt-"+sig, newSession())
		if gone := errors.Is(errAT, fosite.ErrNotFound) && errors.Is(errRT, fosite.ErrNotFound); gone != wantGone {
			t.Errorf("tokens %s gone = %v, want %v (%v, %v)", sig, gone, wantGone, errAT, errRT)
		}
	}
	if list, _ := s.ConsentsFor(ctx(t), alice.ID, c.ID); len(list) != 0 {
		t.Errorf("the consent is still there: %+v", list)
	}
}
