package e2e

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// appByePage is what the app answers at /bye, where RP-initiated logout
// sends people back.
const appByePage = `<!doctype html><html><head><title>Example App</title></head><body><p id="bye">signed out</p></body></html>`

// newByeAppServer is an app server that answers /bye as well as /callback
// (newAppServer answers only /callback), recording every request the same
// way.
func newByeAppServer(t *testing.T) *appServer {
	t.Helper()
	a := &appServer{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.hits = append(a.hits, appHit{url: r.URL, referer: r.Referer()})
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/callback":
			fmt.Fprint(w, appResultPage)
		case "/bye":
			fmt.Fprint(w, appByePage)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(hs.Close)
	a.URL = hs.URL
	return a
}

// pageHits returns the app's requests after the first before ones,
// leaving out the favicon a browser may ask for on its own after showing
// one of the app's pages.
func pageHits(a *appServer, before int) []string {
	var out []string
	for _, h := range a.requests()[before:] {
		if h.url.Path != "/favicon.ico" {
			out = append(out, h.url.String())
		}
	}
	return out
}

// isolatedBrowser opens a tab in b's Chromium in a browser context of its
// own: like another device, it shares no cookies or storage with b. It runs
// in b's process and so takes no browser slot: a test that waited for a
// second slot while holding one could deadlock with another doing the
// same. It closes before b when t ends.
func isolatedBrowser(t *testing.T, b *browser) *browser {
	t.Helper()
	o := &browser{output: b.output} // chromedp logs through b's browser
	ctx, cancel := chromedp.NewContext(b.ctx, chromedp.WithNewBrowserContext(), chromedp.WithListener(o.record))
	o.ctx = ctx
	t.Cleanup(func() {
		if err := chromedp.Cancel(ctx); err != nil {
			t.Logf("close the isolated browser context: %v", err)
		}
		cancel()
	})
	if err := chromedp.Do(ctx); err != nil { // creates the context and its tab
		t.Fatalf("open an isolated browser context: %v", err)
	}
	return o
}

// signInToAccount signs in on the provider's own sign-in page, outside
// any authorization, and expects the home page.
func signInToAccount(t *testing.T, b *browser, s *server, email, password string) {
	t.Helper()
	b.open(t, s.URL+"/login")
	expectPath(t, b, s, "/login")
	b.do(t, "type the email and password",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	b.follow(t, "submit the sign-in form", chromedp.Click(chromedp.ID("sign-in")))
	expectPath(t, b, s, "/")
}

// authorizationWithScopes is a new authorization of app that asks for
// scope instead of the app's usual scopes.
func authorizationWithScopes(t *testing.T, app *webApp, scope string) authorization {
	t.Helper()
	cfg := app.config
	cfg.Scopes = strings.Fields(scope)
	az := app.newAuthorization(t)
	az.url = cfg.AuthCodeURL(az.state, oidc.Nonce(az.nonce), oauth2.S256ChallengeOption(az.verifier))
	return az
}

// redeem exchanges the code of the app's callback number n (counting from
// 0) with the authorization's PKCE verifier, and verifies the ID token.
func redeem(t *testing.T, s *server, app *appServer, wa *webApp, az authorization, n int) (*oauth2.Token, *oidc.IDToken) {
	t.Helper()
	q := app.lastCallback(t, n)
	checkCallback(t, s, q, az.state)
	code := q.Get("code")
	if code == "" {
		t.Fatalf("the app received no code: %v", q)
	}
	tok, err := wa.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	return tok, verifyIDToken(t, wa, tok, az.nonce)
}

// orgClaim is the org claim of an ID token.
func orgClaim(t *testing.T, idt *oidc.IDToken) string {
	t.Helper()
	var claims struct {
		Org string `json:"org"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatalf("read the ID token's claims: %v", err)
	}
	return claims.Org
}

// hasSessionCookie reports whether the browser holds a session cookie for
// the provider.
func hasSessionCookie(t *testing.T, b *browser, s *server) bool {
	t.Helper()
	return slices.ContainsFunc(b.cookies(t, s.URL+"/"), func(c *network.Cookie) bool { return c.Name == "ajrly_session" })
}

func TestBrowserSignUpThenAuthorizeCarriesTheOrganization(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		rsID, rsSecret := s.resourceServer(t)
		br := newBrowser(t)
		const (
			name     = "Dana Newcomer"
			email    = "dana@example.com"
			password = "a long enough password"
			orgName  = "Initech Labs"
		)

		az := wa.newAuthorization(t)
		br.open(t, az.url)
		br.expectAt(t, s.URL+"/login?flow=")
		br.follow(t, "follow the link to sign up", chromedp.Click(chromedp.ID("signup-link")))
		br.expectAt(t, s.URL+"/signup?flow=")
		br.do(t, "type the sign-up form",
			chromedp.SendKeys(chromedp.ID("name"), name),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.SendKeys(chromedp.ID("organization"), orgName),
		)
		br.follow(t, "submit the sign-up form", chromedp.Click(chromedp.ID("sign-up")))

		// Sign-up signs nobody in (it answers a taken address the same
		// way): "check your inbox", and a sign-in link that keeps the
		// authorization. Signing in there carries it on where it was: the
		// consent page, in the new person's one organization.
		br.expectAt(t, s.URL+"/signup/sent?flow=")
		br.follow(t, "follow the link to sign in", chromedp.Click(chromedp.ID("login-link")))
		br.expectAt(t, s.URL+"/login?flow=")
		br.do(t, "type the email and password",
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password),
		)
		br.follow(t, "submit the sign-in form", chromedp.Click(chromedp.ID("sign-in")))
		br.expectAt(t, s.URL+"/consent?flow=")
		if got := shownText(t, br, "#org-name"); got != orgName {
			t.Errorf("#org-name = %q, want %q", got, orgName)
		}
		if n := br.count(t, "select#org"); n != 0 {
			t.Errorf("the consent page offers a choice of organization to a person in one")
		}
		decide(t, br, app, "allow")

		user, err := s.Store.UserByEmail(t.Context(), email)
		if err != nil {
			t.Fatalf("the sign-up created no user: %v", err)
		}
		org, err := s.Store.OrganizationByName(t.Context(), orgName)
		if err != nil {
			t.Fatalf("the sign-up created no organization: %v", err)
		}
		tok, idt := redeem(t, s, app, wa, az, 0)
		if idt.Subject != user.ID {
			t.Errorf("the ID token is for %q, want the new user %q", idt.Subject, user.ID)
		}
		if got := orgClaim(t, idt); got != org.ID {
			t.Errorf("the ID token's org claim is %q, want the new organization %q", got, org.ID)
		}
		if got := s.introspect(t, rsID, rsSecret, tok.AccessToken); got["active"] != true || got["org"] != org.ID {
			t.Errorf("introspection of the access token = %v, want active with org %q", got, org.ID)
		}
		info, err := wa.oidc.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatalf("userinfo: %v", err)
		}
		var claims map[string]any
		if err := info.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims["org"] != org.ID {
			t.Errorf("userinfo = %v, want org %q", claims, org.ID)
		}
		for _, u := range br.requestsSince(0) {
			if strings.Contains(u, "enough") {
				t.Errorf("the password shows in the address %s", u)
			}
		}
		checkNoPageErrors(t, br, s)
	})
}

func TestBrowserSignUpShowsEachProblem(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		taken := s.createUser(t, "taken@example.com", "correct horse battery", "Taken Already")
		if _, err := s.Store.CreateOrganization(t.Context(), "Globex", taken.ID); err != nil {
			t.Fatal(err)
		}
		br := newBrowser(t)

		const password = "a long enough password"
		tests := []struct {
			name                           string
			fullName, email, password, org string
			field, message                 string // the #error-<field> and what it says
			status                         int
			newEmail                       bool // no account may exist for the email afterwards
		}{
			{"an empty name is asked for", "", "erin@example.com", password, "Erin Co",
				"name", "Enter your name.", http.StatusBadRequest, true},
			{"an email without an at sign is refused", "Erin Example", "erin.example.com", password, "Erin Co",
				"email", "Enter a valid email address, like name@example.com.", http.StatusBadRequest, true},
			{"a password shorter than 10 characters is refused", "Erin Example", "erin@example.com", "9 letters", "Erin Co",
				"password", "Use at least 10 characters for your password.", http.StatusBadRequest, true},
			{"a password equal to the email is refused", "Erin Example", "erin@example.com", "erin@example.com", "Erin Co",
				"password", "Your password must not be your email address.", http.StatusBadRequest, true},
			{"an organization name over 80 characters is refused", "Erin Example", "erin@example.com", password, strings.Repeat("o", 81),
				"organization", "Use at most 80 characters for the organization's name.", http.StatusBadRequest, true},
			{"an organization name already taken is refused", "Erin Example", "erin@example.com", password, "Globex",
				"organization", "That organization name is taken. Choose another one.", http.StatusConflict, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				usersBefore, err := s.Store.ListUsers(t.Context())
				if err != nil {
					t.Fatal(err)
				}
				br.open(t, s.URL+"/signup")
				expectPath(t, br, s, "/signup")
				var typing []chromedp.Action[chromedp.Void]
				for _, f := range [][2]string{{"name", tc.fullName}, {"email", tc.email}, {"password", tc.password}, {"organization", tc.org}} {
					if f[1] != "" {
						typing = append(typing, chromedp.SendKeys(chromedp.ID(f[0]), f[1]))
					}
				}
				br.do(t, "type the sign-up form", typing...)
				resp := br.follow(t, "submit the sign-up form", chromedp.Click(chromedp.ID("sign-up")))

				expectPath(t, br, s, "/signup")
				if resp.Status != int64(tc.status) {
					t.Errorf("the sign-up page answered %d, want %d", resp.Status, tc.status)
				}
				if got := shownText(t, br, "#error-"+tc.field); !strings.HasPrefix(got, tc.message) {
					t.Errorf("#error-%s says %q, want %q", tc.field, got, tc.message)
				}
				if n := br.count(t, ".field-error"); n != 1 {
					t.Errorf("the page shows %d field errors, want only #error-%s", n, tc.field)
				}
				for id, want := range map[string]string{"name": tc.fullName, "email": tc.email, "organization": tc.org} {
					if got := fieldValue(t, br, id); got != want {
						t.Errorf("#%s holds %q after the answer, want what was typed, %q", id, got, want)
					}
				}
				if got := fieldValue(t, br, "password"); got != "" {
					t.Errorf("#password holds %q after the answer, want it empty", got)
				}

				if tc.newEmail {
					if _, err := s.Store.UserByEmail(t.Context(), tc.email); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("UserByEmail(%s) = %v, want not found: the refused sign-up created a user", tc.email, err)
					}
				}
				if usersAfter, err := s.Store.ListUsers(t.Context()); err != nil {
					t.Fatal(err)
				} else if len(usersAfter) != len(usersBefore) {
					t.Errorf("the refused sign-up changed the number of users from %d to %d", len(usersBefore), len(usersAfter))
				}
				if tc.org != "" && tc.org != "Globex" {
					if _, err := s.Store.OrganizationByName(t.Context(), tc.org); !errors.Is(err, storage.ErrNotFound) {
						t.Errorf("OrganizationByName(%s) = %v, want not found: the refused sign-up created it", tc.org, err)
					}
				}
				// No checkNoPageErrors: the browser reports each 4xx answer,
				// which is what these rows expect.
			})
		}
	})
}

func TestBrowserPickAnOrganizationOnConsent(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		user := s.createInvitee(t, "frank@example.com", "correct horse battery", "Frank Example")
		acme, err := s.Store.CreateOrganization(t.Context(), "Acme", user.ID)
		if err != nil {
			t.Fatal(err)
		}
		globex, err := s.Store.CreateOrganization(t.Context(), "Globex", user.ID)
		if err != nil {
			t.Fatal(err)
		}
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		br := newBrowser(t)

		az := wa.newAuthorization(t)
		signIn(t, br, s, az.url, "frank@example.com", "correct horse battery")
		if br.count(t, "select#org") != 1 {
			t.Fatalf("the consent page of a person in two organizations has no select#org; it says: %s", br.describe(t))
		}
		offered := map[string]string{}
		for _, n := range run(t, br, "list the organizations", chromedp.Nodes(chromedp.CSSAll("select#org > option"))) {
			id := n.AttributeValue("value")
			offered[id] = strings.TrimSpace(run(t, br, "read an option", chromedp.TextContent(chromedp.CSS(fmt.Sprintf("select#org > option[value=%q]", id)))))
		}
		if want := map[string]string{acme.ID: "Acme", globex.ID: "Globex"}; !maps.Equal(offered, want) {
			t.Errorf("select#org offers %v, want %v", offered, want)
		}
		if got := fieldValue(t, br, "org"); got != acme.ID {
			t.Errorf("select#org starts at %q, want the first organization, Acme (%s)", got, acme.ID)
		}
		br.do(t, "choose Globex", chromedp.SetValue(chromedp.ID("org"), globex.ID))
		if got := fieldValue(t, br, "org"); got != globex.ID {
			t.Fatalf("select#org is %q after choosing Globex (%s)", got, globex.ID)
		}
		decide(t, br, app, "allow")

		_, idt := redeem(t, s, app, wa, az, 0)
		if got := orgClaim(t, idt); got != globex.ID {
			t.Errorf("the ID token's org claim is %q, want Globex's id %q (Acme is %q)", got, globex.ID, acme.ID)
		}
		checkNoPageErrors(t, br, s)
	})
}

func TestBrowserRememberedConsentAndNewScopes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "grace@example.com", "correct horse battery", "Grace Example")
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app) // registered for appScopes, email among them
		br := newBrowser(t)
		const firstScopes = "openid profile read"

		// First: sign in, tick "remember", allow.
		first := authorizationWithScopes(t, wa, firstScopes)
		signIn(t, br, s, first.url, "grace@example.com", "correct horse battery")
		if br.count(t, "#new-scopes") != 0 || br.count(t, "ul#scopes > li.new") != 0 {
			t.Errorf("a first consent marks scopes as new: %s", br.describe(t))
		}
		br.do(t, "tick #remember", chromedp.Click(chromedp.ID("remember")))
		if !run(t, br, "read #remember", chromedp.JavascriptAttribute[bool](chromedp.ID("remember"), "checked")) {
			t.Fatal("#remember is not ticked after clicking it")
		}
		decide(t, br, app, "allow")
		redeem(t, s, app, wa, first, 0)

		// Second, for the same scopes: straight back to the app with a code.
		second := authorizationWithScopes(t, wa, firstScopes)
		mark := br.mark()
		br.open(t, second.url)
		br.expectAt(t, app.URL+"/callback?")
		for _, u := range br.requestsSince(mark) {
			if strings.HasPrefix(u, s.URL+"/") && !strings.HasPrefix(u, s.URL+"/authorize?") {
				t.Errorf("the remembered authorization showed a page: %v", br.requestsSince(mark))
				break
			}
		}
		redeem(t, s, app, wa, second, 1)

		// Third, asking for email as well: the consent page again, with
		// email marked new and the others not.
		third := authorizationWithScopes(t, wa, firstScopes+" email")
		br.open(t, third.url)
		br.expectAt(t, s.URL+"/consent?flow=")
		if got := shownText(t, br, "#new-scopes"); got == "" {
			t.Error("#new-scopes is empty")
		}
		for _, scope := range strings.Fields(firstScopes + " email") {
			isNew := scope == "email"
			name := "the consent page marks " + scope + " as new"
			if !isNew {
				name = "the consent page does not mark " + scope + " as new"
			}
			t.Run(name, func(t *testing.T) {
				sel := fmt.Sprintf("ul#scopes > li[data-scope=%q]", scope)
				if br.count(t, sel) != 1 {
					t.Fatalf("the consent page does not list %s", scope)
				}
				class := run(t, br, "read the class of "+sel, chromedp.AttributeValue(chromedp.CSS(sel), "class"))
				if got := slices.Contains(strings.Fields(class.Value), "new"); got != isNew {
					t.Errorf("%s has class %q; marked new: %v, want %v", sel, class.Value, got, isNew)
				}
				badges := br.count(t, sel+" .badge")
				if isNew && (badges != 1 || run(t, br, "read the badge", chromedp.TextContent(chromedp.CSS(sel+" .badge"))) != "new") {
					t.Errorf("%s has %d badges, want one saying new", sel, badges)
				}
				if !isNew && badges != 0 {
					t.Errorf("%s has a badge, but the app had it before", sel)
				}
			})
		}
		checkNoPageErrors(t, br, s)
	})
}

func TestBrowserRevokeInConnectedApps(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "heidi@example.com", "correct horse battery", "Heidi Example")
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		rsID, rsSecret := s.resourceServer(t)
		br := newBrowser(t)

		az := wa.newAuthorization(t) // appScopes has offline_access
		signIn(t, br, s, az.url, "heidi@example.com", "correct horse battery")
		decide(t, br, app, "allow")
		tok, _ := redeem(t, s, app, wa, az, 0)
		if tok.RefreshToken == "" {
			t.Fatal("the exchange gave no refresh token")
		}
		if got := s.introspect(t, rsID, rsSecret, tok.AccessToken); got["active"] != true {
			t.Fatalf("the new access token is not active: %v", got)
		}

		item := fmt.Sprintf("ul#apps > li[data-client=%q]", wa.id)
		br.open(t, s.URL+"/settings/apps")
		expectPath(t, br, s, "/settings/apps")
		if br.count(t, item) != 1 {
			t.Fatalf("the connected apps page does not list the app %s; it says: %s", wa.id, br.describe(t))
		}
		if got := shownText(t, br, item+" .app-name"); got != "Example App" {
			t.Errorf("the app is listed as %q, want Example App", got)
		}
		br.follow(t, "click Revoke access", chromedp.Click(chromedp.CSS(item+" button.revoke")))

		expectPath(t, br, s, "/settings/apps")
		if got := shownText(t, br, "#notice"); got == "" {
			t.Error("#notice is empty after revoking")
		}
		if n := br.count(t, item); n != 0 {
			t.Errorf("the page still lists the app after revoking it")
		}
		if n := br.count(t, "#no-apps"); n != 1 {
			t.Errorf("the page does not say there are no apps left")
		}

		stale := *tok
		stale.Expiry = time.Now().Add(-time.Minute)
		_, err := wa.config.TokenSource(t.Context(), &stale).Token()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Errorf("refreshing after the revocation gave %v, want invalid_grant", err)
		}
		for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
			if got := s.introspect(t, rsID, rsSecret, token); got["active"] != false {
				t.Errorf("a token of the revoked app is still active: %v", got)
			}
		}
		checkNoPageErrors(t, br, s)
	})
}

func TestBrowserLogout(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "ivan@example.com", "correct horse battery", "Ivan Example")
		app := newByeAppServer(t)
		bye := app.URL + "/bye"
		wa := newWebAppWith(t, s, clients.Spec{
			Name:                   "Example App",
			RedirectURIs:           []string{app.URL + "/callback"},
			PostLogoutRedirectURIs: []string{bye},
			Scopes:                 strings.Fields(appScopes),
		})
		var discovery struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if err := wa.oidc.Claims(&discovery); err != nil || discovery.EndSession == "" {
			t.Fatalf("discovery has no end_session_endpoint (%v)", err)
		}
		br := newBrowser(t)

		// idTokenOfSignIn signs the browser in through an authorization
		// and returns the app's ID token.
		idTokenOfSignIn := func(t *testing.T) string {
			t.Helper()
			az := wa.newAuthorization(t)
			before := len(app.callbacks())
			signIn(t, br, s, az.url, "ivan@example.com", "correct horse battery")
			decide(t, br, app, "allow")
			tok, _ := redeem(t, s, app, wa, az, before)
			return tok.Extra("id_token").(string)
		}
		// expectSignedOut checks that the browser's session is gone.
		expectSignedOut := func(t *testing.T) {
			t.Helper()
			if hasSessionCookie(t, br, s) {
				t.Error("the browser still holds a session cookie")
			}
			br.open(t, s.URL+"/")
			expectPath(t, br, s, "/login")
		}

		t.Run("a signed-in person confirms signing out at /logout", func(t *testing.T) {
			signInToAccount(t, br, s, "ivan@example.com", "correct horse battery")
			br.open(t, s.URL+"/logout")
			expectPath(t, br, s, "/logout")
			if br.count(t, "#confirm-sign-out") != 1 || br.count(t, "#signed-out") != 0 {
				t.Fatalf("a bare /logout did not ask to confirm; the page says: %s", br.describe(t))
			}
			br.follow(t, "click #confirm-sign-out", chromedp.Click(chromedp.ID("confirm-sign-out")))
			shownText(t, br, "#signed-out")
			expectSignedOut(t)
		})

		t.Run("a valid hint and a registered address send the browser straight back to the app", func(t *testing.T) {
			hint := idTokenOfSignIn(t)
			state := randomString(t)
			logout := discovery.EndSession + "?" + url.Values{
				"id_token_hint":            {hint},
				"post_logout_redirect_uri": {bye},
				"state":                    {state},
			}.Encode()
			mark, hits := br.mark(), len(app.requests())
			br.open(t, logout)
			br.expectAt(t, bye+"?")
			if got := br.location(t).Query().Get("state"); got != state {
				t.Errorf("the browser came back with state %q, want %q", got, state)
			}
			if got := shownText(t, br, "#bye"); got != "signed out" {
				t.Errorf("the app's page says %q", got)
			}
			for i, u := range br.requestsSince(mark) {
				if i > 0 && strings.HasPrefix(u, s.URL+"/") { // the first is the logout request
					t.Errorf("the browser saw a provider page on its way back: %v", br.requestsSince(mark))
					break
				}
			}
			if got := pageHits(app, hits); len(got) != 1 || !strings.HasPrefix(got[0], "/bye?") {
				t.Errorf("the app received %v, want one request to /bye", got)
			}
			expectSignedOut(t)
			// Checked here: the next case expects a 400, which the browser
			// reports too.
			checkNoPageErrors(t, br, s)
		})

		t.Run("an unregistered address stops at the error page and keeps the session", func(t *testing.T) {
			hint := idTokenOfSignIn(t)
			logout := discovery.EndSession + "?" + url.Values{
				"id_token_hint":            {hint},
				"post_logout_redirect_uri": {app.URL + "/elsewhere"},
				"state":                    {randomString(t)},
			}.Encode()
			hits := len(app.requests())
			resp := br.open(t, logout)
			expectPath(t, br, s, "/logout")
			if got := shownText(t, br, "#error-heading"); got == "" {
				t.Error("the error page has an empty heading")
			}
			if resp.Status != http.StatusBadRequest {
				t.Errorf("the error page has status %d, want %d", resp.Status, http.StatusBadRequest)
			}
			if got := pageHits(app, hits); len(got) != 0 {
				t.Errorf("the app received %v, want nothing", got)
			}
			if !hasSessionCookie(t, br, s) {
				t.Error("the browser lost its session cookie")
			}
			br.open(t, s.URL+"/")
			expectPath(t, br, s, "/")
			if br.count(t, "#sign-out-everywhere") != 1 {
				t.Errorf("the home page is not the signed-in one; it says: %s", br.describe(t))
			}
		})
	})
}

func TestBrowserSignOutOfAllDevices(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "judy@example.com", "correct horse battery", "Judy Example")
		laptop := newBrowser(t)
		phone := isolatedBrowser(t, laptop)

		signInToAccount(t, laptop, s, "judy@example.com", "correct horse battery")
		// The phone shares nothing with the laptop: it is not signed in yet.
		phone.open(t, s.URL+"/")
		expectPath(t, phone, s, "/login")
		signInToAccount(t, phone, s, "judy@example.com", "correct horse battery")

		laptop.open(t, s.URL+"/")
		expectPath(t, laptop, s, "/")
		laptop.follow(t, "click #sign-out-everywhere", chromedp.Click(chromedp.ID("sign-out-everywhere")))
		shownText(t, laptop, "#signed-out")

		phone.open(t, s.URL+"/")
		expectPath(t, phone, s, "/login")
		laptop.open(t, s.URL+"/")
		expectPath(t, laptop, s, "/login")
		checkNoPageErrors(t, laptop, s)
		checkNoPageErrors(t, phone, s)
	})
}
