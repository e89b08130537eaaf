package storagetest

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/ajrly/ajrly-auth/storage"
)

// Open returns an empty, migrated store whose clock is now.
type Open func(t testing.TB, now func() time.Time) *storage.Store

type testCase struct {
	name string
	run  func(t *testing.T, s *storage.Store, clock *Clock)
}

// Run runs every conformance case against stores made by open.
func Run(t *testing.T, open Open) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clock := NewClock()
			c.run(t, open(t, clock.Now), clock)
		})
	}
}

var cases = []testCase{
	{"migrations are recorded and a second run applies nothing", testMigrateIdempotent},
	{"a database newer than the binary is refused", testNewerDatabaseRefused},
	{"clients are created read updated listed and deleted", testClientCRUD},
	{"a client change is seen at once through the cache", testClientCacheInvalidation},
	{"deleting a client removes its codes and tokens and no one else's", testDeleteClientRemovesTokens},
	{"a client's registration metadata, keys and former secrets round-trip", testClientRegistration},
	{"users have unique case-insensitive emails and argon2id passwords", testUsers},
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
	{"login sessions are found by token only until they expire", testLoginSessions},
	{"authorization flows are answered at most once", testFlows},
	{"consents are saved per organization, replaced and listed", testConsents},
	{"revoking a consent removes that person's tokens of that app only", testRevokeConsent},
	{"organizations have unique names, members with roles, and sign-up is atomic", testOrganizations},
	{"failed sign-ins slow down with growing delays that stop at a maximum", testThrottle},
	{"api keys are found by digest in one lookup, listed, rotated and revoked", testAPIKeys},
	{"key usage is counted in memory and flushed in batches without losing counts", testUsageFlush},
	{"signing keys rotate once however many rotate at once, and are listed until their expiry", testSigningKeys},
	{"replacing signing keys withdraws the old ones at once", testReplaceSigningKeys},
	{"the janitor removes expired rows and keeps live ones", testJanitor},
}

func ctx(t *testing.T) context.Context { return t.Context() }

// newClient stores a confidential client and returns it.
func newClient(t *testing.T, s *storage.Store) *storage.Client {
	t.Helper()
	c := &storage.Client{
		ID:                      storage.NewID("cl"),
		Name:                    "Example App",
		SecretDigest:            storage.Digest("s3cret-s3cret-s3cret-s3cret-s3cret"),
		RedirectURIs:            storage.Strings{"https://app.example.com/callback"},
		GrantTypes:              storage.Strings{"authorization_code", "refresh_token"},
		ResponseTypes:           storage.Strings{"code"},
		Scopes:                  storage.Strings{"openid", "offline_access", "read"},
		Audience:                storage.Strings{},
		TokenEndpointAuthMethod: "client_secret_basic",
	}
	Must(t, s.CreateClient(ctx(t), c))
	return c
}

// newRequest builds a fosite request for client whose tokens expire in ttl.
func newRequest(t *testing.T, s *storage.Store, c fosite.Client, clock *Clock, ttl time.Duration) *fosite.Request {
	t.Helper()
	sess := &openid.DefaultSession{
		Subject: "usr_alice",
		Claims: &jwt.IDTokenClaims{
			Subject:     "usr_alice",
			Issuer:      "https://auth.example.com",
			Nonce:       "n-0S6_WzA2Mj",
			AuthTime:    clock.Now().Add(-time.Minute),
			RequestedAt: clock.Now(),
			Extra:       map[string]any{"org": "org_1"},
		},
		Headers: &jwt.Headers{Extra: map[string]any{"kid": "k1"}},
	}
	for _, tt := range []fosite.TokenType{fosite.AuthorizeCode, fosite.AccessToken, fosite.RefreshToken} {
		sess.SetExpiresAt(tt, clock.Now().Add(ttl))
	}
	r := fosite.NewRequest()
	r.ID = storage.NewID("req")
	r.RequestedAt = clock.Now()
	r.Client = c
	r.RequestedScope = fosite.Arguments{"openid", "offline_access", "read"}
	r.GrantedScope = fosite.Arguments{"openid", "offline_access", "read"}
	r.RequestedAudience = fosite.Arguments{"https://api.example.com"}
	r.GrantedAudience = fosite.Arguments{"https://api.example.com"}
	r.Form = url.Values{"redirect_uri": {"https://app.example.com/callback"}, "scope": {"openid offline_access read"}}
	r.Session = sess
	return r
}

func newSession() *openid.DefaultSession { return openid.NewDefaultSession() }

// compareRequests checks that a request read back equals the one stored.
func compareRequests(t *testing.T, want, got fosite.Requester) {
	t.Helper()
	if got.GetID() != want.GetID() {
		t.Errorf("request id = %q, want %q", got.GetID(), want.GetID())
	}
	if got.GetClient().GetID() != want.GetClient().GetID() {
		t.Errorf("client = %q, want %q", got.GetClient().GetID(), want.GetClient().GetID())
	}
	if !got.GetRequestedAt().Equal(want.GetRequestedAt()) {
		t.Errorf("requested_at = %v, want %v", got.GetRequestedAt(), want.GetRequestedAt())
	}
	if diff := cmp.Diff(want.GetGrantedScopes(), got.GetGrantedScopes()); diff != "" {
		t.Errorf("granted scopes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.GetRequestedScopes(), got.GetRequestedScopes()); diff != "" {
		t.Errorf("requested scopes (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.GetGrantedAudience(), got.GetGrantedAudience()); diff != "" {
		t.Errorf("granted audience (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want.GetRequestForm(), got.GetRequestForm()); diff != "" {
		t.Errorf("form (-want +got):\n%s", diff)
	}
	timeEqual := cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) })
	if diff := cmp.Diff(want.GetSession(), got.GetSession(), timeEqual, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
}

func testMigrateIdempotent(t *testing.T, s *storage.Store, _ *Clock) {
	v, err := s.Version(ctx(t))
	Must(t, err)
	if v != storage.SchemaVersion() {
		t.Fatalf("version = %d, want %d", v, storage.SchemaVersion())
	}
	applied, err := s.Migrate(ctx(t))
	Must(t, err)
	if len(applied) != 0 {
		t.Fatalf("second migrate applied %v, want nothing", applied)
	}
	Must(t, s.CheckVersion(ctx(t)))
}

func testNewerDatabaseRefused(t *testing.T, s *storage.Store, _ *Clock) {
	Must(t, s.DB().Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
		storage.SchemaVersion()+1, "from the future", time.Now().UTC()).Error)
	_, err := s.Migrate(ctx(t))
	if !errors.Is(err, storage.ErrDatabaseNewer) {
		t.Fatalf("migrate error = %v, want ErrDatabaseNewer", err)
	}
	if !strings.Contains(err.Error(), "newer ajrly-auth") {
		t.Errorf("message %q does not say what to do", err)
	}
	if err := s.CheckVersion(ctx(t)); !errors.Is(err, storage.ErrDatabaseNewer) {
		t.Fatalf("check version error = %v, want ErrDatabaseNewer", err)
	}
}

func testClientCRUD(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	got, err := s.FindClient(ctx(t), c.ID)
	Must(t, err)
	ignoreTimes := cmp.Options{cmpopts.IgnoreFields(storage.Client{}, "CreatedAt", "UpdatedAt"), cmpopts.IgnoreUnexported(storage.Client{})}
	if diff := cmp.Diff(c, got, ignoreTimes, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("read back (-want +got):\n%s", diff)
	}
	if got.CreatedAt.IsZero() {
		t.Error("created_at not set")
	}

	got.Name = "Renamed App"
	got.RedirectURIs = append(got.RedirectURIs, "http://127.0.0.1/callback")
	Must(t, s.UpdateClient(ctx(t), got))
	again, err := s.FindClient(ctx(t), c.ID)
	Must(t, err)
	if diff := cmp.Diff(got, again, ignoreTimes, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("after update (-want +got):\n%s", diff)
	}

	clock.Advance(time.Second)
	other := newClient(t, s)
	list, err := s.ListClients(ctx(t))
	Must(t, err)
	if len(list) != 2 || list[0].ID != c.ID || list[1].ID != other.ID {
		t.Fatalf("list = %v, want [%s %s]", ids(list), c.ID, other.ID)
	}

	Must(t, s.DeleteClient(ctx(t), c.ID))
	if _, err := s.FindClient(ctx(t), c.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("find deleted client error = %v, want ErrNotFound", err)
	}
	if _, err := s.GetClient(ctx(t), c.ID); !errors.Is(err, fosite.ErrNotFound) {
		t.Fatalf("GetClient of deleted client error = %v, want fosite.ErrNotFound", err)
	}
	if err := s.DeleteClient(ctx(t), c.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("second delete error = %v, want ErrNotFound", err)
	}
	if err := s.CreateClient(ctx(t), &storage.Client{ID: other.ID, Name: "dup", TokenEndpointAuthMethod: "none"}); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate id error = %v, want ErrConflict", err)
	}
}

func ids(cs []storage.Client) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.ID)
	}
	return out
}

func testClientCacheInvalidation(t *testing.T, s *storage.Store, _ *Clock) {
	c := newClient(t, s)
	if _, err := s.GetClient(ctx(t), c.ID); err != nil { // warm the cache
		t.Fatal(err)
	}
	updated := *c
	updated.SecretDigest = storage.Digest("a-new-secret-a-new-secret-a-new-secret")
	Must(t, s.UpdateClient(ctx(t), &updated))
	got, err := s.GetClient(ctx(t), c.ID)
	Must(t, err)
	if !storage.DigestEqual(got.GetHashedSecret(), "a-new-secret-a-new-secret-a-new-secret") {
		t.Fatal("cached client still has the old secret after an update")
	}
}

func testClientRegistration(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	c.OrgID = "org_1"
	c.Metadata = storage.ClientMetadata{LogoURI: "https://app.example.com/logo.png", ClientURI: "https://app.example.com",
		PolicyURI: "https://app.example.com/privacy", TOSURI: "https://app.example.com/terms", Contacts: []string{"dev@example.com"},
		Extra: map[string]any{"software_statement_note": "kept"}}
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1","use":"sig","alg":"ES256"}]}`
	Must(t, c.SetJWKS(jwks))
	c.TokenEndpointAuthMethod, c.TokenEndpointAuthSigningAlg = "private_key_jwt", "ES256"
	c.RegistrationTokenDigest = storage.DigestHex("registration-token")
	c.RotatedSecrets = storage.RotatedSecrets{{Digest: storage.DigestHex("old-secret"), ExpiresAt: clock.Now().Add(time.Hour)}}
	Must(t, s.UpdateClient(ctx(t), c))

	got, err := s.FindClient(ctx(t), c.ID)
	Must(t, err)
	if diff := cmp.Diff(c.Metadata, got.Metadata); diff != "" {
		t.Errorf("metadata (-want +got):\n%s", diff)
	}
	if got.GetJSONWebKeys() == nil || len(got.GetJSONWebKeys().Key("k1")) != 1 || got.GetTokenEndpointAuthSigningAlgorithm() != "ES256" {
		t.Errorf("keys read back: %+v", got.GetJSONWebKeys())
	}
	if got.RegistrationTokenDigest != c.RegistrationTokenDigest || got.OrgID != "org_1" {
		t.Errorf("client = %+v", got)
	}
	if !got.SecretMatches("old-secret", clock.Now()) || got.SecretMatches("old-secret", clock.Now().Add(time.Hour)) {
		t.Error("a former secret is not accepted exactly during its grace period")
	}
	if !got.SecretMatches("s3cret-s3cret-s3cret-s3cret-s3cret", clock.Now()) || got.SecretMatches("nope", clock.Now()) {
		t.Error("the current secret is not matched exactly")
	}
	if err := got.SetJWKS("{not json"); err == nil {
		t.Error("a broken key set was accepted")
	}
	list, err := s.ListOrgClients(ctx(t), "org_1")
	Must(t, err)
	if len(list) != 1 || list[0].ID != c.ID {
		t.Errorf("clients of org_1 = %v", ids(list))
	}

	exp := clock.Now().Add(time.Hour)
	iat := &storage.InitialAccessToken{ID: storage.NewID("iat"), Digest: storage.DigestHex("initial"), OrgID: "org_1", CreatedAt: clock.Now(), ExpiresAt: &exp}
	Must(t, s.CreateInitialAccessToken(ctx(t), iat))
	found, err := s.InitialAccessTokenByDigest(ctx(t), storage.DigestHex("initial"))
	Must(t, err)
	if !found.Usable(clock.Now()) || found.Usable(exp) {
		t.Errorf("initial access token usable: %+v", found)
	}
	Must(t, s.RevokeInitialAccessToken(ctx(t), "org_1", iat.ID))
	found, _ = s.InitialAccessTokenByDigest(ctx(t), storage.DigestHex("initial"))
	if found.Usable(clock.Now()) {
		t.Error("a revoked initial access token is usable")
	}
	if err := s.RevokeInitialAccessToken(ctx(t), "org_2", iat.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("revoking another organization's token: %v", err)
	}
}

func testDeleteClientRemovesTokens(t *testing.T, s *storage.Store, clock *Clock) {
	doomed, other := newClient(t, s), newClient(t, s)
	for _, c := range []*storage.Client{doomed, other} {
		req := newRequest(t, s, c, clock, time.Hour)
		Must(t, s.CreateAuthorizeCodeSession(ctx(t), "code-"+c.ID, req))
		Must(t, s.CreateAccessTokenSession(ctx(t), "at-"+c.ID, req))
		Must(t, s.CreateRefreshTokenSession(ctx(t), "rt-"+c.ID, "at-"+c.ID, req))
	}
	Must(t, s.DeleteClient(ctx(t), doomed.ID))
	var left int64
	for _, table := range []string{"oauth_authorize_codes", "oauth_access_tokens", "oauth_refresh_tokens"} {
		var n int64
		Must(t, s.DB().Raw("SELECT COUNT(*) FROM "+table+" WHERE client_id = ?", doomed.ID).Scan(&n).Error)
		left += n
	}
	if left != 0 {
		t.Fatalf("%d rows of the deleted client remain", left)
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "at-"+other.ID, newSession()); err != nil {
		t.Fatalf("another client's token went too: %v", err)
	}
}

func testUsers(t *testing.T, s *storage.Store, _ *Clock) {
	u, err := s.CreateUser(ctx(t), " Alice@Example.com ", "Alice", "correct horse battery")
	Must(t, err)
	if u.Email != "alice@example.com" {
		t.Errorf("email stored as %q, want it normalised", u.Email)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, "correct horse") {
		t.Errorf("password hash %q is not an argon2id hash", u.PasswordHash)
	}
	if _, err := s.CreateUser(ctx(t), "ALICE@example.com", "Other", "another password"); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate email error = %v, want ErrConflict", err)
	}
	got, err := s.AuthenticateUser(ctx(t), "alice@EXAMPLE.com", "correct horse battery")
	Must(t, err)
	if got.ID != u.ID {
		t.Fatalf("authenticated %s, want %s", got.ID, u.ID)
	}
	for _, tc := range []struct{ name, email, password string }{
		{"wrong password", "alice@example.com", "wrong password!"},
		{"unknown email", "bob@example.com", "correct horse battery"},
		{"empty password", "alice@example.com", ""},
	} {
		if _, err := s.AuthenticateUser(ctx(t), tc.email, tc.password); !errors.Is(err, storage.ErrInvalidCredentials) {
			t.Errorf("%s: error = %v, want ErrInvalidCredentials", tc.name, err)
		}
	}
	byID, err := s.UserByID(ctx(t), u.ID)
	Must(t, err)
	if byID.Email != u.Email || byID.Name != "Alice" {
		t.Errorf("UserByID = %+v", byID)
	}
	if _, err := s.UserByID(ctx(t), "usr_nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown user error = %v, want ErrNotFound", err)
	}
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

// race runs fn n times at once and returns how many returned nil.
func race(n int, fn func(i int) error) (ok int, errs []error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			err := fn(i)
			mu.Lock()
			defer mu.Unlock()
			if err == nil {
				ok++
			} else {
				errs = append(errs, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	return ok, errs
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

func testOrganizations(t *testing.T, s *storage.Store, _ *Clock) {
	owner, err := s.CreateUser(ctx(t), "owner@example.com", "O", "a long password")
	Must(t, err)
	member, err := s.CreateUser(ctx(t), "member@example.com", "M", "a long password")
	Must(t, err)
	org, err := s.CreateOrganization(ctx(t), "  Acme   Corp ", owner.ID)
	Must(t, err)
	if org.Name != "Acme Corp" {
		t.Errorf("name stored as %q", org.Name)
	}
	if _, err := s.CreateOrganization(ctx(t), "acme corp", member.ID); !errors.Is(err, storage.ErrOrgNameTaken) {
		t.Fatalf("a taken name (other case) error = %v, want ErrOrgNameTaken", err)
	}
	found, err := s.OrganizationByName(ctx(t), "ACME CORP")
	Must(t, err)
	if found.ID != org.ID {
		t.Fatalf("found %s, want %s", found.ID, org.ID)
	}
	Must(t, s.AddMember(ctx(t), org.ID, member.ID, storage.RoleMember))
	if err := s.AddMember(ctx(t), org.ID, member.ID, storage.RoleAdmin); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("adding a member twice: %v, want ErrConflict", err)
	}
	orgs, err := s.UserOrganizations(ctx(t), member.ID)
	Must(t, err)
	if len(orgs) != 1 || orgs[0].ID != org.ID || orgs[0].Role != storage.RoleMember || orgs[0].Name != "Acme Corp" {
		t.Fatalf("member's organizations = %+v", orgs)
	}
	m, err := s.MembershipOf(ctx(t), org.ID, owner.ID)
	Must(t, err)
	if m.Role != storage.RoleOwner {
		t.Fatalf("owner's role = %q", m.Role)
	}
	all, err := s.ListOrganizations(ctx(t))
	Must(t, err)
	if len(all) != 1 || all[0].Members != 2 {
		t.Fatalf("organizations = %+v", all)
	}

	// Sign-up creates the user and the organization together, or neither.
	u, o, err := s.SignUp(ctx(t), "new@example.com", "New", "a long password", "Initech")
	Must(t, err)
	if orgs, _ := s.UserOrganizations(ctx(t), u.ID); len(orgs) != 1 || orgs[0].ID != o.ID || orgs[0].Role != storage.RoleOwner {
		t.Fatalf("the new user's organizations = %+v", orgs)
	}
	if _, _, err := s.SignUp(ctx(t), "another@example.com", "A", "a long password", "initech"); !errors.Is(err, storage.ErrOrgNameTaken) {
		t.Fatalf("sign-up with a taken organization name: %v", err)
	}
	if _, err := s.UserByEmail(ctx(t), "another@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a failed sign-up left its user behind: %v", err)
	}
	if _, _, err := s.SignUp(ctx(t), "NEW@example.com", "N", "a long password", "Hooli"); !errors.Is(err, storage.ErrEmailTaken) {
		t.Fatalf("sign-up with a taken email: %v", err)
	}
	if _, err := s.OrganizationByName(ctx(t), "Hooli"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a failed sign-up left its organization behind: %v", err)
	}
}

func testThrottle(t *testing.T, s *storage.Store, clock *Clock) {
	p := storage.ThrottlePolicy{Free: 3, Base: time.Second, Max: 8 * time.Second, Window: 15 * time.Minute}
	for i := 1; i <= 3; i++ {
		until, err := s.RecordFailure(ctx(t), "acct:a", p)
		Must(t, err)
		if !until.IsZero() {
			t.Fatalf("failure %d blocked until %v; the first %d are free", i, until, p.Free)
		}
	}
	var delays []time.Duration
	for range 5 {
		until, err := s.RecordFailure(ctx(t), "acct:a", p)
		Must(t, err)
		delays = append(delays, until.Sub(clock.Now()))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second}
	if diff := cmp.Diff(want, delays); diff != "" {
		t.Fatalf("delays grow and stop at Max (-want +got):\n%s", diff)
	}
	until, err := s.BlockedUntil(ctx(t), "ip:192.0.2.1", "acct:a")
	Must(t, err)
	if !until.Equal(clock.Now().Add(8 * time.Second)) {
		t.Fatalf("blocked until %v", until)
	}
	clock.Advance(9 * time.Second)
	if until, _ := s.BlockedUntil(ctx(t), "acct:a"); !until.IsZero() {
		t.Fatalf("still blocked after the delay: %v", until)
	}
	// A new window forgets the old failures.
	clock.Advance(p.Window)
	if until, _ := s.RecordFailure(ctx(t), "acct:a", p); !until.IsZero() {
		t.Fatalf("the first failure of a new window blocks until %v", until)
	}
	// A success clears the count.
	for range 4 {
		_, err := s.RecordFailure(ctx(t), "acct:b", p)
		Must(t, err)
	}
	Must(t, s.ClearFailures(ctx(t), "acct:b"))
	if until, _ := s.BlockedUntil(ctx(t), "acct:b"); !until.IsZero() {
		t.Fatalf("blocked after a clear: %v", until)
	}
	// Concurrent failures are all counted.
	ok, errs := race(8, func(int) error { _, err := s.RecordFailure(ctx(t), "acct:c", p); return err })
	if ok != 8 {
		t.Fatalf("concurrent failures: %v", errs)
	}
	until, err = s.RecordFailure(ctx(t), "acct:c", p)
	Must(t, err)
	if got := until.Sub(clock.Now()); got != p.Max {
		t.Fatalf("after 9 failures blocked for %v, want %v", got, p.Max)
	}
}

// newAPIKey stores a key for user in org with the digest of secret.
func newAPIKey(t *testing.T, s *storage.Store, clock *Clock, org, user, name, secret string) *storage.APIKey {
	t.Helper()
	k := &storage.APIKey{ID: storage.NewID("key"), OrgID: org, UserID: user, Name: name,
		Digest: storage.DigestHex(secret), Prefix: secret[8:12], Last4: secret[len(secret)-4:],
		Scopes: "read projects:write", CreatedAt: clock.Now()}
	Must(t, s.CreateAPIKey(ctx(t), k))
	return k
}

func testAPIKeys(t *testing.T, s *storage.Store, clock *Clock) {
	owner, err := s.CreateUser(ctx(t), "owner@example.com", "Owner", "a long password")
	Must(t, err)
	member, err := s.CreateUser(ctx(t), "member@example.com", "Member", "a long password")
	Must(t, err)
	org, err := s.CreateOrganization(ctx(t), "Acme", owner.ID)
	Must(t, err)
	Must(t, s.AddMember(ctx(t), org.ID, member.ID, storage.RoleMember))

	const secret = "sk_live_abcdEFGH0123456789abcdefghijklmnopqrstuvw"
	k := newAPIKey(t, s, clock, org.ID, owner.ID, "CI deploys", secret)
	if k.Hint() != "sk_live_abcd…tuvw" {
		t.Errorf("hint = %q", k.Hint())
	}
	got, err := s.APIKeyByDigest(ctx(t), storage.DigestHex(secret))
	Must(t, err)
	if got.ID != k.ID || got.Name != "CI deploys" || got.State(clock.Now()) != storage.KeyActive || !got.CreatedAt.Equal(clock.Now()) {
		t.Fatalf("by digest = %+v", got)
	}
	if _, err := s.APIKeyByDigest(ctx(t), storage.DigestHex(secret+"x")); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("unknown digest: %v", err)
	}
	var stored int64
	Must(t, s.DB().Raw("SELECT COUNT(*) FROM api_keys WHERE digest LIKE ? OR name LIKE ?", "%abcdEFGH%", "%abcdEFGH%").Scan(&stored).Error)
	if stored != 0 {
		t.Fatal("the key itself is stored")
	}

	clock.Advance(time.Second)
	mine := newAPIKey(t, s, clock, org.ID, member.ID, "laptop", "sk_live_ZYXW9876543210zyxwvutsrqponmlkjihgfedcbaAB")
	all, err := s.ListAPIKeys(ctx(t), org.ID, "")
	Must(t, err)
	if len(all) != 2 || all[0].ID != mine.ID || all[0].CreatorEmail != "member@example.com" || all[1].OrgName != "Acme" {
		t.Fatalf("list = %+v", all)
	}
	own, err := s.ListAPIKeys(ctx(t), org.ID, member.ID)
	Must(t, err)
	if len(own) != 1 || own[0].ID != mine.ID {
		t.Fatalf("the member's own keys = %+v", own)
	}

	// Rotation: the old key works for the grace period, then expires.
	next := &storage.APIKey{ID: storage.NewID("key"), OrgID: org.ID, UserID: owner.ID, Name: "CI deploys",
		Digest: storage.DigestHex("rotated"), Prefix: "rota", Last4: "ated", Scopes: k.Scopes, CreatedAt: clock.Now()}
	Must(t, s.RotateAPIKey(ctx(t), k.ID, next, time.Hour))
	old, _ := s.APIKeyByID(ctx(t), k.ID)
	if old.ReplacedBy != next.ID || old.State(clock.Now()) != storage.KeyActive || old.State(clock.Now().Add(time.Hour)) != storage.KeyExpired {
		t.Fatalf("rotated key = %+v", old)
	}
	if err := s.RotateAPIKey(ctx(t), k.ID, &storage.APIKey{ID: "key_x", OrgID: org.ID, UserID: owner.ID, Digest: "d"}, 0); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("rotating a rotated key: %v", err)
	}
	// No grace: revoked at once.
	third := &storage.APIKey{ID: storage.NewID("key"), OrgID: org.ID, UserID: member.ID, Name: "laptop",
		Digest: storage.DigestHex("third"), Prefix: "thir", Last4: "hird", Scopes: "read", CreatedAt: clock.Now()}
	Must(t, s.RotateAPIKey(ctx(t), mine.ID, third, 0))
	if m, _ := s.APIKeyByID(ctx(t), mine.ID); m.State(clock.Now()) != storage.KeyRevoked {
		t.Fatalf("a rotation without grace left the key %s", m.State(clock.Now()))
	}

	Must(t, s.RevokeAPIKey(ctx(t), next.ID))
	if n, _ := s.APIKeyByID(ctx(t), next.ID); n.State(clock.Now()) != storage.KeyRevoked {
		t.Fatal("a revoked key is not revoked")
	}
	if err := s.RevokeAPIKey(ctx(t), next.ID); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("revoking twice: %v", err)
	}
	// An expiry in the past is expired.
	past := clock.Now().Add(-time.Minute)
	exp := &storage.APIKey{ID: storage.NewID("key"), OrgID: org.ID, UserID: owner.ID, Name: "old", Digest: storage.DigestHex("exp"),
		Prefix: "expi", Last4: "ired", Scopes: "read", CreatedAt: clock.Now(), ExpiresAt: &past}
	Must(t, s.CreateAPIKey(ctx(t), exp))
	if e, _ := s.APIKeyByDigest(ctx(t), storage.DigestHex("exp")); e.State(clock.Now()) != storage.KeyExpired {
		t.Fatal("an expired key is not expired")
	}
}

func testUsageFlush(t *testing.T, s *storage.Store, clock *Clock) {
	owner, err := s.CreateUser(ctx(t), "owner@example.com", "Owner", "a long password")
	Must(t, err)
	org, err := s.CreateOrganization(ctx(t), "Acme", owner.ID)
	Must(t, err)
	a := newAPIKey(t, s, clock, org.ID, owner.ID, "a", "sk_live_aaaa0000000000000000000000000000000000aaaa")
	b := newAPIKey(t, s, clock, org.ID, owner.ID, "b", "sk_live_bbbb0000000000000000000000000000000000bbbb")
	u := s.NewUsageCounter()

	// Counting writes nothing.
	for range 5 {
		u.Record(a.ID)
	}
	u.Record(b.ID)
	if got, _ := s.APIKeyUsage(ctx(t), []string{a.ID, b.ID}, clock.Now()); len(got) != 0 {
		t.Fatalf("usage written before a flush: %v", got)
	}
	Must(t, u.Flush(ctx(t)))
	clock.Advance(24 * time.Hour) // a new day
	ok, errs := race(8, func(int) error { u.Record(a.ID); return nil })
	if ok != 8 {
		t.Fatal(errs)
	}
	Must(t, u.Flush(ctx(t)))
	Must(t, u.Flush(ctx(t))) // nothing left: a no-op

	got, err := s.APIKeyUsage(ctx(t), []string{a.ID, b.ID}, clock.Now().Add(-48*time.Hour))
	Must(t, err)
	today, yesterday := storage.UsageDay(clock.Now()), storage.UsageDay(clock.Now().Add(-24*time.Hour))
	want := map[string]map[string]int64{a.ID: {yesterday: 5, today: 8}, b.ID: {yesterday: 1}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("usage (-want +got):\n%s", diff)
	}
	k, _ := s.APIKeyByID(ctx(t), a.ID)
	if k.LastUsedAt == nil || !k.LastUsedAt.Equal(clock.Now()) {
		t.Fatalf("last used = %v, want %v", k.LastUsedAt, clock.Now())
	}

	// A flush that fails keeps its counts for the next one.
	u.Record(b.ID)
	failing, cancel := context.WithCancel(ctx(t))
	cancel()
	if err := u.Flush(failing); err == nil {
		t.Fatal("a flush with a cancelled context succeeded")
	}
	if u.Pending() != 1 {
		t.Fatalf("pending after a failed flush = %d, want 1", u.Pending())
	}
	Must(t, u.Flush(ctx(t)))
	got, _ = s.APIKeyUsage(ctx(t), []string{b.ID}, clock.Now())
	if got[b.ID][today] != 1 {
		t.Fatalf("the count kept through a failed flush was lost: %v", got)
	}

	// A key deleted before the flush does not make the batch fail.
	c := newAPIKey(t, s, clock, org.ID, owner.ID, "c", "sk_live_cccc0000000000000000000000000000000000cccc")
	u.Record(c.ID)
	u.Record(a.ID)
	Must(t, s.DB().Exec("DELETE FROM api_keys WHERE id = ?", c.ID).Error)
	Must(t, u.Flush(ctx(t)))
	got, _ = s.APIKeyUsage(ctx(t), []string{a.ID}, clock.Now())
	if got[a.ID][today] != 9 {
		t.Fatalf("after a flush with a deleted key: %v", got)
	}
}

func signingKey(kid, alg string, clock *Clock) *storage.SigningKey {
	return &storage.SigningKey{KID: kid, Alg: alg, PublicJWK: `{"kty":"` + kid + `"}`, PrivateEnc: []byte(kid + "-sealed"), CreatedAt: clock.Now()}
}

func testSigningKeys(t *testing.T, s *storage.Store, clock *Clock) {
	Must(t, s.CreateSigningKey(ctx(t), signingKey("k1", "RS256", clock)))
	Must(t, s.CreateSigningKey(ctx(t), signingKey("e1", "ES256", clock)))
	clock.Advance(time.Second)

	// Five rotations of k1 at once: one stores its key, the others learn
	// they came second and store nothing.
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		won, lost int
	)
	for i := range 5 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.RotateSigningKey(ctx(t), signingKey(fmt.Sprintf("k2-%d", i), "RS256", clock), "k1", clock.Now().Add(10*time.Minute), clock.Now().Add(2*time.Hour))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, storage.ErrConflict):
				lost++
			default:
				t.Errorf("rotate: %v", err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || lost != 4 {
		t.Fatalf("5 concurrent rotations: %d stored, %d refused; want 1 and 4", won, lost)
	}
	keys, err := s.ListSigningKeys(ctx(t))
	Must(t, err)
	if len(keys) != 3 {
		t.Fatalf("after the rotation keys = %+v", keys)
	}
	var prev, next storage.SigningKey
	for _, k := range keys {
		switch {
		case k.KID == "k1":
			prev = k
		case k.Alg == "RS256":
			next = k
		}
	}
	if prev.RetiredAt == nil || !prev.RetiredAt.Equal(clock.Now().Add(10*time.Minute)) ||
		prev.ExpiresAt == nil || !prev.ExpiresAt.Equal(clock.Now().Add(2*time.Hour)) {
		t.Fatalf("k1 retires at %v and expires at %v", prev.RetiredAt, prev.ExpiresAt)
	}
	if next.RetiredAt != nil || string(next.PrivateEnc) != next.KID+"-sealed" {
		t.Fatalf("the new key = %+v", next)
	}

	// A rotation of a key already replaced stores nothing.
	if err := s.RotateSigningKey(ctx(t), signingKey("k3", "RS256", clock), "k1", clock.Now(), clock.Now()); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("rotating a replaced key: %v, want ErrConflict", err)
	}
	clock.Advance(2 * time.Hour)
	keys, err = s.ListSigningKeys(ctx(t))
	Must(t, err)
	if len(keys) != 2 || keys[0].KID != "e1" || keys[1].KID != next.KID {
		t.Fatalf("after k1 expired keys = %+v", keys)
	}
}

func testReplaceSigningKeys(t *testing.T, s *storage.Store, clock *Clock) {
	Must(t, s.CreateSigningKey(ctx(t), signingKey("k1", "RS256", clock)))
	Must(t, s.CreateSigningKey(ctx(t), signingKey("e1", "ES256", clock)))
	clock.Advance(time.Second)
	Must(t, s.RotateSigningKey(ctx(t), signingKey("k2", "RS256", clock), "k1", clock.Now().Add(10*time.Minute), clock.Now().Add(time.Hour)))
	clock.Advance(time.Second)
	Must(t, s.ReplaceSigningKeys(ctx(t), signingKey("k3", "RS256", clock)))
	keys, err := s.ListSigningKeys(ctx(t))
	Must(t, err)
	var kids []string
	for _, k := range keys {
		kids = append(kids, k.KID)
	}
	if !slices.Equal(kids, []string{"e1", "k3"}) {
		t.Fatalf("after replacing the RS256 keys the published keys are %v, want e1 and k3", kids)
	}
}

func testJanitor(t *testing.T, s *storage.Store, clock *Clock) {
	c := newClient(t, s)
	old := newRequest(t, s, c, clock, time.Minute)
	live := newRequest(t, s, c, clock, time.Hour)
	for i := range 5 {
		sig := string(rune('a' + i))
		Must(t, s.CreateAccessTokenSession(ctx(t), "old-"+sig, old))
		Must(t, s.CreateRefreshTokenSession(ctx(t), "old-rt-"+sig, "old-"+sig, old))
	}
	Must(t, s.CreateAccessTokenSession(ctx(t), "live", live))
	Must(t, s.SetClientAssertionJWT(ctx(t), "old-jti", clock.Now().Add(time.Minute)))
	clock.Advance(2 * time.Minute)
	n, err := s.DeleteExpired(ctx(t), 2) // small batches: several rounds per table
	Must(t, err)
	if n != 11 {
		t.Fatalf("janitor removed %d rows, want 11", n)
	}
	if _, err := s.GetAccessTokenSession(ctx(t), "live", newSession()); err != nil {
		t.Fatalf("janitor removed a live token: %v", err)
	}
}
