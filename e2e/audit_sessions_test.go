package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Regression tests for the browser-session findings of the December 2026
// security audit (17 and 19).

// cookieOf returns the value of the agent's cookie name for the server.
func (a *agent) cookieOf(name string) string {
	u, _ := url.Parse(a.s.URL)
	for _, c := range a.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// setCookie plants a cookie in the agent's jar, as a sibling subdomain
// or a man in the middle on http could.
func (a *agent) setCookie(name, value string) {
	u, _ := url.Parse(a.s.URL)
	a.client.Jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

// Finding 17: the CSRF token was an HMAC of a cookie alone, which
// survived sign-in; a planted cookie with its token forged any form. Now
// the token is bound to the session, the cookie is rotated at sign-in and
// sign-out, and a cross-site Sec-Fetch-Site is refused even with a valid
// token.
func TestCSRFTokenIsBoundToTheSessionAndRotatedAtSignIn(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.newKeyOwner(t, "victim@example.com")
		s.newKeyOwner(t, "mallory@example.com")

		victim := s.newAgent(t)
		login := victim.get(s.URL + "/login?return_to=" + url.QueryEscape(keysPath))
		before, cookieBefore := login.csrf(t), victim.cookieOf(csrfCookieName)
		victim.signIn(login, "victim@example.com", keyPassword)
		if after := victim.cookieOf(csrfCookieName); after == "" || after == cookieBefore {
			t.Fatalf("the CSRF cookie was not rotated at sign-in (%q → %q)", cookieBefore, after)
		}
		keyForm := func(token string) url.Values {
			return url.Values{"csrf_token": {token}, "name": {"CI"}, "expires": {"never"}, "scope": {"read"}}
		}
		if p := victim.post(s.URL+keysPath, keyForm(before)); p.status != http.StatusForbidden {
			t.Errorf("a token from before signing in: status %d, want 403", p.status)
		}

		// Mallory takes a valid (cookie, token) pair with her own session
		// and plants the cookie in the victim's browser.
		mallory := s.newAgent(t)
		mallory.signIn(mallory.get(s.URL+"/login"), "mallory@example.com", keyPassword)
		malloryToken := mallory.get(s.URL + keysPath).csrf(t)
		victim.setCookie(csrfCookieName, mallory.cookieOf(csrfCookieName))
		if p := victim.post(s.URL+keysPath, keyForm(malloryToken)); p.status != http.StatusForbidden {
			t.Errorf("a planted CSRF cookie with its token: status %d, want 403", p.status)
		}

		// The victim's own, fresh token works; from a sibling site it does not.
		fresh := victim.get(s.URL + keysPath).csrf(t)
		req, _ := http.NewRequest(http.MethodPost, s.URL+keysPath, strings.NewReader(keyForm(fresh).Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-site")
		if p := victim.do(req); p.status != http.StatusForbidden {
			t.Errorf("a post from a sibling site (Sec-Fetch-Site: same-site): status %d, want 403", p.status)
		}
		if p := victim.post(s.URL+keysPath, keyForm(fresh)); p.status != http.StatusOK || !strings.Contains(p.body, `id="new-key"`) {
			t.Errorf("the victim's own form: status %d", p.status)
		}

		// Signing out rotates the cookie again.
		signedIn := victim.cookieOf(csrfCookieName)
		victim.post(s.URL+"/logout", url.Values{"csrf_token": {victim.get(s.URL + keysPath).csrf(t)}})
		if after := victim.cookieOf(csrfCookieName); after == signedIn {
			t.Error("the CSRF cookie was not rotated at sign-out")
		}
	})
}

// csrfCookieName is the CSRF cookie of test servers (http issuers have no
// cookie prefix).
const csrfCookieName = "ajrly_csrf"

// Finding 19: sessions had no idle timeout. Now a session unused for
// longer than session_idle_timeout is over, while one in use lives on.
func TestSessionEndsAfterTheIdleTimeout(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock), withSessionIdle(10*time.Minute))
		s.newKeyOwner(t, "owner@example.com")
		ui := s.openAPIKeys(t, "owner@example.com")
		for range 3 { // 27 minutes in use: never 10 idle
			clock.Advance(9 * time.Minute)
			if p := ui.a.get(s.URL + keysPath); p.url.Path != keysPath {
				t.Fatalf("a session in use was ended at %s", p.url)
			}
		}
		clock.Advance(11 * time.Minute)
		if p := ui.a.get(s.URL + keysPath); p.url.Path != "/login" {
			t.Fatalf("after 11 idle minutes the page is %s, want the sign-in page", p.url)
		}
	})
}

// Finding 19: creating an API key, rotating one, rotating a client secret
// and making an initial access token needed no recent sign-in, so a stolen
// session could mint durable credentials. Now a sign-in older than 15
// minutes is asked for again first.
func TestMintingCredentialsNeedsARecentSignIn(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock))
		s.newKeyOwner(t, "owner@example.com")
		keys := s.openAPIKeys(t, "owner@example.com")
		key, _ := keys.mustCreate("CI", "read")
		dev := s.openDeveloper(t, "owner@example.com")
		appID, _ := dev.mustRegister("Web", "https://app.example.com/cb")

		clock.Advance(16 * time.Minute)
		for _, tc := range []struct {
			name string
			ui   *settingsUI
			post func() page
		}{
			{"creating an API key", keys.settingsUI, func() page { return keys.create("Deploy", "never", "read") }},
			{"rotating an API key", keys.settingsUI, func() page { return keys.rotate(key.ID, "none") }},
			{"registering an app (its secret)", dev.settingsUI, func() page { return dev.register(devAppForm("Other", "https://other.example.com/cb")) }},
			{"rotating a client secret", dev.settingsUI, func() page { return dev.rotate(appID, "none") }},
			{"making an initial access token", dev.settingsUI, func() page {
				return dev.post(devPath+"/tokens", url.Values{"expires": {"never"}})
			}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				p := tc.post()
				if p.url.Path != "/login" || p.url.Query().Get("reauth") != "1" || !strings.Contains(p.body, `id="reauth-notice"`) {
					t.Fatalf("status %d at %s; want the sign-in page asking to sign in again", p.status, p.url)
				}
				if strings.Contains(p.body, "sk_live_") || strings.Contains(p.body, `id="new-secret"`) || strings.Contains(p.body, `id="new-token"`) {
					t.Fatal("a credential was shown without a recent sign-in")
				}
			})
		}
		// Signing in again lets them.
		login := keys.a.get(s.URL + "/login?reauth=1&return_to=" + url.QueryEscape(keysPath))
		if !strings.Contains(login.body, `name="return_to" value="`+keysPath+`"`) || !strings.Contains(login.body, `value="owner@example.com"`) {
			t.Errorf("the sign-in page does not bring the person back, with their email:\n%s", login.body)
		}
		keys.a.signIn(login, "owner@example.com", keyPassword)
		keys.csrf = keys.list().csrf(t)
		if p := keys.create("Deploy", "never", "read"); !strings.Contains(p.body, `id="new-key"`) {
			t.Fatalf("after signing in again, creating a key: status %d", p.status)
		}
	})
}
