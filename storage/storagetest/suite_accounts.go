package storagetest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/ajrly/ajrly-auth/storage"
)

// accountCases are the cases of the account flows' storage: the tokens of
// links in mail, changing a person, their devices and their tokens.
var accountCases = []testCase{
	{"a link's token is stored as a digest and works once, until it expires", testAccountTokenLifecycle},
	{"a newer link, a password change and a new address end pending links", testAccountTokensSuperseded},
	{"of two redemptions of one token at once, exactly one succeeds", testAccountTokenRace},
	{"verifying an address needs it to still be the person's", testMarkEmailVerified},
	{"a new address must be free and comes verified", testSetUserEmail},
	{"a person's devices are listed and signed out one by one or all but this one", testUserLoginSessions},
	{"revoking a person's tokens takes every client's codes, tokens, PKCE and OIDC state, and nobody else's", testRevokeUserTokens},
	{"revoking a person's tokens in one organization leaves their grants in others and everyone else's", testRevokeUserOrgTokens},
}

func testAccountTokenLifecycle(t *testing.T, s *storage.Store, clock *Clock) {
	u, err := s.CreateUser(ctx(t), "link@example.com", "L", "a long password")
	Must(t, err)
	token, row, err := s.CreateAccountToken(ctx(t), storage.PurposeVerifyEmail, u.ID, " Link@Example.com ", 24*time.Hour)
	Must(t, err)
	if len(token) < 43 || strings.Contains(row.Digest, token) || row.Email != "link@example.com" {
		t.Fatalf("token %q, row %+v: want 32 random bytes stored only as a digest, the address normalized", token, row)
	}
	if _, err := s.AccountTokenFor(ctx(t), token, storage.PurposeResetPassword); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("token for another purpose: %v, want ErrNotFound", err)
	}
	if _, err := s.AccountTokenFor(ctx(t), token+"x", storage.PurposeVerifyEmail); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("tampered token: %v, want ErrNotFound", err)
	}
	got, err := s.AccountTokenFor(ctx(t), token, storage.PurposeVerifyEmail)
	Must(t, err)
	if got.UserID != u.ID || got.UsedAt != nil {
		t.Fatalf("token = %+v", got)
	}
	if either, err := s.AccountTokenFor(ctx(t), token, storage.PurposeChangeEmail, storage.PurposeVerifyEmail); err != nil || either.Purpose != storage.PurposeVerifyEmail {
		t.Fatalf("token for either of two purposes: %+v, %v; want the verification token", either, err)
	}
	if _, err := s.RedeemAccountToken(ctx(t), token, storage.PurposeVerifyEmail); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RedeemAccountToken(ctx(t), token, storage.PurposeVerifyEmail); !errors.Is(err, storage.ErrTokenUsed) {
		t.Fatalf("reused token: %v, want ErrTokenUsed", err)
	}

	late, _, err := s.CreateAccountToken(ctx(t), storage.PurposeResetPassword, u.ID, u.Email, time.Hour)
	Must(t, err)
	clock.Advance(time.Hour)
	if _, err := s.RedeemAccountToken(ctx(t), late, storage.PurposeResetPassword); !errors.Is(err, storage.ErrTokenExpired) || !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("expired token: %v, want ErrTokenExpired (an ErrNotFound)", err)
	}
	if n, err := s.DeleteExpired(ctx(t), 10); err != nil || n < 1 {
		t.Fatalf("the janitor removed %d rows (%v), want the expired token among them", n, err)
	}
}

func testAccountTokensSuperseded(t *testing.T, s *storage.Store, _ *Clock) {
	u, err := s.CreateUser(ctx(t), "super@example.com", "S", "a long password")
	Must(t, err)
	newToken := func(purpose string) string {
		tok, _, err := s.CreateAccountToken(ctx(t), purpose, u.ID, u.Email, time.Hour)
		Must(t, err)
		return tok
	}
	usable := func(purpose, token string) bool {
		_, err := s.AccountTokenFor(ctx(t), token, purpose)
		return err == nil
	}
	first := newToken(storage.PurposeResetPassword)
	verify := newToken(storage.PurposeVerifyEmail)
	second := newToken(storage.PurposeResetPassword)
	if usable(storage.PurposeResetPassword, first) || !usable(storage.PurposeResetPassword, second) || !usable(storage.PurposeVerifyEmail, verify) {
		t.Fatal("a newer reset link must end the older one, and only links of its own purpose")
	}
	Must(t, s.SetUserPassword(ctx(t), u.ID, "another hash"))
	if usable(storage.PurposeResetPassword, second) || !usable(storage.PurposeVerifyEmail, verify) {
		t.Fatal("a password change must end pending resets, and only those")
	}
	change := newToken(storage.PurposeChangeEmail)
	reset := newToken(storage.PurposeResetPassword)
	Must(t, s.SetUserEmail(ctx(t), u.ID, "moved@example.com"))
	if usable(storage.PurposeVerifyEmail, verify) || usable(storage.PurposeResetPassword, reset) || usable(storage.PurposeChangeEmail, change) {
		t.Fatal("a new address must end the links sent to the old one and other pending changes")
	}
}

func testAccountTokenRace(t *testing.T, s *storage.Store, _ *Clock) {
	u, err := s.CreateUser(ctx(t), "race@example.com", "R", "a long password")
	Must(t, err)
	token, _, err := s.CreateAccountToken(ctx(t), storage.PurposeResetPassword, u.ID, u.Email, time.Hour)
	Must(t, err)
	const n = 8
	var wg sync.WaitGroup
	results := make(chan error, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- s.InTx(ctx(t), func(c2 context.Context) error {
				_, err := s.RedeemAccountToken(c2, token, storage.PurposeResetPassword)
				return err
			})
		}()
	}
	wg.Wait()
	close(results)
	ok := 0
	for err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, storage.ErrTokenUsed), errors.Is(err, storage.ErrConflict):
		default:
			t.Errorf("redeem: %v", err)
		}
	}
	if ok != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1", ok)
	}
}

func testMarkEmailVerified(t *testing.T, s *storage.Store, _ *Clock) {
	u, err := s.CreateUser(ctx(t), "verify@example.com", "V", "a long password")
	Must(t, err)
	if u.EmailVerified {
		t.Fatal("a new person's address must start unverified")
	}
	if err := s.MarkEmailVerified(ctx(t), u.ID, "other@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("verifying an address that is not theirs: %v, want ErrNotFound", err)
	}
	Must(t, s.MarkEmailVerified(ctx(t), u.ID, "Verify@Example.com"))
	got, err := s.UserByID(ctx(t), u.ID)
	Must(t, err)
	if !got.EmailVerified {
		t.Fatal("the address is still unverified")
	}
}

func testSetUserEmail(t *testing.T, s *storage.Store, _ *Clock) {
	u, err := s.CreateUser(ctx(t), "mover@example.com", "M", "a long password")
	Must(t, err)
	_, err = s.CreateUser(ctx(t), "taken@example.com", "T", "a long password")
	Must(t, err)
	if err := s.SetUserEmail(ctx(t), u.ID, "Taken@example.com"); !errors.Is(err, storage.ErrEmailTaken) {
		t.Fatalf("moving to a taken address: %v, want ErrEmailTaken", err)
	}
	if err := s.SetUserEmail(ctx(t), u.ID, "not an address"); err == nil {
		t.Fatal("moving to an invalid address succeeded")
	}
	Must(t, s.SetUserEmail(ctx(t), u.ID, " New@Example.com"))
	got, err := s.UserByEmail(ctx(t), "new@example.com")
	Must(t, err)
	if got.ID != u.ID || !got.EmailVerified {
		t.Fatalf("after the move: %+v", got)
	}
	if _, err := s.UserByEmail(ctx(t), "mover@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the old address still finds someone: %v", err)
	}
	if err := s.SetUserName(ctx(t), "usr_nobody", "X"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("renaming nobody: %v, want ErrNotFound", err)
	}
}

func testUserLoginSessions(t *testing.T, s *storage.Store, clock *Clock) {
	u, err := s.CreateUser(ctx(t), "devices@example.com", "D", "a long password")
	Must(t, err)
	other, err := s.CreateUser(ctx(t), "other@example.com", "O", "a long password")
	Must(t, err)
	laptop, _, err := s.CreateLoginSession(ctx(t), u.ID, "", time.Hour, "laptop", "192.0.2.1")
	Must(t, err)
	clock.Advance(time.Minute)
	phone, _, err := s.CreateLoginSession(ctx(t), u.ID, "", time.Hour, "phone", "192.0.2.2")
	Must(t, err)
	clock.Advance(time.Minute)
	tablet, _, err := s.CreateLoginSession(ctx(t), u.ID, "", time.Hour, "tablet", "192.0.2.3")
	Must(t, err)
	theirs, _, err := s.CreateLoginSession(ctx(t), other.ID, "", time.Hour, "theirs", "192.0.2.9")
	Must(t, err)
	clock.Advance(time.Minute)
	Must(t, s.TouchLoginSession(ctx(t), laptop))

	list, err := s.UserLoginSessions(ctx(t), u.ID)
	Must(t, err)
	var agents []string
	for _, ls := range list {
		agents = append(agents, ls.UserAgent)
		if strings.Contains(ls.IDDigest, ls.Handle()) || len(ls.Handle()) < 20 {
			t.Errorf("handle %q gives away the session's key", ls.Handle())
		}
	}
	if strings.Join(agents, ",") != "laptop,tablet,phone" {
		t.Fatalf("devices = %v, want the most recently used first", agents)
	}
	theirList, err := s.UserLoginSessions(ctx(t), other.ID)
	Must(t, err)
	if err := s.DeleteUserLoginSession(ctx(t), u.ID, theirList[0].Handle()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("signing out someone else's device: %v, want ErrNotFound", err)
	}
	Must(t, s.DeleteUserLoginSession(ctx(t), u.ID, list[2].Handle()))
	if _, err := s.LoginSessionByToken(ctx(t), phone); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("the signed-out phone's session: %v", err)
	}
	n, err := s.DeleteOtherLoginSessions(ctx(t), u.ID, laptop)
	Must(t, err)
	if n != 1 {
		t.Fatalf("signed out %d other devices, want 1", n)
	}
	for token, want := range map[string]bool{laptop: true, tablet: false, theirs: true} {
		if _, err := s.LoginSessionByToken(ctx(t), token); (err == nil) != want {
			t.Errorf("session still there = %v, want %v", err == nil, want)
		}
	}
}

func testRevokeUserTokens(t *testing.T, s *storage.Store, clock *Clock) {
	c, otherClient := newClient(t, s), newClient(t, s)
	alice, err := s.CreateUser(ctx(t), "alice@example.com", "A", "a long password")
	Must(t, err)
	bob, err := s.CreateUser(ctx(t), "bob@example.com", "B", "a long password")
	Must(t, err)
	mint := func(client *storage.Client, user *storage.User, sig string) {
		req := newRequest(t, s, client, clock, time.Hour)
		req.Session.(*openid.DefaultSession).Subject = user.ID
		Must(t, s.CreateAuthorizeCodeSession(ctx(t), "ac-"+sig, req))
		Must(t, s.CreateAccessTokenSession(ctx(t), "at-"+sig, req))
		Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-"+sig, "at-"+sig, req))
		Must(t, s.CreatePKCERequestSession(ctx(t), "pk-"+sig, req))
		Must(t, s.CreateOpenIDConnectSession(ctx(t), "oc-"+sig, req))
	}
	mint(c, alice, "alice-app")
	mint(otherClient, alice, "alice-other")
	mint(c, bob, "bob-app")
	Must(t, s.RevokeUserTokens(ctx(t), alice.ID))
	for sig, wantGone := range map[string]bool{"alice-app": true, "alice-other": true, "bob-app": false} {
		_, errAC := s.GetAuthorizeCodeSession(ctx(t), "ac-"+sig, newSession())
		_, errAT := s.GetAccessTokenSession(ctx(t), "at-"+sig, newSession())
		_, errRT := s.GetRefreshTokenSession(ctx(t), "rt-"+sig, newSession())
		_, errPK := s.GetPKCERequestSession(ctx(t), "pk-"+sig, newSession())
		_, errOC := s.GetOpenIDConnectSession(ctx(t), "oc-"+sig, newRequest(t, s, c, clock, time.Hour))
		for _, err := range []error{errAC, errAT, errRT, errPK, errOC} {
			if gone := errors.Is(err, fosite.ErrNotFound); gone != wantGone {
				t.Errorf("%s: gone = %v, want %v (%v)", sig, gone, wantGone, err)
			}
		}
	}
}

func testRevokeUserOrgTokens(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	mint := func(subject, org, sig string) {
		req := newRequest(t, s, c, clock, time.Hour)
		sess := req.Session.(*openid.DefaultSession)
		sess.Subject = subject
		sess.Claims.Extra = map[string]any{storage.ClaimOrg: org}
		Must(t, s.CreateAuthorizeCodeSession(ctx(t), "ac-"+sig, req))
		Must(t, s.CreateAccessTokenSession(ctx(t), "at-"+sig, req))
		Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-"+sig, "at-"+sig, req))
	}
	mint("usr_alice", "org_team", "alice-team")
	mint("usr_alice", "org_home", "alice-home")
	mint("usr_bob", "org_team", "bob-team")
	if err := s.RevokeUserOrgTokens(ctx(t), "usr_alice", ""); err == nil {
		t.Fatal("revoking in no organization: no error, want one (it would revoke everything of theirs)")
	}
	Must(t, s.RevokeUserOrgTokens(ctx(t), "usr_alice", "org_team"))
	for sig, wantGone := range map[string]bool{"alice-team": true, "alice-home": false, "bob-team": false} {
		_, errAC := s.GetAuthorizeCodeSession(ctx(t), "ac-"+sig, newSession())
		_, errAT := s.GetAccessTokenSession(ctx(t), "at-"+sig, newSession())
		_, errRT := s.GetRefreshTokenSession(ctx(t), "rt-"+sig, newSession())
		for _, err := range []error{errAC, errAT, errRT} {
			if gone := errors.Is(err, fosite.ErrNotFound); gone != wantGone {
				t.Errorf("%s: gone = %v, want %v (%v)", sig, gone, wantGone, err)
			}
		}
	}
}
