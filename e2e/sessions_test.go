package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestSessionsPromptsAndRememberedConsent(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		app := newWebApp(t, s, false)
		a := s.newAgent(t)

		// authURL asks for "openid read" only, so that a wider request can
		// come later.
		authURL := func(scope, extra string) string {
			conf := app.config
			conf.Scopes = strings.Fields(scope)
			return conf.AuthCodeURL(randomString(t)) + extra
		}
		// First authorization: sign in, consent with "remember".
		consent := a.signIn(a.get(authURL("openid read", "")), "alice@example.com", "correct horse battery")
		p := a.post(s.URL+"/consent", url.Values{"csrf_token": {consent.csrf(t)}, "flow": {consent.flow()}, "decision": {"allow"}, "remember": {"1"}})
		if loc := redirectOf(p); loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("first authorization: status %d, Location %q", p.status, p.header.Get("Location"))
		}

		tests := []struct {
			name  string
			extra string
			want  string // "code", "login", "consent" or an error code
		}{
			{"a remembered consent skips the pages", "", "code"},
			{"prompt=none with a session and a remembered consent answers at once", "&prompt=none", "code"},
			{"prompt=consent shows the consent page again", "&prompt=consent", "consent"},
			{"prompt=login asks to sign in again", "&prompt=login", "login"},
			{"max_age=0 asks to sign in again", "&max_age=0", "login"},
			{"a generous max_age does not", "&max_age=3600", "code"},
			{"prompt=none with prompt=login is invalid", "&prompt=none+login", "invalid_request"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p := a.get(authURL("openid read", tc.extra))
				loc := redirectOf(p)
				switch tc.want {
				case "code":
					if loc == nil || loc.Query().Get("code") == "" {
						t.Fatalf("status %d at %s, Location %q; want a code", p.status, p.url.Path, p.header.Get("Location"))
					}
				case "login", "consent":
					if p.status != http.StatusOK || p.url.Path != "/"+tc.want {
						t.Fatalf("status %d at %s; want the %s page", p.status, p.url.Path, tc.want)
					}
				default:
					if loc == nil || loc.Query().Get("error") != tc.want {
						t.Fatalf("status %d, Location %q; want error=%s", p.status, p.header.Get("Location"), tc.want)
					}
				}
			})
		}

		// Fewer scopes are covered; a new scope is not.
		if loc := redirectOf(a.get(authURL("openid", ""))); loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("fewer scopes: Location %v, want a code", loc)
		}
		if p := a.get(authURL("openid read email", "")); p.url.Path != "/consent" {
			t.Fatalf("a new scope went to %s, want the consent page", p.url.Path)
		}
		if loc := redirectOf(a.get(authURL("openid read email", "&prompt=none"))); loc == nil || loc.Query().Get("error") != "consent_required" {
			t.Fatalf("prompt=none with a new scope: Location %v, want consent_required", loc)
		}
	})
}

func TestSignOutEndsTheSession(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	a := s.newAgent(t)
	login := a.get(s.URL + "/login")
	home := a.signIn(login, "alice@example.com", "correct horse battery")
	if home.url.Path != "/" || home.status != http.StatusOK {
		t.Fatalf("after sign-in: %d at %s", home.status, home.url)
	}
	out := a.post(s.URL+"/logout", url.Values{"csrf_token": {home.csrf(t)}})
	if out.status != http.StatusOK {
		t.Fatalf("sign out: status %d", out.status)
	}
	if p := a.get(s.URL + "/"); p.url.Path != "/login" {
		t.Fatalf("after sign-out / went to %s, want /login", p.url.Path)
	}
	// A wrong password is refused without saying whether the email exists.
	for _, email := range []string{"alice@example.com", "nobody@example.com"} {
		p := a.signIn(a.get(s.URL+"/login"), email, "wrong password!")
		if p.status != http.StatusUnauthorized || !strings.Contains(p.body, "Incorrect email or password.") {
			t.Fatalf("%s: status %d", email, p.status)
		}
	}
}
