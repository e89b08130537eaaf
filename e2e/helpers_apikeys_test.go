// API keys: a person who owns an organization and its keys (keyOwner),
// keys made and read in the store, and the exchange request that trades
// a key for a JWT.

package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/storage"
)

// keyPassword is the password of the people newKeyOwner makes.
const keyPassword = "a long enough password"

// keyOwner is a person with an organization and API keys.
type keyOwner struct {
	user *storage.User
	org  *storage.Organization
}

func (s *server) newKeyOwner(t testing.TB, email string) keyOwner {
	t.Helper()
	u, org := s.signUp(t, email, "Key Owner", "a long enough password", "Org of "+email)
	return keyOwner{user: u, org: org}
}

// newAPIKey creates a key with scopes (and an expiry when exp is non-nil)
// and returns it with its secret.
func (s *server) newAPIKey(t testing.TB, o keyOwner, scopes string, exp *time.Time) (*storage.APIKey, string) {
	t.Helper()
	k, secret, err := apikeys.New(apikeys.Spec{OrgID: o.org.ID, UserID: o.user.ID, Role: storage.RoleOwner,
		Name: "test key", Scopes: strings.Fields(scopes)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	k.ExpiresAt = exp // possibly in the past, which NewAPIKey refuses
	if err := s.Store.CreateAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return k, secret
}

func (s *server) keyBySecret(t testing.TB, secret string) *storage.APIKey {
	t.Helper()
	k, err := s.Store.APIKeyByDigest(context.Background(), storage.DigestHex(secret))
	if err != nil {
		t.Fatalf("the key shown is not stored: %v", err)
	}
	return k
}

// exchangeForm is an API-key exchange request's form.
func exchangeForm(key string, extra ...string) url.Values {
	f := url.Values{
		"grant_type":         {provider.GrantTypeTokenExchange},
		"subject_token":      {key},
		"subject_token_type": {provider.TokenTypeAPIKey},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}
