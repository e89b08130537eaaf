package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

const (
	recoveryOld = "alice's old password"
	recoveryNew = "alice's brand new passphrase"
)

// A person who forgot their password follows the sign-in page's link,
// gets the mail, follows its link in the browser and sets a new password:
// they are signed in with it, the old one no longer works, their other
// browser is signed out and the refresh token an app held is revoked.
func TestBrowserPasswordReset(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", recoveryOld, "Alice")
		app, tok := s.appRefreshToken(t, "alice@example.com", recoveryOld)
		if !app.active(t, tok.RefreshToken) {
			t.Fatal("the refresh token is not active before the reset")
		}
		other := s.signedInAgent(t, "alice@example.com", recoveryOld)

		br := newBrowser(t)
		br.open(t, s.URL+"/login")
		br.follow(t, "follow the sign-in page's link", chromedp.Click(chromedp.ID("forgot-link")))
		expectPath(t, br, s, "/password/forgot")
		br.do(t, "type the email", chromedp.SendKeys(chromedp.ID("email"), "alice@example.com"))
		br.follow(t, "ask for the link", chromedp.Click(chromedp.ID("send-link")))
		if got := shownText(t, br, "#reset-sent"); !strings.HasPrefix(got, "If an account uses this address, we sent a link") {
			t.Errorf("after asking: %q", got)
		}

		link, token := s.resetLink(t, "alice@example.com")
		br.open(t, link)
		expectPath(t, br, s, "/password/reset")
		if got := shownText(t, br, "#reset-email"); got != "alice@example.com" {
			t.Errorf("the form is for %q, want alice@example.com", got)
		}
		br.do(t, "type the new password twice",
			chromedp.SendKeys(chromedp.ID("password"), recoveryNew),
			chromedp.SendKeys(chromedp.ID("confirm"), recoveryNew))
		resp := br.follow(t, "set the new password", chromedp.Click(chromedp.ID("set-password")))
		if resp.Status != http.StatusOK {
			t.Errorf("the reset answered %d", resp.Status)
		}
		shownText(t, br, "#reset-done")
		if got := shownText(t, br, "#signed-in-as"); got != "alice@example.com" {
			t.Errorf("after the reset the browser is signed in as %q, want alice", got)
		}
		br.open(t, s.URL+"/")
		if got := shownText(t, br, "#signed-in-as"); got != "alice@example.com" {
			t.Errorf("the home page after the reset shows %q signed in, want alice", got)
		}

		s.wantPasswords(t, "alice@example.com", recoveryNew, recoveryOld)
		if other.signedIn() {
			t.Error("the other browser is still signed in after the reset")
		}
		if app.active(t, tok.RefreshToken) {
			t.Error("the refresh token issued before the reset is still active")
		}
		if app.active(t, tok.AccessToken) {
			t.Error("the access token issued before the reset is still active")
		}
		if msg := s.Mail.Next(t, "alice@example.com"); msg.Subject != "Your Ajrly password was changed" {
			t.Errorf("the mail after the reset: %q", msg.Subject)
		}
		// The link is used up.
		br.open(t, link)
		if got := shownText(t, br, "#error-heading"); got != "This link was already used" {
			t.Errorf("the link again: %q", got)
		}
		s.wantNotLogged(t, link, token, recoveryNew, recoveryOld)
	})
}

// The forgot-password answer is the same, byte for byte but for the
// request id, for an address with an account and one without; only the
// first gets mail.
func TestForgotPasswordAnswersAlike(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", recoveryOld, "Alice")
		a := s.newAgent(t)
		known := a.askForReset("alice@example.com")
		unknown := a.askForReset("nobody@example.com")
		if known.status != http.StatusOK || unknown.status != known.status {
			t.Fatalf("status %d for a known address, %d for an unknown one; want 200 both", known.status, unknown.status)
		}
		if withoutRequestID(known) != withoutRequestID(unknown) {
			t.Errorf("the answers differ:\n%s\n---\n%s", known.body, unknown.body)
		}
		if known.header.Get("Content-Type") != unknown.header.Get("Content-Type") {
			t.Errorf("content types differ: %q, %q", known.header.Get("Content-Type"), unknown.header.Get("Content-Type"))
		}
		link, token := s.resetLink(t, "alice@example.com")
		s.Mail.None(t, "nobody@example.com", 200*time.Millisecond)
		s.wantNotLogged(t, link, token)
	})
}

// Links that no longer work — expired, used, tampered, of another kind,
// superseded — each show a readable page with the way to a new link, and
// change nothing.
func TestResetLinksThatDoNotWork(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock))
		tests := []struct {
			name string
			// spoil returns a token that no longer works, made with a.
			spoil   func(t *testing.T, a *agent, email string) string
			status  int
			heading string
		}{
			{"expired", func(t *testing.T, a *agent, email string) string {
				a.askForReset(email)
				_, token := s.resetLink(t, email)
				clock.Advance(accounts.ResetLinkTTL)
				return token
			}, http.StatusGone, "This link has expired"},
			{"used", func(t *testing.T, a *agent, email string) string {
				a.askForReset(email)
				_, token := s.resetLink(t, email)
				if p := a.submitReset(token, recoveryNew); p.status != http.StatusOK {
					t.Fatalf("the first reset: %d", p.status)
				}
				s.Mail.Next(t, email) // the change is told
				return token
			}, http.StatusGone, "This link was already used"},
			{"tampered", func(t *testing.T, a *agent, email string) string {
				a.askForReset(email)
				_, token := s.resetLink(t, email)
				return strings.ToUpper(token[:4]) + token[4:] + "x"
			}, http.StatusNotFound, "This link does not work"},
			{"a verification link", func(t *testing.T, _ *agent, email string) string {
				u, _ := url.Parse(s.madeVerifyLink(t, email))
				return u.Query().Get("token")
			}, http.StatusNotFound, "This link does not work"},
			{"superseded by a newer link", func(t *testing.T, a *agent, email string) string {
				a.askForReset(email)
				_, older := s.resetLink(t, email)
				a.askForReset(email)
				s.resetLink(t, email)
				return older
			}, http.StatusNotFound, "This link does not work"},
		}
		for i, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				email := "person" + string(rune('a'+i)) + "@example.com"
				s.createUser(t, email, recoveryOld, "Person")
				a := s.newAgent(t)
				token := tc.spoil(t, a, email)
				before := s.passwordHash(t, email)
				for _, p := range []page{
					a.get(s.URL + "/password/reset?" + url.Values{"token": {token}}.Encode()),
					a.submitReset(token, "a password nobody set"),
				} {
					if p.status != tc.status || !strings.Contains(p.body, `<h1 id="error-heading">`+tc.heading+`</h1>`) ||
						!strings.Contains(p.body, `id="forgot-link" href="/password/forgot"`) {
						t.Errorf("%s %s: %d, want %d with %q and the way to a new link:\n%s", p.url.Path, tc.name, p.status, tc.status, tc.heading, p.body)
					}
				}
				if s.passwordHash(t, email) != before {
					t.Error("a link that does not work changed the password")
				}
				if tc.name != "used" {
					s.wantPasswords(t, email, recoveryOld, "a password nobody set")
				}
				s.Mail.None(t, email, 0)
				s.wantNotLogged(t, token)
			})
		}
	})
}

// Asking for links is limited per address asked about and per client
// address, with a readable 429 that says how long to wait.
func TestForgotPasswordRateLimits(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock))
		s.createUser(t, "alice@example.com", recoveryOld, "Alice")
		a := s.newAgent(t)
		limited := func(p page, what string) {
			t.Helper()
			if p.status != http.StatusTooManyRequests || !strings.Contains(p.body, `id="reset-wait"`) ||
				!strings.Contains(p.body, "You asked for too many links. Try again in") || p.header.Get("Retry-After") == "" {
				t.Fatalf("%s: %d, want a 429 page saying how long to wait, with Retry-After:\n%s", what, p.status, p.body)
			}
		}
		// Per address: three links, then a wait — for an unknown address too.
		for _, email := range []string{"alice@example.com", "nobody@example.com"} {
			for i := range 3 {
				if p := a.askForReset(email); p.status != http.StatusOK {
					t.Fatalf("request %d for %s: %d", i+1, email, p.status)
				}
			}
			limited(a.askForReset(email), "a fourth request for "+email)
		}
		for range 3 {
			s.resetLink(t, "alice@example.com")
		}
		s.Mail.None(t, "alice@example.com", 0)
		clock.Advance(time.Minute)
		if p := a.askForReset("alice@example.com"); p.status != http.StatusOK {
			t.Fatalf("after the wait: %d", p.status)
		}
		s.resetLink(t, "alice@example.com")
		// Per client address: seven charged so far; three more addresses,
		// then this client waits whatever it asks about.
		for _, email := range []string{"carol@example.com", "dave@example.com", "erin@example.com"} {
			if p := a.askForReset(email); p.status != http.StatusOK {
				t.Fatalf("%s: %d", email, p.status)
			}
		}
		limited(a.askForReset("frank@example.com"), "the client past its budget")
	})
}
