package storagetest

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/ajrly/ajrly-auth/storage"
)

// tokenCases are the cases of fosite's storage and the authorization flows.
var tokenCases = []testCase{
	{"an authorization code is used once", testAuthorizeCodeLifecycle},
	{"two concurrent redemptions of one code: exactly one succeeds", testConcurrentCodeRedemption},
	{"access tokens round-trip their request and session", testAccessTokenRoundTrip},
	{"refresh-token rotation deactivates the old token and its access token", testRefreshRotation},
	{"two concurrent rotations of one refresh token: exactly one succeeds", testConcurrentRefreshRotation},
	{"revocation by request id removes the access and refresh tokens", testRevokeByRequestID},
	{"expired rows are never returned as active", testExpiredRowsInactive},
	{"secrets in request forms never reach storage", testFormSecretsStripped},
	{"pkce and openid connect sessions round-trip and delete", testPKCEAndOIDC},
	{"a client assertion jti is accepted once until it expires", testJTIReplay},
	{"authorization flows are answered at most once", testFlows},
}

func testAuthorizeCodeLifecycle(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, 10*time.Minute)
	Must(t, s.CreateAuthorizeCodeSession(ctx(t), "code-sig", req))

	got, err := s.GetAuthorizeCodeSession(ctx(t), "code-sig", newSession())
	Must(t, err)
	compareRequests(t, req, got)

	Must(t, s.InvalidateAuthorizeCodeSession(ctx(t), "code-sig"))
	used, err := s.GetAuthorizeCodeSession(ctx(t), "code-sig", newSession())
	if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("used code error = %v, want ErrInvalidatedAuthorizeCode", err)
	}
	if used == nil || used.GetID() != req.GetID() {
		t.Fatal("a used code must come back with its request so its tokens can be revoked")
	}
	if err := s.InvalidateAuthorizeCodeSession(ctx(t), "code-sig"); !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		t.Fatalf("second invalidation error = %v, want ErrInvalidatedAuthorizeCode", err)
	}
	if _, err := s.GetAuthorizeCodeSession(ctx(t), "no-such-code", newSession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("unknown code error = %v, want fosite.ErrNotFound", err)
	}
}

func testConcurrentCodeRedemption(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, 10*time.Minute)
	Must(t, s.CreateAuthorizeCodeSession(ctx(t), "raced-code", req))

	// Each redemption does what fosite's code handler does: in one
	// transaction, invalidate the code and store the access token.
	ok, errs := race(4, func(i int) error {
		tx, err := s.BeginTX(ctx(t))
		if err != nil {
			return err
		}
		if err := s.InvalidateAuthorizeCodeSession(tx, "raced-code"); err != nil {
			_ = s.Rollback(tx)
			return err
		}
		if err := s.CreateAccessTokenSession(tx, "raced-at-"+string(rune('a'+i)), req); err != nil {
			_ = s.Rollback(tx)
			return err
		}
		return s.Commit(tx)
	})
	if ok != 1 {
		t.Fatalf("%d redemptions succeeded, want exactly 1 (errors: %v)", ok, errs)
	}
	for _, err := range errs {
		if !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
			t.Errorf("losing redemption error = %v, want ErrInvalidatedAuthorizeCode", err)
		}
	}
}

func testAccessTokenRoundTrip(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, time.Hour)
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-sig", req))
	got, err := s.GetAccessTokenSession(ctx(t), "at-sig", newSession())
	Must(t, err)
	compareRequests(t, req, got)

	Must(t, s.DeleteAccessTokenSession(ctx(t), "at-sig"))
	if _, err := s.GetAccessTokenSession(ctx(t), "at-sig", newSession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("deleted token error = %v, want fosite.ErrNotFound", err)
	}
	// Deleting what is not there is not an error: fosite deletes defensively.
	Must(t, s.DeleteAccessTokenSession(ctx(t), "at-sig"))
}

func testRefreshRotation(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, time.Hour)
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-1", req))
	Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-1", "at-1", req))

	got, err := s.GetRefreshTokenSession(ctx(t), "rt-1", newSession())
	Must(t, err)
	compareRequests(t, req, got)

	Must(t, s.RotateRefreshToken(ctx(t), req.GetID(), "rt-1"))
	used, err := s.GetRefreshTokenSession(ctx(t), "rt-1", newSession())
	if !errors.Is(err, fosite.ErrInactiveToken) {
		t.Fatalf("rotated refresh token error = %v, want ErrInactiveToken", err)
	}
	if used == nil || used.GetID() != req.GetID() {
		t.Fatal("a rotated refresh token must come back with its request so reuse can revoke the grant")
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "at-1", newSession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("access token of rotated refresh token error = %v, want fosite.ErrNotFound", err)
	}
	if err := s.RotateRefreshToken(ctx(t), req.GetID(), "rt-1"); !errors.Is(err, fosite.ErrInactiveToken) {
		t.Fatalf("second rotation error = %v, want ErrInactiveToken", err)
	}

	// The next pair of the same grant is live.
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-2", req))
	Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-2", "at-2", req))
	if _, err := s.GetRefreshTokenSession(ctx(t), "rt-2", newSession()); err != nil {
		t.Fatalf("new refresh token: %v", err)
	}
}

func testConcurrentRefreshRotation(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, time.Hour)
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-0", req))
	Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-0", "at-0", req))

	ok, errs := race(4, func(i int) error {
		tx, err := s.BeginTX(ctx(t))
		if err != nil {
			return err
		}
		suffix := string(rune('a' + i))
		for _, step := range []func() error{
			func() error { return s.RotateRefreshToken(tx, req.GetID(), "rt-0") },
			func() error { return s.CreateAccessTokenSession(tx, "at-"+suffix, req) },
			func() error { return s.CreateRefreshTokenSession(tx, "rt-"+suffix, "at-"+suffix, req) },
		} {
			if err := step(); err != nil {
				_ = s.Rollback(tx)
				return err
			}
		}
		return s.Commit(tx)
	})
	if ok != 1 {
		t.Fatalf("%d rotations succeeded, want exactly 1 (errors: %v)", ok, errs)
	}
	for _, err := range errs {
		if !errors.Is(err, fosite.ErrInactiveToken) {
			t.Errorf("losing rotation error = %v, want ErrInactiveToken", err)
		}
	}
}

func testRevokeByRequestID(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, time.Hour)
	other := newRequest(t, s, c, clock, time.Hour)
	for _, sig := range []string{"a", "b"} {
		Must(t, s.CreateAccessTokenSession(ctx(t), "at-"+sig, req))
		Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-"+sig, "at-"+sig, req))
	}
	Must(t, s.CreateAccessTokenSession(ctx(t), "at-other", other))
	Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-other", "at-other", other))

	Must(t, s.RevokeAccessToken(ctx(t), req.GetID()))
	Must(t, s.RevokeRefreshToken(ctx(t), req.GetID()))
	for _, sig := range []string{"a", "b"} {
		if _, err := s.GetAccessTokenSession(ctx(t), "at-"+sig, newSession()); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("revoked access token %s error = %v, want fosite.ErrNotFound", sig, err)
		}
		if _, err := s.GetRefreshTokenSession(ctx(t), "rt-"+sig, newSession()); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("revoked refresh token %s error = %v, want fosite.ErrNotFound", sig, err)
		}
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "at-other", newSession()); err != nil {
		t.Errorf("another grant's access token was revoked too: %v", err)
	}
	if _, err := s.GetRefreshTokenSession(ctx(t), "rt-other", newSession()); err != nil {
		t.Errorf("another grant's refresh token was revoked too: %v", err)
	}
}

func testExpiredRowsInactive(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, time.Minute)
	Must(t, s.CreateAuthorizeCodeSession(ctx(t), "code", req))
	Must(t, s.CreateAccessTokenSession(ctx(t), "at", req))
	Must(t, s.CreateRefreshTokenSession(ctx(t), "rt", "at", req))
	Must(t, s.CreatePKCERequestSession(ctx(t), "code", req))
	Must(t, s.CreateOpenIDConnectSession(ctx(t), "ac_live_code", req))
	u, err := s.CreateUser(ctx(t), "expiry@example.com", "E", "a long password")
	Must(t, err)
	token, _, err := s.CreateLoginSession(ctx(t), u.ID, "", time.Minute, "", "")
	Must(t, err)
	flow := &storage.AuthFlow{ClientID: c.ID, Form: "client_id=" + c.ID}
	Must(t, s.CreateFlow(ctx(t), flow, time.Minute))

	clock.Advance(time.Minute) // expiry is exclusive: a row expiring now is expired

	checks := []struct {
		name string
		get  func() error
	}{
		{"authorization code", func() error { _, err := s.GetAuthorizeCodeSession(ctx(t), "code", newSession()); return err }},
		{"access token", func() error { _, err := s.GetAccessTokenSession(ctx(t), "at", newSession()); return err }},
		{"refresh token", func() error { _, err := s.GetRefreshTokenSession(ctx(t), "rt", newSession()); return err }},
		{"pkce session", func() error { _, err := s.GetPKCERequestSession(ctx(t), "code", newSession()); return err }},
		{"openid connect session", func() error {
			_, err := s.GetOpenIDConnectSession(ctx(t), "ac_live_code", fosite.NewAccessRequest(newSession()))
			return err
		}},
	}
	for _, c := range checks {
		if err := c.get(); !errors.Is(err, fosite.ErrNotFound) {
			t.Errorf("expired %s error = %v, want fosite.ErrNotFound", c.name, err)
		}
	}
	if _, err := s.LoginSessionByToken(ctx(t), token); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("expired login session error = %v, want ErrNotFound", err)
	}
	if _, err := s.Flow(ctx(t), flow.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("expired flow error = %v, want ErrNotFound", err)
	}
}

func testFormSecretsStripped(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, time.Hour)
	req.Form = url.Values{
		"grant_type":    {"authorization_code"},
		"client_secret": {"do-not-store-me"},
		"code_verifier": {"do-not-store-me"},
		"subject_token": {"sk_live_do-not-store-me"},
		"refresh_token": {"rt_live_do-not-store-me"},
	}
	Must(t, s.CreateAccessTokenSession(ctx(t), "at", req))
	var form string
	Must(t, s.DB().Raw("SELECT form FROM oauth_access_tokens WHERE signature = ?", "at").Scan(&form).Error)
	if strings.Contains(form, "do-not-store-me") {
		t.Fatalf("stored form %q holds a secret", form)
	}
	if !strings.Contains(form, "grant_type=authorization_code") {
		t.Fatalf("stored form %q lost grant_type", form)
	}
}

func testPKCEAndOIDC(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	req := newRequest(t, s, c, clock, 10*time.Minute)
	req.Form.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
	req.Form.Set("code_challenge_method", "S256")
	Must(t, s.CreatePKCERequestSession(ctx(t), "code-sig", req))
	got, err := s.GetPKCERequestSession(ctx(t), "code-sig", newSession())
	Must(t, err)
	if got.GetRequestForm().Get("code_challenge") != req.Form.Get("code_challenge") {
		t.Fatalf("code_challenge = %q", got.GetRequestForm().Get("code_challenge"))
	}
	Must(t, s.DeletePKCERequestSession(ctx(t), "code-sig"))
	if _, err := s.GetPKCERequestSession(ctx(t), "code-sig", newSession()); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("deleted pkce session error = %v", err)
	}

	Must(t, s.CreateOpenIDConnectSession(ctx(t), "ac_live_the-code.sig", req))
	holder := fosite.NewAccessRequest(newSession())
	oidc, err := s.GetOpenIDConnectSession(ctx(t), "ac_live_the-code.sig", holder)
	Must(t, err)
	sess := oidc.GetSession().(*openid.DefaultSession)
	if sess.Claims.Nonce != "n-0S6_WzA2Mj" || sess.Claims.Extra["org"] != "org_1" {
		t.Fatalf("openid session claims = %+v", sess.Claims)
	}
	var stored int64
	Must(t, s.DB().Raw("SELECT COUNT(*) FROM oauth_oidc_sessions WHERE signature LIKE ?", "%the-code%").Scan(&stored).Error)
	if stored != 0 {
		t.Fatal("the authorization code itself is stored as a key; it must be hashed")
	}
	Must(t, s.DeleteOpenIDConnectSession(ctx(t), "ac_live_the-code.sig"))
	if _, err := s.GetOpenIDConnectSession(ctx(t), "ac_live_the-code.sig", holder); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("deleted openid session error = %v", err)
	}
}

func testJTIReplay(t *testing.T, s *storage.Store, clock *Clock) {
	Must(t, s.ClientAssertionJWTValid(ctx(t), "jti-1"))
	Must(t, s.SetClientAssertionJWT(ctx(t), "jti-1", clock.Now().Add(time.Minute)))
	if err := s.ClientAssertionJWTValid(ctx(t), "jti-1"); !errors.Is(err, fosite.ErrJTIKnown) {
		t.Fatalf("known jti error = %v, want ErrJTIKnown", err)
	}
	if err := s.SetClientAssertionJWT(ctx(t), "jti-1", clock.Now().Add(time.Minute)); !errors.Is(err, fosite.ErrJTIKnown) {
		t.Fatalf("recording a known jti error = %v, want ErrJTIKnown", err)
	}
	clock.Advance(2 * time.Minute)
	Must(t, s.ClientAssertionJWTValid(ctx(t), "jti-1"))
	Must(t, s.SetClientAssertionJWT(ctx(t), "jti-1", clock.Now().Add(time.Minute)))
}

func testFlows(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	f := &storage.AuthFlow{ClientID: c.ID, Form: "client_id=" + c.ID + "&response_type=code", RequestedAt: clock.Now()}
	Must(t, s.CreateFlow(ctx(t), f, 30*time.Minute))
	if len(f.ID) < 32 {
		t.Fatalf("flow id %q is too short to be unguessable", f.ID)
	}
	got, err := s.Flow(ctx(t), f.ID)
	Must(t, err)
	if got.Form != f.Form || got.Subject != "" || got.AuthTime != nil || !got.RequestedAt.Equal(clock.Now()) {
		t.Fatalf("flow = %+v", got)
	}
	Must(t, s.SetFlowLogin(ctx(t), f.ID, "usr_alice", clock.Now()))
	got, err = s.Flow(ctx(t), f.ID)
	Must(t, err)
	if got.Subject != "usr_alice" || got.AuthTime == nil || !got.AuthTime.Equal(clock.Now()) {
		t.Fatalf("flow after login = %+v", got)
	}
	ok, errs := race(3, func(int) error {
		deleted, err := s.DeleteFlow(ctx(t), f.ID)
		if err != nil {
			return err
		}
		if !deleted {
			return storage.ErrNotFound
		}
		return nil
	})
	if ok != 1 {
		t.Fatalf("%d deletions won, want exactly 1 (%v)", ok, errs)
	}
}
