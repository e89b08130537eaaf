package provider_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
)

func TestAuthorizeParameters(t *testing.T) {
	t.Parallel()
	scopes := func(n int) string {
		names := make([]string, n)
		for i := range names {
			names[i] = fmt.Sprintf("s%d", i)
		}
		return strings.Join(names, " ")
	}
	tests := []struct {
		name    string
		form    url.Values
		want    url.Values
		wantErr *fosite.RFC6749Error
		naming  string
	}{
		{name: "known parameters are kept and unknown ones dropped",
			form: url.Values{"client_id": {"cl_1"}, "scope": {"openid"}, "padding": {strings.Repeat("A", 1<<20)},
				"request": {"a.b.c"}, "registration": {"{}"}, "audience": {"https://api.example.com"}},
			want: url.Values{"client_id": {"cl_1"}, "scope": {"openid"}, "audience": {"https://api.example.com"}}},
		{name: "a parameter sent twice with the same value is kept once",
			form: url.Values{"state": {"abc", "abc"}}, want: url.Values{"state": {"abc"}}},
		{name: "audience may be repeated",
			form: url.Values{"audience": {"a", "b"}}, want: url.Values{"audience": {"a", "b"}}},
		{name: "a parameter sent twice with different values is invalid_request",
			form: url.Values{"state": {"abc", "def"}}, wantErr: fosite.ErrInvalidRequest, naming: "state"},
		{name: "a value over 2 KiB is invalid_request",
			form: url.Values{"login_hint": {strings.Repeat("h", provider.MaxParameterBytes+1)}}, wantErr: fosite.ErrInvalidRequest, naming: "login_hint"},
		{name: "a value of 2 KiB is kept",
			form: url.Values{"login_hint": {strings.Repeat("h", provider.MaxParameterBytes)}}, want: url.Values{"login_hint": {strings.Repeat("h", provider.MaxParameterBytes)}}},
		{name: "claims may have 4 KiB",
			form: url.Values{"claims": {strings.Repeat("c", provider.MaxLongParameterBytes)}}, want: url.Values{"claims": {strings.Repeat("c", provider.MaxLongParameterBytes)}}},
		{name: "claims over 4 KiB is invalid_request",
			form: url.Values{"claims": {strings.Repeat("c", provider.MaxLongParameterBytes+1)}}, wantErr: fosite.ErrInvalidRequest, naming: "claims"},
		{name: "51 scopes is invalid_scope",
			form: url.Values{"scope": {scopes(51)}}, wantErr: fosite.ErrInvalidScope, naming: "at most 50"},
		{name: "50 scopes, spaced out, are kept",
			form: url.Values{"scope": {"  " + strings.ReplaceAll(scopes(50), " ", "   ")}}, want: url.Values{"scope": {"  " + strings.ReplaceAll(scopes(50), " ", "   ")}}},
		{name: "11 audiences is invalid_request",
			form: url.Values{"audience": {strings.TrimSpace(strings.Repeat("a ", 11))}}, wantErr: fosite.ErrInvalidRequest, naming: "audience"},
		{name: "more than 8 KiB together is invalid_request",
			form: url.Values{"state": {strings.Repeat("s", 2000)}, "nonce": {strings.Repeat("n", 2000)}, "login_hint": {strings.Repeat("h", 2000)},
				"acr_values": {strings.Repeat("a", 2000)}, "display": {strings.Repeat("d", 2000)}}, wantErr: fosite.ErrInvalidRequest, naming: "8 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := provider.AuthorizeParameters(tc.form)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(fosite.ErrorToRFC6749Error(err).HintField, tc.naming) {
					t.Fatalf("error %v (%s), want %s naming %q", err, fosite.ErrorToRFC6749Error(err).HintField, tc.wantErr.ErrorField, tc.naming)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parameters (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRedirectParameters(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", provider.MaxParameterBytes+1)
	tests := []struct {
		name string
		form url.Values
		want url.Values
	}{
		{"the routing parameters are kept",
			url.Values{"client_id": {"cl_1"}, "redirect_uri": {"https://app/cb"}, "state": {"s"}, "response_type": {"code"}, "nonce": {long}},
			url.Values{"client_id": {"cl_1"}, "redirect_uri": {"https://app/cb"}, "state": {"s"}, "response_type": {"code"}}},
		{"an unusable state is left out",
			url.Values{"client_id": {"cl_1"}, "state": {"a", "b"}}, url.Values{"client_id": {"cl_1"}}},
		{"an oversized redirect_uri gives nothing to redirect with",
			url.Values{"client_id": {"cl_1"}, "redirect_uri": {long}, "state": {"s"}}, url.Values{}},
		{"a repeated client_id gives nothing to redirect with",
			url.Values{"client_id": {"cl_1", "cl_2"}, "redirect_uri": {"https://app/cb"}}, url.Values{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if diff := cmp.Diff(tc.want, provider.RedirectParameters(tc.form)); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckTokenRequestBoundsTheWork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    string
		wantErr *fosite.RFC6749Error
	}{
		{"a few scopes pass", "grant_type=client_credentials&scope=read+write", nil},
		{"51 scopes are invalid_scope", "grant_type=client_credentials&scope=" + strings.Repeat("a+", 51), fosite.ErrInvalidScope},
		{"11 resources are invalid_request", "grant_type=client_credentials&" + strings.Repeat("resource=r&", 11), fosite.ErrInvalidRequest},
		{"11 audiences are invalid_request", "grant_type=client_credentials&audience=" + strings.Repeat("a+", 11), fosite.ErrInvalidRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			form, err := url.ParseQuery(tc.body)
			if err != nil {
				t.Fatal(err)
			}
			err = provider.CheckTokenRequest(form)
			if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestStrongKey(t *testing.T) {
	t.Parallel()
	rsaKey := func(bits int) *rsa.PublicKey {
		k, err := rsa.GenerateKey(rand.Reader, bits)
		if err != nil {
			t.Fatal(err)
		}
		return &k.PublicKey
	}
	ecKey := func(c elliptic.Curve) *ecdsa.PublicKey {
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return &k.PublicKey
	}
	tests := []struct {
		name string
		key  any
		want bool
	}{
		{"RSA 1024 is weak", rsaKey(1024), false},
		{"RSA 2048 is strong", rsaKey(2048), true},
		{"EC P-256 is strong", ecKey(elliptic.P256()), true},
		{"EC P-384 is refused", ecKey(elliptic.P384()), false},
		{"EC P-521 is refused", ecKey(elliptic.P521()), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := clients.StrongKey(tc.key); got != tc.want {
				t.Errorf("StrongKey = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestNewClientDedupesKeepingTheFirstOfEach(t *testing.T) {
	t.Parallel()
	c, _, err := clients.New(clients.Spec{Name: "Dupes",
		RedirectURIs: []string{"https://b.example/cb", " https://a.example/cb", "", "https://b.example/cb ", "https://a.example/cb"},
		Scopes:       []string{"read", "openid", "read", " ", "openid"}})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"https://b.example/cb", "https://a.example/cb"}, []string(c.RedirectURIs)); diff != "" {
		t.Errorf("redirect URIs (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"read", "openid"}, []string(c.Scopes)); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
}

func TestParseRegistrationKeepsBoundedUnknownMembers(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`{"client_name":"x","big":"` + strings.Repeat("b", clients.MaxExtraBytes) + `"`)
	for i := range 25 {
		fmt.Fprintf(&b, `,"m%02d":%d`, i, i)
	}
	b.WriteString("}")
	reg, err := clients.Parse([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := reg.Extra["big"]; ok {
		t.Error("a member over MaxExtraBytes is kept")
	}
	if len(reg.Extra) != clients.MaxExtraMembers {
		t.Errorf("%d unknown members kept, want %d", len(reg.Extra), clients.MaxExtraMembers)
	}
	for i := range clients.MaxExtraMembers {
		if _, ok := reg.Extra[fmt.Sprintf("m%02d", i)]; !ok {
			t.Errorf("m%02d is not kept (the first %d in name order are)", i, clients.MaxExtraMembers)
		}
	}
	if _, err := clients.Parse([]byte(`{"software_id":"` + strings.Repeat("x", clients.MaxRegistrationBytes) + `"}`)); err == nil {
		t.Error("metadata over MaxRegistrationBytes is accepted")
	}
}
