// The profile and security pages in a real browser: filling in their
// forms, reading the list of signed-in devices, and confirming an email
// change from its mail.

package e2e

import (
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/ajrly/ajrly-auth/provider/accounts"
)

const (
	profilePath  = "/settings/profile"
	securityPath = "/settings/security"
)

// typeInto replaces what the field with id holds by text, typed.
func typeInto(id, text string) []chromedp.Action[chromedp.Void] {
	return []chromedp.Action[chromedp.Void]{chromedp.Clear(chromedp.ID(id)), chromedp.SendKeys(chromedp.ID(id), text)}
}

// steps joins groups of steps into one list.
func steps(groups ...[]chromedp.Action[chromedp.Void]) []chromedp.Action[chromedp.Void] {
	var out []chromedp.Action[chromedp.Void]
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// changePasswordIn fills in the password form of the security page b shows
// and submits it; it returns the answer.
func changePasswordIn(t *testing.T, b *browser, current, next string) *network.Response {
	t.Helper()
	b.do(t, "fill in the password form",
		steps(typeInto("current-password", current), typeInto("new-password", next), typeInto("confirm-password", next))...)
	return b.follow(t, "submit the password form", chromedp.Click(chromedp.ID("change-password")))
}

// requestEmailChangeIn fills in the email form of the profile page b shows
// and submits it; it returns the answer.
func requestEmailChangeIn(t *testing.T, b *browser, newEmail, password string) *network.Response {
	t.Helper()
	b.do(t, "fill in the email form", steps(typeInto("new-email", newEmail), typeInto("email-current-password", password))...)
	return b.follow(t, "submit the email form", chromedp.Click(chromedp.ID("change-email")))
}

// devicesShown opens the security page and returns the browser names its
// list of signed-in devices shows, and how many of them are this device.
func devicesShown(t *testing.T, b *browser, s *server) (names []string, current int) {
	t.Helper()
	b.open(t, s.URL+securityPath)
	expectPath(t, b, s, securityPath)
	names = run(t, b, "list the devices", chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("#devices > li .device-browser")].map(e => e.textContent.trim())`))
	return names, b.count(t, "#devices > li#this-device")
}

// wantSignedOut fails unless b, opening the account page, is sent to sign
// in.
func wantSignedOut(t *testing.T, b *browser, s *server, who string) {
	t.Helper()
	b.open(t, s.URL+securityPath)
	if loc := b.location(t); loc.Path != "/login" {
		t.Errorf("%s is still signed in: the security page shows %s (%s)", who, loc, b.describe(t))
	}
}

// wantSignedIn fails unless b still shows the security page.
func wantSignedIn(t *testing.T, b *browser, s *server, who string) {
	t.Helper()
	b.open(t, s.URL+securityPath)
	if loc := b.location(t); loc.Path != securityPath {
		t.Errorf("%s was signed out: the security page sent it to %s", who, loc)
	}
}

// confirmEmailChange opens the link of an email-change mail in the
// browser and clicks its button, as the person does; it returns the
// link's token.
func confirmEmailChange(t *testing.T, br *browser, s *server, link string) string {
	t.Helper()
	if resp := br.open(t, link); resp.Status != http.StatusOK || br.count(t, "#confirm-email") != 1 {
		t.Fatalf("the link's page: %d, want 200 with a button:\n%s", resp.Status, br.describe(t))
	}
	expectPath(t, br, s, accounts.PathVerifyEmail)
	done := br.follow(t, "click the button that confirms the new address", chromedp.Click(chromedp.ID("confirm-email")))
	if done.Status != http.StatusOK || shownText(t, br, "h1") != "Your email address is changed" {
		t.Fatalf("after confirming: %d, %q", done.Status, shownText(t, br, "h1"))
	}
	return tokenOfLink(t, link)
}

// signInRefused fails unless signing in with email and password over plain
// HTTP is refused.
func signInRefused(t *testing.T, s *server, email, password string) {
	t.Helper()
	a := s.newAgent(t)
	if p := a.signIn(a.get(s.URL+"/login"), email, password); p.status != http.StatusUnauthorized {
		t.Errorf("signing in as %s with that password: status %d at %s, want 401", email, p.status, p.url)
	}
}

// checkNoPageErrorsBesides is checkNoPageErrors for a browser that was
// meant to have forms refused: the browser reports each 4xx answer, which
// it ignores for the form posts to paths and nothing else.
func checkNoPageErrorsBesides(t *testing.T, b *browser, s *server, paths ...string) {
	t.Helper()
	for _, msg := range b.consoleErrors() {
		refused := false
		for _, p := range paths {
			refused = refused || (strings.Contains(msg, "responded with a status of 4") && strings.HasSuffix(msg, "("+s.URL+p+")"))
		}
		if !refused && (strings.Contains(msg, s.URL+"/") || strings.Contains(msg, "Content Security Policy") || strings.HasPrefix(msg, "exception:")) {
			t.Errorf("the browser reported: %s", msg)
		}
	}
}
