package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
)

// The demo user and client that `make run` (serve --demo) creates once.
const (
	demoEmail    = "demo@example.com"
	demoPassword = "demo-password"
	demoClientID = "demo-client"
	demoOrg      = "Demo Organization"
	demoScope    = "openid profile email offline_access read write"
)

func demoClientIDIf(on bool) string {
	if on {
		return demoClientID
	}
	return ""
}

// demoInfo is what the demo prints.
type demoInfo struct {
	issuer       string
	clientSecret string
	redirectURI  string
}

// demoSecret derives the demo client's secret from the system secret, so
// it can be printed at every start without ever being stored.
func demoSecret(secret []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("ajrly demo client secret v1"))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// seedDemo creates the demo user and client if they are missing and keeps
// the client's redirect URI and secret in step with the issuer and secret.
func seedDemo(ctx context.Context, store *storage.Store, secret []byte, issuer string) (*demoInfo, error) {
	info := &demoInfo{issuer: issuer, clientSecret: demoSecret(secret), redirectURI: issuer + "/demo/callback"}
	if _, err := store.UserByEmail(ctx, demoEmail); errors.Is(err, storage.ErrNotFound) {
		_, err := accounts.New(store, accounts.Config{}).Create(ctx, accounts.Person{Email: demoEmail, Name: "Demo User",
			Password: demoPassword, Organization: demoOrg}, accounts.Options{})
		if err != nil && !errors.Is(err, storage.ErrConflict) {
			return nil, err
		}
	} else if err != nil {
		return nil, err
	}
	want := &storage.Client{
		ID:                      demoClientID,
		Name:                    "Demo App",
		SecretDigest:            storage.Digest(info.clientSecret),
		RedirectURIs:            storage.Strings{info.redirectURI},
		GrantTypes:              storage.Strings{"authorization_code", "refresh_token", "client_credentials"},
		ResponseTypes:           storage.Strings{"code"},
		Scopes:                  strings.Fields(demoScope),
		Audience:                storage.Strings{},
		TokenEndpointAuthMethod: "client_secret_basic",
		PostLogoutRedirectURIs:  storage.Strings{issuer + "/"},
	}
	have, err := store.FindClient(ctx, demoClientID)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		if err := store.CreateClient(ctx, want); err != nil && !errors.Is(err, storage.ErrConflict) {
			return nil, err
		}
	case err != nil:
		return nil, err
	case !storage.DigestEqual(have.SecretDigest, info.clientSecret) || !slices.Equal(have.RedirectURIs, want.RedirectURIs):
		want.CreatedAt = have.CreatedAt
		if err := store.UpdateClient(ctx, want); err != nil {
			return nil, err
		}
	}
	return info, nil
}

// print shows how to try the provider.
func (d *demoInfo) print(w io.Writer) {
	q := url.Values{}
	q.Set("client_id", demoClientID)
	q.Set("response_type", "code")
	q.Set("scope", demoScope)
	q.Set("redirect_uri", d.redirectURI)
	q.Set("state", "demo-state-123")
	q.Set("nonce", "demo-nonce-456")
	fmt.Fprintf(w, `
Ajrly Auth is running at %[1]s (demo mode)

  Demo user:    %[2]s / %[3]s
  Demo client:  %[4]s
  Its secret:   %[5]s

1. Open this URL in a browser, sign in as the demo user and click Allow:

   %[1]s/authorize?%[6]s

2. The demo callback page shows the code. Exchange it within 10 minutes:

   export AJRLY_DEMO_SECRET=%[5]s
   curl -s -u %[4]s:$AJRLY_DEMO_SECRET -d grant_type=authorization_code \
     -d code=PASTE_THE_CODE -d redirect_uri=%[7]s %[1]s/token

3. Or get a token for the client itself:

   curl -s -u %[4]s:$AJRLY_DEMO_SECRET -d grant_type=client_credentials -d scope=read %[1]s/token

`, d.issuer, demoEmail, demoPassword, demoClientID, d.clientSecret, q.Encode(), url.QueryEscape(d.redirectURI))
}
