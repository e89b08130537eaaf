package clients_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// FuzzRegistrationMetadata: whatever the body, ParseRegistration and
// ApplyRegistration never panic; a refusal is an RFC 7591 §3.2.2 error
// (invalid_redirect_uri or invalid_client_metadata) and leaves the client
// as it was; an accepted registration holds only what the server offers.
func FuzzRegistrationMetadata(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		reg, err := clients.Parse(body)
		if err != nil {
			checkRegistrationError(t, err)
			return
		}
		fresh := storage.Client{ID: "cl_fuzz", OrgID: "org_fuzz"}
		c := fresh
		if err := clients.Apply(reg, &c, clients.Options{}); err != nil {
			checkRegistrationError(t, err)
			if !reflect.DeepEqual(c, fresh) {
				t.Fatalf("a refused registration changed the client: %+v", c)
			}
			return
		}
		for _, u := range slices.Concat(c.RedirectURIs, c.PostLogoutRedirectURIs) {
			if err := clients.ValidateRedirectURI(u, true); err != nil {
				t.Fatalf("registered the redirect URI %q, which the rules refuse: %v", u, err)
			}
		}
		for _, s := range c.Scopes {
			if !slices.Contains(tenancy.Names(), s) {
				t.Fatalf("registered the unknown scope %q", s)
			}
		}
		for _, g := range c.GrantTypes {
			if !slices.Contains([]string{clients.GrantAuthorizationCode, clients.GrantRefreshToken,
				clients.GrantClientCredentials, clients.GrantTokenExchange}, g) {
				t.Fatalf("registered the unsupported grant type %q", g)
			}
		}
		if !slices.Contains([]string{clients.AuthSecretBasic, clients.AuthSecretPost, clients.AuthNone,
			clients.AuthPrivateKeyJWT}, c.TokenEndpointAuthMethod) {
			t.Fatalf("registered the unsupported token_endpoint_auth_method %q", c.TokenEndpointAuthMethod)
		}
		if c.Public != (c.TokenEndpointAuthMethod == clients.AuthNone) {
			t.Fatalf("public is %t with token_endpoint_auth_method %q", c.Public, c.TokenEndpointAuthMethod)
		}
		if _, err := json.Marshal(clients.Response(&c, "", "", "")); err != nil {
			t.Fatalf("the registration response does not encode: %v", err)
		}
	})
}

func checkRegistrationError(t *testing.T, err error) {
	t.Helper()
	var rerr fields.Error
	if !errors.As(err, &rerr) {
		t.Fatalf("error %v (%T) is not a fields.Error", err, err)
	}
	if rerr.Code != clients.ErrCodeInvalidClientMetadata && rerr.Code != clients.ErrCodeInvalidRedirectURI {
		t.Fatalf("error code %q is not an RFC 7591 §3.2.2 code", rerr.Code)
	}
	if rerr.Message == "" {
		t.Fatal("a registration error without a description")
	}
}
