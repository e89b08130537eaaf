// Password recovery from outside: asking for a link over plain HTTP, the
// link the mail brings, and the checks that a reset changed what it must
// and nothing else.

package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
)

// requestIDPattern matches the footer's request id, the one part of a page
// that differs from one request to the next.
var requestIDPattern = regexp.MustCompile(`request <span class="code">[^<]*</span>`)

// withoutRequestID is a page's body without its request id.
func withoutRequestID(p page) string { return requestIDPattern.ReplaceAllString(p.body, "") }

// askForReset asks for a reset link for email on the forgot-password page,
// as a browser without scripts would: the page, then its form.
func (a *agent) askForReset(email string) page {
	a.t.Helper()
	form := a.get(a.s.URL + "/password/forgot")
	if form.status != http.StatusOK {
		a.t.Fatalf("GET /password/forgot: %d:\n%s", form.status, form.body)
	}
	return a.post(a.s.URL+"/password/forgot", url.Values{"csrf_token": {form.csrf(a.t)}, "email": {email}})
}

// resetLink waits for the reset mail to email and returns its link and the
// link's token.
func (s *server) resetLink(t testing.TB, email string) (link, token string) {
	t.Helper()
	msg := s.Mail.Next(t, email)
	if !strings.HasPrefix(msg.Subject, "Reset your") {
		t.Fatalf("the mail to %s is %q, want the reset mail", email, msg.Subject)
	}
	link = msg.Link(t, s.URL+accounts.PathResetPassword+"?token=")
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("no token in %q", link)
	}
	return link, u.Query().Get("token")
}

// submitReset posts the new-password form with token, as the page at the
// link would.
func (a *agent) submitReset(token, password string) page {
	a.t.Helper()
	form := a.get(a.s.URL + "/password/forgot") // any page of ours gives the form's CSRF token
	return a.post(a.s.URL+"/password/reset", url.Values{"csrf_token": {form.csrf(a.t)}, "token": {token},
		"password": {password}, "confirm": {password}})
}

// wantPasswords checks through the sign-in page that works signs email in
// and that each of fails does not.
func (s *server) wantPasswords(t testing.TB, email, works string, fails ...string) {
	t.Helper()
	if a := s.newAgent(t); !signsIn(a, email, works) {
		t.Errorf("the password that should work does not sign %s in", email)
	}
	for _, password := range fails {
		a := s.newAgent(t)
		if p := a.signIn(a.get(s.URL+"/login"), email, password); p.status != http.StatusUnauthorized {
			t.Errorf("signing in with a password that should fail: %d at %s", p.status, p.url)
		}
	}
}

// signsIn tells whether the password signs email in on a's sign-in page.
func signsIn(a *agent, email, password string) bool {
	a.t.Helper()
	p := a.signIn(a.get(a.s.URL+"/login"), email, password)
	return p.status == http.StatusOK && p.url.Path == "/"
}

// signedInAgent is another browser (another device) signed in as email.
func (s *server) signedInAgent(t testing.TB, email, password string) *agent {
	t.Helper()
	a := s.newAgent(t)
	if p := a.signIn(a.get(s.URL+"/login"), email, password); p.url.Path != "/" {
		t.Fatalf("sign in on another browser: %d at %s", p.status, p.url)
	}
	return a
}

// signedIn tells whether the agent's browser is signed in: the home page
// names the person.
func (a *agent) signedIn() bool {
	a.t.Helper()
	return strings.Contains(a.get(a.s.URL+"/").body, `id="signed-in-as"`)
}

// appRefreshToken runs an authorization of a new web app as email and
// returns the app and its tokens, with a refresh token (offline_access).
func (s *server) appRefreshToken(t *testing.T, email, password string) (*webApp, *oauth2.Token) {
	t.Helper()
	app := newWebApp(t, s, false)
	az := app.newAuthorization(t)
	tok, err := app.config.Exchange(t.Context(), app.code(t, az, email, password), oauth2.VerifierOption(az.verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token")
	}
	return app, tok
}

// active is whether introspection says the token is active, asked by the
// app it was issued to.
func (app *webApp) active(t testing.TB, token string) bool {
	t.Helper()
	return app.s.introspect(t, app.id, app.secret, token)["active"] == true
}

// passwordHash is the stored hash of email's password, to show that
// something changed it or did not.
func (s *server) passwordHash(t testing.TB, email string) string {
	t.Helper()
	u, err := s.Store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.PasswordHash
}

// madeVerifyLink makes a link to /email/verify for email, as sign-up mails.
func (s *server) madeVerifyLink(t testing.TB, email string) string {
	t.Helper()
	u, err := s.Store.UserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	link, err := accounts.New(s.Store, accounts.Config{Issuer: s.URL}).NewLink(context.Background(), storage.PurposeVerifyEmail, u, u.Email)
	if err != nil {
		t.Fatalf("make a verification link: %v", err)
	}
	return link
}
