// Verification and sign-up without enumeration: signing up and then in
// over plain HTTP, following the links in mail in a browser, and reading
// email_verified from the tokens of a real code flow.

package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/accounts"
)

// signUpThenSignIn fills in the sign-up page p, expects the "check your
// inbox" page every sign-up ends on (nobody is signed in by it), follows
// its "Sign in" link — which keeps the authorization that sent them — and
// signs in there. It returns where signing in led: the consent page of
// the authorization, or the account page.
func (a *agent) signUpThenSignIn(p page, name, email, password, org string) page {
	a.t.Helper()
	sent := a.signUp(p, name, email, password, org)
	if sent.status != http.StatusOK || sent.url.Path != "/signup/sent" {
		a.t.Fatalf("after signing up: %d at %s, want the check-your-inbox page:\n%.800s", sent.status, sent.url, sent.body)
	}
	m := regexp.MustCompile(`id="login-link" href="([^"]+)"`).FindStringSubmatch(sent.body)
	if m == nil {
		a.t.Fatalf("the check-your-inbox page has no sign-in link:\n%s", sent.body)
	}
	return a.signIn(a.get(a.s.URL+strings.ReplaceAll(m[1], "&amp;", "&")), email, password)
}

// verifyLink is the link of the newest verification mail to email.
func (s *server) verifyLink(t *testing.T, email string) string {
	t.Helper()
	msg := s.Mail.Next(t, email)
	if !strings.Contains(msg.Subject, "Verify your email address") {
		t.Fatalf("the mail to %s is %q, want the verification mail", email, msg.Subject)
	}
	return msg.Link(t, accounts.PathVerifyEmail)
}

// tokenOfLink is the token a link in mail carries.
func tokenOfLink(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("the link %q carries no token (%v)", link, err)
	}
	return u.Query().Get("token")
}

// confirmInBrowser opens a verification link and clicks its button,
// expecting the page that says the address is verified.
func confirmInBrowser(t *testing.T, br *browser, s *server, link string) {
	t.Helper()
	resp := br.open(t, link)
	expectPath(t, br, s, accounts.PathVerifyEmail)
	if resp.Status != http.StatusOK || br.count(t, "#confirm-email") != 1 {
		t.Fatalf("the link's page: %d, want 200 with a button:\n%s", resp.Status, br.describe(t))
	}
	done := br.follow(t, "click the button that verifies the address", chromedp.Click(chromedp.ID("confirm-email")))
	if done.Status != http.StatusOK || shownText(t, br, "h1") != "Your email address is verified" {
		t.Fatalf("after confirming: %d, %q", done.Status, shownText(t, br, "h1"))
	}
}

// emailVerifiedClaims runs a code flow for a signed-in browser (consenting
// if asked) and returns email_verified from the ID token and from
// UserInfo.
func emailVerifiedClaims(t *testing.T, br *browser, s *server, app *appServer, wa *webApp, email, password string) (idToken, userInfo any) {
	t.Helper()
	n := len(app.callbacks())
	az := wa.newAuthorization(t)
	br.open(t, az.url)
	if strings.HasPrefix(br.location(t).String(), s.URL+"/login") {
		br.do(t, "type the email and password",
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password))
		br.follow(t, "sign in", chromedp.Click(chromedp.ID("sign-in")))
	}
	if strings.HasPrefix(br.location(t).String(), s.URL+"/consent") {
		decide(t, br, app, "allow")
	}
	tok, idt := redeem(t, s, app, wa, az, n)
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	info, err := wa.oidc.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var ui map[string]any
	if err := info.Claims(&ui); err != nil {
		t.Fatal(err)
	}
	return claims["email_verified"], ui["email_verified"]
}
