// What the cases of several domains build: a client, a fosite request
// and session, their comparison, and a race of concurrent calls.

package storagetest

import (
	"context"
	"net/url"
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
