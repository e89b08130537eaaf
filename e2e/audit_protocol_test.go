package e2e

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Regression tests for the protocol findings of the December 2026 audit:
// item 9 of issue 9 (token endpoint error codes) and findings 12, 14, 20
// and 21.

// protoTokenParams are the token request parameters an error description
// might name; each must be named only when the request involved it.
var protoTokenParams = []string{
	"grant_type", "code", "redirect_uri", "code_verifier", "refresh_token", "scope",
	"subject_token", "subject_token_type", "actor_token", "requested_token_type",
	"client_id", "client_secret", "client_assertion", "client_assertion_type", "audience", "resource",
}

// protoFositeCatchAll is fosite's description of invalid_request, which
// lists every way a request can be wrong and so names none.
var protoFositeCatchAll = []string{"missing a required parameter", "more than once", "otherwise malformed"}

// protoPostToken posts a token request as a form or as a JSON object, with
// client_secret_basic credentials when basic has two elements.
func (s *server) protoPostToken(t testing.TB, asJSON bool, form url.Values, basic ...string) (*http.Response, map[string]any) {
	t.Helper()
	var req *http.Request
	if asJSON {
		obj := map[string]string{}
		for k := range form {
			obj[k] = form.Get(k)
		}
		b, _ := json.Marshal(obj)
		req, _ = http.NewRequest(http.MethodPost, s.URL+"/token", bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, _ = http.NewRequest(http.MethodPost, s.URL+"/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	return doJSON(t, req)
}

// protoWantDescription checks that an error description names each of
// names, no token parameter the request did not send or that names does
// not list, and none of fosite's catch-all wording.
func protoWantDescription(t *testing.T, desc string, sent url.Values, names ...string) {
	t.Helper()
	for _, n := range names {
		if !regexp.MustCompile(`\b` + regexp.QuoteMeta(n) + `\b`).MatchString(desc) {
			t.Errorf("error_description %q does not name %s", desc, n)
		}
	}
	for _, p := range protoTokenParams {
		if sent.Has(p) || slices.Contains(names, p) {
			continue
		}
		if regexp.MustCompile(`\b` + regexp.QuoteMeta(p) + `\b`).MatchString(desc) {
			t.Errorf("error_description %q names %s, which the request did not involve", desc, p)
		}
	}
	for _, g := range protoFositeCatchAll {
		if strings.Contains(desc, g) {
			t.Errorf("error_description %q has fosite's catch-all text %q", desc, g)
		}
	}
}

func TestTokenEndpointAnswersTheRFC6749ErrorCodeOfEachMistake(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app, az, code := alicesCode(t, s) // authorization_code and refresh_token
		tok, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		// The refresh token with another secret part under its signature:
		// the row is found, the HMAC does not match.
		_, sig, _ := strings.Cut(strings.TrimPrefix(tok.RefreshToken, provider.PrefixRefreshToken), ".")
		tampered := provider.PrefixRefreshToken + randomString(t) + randomString(t)[:11] + "." + sig
		codeOnly, codeOnlySecret := s.createClient(t, clients.Spec{Name: "Code Only", RedirectURIs: []string{app.redirect},
			GrantTypes: []string{clients.GrantAuthorizationCode}, Scopes: []string{"openid", "read"}})
		worker, workerSecret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
		public := newWebApp(t, s, true)
		owner := s.newKeyOwner(t, "keys@example.com")
		_, apiKey := s.newAPIKey(t, owner, "read", nil)

		appAuth := []string{app.id, app.secret}
		tests := []struct {
			name     string
			form     url.Values
			basic    []string
			formOnly bool // a JSON object cannot repeat a member
			status   int
			code     string
			names    []string // what the description must name
			never    []string // what it must not speak of
		}{
			{name: "an unknown grant_type is unsupported_grant_type",
				form: url.Values{"grant_type": {"urn:example:grant-type:unknown"}}, basic: appAuth,
				status: 400, code: "unsupported_grant_type", names: []string{"grant_type"}},
			{name: "the password grant is unsupported_grant_type",
				form: url.Values{"grant_type": {"password"}, "username": {"alice@example.com"}, "password": {"guess"}}, basic: appAuth,
				status: 400, code: "unsupported_grant_type", names: []string{"grant_type"}},
			{name: "two grant types in one grant_type is unsupported_grant_type",
				form: url.Values{"grant_type": {"client_credentials refresh_token"}}, basic: appAuth,
				status: 400, code: "unsupported_grant_type", names: []string{"grant_type"}},
			{name: "a missing grant_type is invalid_request",
				form: url.Values{"code": {"ac_live_x.y"}}, basic: appAuth,
				status: 400, code: "invalid_request", names: []string{"grant_type"}},
			{name: "a body with credentials only is invalid_request naming grant_type",
				form:   url.Values{"client_id": {app.id}, "client_secret": {app.secret}},
				status: 400, code: "invalid_request", names: []string{"grant_type"}},
			{name: "grant_type sent twice is invalid_request", formOnly: true,
				form: url.Values{"grant_type": {"client_credentials", "authorization_code"}}, basic: []string{worker.ID, workerSecret},
				status: 400, code: "invalid_request", names: []string{"grant_type"}},
			{name: "authorization_code without code is invalid_request",
				form: url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {app.redirect}}, basic: appAuth,
				status: 400, code: "invalid_request", names: []string{"code"}},
			{name: "authorization_code without redirect_uri is invalid_request",
				form: url.Values{"grant_type": {"authorization_code"}, "code": {"ac_live_x.y"}}, basic: appAuth,
				status: 400, code: "invalid_request", names: []string{"redirect_uri"}},
			{name: "authorization_code without code and redirect_uri names both",
				form: url.Values{"grant_type": {"authorization_code"}}, basic: appAuth,
				status: 400, code: "invalid_request", names: []string{"code", "redirect_uri"}},
			{name: "refresh_token without refresh_token is invalid_request",
				form: url.Values{"grant_type": {"refresh_token"}}, basic: appAuth,
				status: 400, code: "invalid_request", names: []string{"refresh_token"}},
			{name: "an empty refresh_token is invalid_request",
				form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {""}}, basic: appAuth,
				status: 400, code: "invalid_request", names: []string{"refresh_token"}},
			{name: "token exchange without subject_token is invalid_request",
				form:   url.Values{"grant_type": {provider.GrantTypeTokenExchange}, "subject_token_type": {provider.TokenTypeAPIKey}},
				status: 400, code: "invalid_request", names: []string{"subject_token"}},
			{name: "token exchange without subject_token_type is invalid_request",
				form:   url.Values{"grant_type": {provider.GrantTypeTokenExchange}, "subject_token": {apiKey}},
				status: 400, code: "invalid_request", names: []string{"subject_token_type"}},
			{name: "token exchange of another token type is invalid_request",
				form: url.Values{"grant_type": {provider.GrantTypeTokenExchange}, "subject_token": {"x"},
					"subject_token_type": {provider.TokenTypeAccessToken}},
				status: 400, code: "invalid_request", names: []string{"subject_token_type"}},
			{name: "an unknown code is invalid_grant about the code alone",
				form: url.Values{"grant_type": {"authorization_code"}, "code": {"ac_live_x.y"}, "redirect_uri": {app.redirect}}, basic: appAuth,
				status: 400, code: "invalid_grant", names: []string{}, never: []string{"refresh token", "resource owner"}},
			{name: "an unknown refresh token is invalid_grant about the refresh token alone",
				form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_live_x.y"}}, basic: appAuth,
				status: 400, code: "invalid_grant", never: []string{"redirect", "authorization code", "resource owner"}},
			{name: "a refresh token with a changed secret is invalid_grant about the refresh token alone",
				form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tampered}}, basic: appAuth,
				status: 400, code: "invalid_grant", never: []string{"redirect", "authorization code", "resource owner"}},
			{name: "a client not allowed authorization_code is unauthorized_client",
				form:   url.Values{"grant_type": {"authorization_code"}, "code": {"ac_live_x.y"}, "redirect_uri": {app.redirect}},
				basic:  []string{worker.ID, workerSecret},
				status: 400, code: "unauthorized_client"},
			{name: "a client not allowed refresh_token is unauthorized_client",
				form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_live_x.y"}}, basic: []string{codeOnly.ID, codeOnlySecret},
				status: 400, code: "unauthorized_client"},
			{name: "a client not allowed client_credentials is unauthorized_client",
				form: url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, basic: appAuth,
				status: 400, code: "unauthorized_client"},
			{name: "a public client asking for client_credentials is unauthorized_client",
				form:   url.Values{"grant_type": {"client_credentials"}, "client_id": {public.id}},
				status: 400, code: "unauthorized_client"},
			{name: "a client not allowed token exchange is unauthorized_client",
				form:   url.Values{"grant_type": {provider.GrantTypeTokenExchange}, "subject_token": {apiKey}, "subject_token_type": {provider.TokenTypeAPIKey}},
				basic:  appAuth,
				status: 400, code: "unauthorized_client"},
		}
		for _, tc := range tests {
			for _, asJSON := range []bool{false, true} {
				if asJSON && tc.formOnly {
					continue
				}
				body := "form"
				if asJSON {
					body = "JSON"
				}
				t.Run(tc.name+" ("+body+" body)", func(t *testing.T) {
					t.Parallel()
					resp, out := s.protoPostToken(t, asJSON, tc.form, tc.basic...)
					if resp.StatusCode != tc.status || out["error"] != tc.code {
						t.Fatalf("status %d, %v; want %d %s", resp.StatusCode, out, tc.status, tc.code)
					}
					desc, _ := out["error_description"].(string)
					protoWantDescription(t, desc, tc.form, tc.names...)
					for _, n := range tc.never {
						if strings.Contains(strings.ToLower(desc), n) {
							t.Errorf("error_description %q speaks of %s, which the request did not involve", desc, n)
						}
					}
				})
			}
		}
	})
}

// protoAssertion is a client assertion's claims as a map, so that a test
// can give any member any JSON value: iss = sub = the client, a fresh
// jti, issued now, expiring in a minute, for aud.
func protoAssertion(t testing.TB, clientID string, aud any, now time.Time) map[string]any {
	return map[string]any{"iss": clientID, "sub": clientID, "aud": aud, "jti": randomString(t),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

func TestClientAssertionPolicyRefusesAudienceListsAndLongLives(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		key := newClientKey(t, jose.ES256)
		reg := s.registerAssertionClient(t, key, map[string]any{"jwks": keySet(key)})
		tokenURL := s.URL + "/token"
		tests := []struct {
			name   string
			change func(c map[string]any, now time.Time)
			ok     bool
		}{
			{"the issuer as aud, living 5 minutes, is accepted", func(c map[string]any, now time.Time) {
				c["aud"], c["exp"] = s.URL, now.Add(5*time.Minute).Unix()
			}, true},
			{"the token endpoint as aud, living 5 minutes and 30 seconds (clock skew), is accepted", func(c map[string]any, now time.Time) {
				c["exp"] = now.Add(5*time.Minute + 30*time.Second).Unix()
			}, true},
			{"aud as a list of the token endpoint alone is invalid_client", func(c map[string]any, _ time.Time) {
				c["aud"] = []string{tokenURL}
			}, false},
			{"aud as a list of the issuer alone is invalid_client", func(c map[string]any, _ time.Time) {
				c["aud"] = []string{s.URL}
			}, false},
			{"aud as a list of another server's token endpoint and ours is invalid_client", func(c map[string]any, _ time.Time) {
				c["aud"] = []string{"https://other.example/token", tokenURL}
			}, false},
			{"aud as a number is invalid_client", func(c map[string]any, _ time.Time) { c["aud"] = 1 }, false},
			{"exp in the year 2100 is invalid_client", func(c map[string]any, _ time.Time) {
				c["exp"] = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
			}, false},
			{"exp ten minutes away is invalid_client", func(c map[string]any, now time.Time) {
				c["exp"] = now.Add(10 * time.Minute).Unix()
			}, false},
			{"exp as a string is invalid_client", func(c map[string]any, now time.Time) {
				c["exp"] = strconv.FormatInt(now.Add(time.Minute).Unix(), 10)
			}, false},
			{"no exp is invalid_client", func(c map[string]any, _ time.Time) { delete(c, "exp") }, false},
			{"no iat is invalid_client", func(c map[string]any, _ time.Time) { delete(c, "iat") }, false},
		}
		forms := []struct {
			endpoint string
			form     url.Values
		}{
			{"/token", clientCredentials()},
			{"/introspect", url.Values{"token": {"at_live_x.y"}}},
			{"/revoke", url.Values{"token": {"at_live_x.y"}}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				for _, f := range forms {
					t.Run(strings.TrimPrefix(f.endpoint, "/"), func(t *testing.T) {
						now := time.Now()
						c := protoAssertion(t, reg.id, tokenURL, now)
						tc.change(c, now)
						resp, body := s.postForm(t, f.endpoint, withAssertion(f.form, key.sign(t, c)))
						if !tc.ok {
							wantInvalidClient(t, resp, body)
							return
						}
						if resp.StatusCode != http.StatusOK {
							t.Errorf("status %d, %v; want 200", resp.StatusCode, body)
						}
					})
				}
			})
		}
	})
}

func TestClientAssertionJTIIsKeptOnlyWhileTheAssertionLives(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withRegistration("open"), withClock(clock))
		key := newClientKey(t, jose.RS256)
		reg := s.registerAssertionClient(t, key, map[string]any{"jwks": keySet(key)})
		ctx := t.Context()
		known := func(jti string) bool {
			t.Helper()
			err := s.Store.ClientAssertionJWTValid(ctx, jti)
			if err != nil && !errors.Is(err, fosite.ErrJTIKnown) {
				t.Fatalf("check jti: %v", err)
			}
			return err != nil
		}

		forever := protoAssertion(t, reg.id, s.URL+"/token", clock.Now())
		forever["exp"] = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
		resp, body := s.postForm(t, "/token", withAssertion(clientCredentials(), key.sign(t, forever)))
		wantInvalidClient(t, resp, body)
		if known(forever["jti"].(string)) {
			t.Error("the jti of an assertion living until 2100 was recorded")
		}

		brief := protoAssertion(t, reg.id, s.URL+"/token", clock.Now())
		brief["exp"] = clock.Now().Add(5 * time.Minute).Unix()
		s.mustToken(t, withAssertion(clientCredentials(), key.sign(t, brief)))
		if !known(brief["jti"].(string)) {
			t.Fatal("the jti of an accepted assertion was not recorded")
		}
		clock.Advance(5*time.Minute + time.Second)
		if known(brief["jti"].(string)) {
			t.Error("the jti is still kept after its assertion expired")
		}
	})
}

// protoRequestObject is a request object with the given header and
// claims and no signature.
func protoRequestObject(t testing.TB, header, claims map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "."
}

func TestAuthorizeErrorPageNeverShowsRequestText(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	// Two redirect URIs, so that a request naming none cannot be answered
	// at either (RFC 6749 §3.1.2.3).
	app := newWebAppWith(t, s, clients.Spec{Name: "Example App", Scopes: []string{"openid"},
		RedirectURIs: []string{"http://" + freePort(t) + "/callback", "http://" + freePort(t) + "/other"}})
	const lure = "Security alert: your Ajrly account is locked. Call +1-555-0100"
	tests := []struct {
		name  string
		query url.Values
	}{
		// The audit's reproduction: the alg of a request object.
		{"a request object's alg", url.Values{"client_id": {app.id},
			"request": {protoRequestObject(t, map[string]any{"alg": lure}, map[string]any{"scope": "openid"})}}},
		{"a request object's alg with a registered redirect_uri in it", url.Values{"client_id": {app.id},
			"request": {protoRequestObject(t, map[string]any{"alg": lure}, map[string]any{"scope": "openid", "redirect_uri": app.redirect})}}},
		{"an unregistered redirect_uri", url.Values{"client_id": {app.id}, "response_type": {"code"}, "scope": {"openid"},
			"redirect_uri": {"https://evil.example/" + url.PathEscape(lure)}, "state": {lure}}},
		{"a response_mode with a registered redirect_uri", url.Values{"client_id": {app.id}, "response_type": {"code"},
			"redirect_uri": {app.redirect}, "scope": {"openid"}, "response_mode": {lure}}},
		{"a response_mode with an unregistered redirect_uri", url.Values{"client_id": {app.id}, "response_type": {"code"},
			"redirect_uri": {app.redirect + "/elsewhere"}, "scope": {"openid"}, "response_mode": {lure}}},
		{"a scope with an unregistered redirect_uri", url.Values{"client_id": {app.id}, "response_type": {"code"},
			"redirect_uri": {app.redirect + "/elsewhere"}, "scope": {"openid " + lure}}},
		{"a client_id", url.Values{"client_id": {lure}, "response_type": {"code"}, "redirect_uri": {app.redirect}}},
	}
	for _, tc := range tests {
		t.Run(tc.name+" does not reach the page", func(t *testing.T) {
			p := s.newAgent(t).get(s.URL + "/authorize?" + tc.query.Encode())
			if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !strings.Contains(p.body, `id="error-message"`) {
				t.Fatalf("status %d, Location %q; want the 400 error page:\n%.800s", p.status, p.header.Get("Location"), p.body)
			}
			for _, piece := range []string{"Security alert", "555-0100", "Call +1"} {
				if strings.Contains(unescapeHTML(p.body), piece) {
					t.Errorf("the error page shows the request's text %q:\n%s", piece, p.body)
				}
			}
		})
	}
	// What the app sent is in the log, for whoever debugs it.
	if !strings.Contains(s.logs.String(), "Security alert") {
		t.Error("the refused requests' hints were not logged")
	}
}

func TestIDTokenHintAcceptsOnlyIDTokensToAClient(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		alice := s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		meta := appMetadata(t, "client_secret_basic")
		meta["userinfo_signed_response_alg"] = "RS256"
		bye := meta["post_logout_redirect_uris"].([]string)[0]
		app := s.appFor(t, s.register(t, meta), oauth2.AuthStyleInHeader)
		signedIn := func(t *testing.T) (*agent, *oauth2.Token) {
			t.Helper()
			a := s.newAgent(t)
			az := app.newAuthorization(t)
			return a, app.exchange(t, az, a.authorize(az.url, "alice@example.com", "correct horse battery", "allow"))
		}
		_, tok := signedIn(t)
		idToken := tok.Extra("id_token").(string)

		// The signed UserInfo answer: a JWT of ours to the client, about
		// alice, typ JWT, with neither exp nor iat.
		req, _ := http.NewRequest(http.MethodGet, s.URL+"/userinfo", nil)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Type") != "application/jwt" {
			t.Fatalf("userinfo: %s %s", resp.Header.Get("Content-Type"), raw)
		}
		signedUserinfo := string(raw)

		// An API-key JWT: typ at+jwt, about the key's owner.
		owner := s.newKeyOwner(t, "keys@example.com")
		_, key := s.newAPIKey(t, owner, "read", nil)
		apiKeyJWT := s.mustToken(t, exchangeForm(key)).AccessToken

		now := time.Now()
		idClaims := func(change func(map[string]any)) map[string]any {
			c := map[string]any{"iss": s.URL, "sub": alice.ID, "aud": []string{app.id},
				"iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix(), "auth_time": now.Add(-2 * time.Hour).Unix()}
			if change != nil {
				change(c)
			}
			return c
		}
		tests := []struct {
			name string
			hint string
			ok   bool
		}{
			{"an ID token is accepted", idToken, true},
			{"an expired ID token is accepted", signWithProviderKey(t, s, "JWT", idClaims(nil)), true},
			{"an API-key JWT is refused", apiKeyJWT, false},
			{"a signed UserInfo answer is refused", signedUserinfo, false},
			{"an ID token without iat is refused", signWithProviderKey(t, s, "JWT", idClaims(func(c map[string]any) { delete(c, "iat") })), false},
			{"an ID token without exp is refused", signWithProviderKey(t, s, "JWT", idClaims(func(c map[string]any) { delete(c, "exp") })), false},
			{"an ID token typed at+jwt is refused", signWithProviderKey(t, s, "at+jwt", idClaims(nil)), false},
			{"an ID token to no registered client is refused", signWithProviderKey(t, s, "JWT", idClaims(func(c map[string]any) {
				c["aud"] = []string{"cl_unknown"}
			})), false},
		}
		for _, tc := range tests {
			t.Run(tc.name+" at /authorize", func(t *testing.T) {
				t.Parallel()
				a, _ := signedIn(t)
				authURL := app.newAuthorization(t).url + "&id_token_hint=" + url.QueryEscape(tc.hint)
				if tc.ok {
					// Through consent to the code: fosite reads the hint again.
					if loc := a.authorize(authURL, "alice@example.com", "correct horse battery", "allow"); loc.Query().Get("code") == "" {
						t.Fatalf("redirect %s, want a code", loc)
					}
					return
				}
				p := a.get(authURL)
				loc, _ := url.Parse(p.header.Get("Location"))
				if p.status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "invalid_request" {
					t.Fatalf("status %d at %s, Location %q; want invalid_request at the app", p.status, p.url, p.header.Get("Location"))
				}
			})
			t.Run(tc.name+" at /logout", func(t *testing.T) {
				t.Parallel()
				a, _ := signedIn(t)
				q := url.Values{"id_token_hint": {tc.hint}, "post_logout_redirect_uri": {bye}, "state": {"st"}}
				p := a.get(s.URL + "/logout?" + q.Encode())
				signedInNow := a.get(s.URL+"/").url.Path == "/"
				if tc.ok {
					if loc := p.header.Get("Location"); loc != bye+"?state=st" || signedInNow {
						t.Fatalf("status %d, Location %q, signed in %v; want signed out and sent to %s", p.status, loc, signedInNow, bye)
					}
					return
				}
				if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !signedInNow {
					t.Fatalf("status %d, Location %q, signed in %v; want the 400 page and no sign-out", p.status, p.header.Get("Location"), signedInNow)
				}
			})
		}
	})
}

func TestTokenEndpointRefusesMultipartBodies(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	worker, secret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("grant_type", "client_credentials")
	_ = mw.WriteField("scope", "read")
	part, _ := mw.CreateFormFile("upload", "big.bin")
	_, _ = part.Write(bytes.Repeat([]byte{0}, 64<<10))
	_ = mw.Close()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/token", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.SetBasicAuth(worker.ID, secret)
	resp, out := doJSON(t, req)
	if resp.StatusCode != http.StatusBadRequest || out["error"] != "invalid_request" || out["access_token"] != nil {
		t.Fatalf("status %d, %v; want 400 invalid_request", resp.StatusCode, out)
	}
	if desc, _ := out["error_description"].(string); !strings.Contains(desc, "multipart/form-data") {
		t.Errorf("error_description %q does not say multipart bodies are refused", desc)
	}
	// The same request as a form works.
	s.mustToken(t, url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, worker.ID, secret)
}

func TestMethodNotAllowedAnswersAreNotSniffed(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	for _, tc := range []struct{ method, path string }{
		{http.MethodGet, "/token"},
		{http.MethodPut, "/userinfo"},
		{http.MethodDelete, "/authorize"},
		{http.MethodGet, "/introspect"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, s.URL+tc.path, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Fatalf("status %d, want 405", resp.StatusCode)
			}
			if got := resp.Header.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
			}
		})
	}
}
