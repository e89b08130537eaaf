package provider_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

func TestCheckTokenRequest(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		form url.Values
		code string // "" when the request passes
		says string
	}{
		{"client credentials needs nothing more", url.Values{"grant_type": {"client_credentials"}}, "", ""},
		{"a code with its redirect_uri passes", url.Values{"grant_type": {"authorization_code"}, "code": {"c"}, "redirect_uri": {"https://a.example/cb"}}, "", ""},
		{"a refresh token passes", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"r"}}, "", ""},
		{"an API key exchange passes", url.Values{"grant_type": {provider.GrantTypeTokenExchange}, "subject_token": {"k"},
			"subject_token_type": {provider.TokenTypeAPIKey}}, "", ""},
		{"several audiences and resources pass", url.Values{"grant_type": {"client_credentials"}, "audience": {"a", "b"}, "resource": {"c", "d"}}, "", ""},
		{"an empty form is invalid_request", url.Values{}, "invalid_request", "The grant_type parameter is missing."},
		{"an unknown grant type is unsupported_grant_type", url.Values{"grant_type": {"password"}}, "unsupported_grant_type", "grant_type"},
		{"a repeated parameter is invalid_request", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"a", "b"}, "scope": {"x", "y"}},
			"invalid_request", "repeats refresh_token and scope."},
		{"a code without anything is invalid_request naming both", url.Values{"grant_type": {"authorization_code"}},
			"invalid_request", "The code and redirect_uri parameters are missing."},
		{"a code without redirect_uri is invalid_request", url.Values{"grant_type": {"authorization_code"}, "code": {"c"}},
			"invalid_request", "The redirect_uri parameter is missing."},
		{"a refresh without its token is invalid_request", url.Values{"grant_type": {"refresh_token"}},
			"invalid_request", "The refresh_token parameter is missing."},
		{"a token exchange without its token type is invalid_request", url.Values{"grant_type": {provider.GrantTypeTokenExchange}, "subject_token": {"k"}},
			"invalid_request", "The subject_token_type parameter is missing."},
		{"a token exchange of an access token is invalid_request", url.Values{"grant_type": {provider.GrantTypeTokenExchange}, "subject_token": {"k"},
			"subject_token_type": {provider.TokenTypeAccessToken}}, "invalid_request", "subject_token_type must be " + provider.TokenTypeAPIKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := provider.CheckTokenRequest(tc.form)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			rfc := fosite.ErrorToRFC6749Error(err)
			if err == nil || rfc.ErrorField != tc.code || rfc.CodeField != 400 {
				t.Fatalf("got %v, want 400 %s", err, tc.code)
			}
			if d := rfc.GetDescription(); !strings.Contains(d, tc.says) || strings.Contains(d, fosite.ErrInvalidRequest.DescriptionField) {
				t.Errorf("description %q, want one saying %q and not fosite's catch-all", d, tc.says)
			}
		})
	}
}

func TestTokenError(t *testing.T) {
	t.Parallel()
	request := func(grant string, client fosite.Client) fosite.AccessRequester {
		ar := fosite.NewAccessRequest(provider.NewSession())
		ar.GrantTypes = fosite.Arguments{grant}
		if client != nil {
			ar.Client = client
		}
		return ar
	}
	webApp := &storage.Client{ID: "cl_app", GrantTypes: storage.Strings{"authorization_code", "refresh_token"}}
	tests := []struct {
		name     string
		ar       fosite.AccessRequester
		err      error
		code     string
		says     string
		notSays  string
		wrapsErr bool
	}{
		{"a client not allowed the grant is unauthorized_client", request("client_credentials", webApp),
			fosite.ErrInvalidGrant.WithHint("The OAuth 2.0 Client is marked as public."), "unauthorized_client", "client_credentials", "public", true},
		{"without an authenticated client the grant is not checked", request("client_credentials", nil),
			fosite.ErrInvalidClient, "invalid_client", "", "", false},
		{"a refresh token failing its HMAC is invalid_grant", request("refresh_token", webApp),
			fosite.ErrInvalidRequest.WithWrap(fosite.ErrTokenSignatureMismatch), "invalid_grant", "The refresh token", "redirect", true},
		{"invalid_grant of a refresh says refresh token alone", request("refresh_token", webApp),
			fosite.ErrInvalidGrant.WithHint("The refresh token was already used."), "invalid_grant", "The refresh token was already used.", "authorization code", false},
		{"invalid_grant of a code says code alone", request("authorization_code", webApp),
			fosite.ErrInvalidGrant, "invalid_grant", "authorization code", "refresh token", false},
		{"invalid_request keeps its hint without fosite's catch-all", request("authorization_code", nil),
			fosite.ErrInvalidRequest.WithHint("Use one method."), "invalid_request", "Use one method.", "more than once", false},
		{"invalid_request without a hint loses the redirect_uri one", nil,
			fosite.ErrInvalidRequest, "invalid_request", "The request is not valid.", "redirect_uri", false},
		{"a server error is left alone", request("refresh_token", webApp),
			fosite.ErrServerError.WithWrap(errors.New("db down")), "server_error", "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := provider.TokenError(tc.ar, tc.err)
			rfc := fosite.ErrorToRFC6749Error(got)
			if rfc.ErrorField != tc.code {
				t.Fatalf("error %s (%s), want %s", rfc.ErrorField, rfc.GetDescription(), tc.code)
			}
			d := rfc.GetDescription()
			if !strings.Contains(d, tc.says) || (tc.notSays != "" && strings.Contains(d, tc.notSays)) {
				t.Errorf("description %q, want one saying %q and not %q", d, tc.says, tc.notSays)
			}
			if tc.wrapsErr && !errors.Is(got, tc.err) {
				t.Errorf("%v does not wrap %v", got, tc.err)
			}
		})
	}
}
