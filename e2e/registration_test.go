package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/google/go-cmp/cmp"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Dynamic client registration (RFC 7591, RFC 7592) driven the way a
// third-party app does it: plain HTTP with a JSON body, then a code flow
// with the client it got.

func TestRegisterAndSignInWithEachAuthMethod(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		rsID, rsSecret := s.resourceServer(t)
		tests := []struct {
			name   string
			method string
			style  oauth2.AuthStyle        // the secret methods: how x/oauth2 sends it
			alg    jose.SignatureAlgorithm // private_key_jwt: the assertion algorithm
			byURI  bool                    // private_key_jwt: keys at jwks_uri, not inline
		}{
			{name: "client_secret_basic sends the secret in the Authorization header", method: "client_secret_basic", style: oauth2.AuthStyleInHeader},
			{name: "client_secret_post sends the secret in the body", method: "client_secret_post", style: oauth2.AuthStyleInParams},
			{name: "a public client (none) proves itself with PKCE", method: "none", style: oauth2.AuthStyleInParams},
			{name: "private_key_jwt with an RS256 key in jwks", method: "private_key_jwt", alg: jose.RS256},
			{name: "private_key_jwt with an ES256 key in jwks", method: "private_key_jwt", alg: jose.ES256},
			{name: "private_key_jwt with an RS256 key at jwks_uri", method: "private_key_jwt", alg: jose.RS256, byURI: true},
			{name: "private_key_jwt with an ES256 key at jwks_uri", method: "private_key_jwt", alg: jose.ES256, byURI: true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ctx := t.Context()
				meta := appMetadata(t, tc.method)
				var (
					key  clientKey
					host *jwksHost
				)
				if tc.alg != "" {
					key = newClientKey(t, tc.alg)
					meta["token_endpoint_auth_signing_alg"] = string(tc.alg)
					if tc.byURI {
						host = newJWKSHost(t, key)
						meta["jwks_uri"] = host.url
					} else {
						meta["jwks"] = keySet(key)
					}
				}
				reg := s.register(t, meta)
				usesSecret := tc.method == "client_secret_basic" || tc.method == "client_secret_post"
				checkRegistrationAnswer(t, s, reg, meta, usesSecret)

				app := s.appFor(t, reg, tc.style)
				az := app.newAuthorization(t)
				code := app.code(t, az, "alice@example.com", "correct horse battery")

				// Redeem the code: x/oauth2 for the methods it implements,
				// a hand-made RFC 7523 assertion for private_key_jwt.
				tokenURL := app.oidc.Endpoint().TokenURL
				assert := func(form url.Values) *oauth2.Token {
					resp, body := s.postForm(t, "/token", withAssertion(form, key.sign(t, assertionClaims(t, reg.id, tokenURL))))
					return tokenFrom(t, resp, body)
				}
				var tok *oauth2.Token
				if tc.alg == "" {
					var err error
					if tok, err = app.config.Exchange(ctx, code, oauth2.VerifierOption(az.verifier)); err != nil {
						t.Fatalf("exchange: %v", err)
					}
				} else {
					tok = assert(url.Values{"grant_type": {"authorization_code"}, "code": {code},
						"redirect_uri": {app.redirect}, "code_verifier": {az.verifier}})
				}
				verifyIDToken(t, app, tok, az.nonce)
				if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["active"] != true || intro["client_id"] != reg.id {
					t.Errorf("introspection of the access token = %v", intro)
				}
				if tok.RefreshToken == "" {
					t.Fatal("no refresh token")
				}

				// Refresh once, authenticating the same way.
				var refreshed *oauth2.Token
				if tc.alg == "" {
					stale := *tok
					stale.Expiry = time.Now().Add(-time.Minute)
					var err error
					if refreshed, err = app.config.TokenSource(ctx, &stale).Token(); err != nil {
						t.Fatalf("refresh: %v", err)
					}
				} else {
					refreshed = assert(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}})
				}
				if refreshed.AccessToken == tok.AccessToken || refreshed.RefreshToken == tok.RefreshToken {
					t.Error("the refresh did not rotate the tokens")
				}
				verifyIDToken(t, app, refreshed, "")
				if host != nil && host.fetches() != 1 {
					t.Errorf("the jwks_uri was fetched %d times for two assertions, want once (cached)", host.fetches())
				}
			})
		}
	})
}

func TestRegistrationMetadataIsChecked(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0], withRegistration("open"))
	rsaKey, ecKey := newClientKey(t, jose.RS256), newClientKey(t, jose.ES256)
	privateJWK := jose.JSONWebKey{Key: rsaKey.priv, KeyID: "private", Algorithm: "RS256", Use: "sig"}
	const redirect = "https://app.example.com/callback"
	// base is a valid registration; each case changes a member (nil
	// removes it).
	base := func() map[string]any {
		return map[string]any{"client_name": "Checked App", "redirect_uris": []string{redirect}}
	}
	tests := []struct {
		name   string
		change map[string]any
		raw    string // a body sent as is, instead of base with change
		code   string
		field  string // the description names it
	}{
		{name: "an http redirect URI on a public host is invalid_redirect_uri",
			change: map[string]any{"redirect_uris": []string{"http://app.example.com/callback"}}, code: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "a redirect URI with a fragment is invalid_redirect_uri",
			change: map[string]any{"redirect_uris": []string{redirect + "#top"}}, code: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "a wildcard redirect URI is invalid_redirect_uri",
			change: map[string]any{"redirect_uris": []string{"https://*.example.com/callback"}}, code: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "a relative redirect URI is invalid_redirect_uri",
			change: map[string]any{"redirect_uris": []string{"/callback"}}, code: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "a custom scheme for a confidential web client is invalid_redirect_uri",
			change: map[string]any{"redirect_uris": []string{"com.example.app:/callback"}}, code: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "no redirect URIs for the code grant is invalid_redirect_uri",
			change: map[string]any{"redirect_uris": nil}, code: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "an empty list of redirect URIs for the code grant is invalid_redirect_uri",
			change: map[string]any{"redirect_uris": []string{}}, code: "invalid_redirect_uri", field: "redirect_uris"},
		{name: "the code response type without the code grant is invalid_client_metadata",
			change: map[string]any{"grant_types": []string{"client_credentials"}, "response_types": []string{"code"}}, code: "invalid_client_metadata", field: "response_types"},
		{name: "refresh_token without authorization_code is invalid_client_metadata",
			change: map[string]any{"grant_types": []string{"client_credentials", "refresh_token"}}, code: "invalid_client_metadata", field: "grant_types"},
		{name: "the implicit response type is invalid_client_metadata",
			change: map[string]any{"response_types": []string{"code", "token"}}, code: "invalid_client_metadata", field: "response_types"},
		{name: "the hybrid response type is invalid_client_metadata",
			change: map[string]any{"response_types": []string{"code id_token"}}, code: "invalid_client_metadata", field: "response_types"},
		{name: "the implicit grant type is invalid_client_metadata",
			change: map[string]any{"grant_types": []string{"authorization_code", "implicit"}}, code: "invalid_client_metadata", field: "grant_types"},
		{name: "the password grant type is invalid_client_metadata",
			change: map[string]any{"grant_types": []string{"password"}}, code: "invalid_client_metadata", field: "grant_types"},
		{name: "client credentials for a public client is invalid_client_metadata",
			change: map[string]any{"grant_types": []string{"client_credentials"}, "redirect_uris": nil, "token_endpoint_auth_method": "none"}, code: "invalid_client_metadata", field: "grant_types"},
		{name: "an unknown authentication method is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "client_secret_jwt"}, code: "invalid_client_metadata", field: "token_endpoint_auth_method"},
		{name: "private_key_jwt without keys is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt"}, code: "invalid_client_metadata", field: "jwks"},
		{name: "jwks and jwks_uri both is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": keySet(rsaKey), "jwks_uri": "https://app.example.com/jwks.json"}, code: "invalid_client_metadata", field: "jwks"},
		{name: "a jwks that is not a key set is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"kty": "RSA"}}, code: "invalid_client_metadata", field: "jwks"},
		{name: "a jwks that is a string is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": "https://app.example.com/jwks.json"}, code: "invalid_client_metadata", field: "jwks"},
		{name: "a jwks holding a symmetric key is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": map[string]any{"keys": []any{map[string]any{"kty": "oct", "kid": "hmac", "k": "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0"}}}}, code: "invalid_client_metadata", field: "jwks"},
		{name: "an http post-logout redirect URI on a public host is invalid_client_metadata",
			change: map[string]any{"post_logout_redirect_uris": []string{"http://app.example.com/bye"}}, code: "invalid_client_metadata", field: "post_logout_redirect_uris"},
		{name: "a jwks holding a private key is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": jose.JSONWebKeySet{Keys: []jose.JSONWebKey{privateJWK}}}, code: "invalid_client_metadata", field: "jwks"},
		{name: "a jwks_uri over http to a public host is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": "http://app.example.com/jwks.json"}, code: "invalid_client_metadata", field: "jwks_uri"},
		{name: "an HMAC assertion algorithm is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": keySet(rsaKey), "token_endpoint_auth_signing_alg": "HS256"}, code: "invalid_client_metadata", field: "token_endpoint_auth_signing_alg"},
		{name: "the none assertion algorithm is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_method": "private_key_jwt", "jwks": keySet(ecKey), "token_endpoint_auth_signing_alg": "none"}, code: "invalid_client_metadata", field: "token_endpoint_auth_signing_alg"},
		{name: "an assertion algorithm for a secret client is invalid_client_metadata",
			change: map[string]any{"token_endpoint_auth_signing_alg": "RS256"}, code: "invalid_client_metadata", field: "token_endpoint_auth_signing_alg"},
		{name: "an unknown scope is invalid_client_metadata",
			change: map[string]any{"scope": "openid admin"}, code: "invalid_client_metadata", field: "scope"},
		{name: "an http logo_uri is invalid_client_metadata",
			change: map[string]any{"logo_uri": "http://cdn.example.com/logo.png"}, code: "invalid_client_metadata", field: "logo_uri"},
		{name: "a javascript: logo_uri is invalid_client_metadata",
			change: map[string]any{"logo_uri": "javascript:alert(1)"}, code: "invalid_client_metadata", field: "logo_uri"},
		{name: "an http policy_uri is invalid_client_metadata",
			change: map[string]any{"policy_uri": "http://app.example.com/privacy"}, code: "invalid_client_metadata", field: "policy_uri"},
		{name: "an http tos_uri is invalid_client_metadata",
			change: map[string]any{"tos_uri": "http://app.example.com/terms"}, code: "invalid_client_metadata", field: "tos_uri"},
		{name: "an http client_uri is invalid_client_metadata",
			change: map[string]any{"client_uri": "http://app.example.com"}, code: "invalid_client_metadata", field: "client_uri"},
		{name: "an unknown application_type is invalid_client_metadata",
			change: map[string]any{"application_type": "desktop"}, code: "invalid_client_metadata", field: "application_type"},
		{name: "a client_name over 100 characters is invalid_client_metadata",
			change: map[string]any{"client_name": strings.Repeat("n", 101)}, code: "invalid_client_metadata", field: "client_name"},
		{name: "redirect_uris as a string is invalid_client_metadata",
			change: map[string]any{"redirect_uris": redirect}, code: "invalid_client_metadata", field: "redirect_uris"},
		{name: "grant_types as a number is invalid_client_metadata",
			change: map[string]any{"grant_types": 1}, code: "invalid_client_metadata", field: "grant_types"},
		{name: "a body that is not JSON is invalid_client_metadata", raw: "client_name=Checked+App", code: "invalid_client_metadata"},
		{name: "a JSON array body is invalid_client_metadata", raw: `["` + redirect + `"]`, code: "invalid_client_metadata"},
		{name: "an empty body is invalid_client_metadata", raw: " ", code: "invalid_client_metadata"},
		{name: "a null body is invalid_client_metadata", raw: "null", code: "invalid_client_metadata"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var body any = tc.raw
			if tc.raw == "" {
				meta := base()
				for k, v := range tc.change {
					if v == nil {
						delete(meta, k)
					} else {
						meta[k] = v
					}
				}
				body = meta
			}
			resp, out := s.registrationCall(t, http.MethodPost, "/register", "", body)
			if resp.StatusCode != http.StatusBadRequest || out["error"] != tc.code {
				t.Fatalf("status %d, body %v; want 400 %s", resp.StatusCode, out, tc.code)
			}
			desc, _ := out["error_description"].(string)
			if desc == "" || !strings.Contains(desc, tc.field) {
				t.Errorf("error_description %q does not name %s", desc, tc.field)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("Cache-Control = %q", resp.Header.Get("Cache-Control"))
			}
		})
	}

	t.Run("unknown members are kept and echoed back", func(t *testing.T) {
		t.Parallel()
		meta := base()
		meta["software_statement_note"] = "made by hand"
		meta["x_custom"] = map[string]any{"tier": "gold", "seats": 3}
		reg := s.register(t, meta)
		checkRegistrationAnswer(t, s, reg, meta, true)
		resp, read := s.registrationCall(t, http.MethodGet, "/register/"+reg.id, reg.token, nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("read: status %d: %v", resp.StatusCode, read)
		}
		for _, k := range []string{"software_statement_note", "x_custom"} {
			if diff := cmp.Diff(asJSON(t, meta[k]), read[k]); diff != "" {
				t.Errorf("%s is not kept (-sent +read):\n%s", k, diff)
			}
		}
	})
	t.Run("a native public client may use a custom-scheme redirect URI", func(t *testing.T) {
		t.Parallel()
		meta := map[string]any{"client_name": "Native App", "application_type": "native", "token_endpoint_auth_method": "none",
			"redirect_uris": []string{"com.example.app:/oauth2redirect", "http://127.0.0.1/callback"}}
		reg := s.register(t, meta)
		checkRegistrationAnswer(t, s, reg, meta, false)
		if _, ok := reg.body["client_secret"]; ok {
			t.Errorf("a public client got a secret: %v", reg.body)
		}
	})
	t.Run("defaults are those of RFC 7591 §2", func(t *testing.T) {
		t.Parallel()
		reg := s.register(t, base())
		want := map[string]any{
			"token_endpoint_auth_method": "client_secret_basic",
			"grant_types":                []any{"authorization_code"},
			"response_types":             []any{"code"},
		}
		for k, v := range want {
			if diff := cmp.Diff(v, reg.body[k]); diff != "" {
				t.Errorf("default %s (-want +got):\n%s", k, diff)
			}
		}
		if reg.secret == "" {
			t.Error("a client_secret_basic client got no secret")
		}
	})
}

func TestRFC7592ReadUpdateDelete(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		ctx := t.Context()
		s := newServer(t, b, withRegistration("open"))
		alice := s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		s.createUser(t, "bob@example.com", "correct horse battery", "Bob")
		rsID, rsSecret := s.resourceServer(t)

		const oldRedirect, newRedirect = "https://old.example.com/callback", "https://new.example.com/callback"
		meta := appMetadata(t, "client_secret_basic")
		meta["client_name"] = "Old Name"
		meta["redirect_uris"] = []string{oldRedirect}
		reg := s.register(t, meta)
		other := s.register(t, appMetadata(t, "client_secret_basic"))
		path := "/register/" + reg.id

		// read: the stored metadata, with neither the secret nor the
		// registration access token again.
		resp, read := s.registrationCall(t, http.MethodGet, path, reg.token, nil)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("read: status %d, headers %v: %v", resp.StatusCode, resp.Header, read)
		}
		wantRead := map[string]any{}
		for k, v := range reg.body {
			if k != "client_secret" && k != "registration_access_token" {
				wantRead[k] = v
			}
		}
		if diff := cmp.Diff(wantRead, read); diff != "" {
			t.Errorf("read differs from the registration (-registered +read):\n%s", diff)
		}

		// Alice signs in to the app under its old name and remembers her
		// consent; these tokens must die with the client.
		app := s.appFor(t, reg, oauth2.AuthStyleInHeader)
		az := app.newAuthorization(t)
		a := s.newAgent(t)
		consent := a.signIn(a.get(az.url), "alice@example.com", "correct horse battery")
		if !strings.Contains(consent.body, `<h1 id="app-name">Old Name</h1>`) {
			t.Fatalf("the consent page does not show the registered name:\n%s", consent.body)
		}
		allowed := a.post(s.URL+"/consent", url.Values{"csrf_token": {consent.csrf(t)}, "flow": {consent.flow()},
			"decision": {"allow"}, "remember": {"1"}})
		tok := app.exchange(t, az, redirectOf(allowed))

		// update: a full replacement, checked like a registration.
		update := func(t *testing.T, body map[string]any) (*http.Response, map[string]any) {
			t.Helper()
			return s.registrationCall(t, http.MethodPut, path, reg.token, body)
		}
		newMeta := func() map[string]any {
			m := appMetadata(t, "client_secret_basic")
			m["client_id"] = reg.id
			m["client_name"] = "New Name"
			m["redirect_uris"] = []string{newRedirect}
			return m
		}
		refusals := []struct {
			name   string
			change map[string]any
			code   string
		}{
			{"an update without client_id is refused", map[string]any{"client_id": nil}, "invalid_client_metadata"},
			{"an update naming another client is refused", map[string]any{"client_id": other.id}, "invalid_client_metadata"},
			{"an update with a wrong client_secret is refused", map[string]any{"client_secret": other.secret}, "invalid_client_metadata"},
			{"an update with an http redirect URI is invalid_redirect_uri", map[string]any{"redirect_uris": []string{"http://new.example.com/callback"}}, "invalid_redirect_uri"},
			{"an update with an unknown scope is invalid_client_metadata", map[string]any{"scope": "openid root"}, "invalid_client_metadata"},
			{"an update to private_key_jwt without keys is invalid_client_metadata", map[string]any{"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"},
			{"an update with redirect_uris as a string is invalid_client_metadata", map[string]any{"redirect_uris": newRedirect}, "invalid_client_metadata"},
		}
		for _, tc := range refusals {
			t.Run(tc.name, func(t *testing.T) {
				body := newMeta()
				for k, v := range tc.change {
					if v == nil {
						delete(body, k)
					} else {
						body[k] = v
					}
				}
				resp, out := update(t, body)
				if resp.StatusCode != http.StatusBadRequest || out["error"] != tc.code {
					t.Fatalf("status %d, body %v; want 400 %s", resp.StatusCode, out, tc.code)
				}
			})
		}
		if _, read := s.registrationCall(t, http.MethodGet, path, reg.token, nil); read["client_name"] != "Old Name" {
			t.Fatalf("a refused update changed the client: %v", read)
		}

		body := newMeta()
		body["client_secret"] = reg.secret // RFC 7592 §2.2: may be sent back, must be current
		body["registration_access_token"] = reg.token
		body["registration_client_uri"] = reg.uri
		body["client_id_issued_at"] = reg.body["client_id_issued_at"]
		resp, updated := update(t, body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("update: status %d: %v", resp.StatusCode, updated)
		}
		if updated["client_name"] != "New Name" || cmp.Diff([]any{newRedirect}, updated["redirect_uris"]) != "" ||
			updated["client_id"] != reg.id || updated["client_secret"] != nil || updated["registration_access_token"] != nil {
			t.Errorf("update answer = %v", updated)
		}
		if _, read := s.registrationCall(t, http.MethodGet, path, reg.token, nil); read["client_name"] != "New Name" {
			t.Errorf("read after the update = %v", read)
		}

		// The update takes effect: the new name on the consent page, the
		// new redirect URI works, the old one is refused without a
		// redirect; the secret is unchanged.
		app.config.RedirectURL, app.redirect = newRedirect, newRedirect
		az2 := app.newAuthorization(t)
		b2 := s.newAgent(t)
		consent = b2.signIn(b2.get(az2.url), "bob@example.com", "correct horse battery")
		if !strings.Contains(consent.body, `<h1 id="app-name">New Name</h1>`) {
			t.Errorf("the consent page does not show the new name:\n%s", consent.body)
		}
		if tok2 := app.exchange(t, az2, redirectOf(b2.decide(consent, "allow"))); tok2.AccessToken == "" {
			t.Error("no access token with the new redirect URI")
		}
		app.config.RedirectURL = oldRedirect
		stale := s.newAgent(t).get(app.newAuthorization(t).url)
		if stale.status != http.StatusBadRequest || redirectOf(stale) != nil || stale.url.Host != hostOf(s.URL) {
			t.Errorf("the old redirect URI: status %d at %s, Location %q; want a 400 error page", stale.status, stale.url, stale.header.Get("Location"))
		}

		// A wrong or missing registration access token: 401 invalid_token
		// with a Bearer challenge, the same for an unknown client.
		var wrongToken map[string]any
		challenges := []struct {
			name, method, path, token string
		}{
			{"reading without a token", http.MethodGet, path, ""},
			{"reading with a wrong token", http.MethodGet, path, reg.token + "x"},
			{"reading with another client's token", http.MethodGet, path, other.token},
			{"reading an unknown client", http.MethodGet, "/register/cl_unknown", reg.token},
			{"reading an unknown client without a token", http.MethodGet, "/register/cl_unknown", ""},
			{"updating with another client's token", http.MethodPut, path, other.token},
			{"updating without a token", http.MethodPut, path, ""},
			{"deleting with another client's token", http.MethodDelete, path, other.token},
			{"deleting an unknown client", http.MethodDelete, "/register/cl_unknown", reg.token},
			{"deleting with the client's secret as the token", http.MethodDelete, path, reg.secret},
			{"reading a client that was not registered by API", http.MethodGet, "/register/" + rsID, reg.token},
		}
		for _, tc := range challenges {
			t.Run(tc.name+" is 401 invalid_token", func(t *testing.T) {
				var body any
				if tc.method == http.MethodPut {
					body = newMeta()
				}
				resp, out := s.registrationCall(t, tc.method, tc.path, tc.token, body)
				if resp.StatusCode != http.StatusUnauthorized || out["error"] != "invalid_token" {
					t.Fatalf("status %d, body %v; want 401 invalid_token", resp.StatusCode, out)
				}
				if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") || !strings.Contains(h, `error="invalid_token"`) {
					t.Errorf("WWW-Authenticate = %q", h)
				}
				if tc.token != "" {
					if wrongToken == nil {
						wrongToken = out
					} else if diff := cmp.Diff(wrongToken, out); diff != "" {
						t.Errorf("a wrong token and an unknown client answer differently (-first +this):\n%s", diff)
					}
				}
			})
		}
		qs, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+path+"?access_token="+url.QueryEscape(reg.token), nil)
		if resp, out := doJSON(t, qs); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("the token in the query string: status %d, %v; want 401", resp.StatusCode, out)
		}

		// An update may switch between public and confidential: a client
		// that becomes confidential gets a secret, one that becomes public
		// loses it.
		t.Run("an update from public to confidential issues a secret and back removes it", func(t *testing.T) {
			pub := s.register(t, map[string]any{"token_endpoint_auth_method": "none", "redirect_uris": []string{oldRedirect}})
			if pub.secret != "" {
				t.Fatalf("a public client got a secret: %v", pub.body)
			}
			switchTo := func(method string) map[string]any {
				t.Helper()
				resp, out := s.registrationCall(t, http.MethodPut, "/register/"+pub.id, pub.token,
					map[string]any{"client_id": pub.id, "token_endpoint_auth_method": method, "redirect_uris": []string{oldRedirect}})
				if resp.StatusCode != http.StatusOK || out["token_endpoint_auth_method"] != method {
					t.Fatalf("update to %s: status %d: %v", method, resp.StatusCode, out)
				}
				return out
			}
			out := switchTo("client_secret_post")
			secret, _ := out["client_secret"].(string)
			if len(secret) < 43 || out["client_secret_expires_at"] != float64(0) {
				t.Fatalf("a client made confidential got no secret: %v", out)
			}
			probe := url.Values{"token": {"at_live_x.y"}, "client_id": {pub.id}, "client_secret": {secret}}
			if resp, out := s.postForm(t, "/introspect", probe); resp.StatusCode != http.StatusOK {
				t.Errorf("the new secret at /introspect: status %d: %v", resp.StatusCode, out)
			}
			if out := switchTo("none"); out["client_secret"] != nil || out["client_secret_expires_at"] != nil {
				t.Errorf("a client made public still has secret members: %v", out)
			}
			if resp, out := s.postForm(t, "/introspect", probe); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("the secret of a client made public: status %d: %v; want 401", resp.StatusCode, out)
			}
		})

		// delete: 204, then the client is gone with its tokens and consents.
		if consents, err := s.Store.ConsentsFor(ctx, alice.ID, reg.id); err != nil || len(consents) == 0 {
			t.Fatalf("alice's consent before the delete: %v, %v", consents, err)
		}
		resp, out := s.registrationCall(t, http.MethodDelete, path, reg.token, nil)
		if resp.StatusCode != http.StatusNoContent || out != nil {
			t.Fatalf("delete: status %d, body %v; want 204", resp.StatusCode, out)
		}
		resp, out = s.postForm(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}, reg.id, reg.secret)
		if resp.StatusCode != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Errorf("the deleted client at /token: status %d, %v; want 401 invalid_client", resp.StatusCode, out)
		}
		for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
			if intro := s.introspect(t, rsID, rsSecret, token); intro["active"] != false {
				t.Errorf("a token of the deleted client is still active: %v", intro)
			}
		}
		if consents, err := s.Store.ConsentsFor(ctx, alice.ID, reg.id); err != nil || len(consents) != 0 {
			t.Errorf("alice's consent after the delete: %v, %v", consents, err)
		}
		for _, method := range []string{http.MethodGet, http.MethodDelete} {
			if resp, out := s.registrationCall(t, method, path, reg.token, nil); resp.StatusCode != http.StatusUnauthorized || out["error"] != "invalid_token" {
				t.Errorf("%s after the delete: status %d, %v; want 401 invalid_token", method, resp.StatusCode, out)
			}
		}
		// The other client is untouched.
		if resp, _ := s.registrationCall(t, http.MethodGet, "/register/"+other.id, other.token, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("another client after the delete: status %d", resp.StatusCode)
		}
	})
}

func TestRegistrationModes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		t.Run("token mode needs a usable initial access token", func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			s := newServer(t, b) // token is the default mode
			_, org := s.signUp(t, "owner@example.com", "Owner", "correct horse battery", "Acme")
			newToken := func(change func(*storage.InitialAccessToken)) string {
				secret := storage.NewSecret()
				iat := &storage.InitialAccessToken{ID: storage.NewID("iat"), Digest: storage.DigestHex(secret), OrgID: org.ID, CreatedAt: time.Now()}
				if change != nil {
					change(iat)
				}
				if err := s.Store.CreateInitialAccessToken(ctx, iat); err != nil {
					t.Fatal(err)
				}
				return secret
			}
			past, future := time.Now().Add(-time.Minute), time.Now().Add(time.Hour)
			valid := newToken(func(iat *storage.InitialAccessToken) { iat.ExpiresAt = &future })
			refusals := []struct {
				name, token string
			}{
				{"no token is 401 invalid_token", ""},
				{"an unknown token is 401 invalid_token", storage.NewSecret()},
				{"an expired token is 401 invalid_token", newToken(func(iat *storage.InitialAccessToken) { iat.ExpiresAt = &past })},
				{"a revoked token is 401 invalid_token", newToken(func(iat *storage.InitialAccessToken) { iat.RevokedAt = &past })},
				{"a token's digest is not a token", storage.DigestHex(valid)},
			}
			for _, tc := range refusals {
				t.Run(tc.name, func(t *testing.T) {
					resp, out := s.registrationCall(t, http.MethodPost, "/register", tc.token, appMetadata(t, "client_secret_basic"))
					if resp.StatusCode != http.StatusUnauthorized || out["error"] != "invalid_token" {
						t.Fatalf("status %d, body %v; want 401 invalid_token", resp.StatusCode, out)
					}
					if h := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer") {
						t.Errorf("WWW-Authenticate = %q", h)
					}
				})
			}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/register?access_token="+url.QueryEscape(valid),
				strings.NewReader(`{"redirect_uris":["https://app.example.com/callback"]}`))
			req.Header.Set("Content-Type", "application/json")
			if resp, out := doJSON(t, req); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("the token in the query string: status %d, %v; want 401", resp.StatusCode, out)
			}

			meta := appMetadata(t, "client_secret_basic")
			reg := s.registerWith(t, valid, meta)
			checkRegistrationAnswer(t, s, reg, meta, true)
			c, err := s.Store.FindClient(ctx, reg.id)
			if err != nil {
				t.Fatal(err)
			}
			if c.OrgID != org.ID {
				t.Errorf("the client's organization = %q, want the token's %q", c.OrgID, org.ID)
			}
			if c.RegistrationTokenDigest != storage.DigestHex(reg.token) || strings.Contains(c.RegistrationTokenDigest, reg.token) {
				t.Error("the registration access token is not stored as its digest")
			}
			if resp, _ := s.registrationCall(t, http.MethodGet, "/register/"+reg.id, reg.token, nil); resp.StatusCode != http.StatusOK {
				t.Errorf("reading a client registered with a token: status %d", resp.StatusCode)
			}
			if hasRegistrationEndpoint(t, s) != s.URL+"/register" {
				t.Error("discovery does not list registration_endpoint in token mode")
			}
		})
		t.Run("off mode has no /register and discovery does not list it", func(t *testing.T) {
			t.Parallel()
			s := newServer(t, b, withRegistration("off"))
			for _, tc := range []struct{ method, path string }{
				{http.MethodPost, "/register"},
				{http.MethodGet, "/register/cl_x"},
				{http.MethodPut, "/register/cl_x"},
				{http.MethodDelete, "/register/cl_x"},
			} {
				req, _ := http.NewRequestWithContext(t.Context(), tc.method, s.URL+tc.path, strings.NewReader(`{"redirect_uris":["https://app.example.com/callback"]}`))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s %s: status %d, want 404", tc.method, tc.path, resp.StatusCode)
				}
			}
			if got := hasRegistrationEndpoint(t, s); got != "" {
				t.Errorf("discovery lists registration_endpoint %q in off mode", got)
			}
		})
		t.Run("open mode needs no token and discovery lists it", func(t *testing.T) {
			t.Parallel()
			s := newServer(t, b, withRegistration("open"))
			reg := s.register(t, appMetadata(t, "client_secret_post"))
			c, err := s.Store.FindClient(t.Context(), reg.id)
			if err != nil || c.OrgID != "" {
				t.Errorf("an openly registered client: %+v, %v; want no organization", c, err)
			}
			if got := hasRegistrationEndpoint(t, s); got != s.URL+"/register" {
				t.Errorf("registration_endpoint = %q", got)
			}
		})
	})
}

// hasRegistrationEndpoint returns discovery's registration_endpoint, or ""
// when the document has no such member.
func hasRegistrationEndpoint(t *testing.T, s *server) string {
	t.Helper()
	v, ok := discovery(t, s, "/.well-known/openid-configuration")["registration_endpoint"]
	if !ok {
		return ""
	}
	str, _ := v.(string)
	if str == "" {
		t.Errorf("registration_endpoint is present but %v", v)
	}
	return str
}

func TestDiscoveryListsRegistrationAndClientAuthentication(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0], withRegistration("open"))
	want := map[string]any{
		"registration_endpoint":                            s.URL + "/register",
		"token_endpoint_auth_methods_supported":            []any{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"token_endpoint_auth_signing_alg_values_supported": []any{"RS256", "ES256"},
		"introspection_endpoint_auth_methods_supported":    []any{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"revocation_endpoint_auth_methods_supported":       []any{"client_secret_basic", "client_secret_post", "private_key_jwt", "none"},
		"token_endpoint":                                   s.URL + "/token",
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		doc := discovery(t, s, path)
		got := map[string]any{}
		for k := range want {
			got[k] = doc[k]
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}
}
