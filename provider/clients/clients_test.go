package clients_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

func TestValidateRedirectURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		uri    string
		public bool
		ok     bool
	}{
		{"https is accepted", "https://app.example.com/callback", false, true},
		{"a query component is accepted", "https://app.example.com/callback?tenant=1", false, true},
		{"http on 127.0.0.1 is accepted", "http://127.0.0.1:8080/cb", false, true},
		{"http on [::1] is accepted", "http://[::1]/cb", false, true},
		{"http on localhost is accepted", "http://localhost:3000/cb", false, true},
		{"http on a public host is refused", "http://app.example.com/cb", false, false},
		{"a fragment is refused", "https://app.example.com/cb#frag", false, false},
		{"a wildcard is refused", "https://*.example.com/cb", false, false},
		{"a relative URI is refused", "/callback", false, false},
		{"a reverse-domain scheme is accepted for public clients", "com.example.app:/oauth", true, true},
		{"a reverse-domain scheme is refused for confidential clients", "com.example.app:/oauth", false, false},
		{"javascript: is refused", "javascript:alert(1)", true, false},
		{"https without a host is refused", "https:///cb", false, false},
		{"https with a port but no host is refused", "https://:443/cb", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := clients.ValidateRedirectURI(tc.uri, tc.public)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateRedirectURI(%q, public=%v) = %v, want ok=%v", tc.uri, tc.public, err, tc.ok)
			}
		})
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	c, secret, err := clients.New(clients.Spec{Name: " Web App ", RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "Web App" || c.TokenEndpointAuthMethod != "client_secret_basic" || c.Public {
		t.Errorf("client = %+v", c)
	}
	if len(secret) < 43 || !storage.DigestEqual(c.SecretDigest, secret) {
		t.Errorf("secret %q does not match its stored digest", secret)
	}
	if strings.Join(c.GrantTypes, " ") != "authorization_code refresh_token" || strings.Join(c.ResponseTypes, " ") != "code" {
		t.Errorf("defaults: grants %v, response types %v", c.GrantTypes, c.ResponseTypes)
	}
	pub, secret, err := clients.New(clients.Spec{Name: "Mobile", RedirectURIs: []string{"com.example.app:/cb"}, Public: true})
	if err != nil || secret != "" || pub.SecretDigest != nil || pub.TokenEndpointAuthMethod != "none" {
		t.Fatalf("public client = %+v, secret %q, err %v", pub, secret, err)
	}

	tests := []struct {
		name string
		spec clients.Spec
		want []string
	}{
		{"a missing name", clients.Spec{RedirectURIs: []string{"https://a.example/cb"}}, []string{"client_name: enter your app's name"}},
		{"an unknown scope", clients.Spec{Name: "A", RedirectURIs: []string{"https://a.example/cb"}, Scopes: []string{"admin"}}, []string{`scope: "admin"`}},
		{"an unknown grant type", clients.Spec{Name: "A", RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"password"}}, []string{`grant_types: "password"`}},
		{"refresh without code", clients.Spec{Name: "A", GrantTypes: []string{"refresh_token"}}, []string{"refresh_token needs authorization_code"}},
		{"a public client with client credentials", clients.Spec{Name: "A", Public: true, GrantTypes: []string{"client_credentials"}}, []string{"grant_types: client_credentials needs a client that authenticates"}},
		{"code without a redirect", clients.Spec{Name: "A"}, []string{"redirect_uris: at least one"}},
		{"a bad post-logout redirect", clients.Spec{Name: "A", RedirectURIs: []string{"https://a.example/cb"}, PostLogoutRedirectURIs: []string{"http://a.example/bye"}}, []string{"post_logout_redirect_uris:"}},
		{"several problems at once", clients.Spec{RedirectURIs: []string{"http://evil.example/cb"}, Scopes: []string{"root"}}, []string{"client_name:", "scope:", "redirect_uris:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := clients.New(tc.spec)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestApplyRegistrationFindsEveryProblemAndAnswersTheFirst(t *testing.T) {
	t.Parallel()
	reg := &clients.Registration{
		RedirectURIs: []string{"http://app.example.com/cb", "https://app.example.com/#frag"},
		LogoURI:      "ftp://app.example.com/logo.png",
		Scope:        "openid admin:all nope",
		GrantTypes:   []string{"password"},
	}
	c := &storage.Client{ID: "cl_1"}
	err := clients.Apply(reg, c, clients.Options{})
	var all fields.Errors
	if !errors.As(err, &all) {
		t.Fatalf("error %v is not RegistrationErrors", err)
	}
	var names []string
	for _, e := range all {
		names = append(names, e.Field)
	}
	// In the order checked, one per field however many of its values fail.
	if want := []string{"grant_types", "redirect_uris", "scope", "logo_uri"}; !slices.Equal(names, want) {
		t.Fatalf("problems of %v, want %v: %v", names, want, all)
	}
	var first fields.Error
	if !errors.As(err, &first) || first != all[0] || first.Code != clients.ErrCodeInvalidClientMetadata {
		t.Fatalf("errors.As finds %v, want the first problem %v", first, all[0])
	}
	if c.Name != "" || c.RedirectURIs != nil {
		t.Fatalf("a refused registration changed the client: %+v", c)
	}
}
