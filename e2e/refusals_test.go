package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestReplayedCodeFailsAndRevokesItsTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app, az, code := alicesCode(t, s)
		rsID, rsSecret := s.resourceServer(t)

		first, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatalf("first redemption: %v", err)
		}
		_, err = app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if oauthError(err) != "invalid_grant" {
			t.Fatalf("replayed code error = %v, want invalid_grant", err)
		}
		for _, token := range []string{first.AccessToken, first.RefreshToken} {
			if intro := s.introspect(t, rsID, rsSecret, token); intro["active"] != false {
				t.Errorf("a token from the first redemption is still active after the replay: %v", intro)
			}
		}
	})
}

func TestConcurrentRedemptionsOfOneCode(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app, az, code := alicesCode(t, s)

		const n = 4
		var (
			wg     sync.WaitGroup
			mu     sync.Mutex
			ok     int
			codes  []string
			others []error
			start  = make(chan struct{})
		)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				_, err := app.config.Exchange(context.Background(), code, oauth2.VerifierOption(az.verifier))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					ok++
				case oauthError(err) != "":
					codes = append(codes, oauthError(err))
				default:
					others = append(others, err)
				}
			}()
		}
		close(start)
		wg.Wait()
		if ok != 1 || len(others) > 0 {
			t.Fatalf("%d of %d redemptions succeeded (want exactly 1); errors %v %v", ok, n, codes, others)
		}
		for _, c := range codes {
			if c != "invalid_grant" {
				t.Errorf("losing redemption got %q, want invalid_grant", c)
			}
		}
	})
}

func TestWrongPKCEVerifierIsRefused(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app, az, code := alicesCode(t, s)
		_, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(oauth2.GenerateVerifier()))
		if oauthError(err) != "invalid_grant" {
			t.Fatalf("wrong verifier error = %v, want invalid_grant", err)
		}
		_, err = app.config.Exchange(t.Context(), code) // and none at all
		if oauthError(err) != "invalid_grant" {
			t.Fatalf("missing verifier error = %v, want invalid_grant", err)
		}
		// The code stayed bound to its challenge: only the right verifier redeems it.
		if _, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier)); err != nil {
			t.Fatalf("the right verifier after wrong ones: %v", err)
		}
	})
}

func TestPKCERules(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	public := newWebApp(t, s, true)
	challenge := func(v string) string {
		sum := sha256.Sum256([]byte(v))
		return base64.RawURLEncoding.EncodeToString(sum[:])
	}
	tests := []struct {
		name   string
		params url.Values
		want   string
	}{
		{"a public client without PKCE is refused", url.Values{}, "invalid_request"},
		{"the plain method is refused", url.Values{"code_challenge": {"plain-verifier-plain-verifier-plain-verifier-0123"}, "code_challenge_method": {"plain"}}, "invalid_request"},
		{"an unknown method is refused", url.Values{"code_challenge": {challenge("v")}, "code_challenge_method": {"S512"}}, "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := url.Values{
				"client_id": {public.id}, "response_type": {"code"}, "redirect_uri": {public.redirect},
				"scope": {"openid"}, "state": {"state-12345678"},
			}
			for k, v := range tc.params {
				q[k] = v
			}
			p := s.newAgent(t).get(s.URL + "/authorize?" + q.Encode())
			loc, _ := url.Parse(p.header.Get("Location"))
			if p.status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != tc.want {
				t.Fatalf("status %d, Location %q; want a redirect with error=%s", p.status, p.header.Get("Location"), tc.want)
			}
			if loc.Query().Get("state") != "state-12345678" || loc.Query().Get("iss") != s.URL {
				t.Errorf("error redirect lacks state or iss: %s", loc)
			}
		})
	}
}

func TestWrongClientSecretIs401(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		c, secret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
		tests := []struct {
			name  string
			basic []string
			form  url.Values
		}{
			{"a wrong secret in the header", []string{c.ID, secret + "x"}, nil},
			{"a wrong secret in the body", nil, url.Values{"client_id": {c.ID}, "client_secret": {"nope"}}},
			{"an unknown client", []string{"cl_nobody", secret}, nil},
			{"no credentials", nil, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				form := url.Values{"grant_type": {"client_credentials"}}
				for k, v := range tc.form {
					form[k] = v
				}
				resp, body := s.postForm(t, "/token", form, tc.basic...)
				if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
					t.Fatalf("status %d, body %v; want 401 invalid_client", resp.StatusCode, body)
				}
				if !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("WWW-Authenticate = %q", resp.Header.Get("WWW-Authenticate"))
				}
				if strings.Contains(body["error_description"].(string), secret) {
					t.Error("the error description repeats the secret")
				}
			})
		}
		// A public client proves nothing by its id: it may not introspect.
		pub, _ := s.createClient(t, clients.Spec{Name: "SPA", Public: true, RedirectURIs: []string{"https://spa.example.com/cb"}})
		if resp, body := s.postForm(t, "/introspect", url.Values{"token": {"at_live_x.y"}, "client_id": {pub.ID}}); resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
			t.Errorf("introspection by a public client: status %d, body %v", resp.StatusCode, body)
		}
		// Introspection and revocation authenticate clients the same way.
		for _, path := range []string{"/introspect", "/revoke"} {
			resp, body := s.postForm(t, path, url.Values{"token": {"at_live_x.y"}}, c.ID, "wrong")
			if resp.StatusCode != http.StatusUnauthorized || body["error"] != "invalid_client" {
				t.Errorf("%s with a wrong secret: status %d, body %v", path, resp.StatusCode, body)
			}
		}
	})
}

func TestUnsafeAuthorizationRequestsShowAnErrorPage(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	app := newWebApp(t, s, false)
	base := url.Values{"client_id": {app.id}, "response_type": {"code"}, "scope": {"openid"}, "state": {"state-12345678"}}
	with := func(k, v string) url.Values {
		q := url.Values{}
		for key, vals := range base {
			q[key] = vals
		}
		q.Set(k, v)
		return q
	}
	tests := []struct {
		name  string
		query url.Values
	}{
		{"an unregistered redirect_uri", with("redirect_uri", "https://evil.example.com/callback")},
		{"a registered redirect_uri with another path", with("redirect_uri", app.redirect+"/other")},
		{"a registered redirect_uri with an extra query", with("redirect_uri", app.redirect+"?x=1")},
		{"an unknown client", with("client_id", "cl_unknown")},
		{"no client at all", url.Values{"response_type": {"code"}, "redirect_uri": {app.redirect}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.query.Get("redirect_uri") == "" && tc.query.Get("client_id") != "" {
				tc.query.Set("redirect_uri", app.redirect)
			}
			p := s.newAgent(t).get(s.URL + "/authorize?" + tc.query.Encode())
			if p.header.Get("Location") != "" {
				t.Fatalf("redirected to %q; an untrusted redirect must never be followed", p.header.Get("Location"))
			}
			if p.status < 400 || p.status >= 500 || !strings.Contains(p.header.Get("Content-Type"), "text/html") ||
				!strings.Contains(p.body, `id="error-heading"`) {
				t.Fatalf("status %d (%s), want a 4xx error page:\n%s", p.status, p.header.Get("Content-Type"), p.body)
			}
		})
	}
}

func TestReusedRefreshTokenRevokesTheGrant(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app, az, code := alicesCode(t, s)
		rsID, rsSecret := s.resourceServer(t)
		first, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		refresh := func(rt string) (*oauth2.Token, error) {
			return app.config.TokenSource(t.Context(), &oauth2.Token{RefreshToken: rt}).Token()
		}
		second, err := refresh(first.RefreshToken)
		if err != nil {
			t.Fatalf("first refresh: %v", err)
		}
		if _, err := refresh(first.RefreshToken); oauthError(err) != "invalid_grant" {
			t.Fatalf("reused refresh token error = %v, want invalid_grant", err)
		}
		// Reuse means theft: the whole grant is gone, including the tokens
		// the legitimate refresh got.
		for _, token := range []string{second.AccessToken, second.RefreshToken} {
			if intro := s.introspect(t, rsID, rsSecret, token); intro["active"] != false {
				t.Errorf("token of the family still active after reuse: %v", intro)
			}
		}
		if _, err := refresh(second.RefreshToken); err == nil {
			t.Error("the latest refresh token still works after its family was revoked")
		}
	})
}

func TestConsentWithoutCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		app := newWebApp(t, s, false)
		a := s.newAgent(t)
		az := app.newAuthorization(t)
		consent := a.signIn(a.get(az.url), "alice@example.com", "correct horse battery")
		flow := consent.flow()
		if flow == "" {
			t.Fatalf("no consent page:\n%s", consent.body)
		}
		for name, form := range map[string]url.Values{
			"no token":    {"flow": {flow}, "decision": {"allow"}},
			"wrong token": {"flow": {flow}, "decision": {"allow"}, "csrf_token": {"forged"}},
		} {
			p := a.post(s.URL+"/consent", form)
			if p.status != http.StatusForbidden || p.header.Get("Location") != "" {
				t.Fatalf("%s: status %d, Location %q; want 403 and no redirect", name, p.status, p.header.Get("Location"))
			}
		}
		// Another site's form, even with the victim's cookies, is refused by Origin.
		req, _ := http.NewRequest(http.MethodPost, s.URL+"/consent", strings.NewReader(url.Values{"flow": {flow}, "decision": {"allow"}, "csrf_token": {consent.csrf(t)}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://evil.example.com")
		if p := a.do(req); p.status != http.StatusForbidden {
			t.Fatalf("cross-origin consent: status %d, want 403", p.status)
		}
		// The flow was not answered: the real form still works.
		p := a.decide(consent, "allow")
		if loc, _ := url.Parse(p.header.Get("Location")); p.status != http.StatusSeeOther || loc.Query().Get("code") == "" {
			t.Fatalf("genuine consent after the refused ones: status %d, Location %q", p.status, p.header.Get("Location"))
		}
	})
}

func TestDenySendsAccessDeniedToTheApp(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		app := newWebApp(t, s, false)
		az := app.newAuthorization(t)
		loc := s.newAgent(t).authorize(az.url, "alice@example.com", "correct horse battery", "deny")
		q := loc.Query()
		if q.Get("error") != "access_denied" || q.Get("state") != az.state || q.Get("iss") != s.URL || q.Get("code") != "" {
			t.Fatalf("deny redirect = %s", loc)
		}
		if !strings.HasPrefix(loc.String(), app.redirect) {
			t.Fatalf("deny went to %s, not the registered redirect URI", loc)
		}
	})
}

func TestMalformedAndOversizedBodiesGet4xx(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		c, secret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
		huge := strings.Repeat("a", 2<<20)
		tests := []struct {
			name, path, contentType, body string
		}{
			{"JSON that is not an object", "/token", "application/json", `["grant_type"]`},
			{"JSON that does not parse", "/token", "application/json", `{"grant_type":`},
			{"a JSON value that is an object", "/token", "application/json", `{"grant_type":{"x":1}}`},
			{"a form with a bad escape", "/token", "application/x-www-form-urlencoded", "grant_type=%zz"},
			{"an empty body", "/token", "application/x-www-form-urlencoded", ""},
			{"an unknown grant type", "/token", "application/x-www-form-urlencoded", "grant_type=password&username=a&password=b"},
			{"an oversized form", "/token", "application/x-www-form-urlencoded", "grant_type=client_credentials&x=" + huge},
			{"an oversized JSON body", "/token", "application/json", `{"grant_type":"client_credentials","x":"` + huge + `"}`},
			{"introspection of a bad form", "/introspect", "application/x-www-form-urlencoded", "token=%zz"},
			{"introspection of an oversized form", "/introspect", "application/x-www-form-urlencoded", "token=" + huge},
			{"revocation of a bad form", "/revoke", "application/x-www-form-urlencoded", "token=%zz"},
			{"sign-in with a bad form", "/login", "application/x-www-form-urlencoded", "email=%zz"},
			{"sign-in with an oversized form", "/login", "application/x-www-form-urlencoded", "email=" + huge},
			{"consent with a bad form", "/consent", "application/x-www-form-urlencoded", "flow=%zz"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, s.URL+tc.path, strings.NewReader(tc.body))
				req.Header.Set("Content-Type", tc.contentType)
				req.SetBasicAuth(c.ID, secret)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Fatalf("status %d, want 4xx: %.300s", resp.StatusCode, body)
				}
			})
		}
		// The server keeps answering.
		resp, body := s.postForm(t, "/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("after the bad requests: status %d: %v", resp.StatusCode, body)
		}
	})
}

func TestPromptNoneWithoutSessionIsLoginRequired(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	app := newWebApp(t, s, false)
	az := app.newAuthorization(t)
	p := s.newAgent(t).get(az.url + "&prompt=none")
	loc, _ := url.Parse(p.header.Get("Location"))
	if p.status != http.StatusSeeOther || loc.Query().Get("error") != "login_required" || loc.Query().Get("state") != az.state {
		t.Fatalf("prompt=none without a session: status %d, Location %q", p.status, p.header.Get("Location"))
	}
}
