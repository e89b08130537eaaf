package e2e

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// checkCookies checks that every cookie the provider set in the browser is
// HttpOnly and SameSite=Lax, and that there is a session cookie.
func checkCookies(t *testing.T, b *browser, s *server) {
	t.Helper()
	cookies := b.cookies(t, s.URL+"/")
	var names []string
	for _, c := range cookies {
		names = append(names, c.Name)
		if !c.HTTPOnly {
			t.Errorf("cookie %s is not HttpOnly", c.Name)
		}
		if c.SameSite != network.CookieSameSiteLax {
			t.Errorf("cookie %s has SameSite=%q, want Lax", c.Name, c.SameSite)
		}
	}
	for _, want := range []string{"ajrly_session", "ajrly_csrf"} {
		if !slices.Contains(names, want) {
			t.Errorf("the browser holds the cookies %v for the provider, want one named %s", names, want)
		}
	}
}

func TestBrowserSignInAndAllow(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		user := s.createUser(t, "alice@example.com", "correct horse battery", "Alice Example")
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		br := newBrowser(t)

		az := wa.newAuthorization(t)
		login, consent := signIn(t, br, s, az.url, "alice@example.com", "correct horse battery")

		// The consent page names the app and the person, and says what each
		// scope allows in plain words.
		if got := br.text(t, "#app-name"); got != "Example App" {
			t.Errorf("#app-name = %q, want %q", got, "Example App")
		}
		if got := br.text(t, "p.who"); !strings.Contains(got, user.Email) {
			t.Errorf("the consent page says %q, want the signed-in user's email %s", got, user.Email)
		}
		var shown []string
		for _, n := range run(t, br, "list the scopes", chromedp.Nodes(chromedp.CSSAll("ul#scopes > li"))) {
			shown = append(shown, n.AttributeValue("data-scope"))
		}
		if want := strings.Fields(appScopes); !sameElements(shown, want) {
			t.Errorf("the consent page lists the scopes %v, want %v", shown, want)
		}
		for _, scope := range strings.Fields(appScopes) {
			t.Run("the consent page describes "+scope+" in plain words", func(t *testing.T) {
				sel := fmt.Sprintf(`ul#scopes > li[data-scope=%q]`, scope)
				item := br.text(t, sel)
				words := item
				if br.count(t, sel+" code") > 0 {
					// The name follows the words, as a code element.
					words = strings.TrimSpace(strings.TrimSuffix(item, br.text(t, sel+" code")))
				}
				if words == "" || words == scope || !strings.Contains(words, " ") {
					t.Errorf("the item of %s reads %q: no description in words", scope, item)
				}
				if want := tenancy.Describe(scope).Description; words != want {
					t.Errorf("the item of %s describes it as %q, want %q", scope, words, want)
				}
			})
		}
		if n := br.count(t, `input[type=checkbox][name=remember]`); n != 1 {
			t.Errorf("the consent page has %d remember checkboxes, want 1", n)
		}
		checkPageHeaders(t, "the sign-in page", login)
		checkPageHeaders(t, "the consent page", consent)
		checkCookies(t, br, s)

		decide(t, br, app, "allow")
		q := app.lastCallback(t, 0)
		checkCallback(t, s, q, az.state)
		if q.Has("error") {
			t.Errorf("the app received error=%q after Allow", q.Get("error"))
		}
		code := q.Get("code")
		if !strings.HasPrefix(code, provider.PrefixAuthorizeCode) {
			t.Fatalf("the app received code %q, want one starting with %s", code, provider.PrefixAuthorizeCode)
		}

		// The app redeems the code with its PKCE verifier and checks the ID
		// token, nonce included.
		tok, err := wa.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatalf("exchange the code: %v", err)
		}
		idt := verifyIDToken(t, wa, tok, az.nonce)
		var claims struct {
			Email string `json:"email"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if idt.Subject != user.ID || claims.Email != user.Email {
			t.Errorf("ID token sub %q email %q, want %q %q", idt.Subject, claims.Email, user.ID, user.Email)
		}

		for _, u := range br.requestsSince(0) {
			if strings.Contains(u, "correct") || strings.Contains(u, "horse") {
				t.Errorf("the password shows in the address %s", u)
			}
		}
		checkNoPageErrors(t, br, s)
	})
}

func TestBrowserDeny(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "bob@example.com", "correct horse battery", "Bob Example")
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		br := newBrowser(t)

		az := wa.newAuthorization(t)
		signIn(t, br, s, az.url, "bob@example.com", "correct horse battery")
		decide(t, br, app, "deny")

		q := app.lastCallback(t, 0)
		checkCallback(t, s, q, az.state)
		if got := q.Get("error"); got != "access_denied" {
			t.Errorf("the app received error %q, want access_denied (query %v)", got, q)
		}
		if q.Has("code") {
			t.Errorf("the app received a code after Deny: %v", q)
		}
		checkNoPageErrors(t, br, s)
	})
}

func TestBrowserUnregisteredRedirectURIShowsErrorPage(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		br := newBrowser(t)

		for _, tc := range []struct {
			name     string
			redirect string
		}{
			{"a path the app did not register shows the error page", app.URL + "/elsewhere"},
			{"the registered address with a query added shows the error page", app.URL + "/callback?next=%2Fadmin"},
			{"the registered address under the name localhost shows the error page", strings.Replace(app.URL, "127.0.0.1", "localhost", 1) + "/callback"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := wa.config
				cfg.RedirectURL = tc.redirect
				az := wa.newAuthorization(t)
				authURL := cfg.AuthCodeURL(az.state, oidc.Nonce(az.nonce), oauth2.S256ChallengeOption(az.verifier))

				resp := br.open(t, authURL)
				br.expectAt(t, s.URL+"/authorize?")
				if br.count(t, "#error-heading") != 1 {
					t.Fatalf("the provider did not show its error page for redirect_uri %s; the page says: %s", tc.redirect, br.describe(t))
				}
				if got := br.text(t, "#error-heading"); got == "" {
					t.Error("the error page has an empty heading")
				}
				if got := br.text(t, "#error-message"); got == "" {
					t.Error("the error page has an empty message")
				}
				if resp.Status != http.StatusBadRequest {
					t.Errorf("the error page has status %d, want %d", resp.Status, http.StatusBadRequest)
				}
				checkPageHeaders(t, "the error page", resp)
				if got := app.requests(); len(got) != 0 {
					t.Errorf("the app received requests: %v", got)
				}
			})
		}
	})
}

func TestBrowserSecondAuthorizationSkipsSignIn(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		user := s.createUser(t, "carol@example.com", "correct horse battery", "Carol Example")
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		br := newBrowser(t)

		first := wa.newAuthorization(t)
		signIn(t, br, s, first.url, "carol@example.com", "correct horse battery")
		decide(t, br, app, "allow")
		firstCode := app.lastCallback(t, 0).Get("code")
		firstTok, err := wa.config.Exchange(t.Context(), firstCode, oauth2.VerifierOption(first.verifier))
		if err != nil {
			t.Fatalf("exchange the first code: %v", err)
		}
		firstID := verifyIDToken(t, wa, firstTok, first.nonce)

		// The same browser, a new authorization: the session cookie signs
		// the person in, so the provider goes straight to consent.
		second := wa.newAuthorization(t)
		mark := br.mark()
		br.open(t, second.url)
		br.expectAt(t, s.URL+"/consent?flow=")
		for _, u := range br.requestsSince(mark) {
			if strings.HasPrefix(u, s.URL+"/login") {
				t.Errorf("the second authorization went through the sign-in page: %v", br.requestsSince(mark))
				break
			}
		}
		if got := br.text(t, "p.who"); !strings.Contains(got, user.Email) {
			t.Errorf("the consent page says %q, want the signed-in user's email %s", got, user.Email)
		}
		decide(t, br, app, "allow")
		q := app.lastCallback(t, 1)
		checkCallback(t, s, q, second.state)
		code := q.Get("code")
		if code == "" || code == firstCode {
			t.Fatalf("the second authorization gave code %q (the first was %q)", code, firstCode)
		}
		tok, err := wa.config.Exchange(t.Context(), code, oauth2.VerifierOption(second.verifier))
		if err != nil {
			t.Fatalf("exchange the second code: %v", err)
		}
		idt := verifyIDToken(t, wa, tok, second.nonce)
		if idt.Subject != user.ID {
			t.Errorf("the second ID token is for %q, want %q", idt.Subject, user.ID)
		}
		// No new sign-in happened, so auth_time is still the first one.
		var a1, a2 struct {
			AuthTime int64 `json:"auth_time"`
		}
		if err := firstID.Claims(&a1); err != nil {
			t.Fatal(err)
		}
		if err := idt.Claims(&a2); err != nil {
			t.Fatal(err)
		}
		if a1.AuthTime == 0 || a2.AuthTime != a1.AuthTime {
			t.Errorf("auth_time of the second ID token = %d, want the first sign-in's %d", a2.AuthTime, a1.AuthTime)
		}
		checkNoPageErrors(t, br, s)
	})
}
