package provider_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/provider"
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
			err := provider.ValidateRedirectURI(tc.uri, tc.public)
			if (err == nil) != tc.ok {
				t.Fatalf("ValidateRedirectURI(%q, public=%v) = %v, want ok=%v", tc.uri, tc.public, err, tc.ok)
			}
		})
	}
}

func TestNewClient(t *testing.T) {
	t.Parallel()
	c, secret, err := provider.NewClient(provider.ClientSpec{Name: " Web App ", RedirectURIs: []string{"https://app.example.com/cb"}})
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
	pub, secret, err := provider.NewClient(provider.ClientSpec{Name: "Mobile", RedirectURIs: []string{"com.example.app:/cb"}, Public: true})
	if err != nil || secret != "" || pub.SecretDigest != nil || pub.TokenEndpointAuthMethod != "none" {
		t.Fatalf("public client = %+v, secret %q, err %v", pub, secret, err)
	}

	tests := []struct {
		name string
		spec provider.ClientSpec
		want []string
	}{
		{"a missing name", provider.ClientSpec{RedirectURIs: []string{"https://a.example/cb"}}, []string{"name: required"}},
		{"an unknown scope", provider.ClientSpec{Name: "A", RedirectURIs: []string{"https://a.example/cb"}, Scopes: []string{"admin"}}, []string{`scope: "admin"`}},
		{"an unknown grant type", provider.ClientSpec{Name: "A", RedirectURIs: []string{"https://a.example/cb"}, GrantTypes: []string{"password"}}, []string{`grant_type: "password"`}},
		{"refresh without code", provider.ClientSpec{Name: "A", GrantTypes: []string{"refresh_token"}}, []string{"refresh_token needs authorization_code"}},
		{"a public client with client credentials", provider.ClientSpec{Name: "A", Public: true, GrantTypes: []string{"client_credentials"}}, []string{"public client cannot use client_credentials"}},
		{"code without a redirect", provider.ClientSpec{Name: "A"}, []string{"redirect_uri: at least one"}},
		{"a bad post-logout redirect", provider.ClientSpec{Name: "A", RedirectURIs: []string{"https://a.example/cb"}, PostLogoutRedirectURIs: []string{"http://a.example/bye"}}, []string{"post_logout_redirect_uri:"}},
		{"several problems at once", provider.ClientSpec{RedirectURIs: []string{"http://evil.example/cb"}, Scopes: []string{"root"}}, []string{"name:", "scope:", "redirect_uri:"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := provider.NewClient(tc.spec)
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
	reg := &provider.Registration{
		RedirectURIs: []string{"http://app.example.com/cb", "https://app.example.com/#frag"},
		LogoURI:      "ftp://app.example.com/logo.png",
		Scope:        "openid admin:all nope",
		GrantTypes:   []string{"password"},
	}
	c := &storage.Client{ID: "cl_1"}
	err := provider.ApplyRegistration(reg, c)
	var all provider.RegistrationErrors
	if !errors.As(err, &all) {
		t.Fatalf("error %v is not RegistrationErrors", err)
	}
	var fields []string
	for _, e := range all {
		fields = append(fields, e.Field)
	}
	// In the order checked, one per field however many of its values fail.
	if want := []string{"grant_types", "redirect_uris", "scope", "logo_uri"}; !slices.Equal(fields, want) {
		t.Fatalf("problems of %v, want %v: %v", fields, want, all)
	}
	var first *provider.RegistrationError
	if !errors.As(err, &first) || first != all[0] || first.Code != provider.ErrCodeInvalidClientMetadata {
		t.Fatalf("errors.As finds %v, want the first problem %v", first, all[0])
	}
	if c.Name != "" || c.RedirectURIs != nil {
		t.Fatalf("a refused registration changed the client: %+v", c)
	}
}
