package provider_test

import (
	"net/url"
	"testing"

	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

func TestCheckPKCE(t *testing.T) {
	t.Parallel()
	const s256 = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	tests := []struct {
		name   string
		public bool
		form   url.Values
		ok     bool
	}{
		{"a confidential client may skip PKCE", false, url.Values{}, true},
		{"a public client must use PKCE", true, url.Values{}, false},
		{"S256 is accepted", true, url.Values{"code_challenge": {s256}, "code_challenge_method": {"S256"}}, true},
		{"plain is refused", false, url.Values{"code_challenge": {s256}, "code_challenge_method": {"plain"}}, false},
		{"a missing method is refused (it would mean plain)", false, url.Values{"code_challenge": {s256}}, false},
		{"a method without a challenge is refused", false, url.Values{"code_challenge_method": {"S256"}}, false},
		{"a challenge of the wrong length is refused", true, url.Values{"code_challenge": {"abc"}, "code_challenge_method": {"S256"}}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ar := fosite.NewAuthorizeRequest()
			ar.Client = &storage.Client{ID: "c", Public: tc.public}
			ar.Form = tc.form
			err := provider.CheckPKCE(ar)
			if (err == nil) != tc.ok {
				t.Fatalf("CheckPKCE = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
