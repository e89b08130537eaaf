package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Issue 11, item 2: sign up in the browser, follow the mailed link, and
// the ID token and UserInfo of a real code flow say email_verified false
// before the click and true after it; the account page shows which.
func TestBrowserSignUpThenVerifyMakesEmailVerifiedTrue(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		br := newBrowser(t)
		const (
			email    = "vera@example.com"
			password = "a long enough password"
		)
		br.open(t, s.URL+"/signup")
		br.do(t, "type the sign-up form",
			chromedp.SendKeys(chromedp.ID("name"), "Vera Fied"),
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password))
		br.follow(t, "submit the sign-up form", chromedp.Click(chromedp.ID("sign-up")))
		expectPath(t, br, s, "/signup/sent")
		if got := shownText(t, br, "h1"); got != "Check your inbox" {
			t.Fatalf("after signing up the page says %q", got)
		}
		link := s.verifyLink(t, email)

		// Signed in before verifying: false, and the account page says so.
		br.follow(t, "follow the link to sign in", chromedp.Click(chromedp.ID("login-link")))
		br.do(t, "type the email and password",
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password))
		br.follow(t, "sign in", chromedp.Click(chromedp.ID("sign-in")))
		expectPath(t, br, s, "/")
		if got := attr(t, br, "#email-state", "data-verified"); got != "false" || br.count(t, "#resend-verification") != 1 {
			t.Errorf("the account page before verifying: data-verified %q, %d resend buttons", got, br.count(t, "#resend-verification"))
		}
		if idt, ui := emailVerifiedClaims(t, br, s, app, wa, email, password); idt != false || ui != false {
			t.Errorf("before verifying: email_verified %v in the ID token, %v in UserInfo; want false", idt, ui)
		}

		confirmInBrowser(t, br, s, link)
		if got := shownText(t, br, "#verify-message"); !strings.Contains(got, email) {
			t.Errorf("the verified page says %q", got)
		}
		br.follow(t, "go to the account page", chromedp.Click(chromedp.ID("continue-link")))
		expectPath(t, br, s, "/")
		if got := attr(t, br, "#email-state", "data-verified"); got != "true" || br.count(t, "#resend-verification") != 0 {
			t.Errorf("the account page after verifying: data-verified %q, %d resend buttons", got, br.count(t, "#resend-verification"))
		}
		if idt, ui := emailVerifiedClaims(t, br, s, app, wa, email, password); idt != true || ui != true {
			t.Errorf("after verifying: email_verified %v in the ID token, %v in UserInfo; want true", idt, ui)
		}
		checkNoPageErrors(t, br, s)
		s.wantNotLogged(t, link, tokenOfLink(t, link), password)
	})
}

// attr is an attribute of the first element sel matches.
func attr(t *testing.T, br *browser, sel, name string) string {
	t.Helper()
	if br.count(t, sel) == 0 {
		t.Fatalf("the page at %s has no %s; it says: %s", br.location(t), sel, br.describe(t))
	}
	return run(t, br, "read "+sel+"'s "+name, chromedp.AttributeValue(chromedp.CSS(sel), name)).Value
}

// A signed-in person asks for a new link from the account page: it goes
// out, the older link stops working, and another request right away is
// refused with when to try again (429) until the wait is over.
func TestBrowserResendVerification(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock))
		const email, password = "remy@example.com", "correct horse battery"
		u := s.createUser(t, email, password, "Remy")
		br := newBrowser(t)
		br.open(t, s.URL+"/login")
		br.do(t, "type the email and password",
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password))
		br.follow(t, "sign in", chromedp.Click(chromedp.ID("sign-in")))
		expectPath(t, br, s, "/")

		resend := func() int64 {
			br.open(t, s.URL+"/")
			return br.follow(t, "ask for a new link", chromedp.Click(chromedp.ID("resend-verification"))).Status
		}
		if status := resend(); status != http.StatusOK || attr(t, br, "#verify", "data-mode") != "sent" {
			t.Fatalf("the first resend: %d, %s", status, br.describe(t))
		}
		first := s.verifyLink(t, email)
		if status := resend(); status != http.StatusTooManyRequests || !strings.Contains(shownText(t, br, "#verify-message"), "Wait 60 seconds") {
			t.Fatalf("a resend right after one: %d, %s", status, br.describe(t))
		}
		s.Mail.None(t, email, 200*time.Millisecond)

		clock.Advance(61 * time.Second)
		if status := resend(); status != http.StatusOK {
			t.Fatalf("a resend after the wait: %d, %s", status, br.describe(t))
		}
		second := s.verifyLink(t, email)
		br.open(t, first)
		if got := shownText(t, br, "#error-heading"); got != "This link is not valid" {
			t.Errorf("the replaced link's page says %q", got)
		}
		confirmInBrowser(t, br, s, second)
		if got, _ := s.Store.UserByID(t.Context(), u.ID); !got.EmailVerified {
			t.Error("the newest link did not verify the address")
		}
		s.wantNotLogged(t, first, second, tokenOfLink(t, first), tokenOfLink(t, second), password)
	})
}

// accounts.require_verified_email: an unverified person sees "verify
// first" instead of consent — even with a remembered decision — and
// prompt=none gets interaction_required; once verified, the same
// authorization carries on.
func TestBrowserRequireVerifiedEmailBlocksConsentUntilVerified(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRequireVerifiedEmail())
		app := newAppServer(t)
		wa := newBrowserApp(t, s, app)
		const email, password = "una@example.com", "correct horse battery"
		u := s.createUser(t, email, password, "Una")
		org := s.orgOf(t, u)
		// A decision remembered from before the rule: it lets nobody
		// unverified through.
		if _, err := s.Store.SaveConsent(t.Context(), storage.Consent{UserID: u.ID, OrgID: org.ID, ClientID: wa.id,
			Scopes: appScopes, Remember: true}); err != nil {
			t.Fatal(err)
		}
		br := newBrowser(t)
		az := wa.newAuthorization(t)
		br.open(t, az.url)
		br.do(t, "type the email and password",
			chromedp.SendKeys(chromedp.ID("email"), email),
			chromedp.SendKeys(chromedp.ID("password"), password))
		resp := br.follow(t, "sign in", chromedp.Click(chromedp.ID("sign-in")))
		br.expectAt(t, s.URL+"/consent?flow=")
		if resp.Status != http.StatusForbidden || attr(t, br, "#verify", "data-mode") != "required" || br.count(t, "#allow") != 0 {
			t.Fatalf("an unverified person at consent: %d, %s", resp.Status, br.describe(t))
		}
		if n := len(app.callbacks()); n != 0 {
			t.Fatalf("the app was called %d times before the address was verified", n)
		}

		// prompt=none, signed in: interaction_required, back to the app.
		n := len(app.callbacks())
		silent := wa.config.AuthCodeURL("state-silent-1", oauth2.SetAuthURLParam("prompt", "none"), oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
		br.open(t, silent)
		if q := app.lastCallback(t, n); q.Get("error") != "interaction_required" || q.Get("code") != "" {
			t.Errorf("prompt=none for an unverified person: %v, want error=interaction_required and no code", q)
		}

		// Back on the authorization: ask for a link, follow it, continue.
		br.open(t, az.url)
		br.expectAt(t, s.URL+"/consent?flow=")
		br.follow(t, "ask for a new link", chromedp.Click(chromedp.ID("resend-verification")))
		continueURL := attr(t, br, "#continue-link", "href")
		link := s.verifyLink(t, email)
		confirmInBrowser(t, br, s, link)
		n = len(app.callbacks())
		br.open(t, s.URL+continueURL)
		br.expectAt(t, app.URL+"/callback?")
		_, idt := redeem(t, s, app, wa, az, n)
		var claims map[string]any
		_ = idt.Claims(&claims)
		if claims["email_verified"] != true {
			t.Errorf("email_verified = %v after verifying, want true", claims["email_verified"])
		}
		s.wantNotLogged(t, link, tokenOfLink(t, link), password)
	})
}

// Issue 11: an expired, reused, tampered or foreign token is a readable
// page (4xx) and changes nothing; opening a link (as a mail scanner does)
// uses nothing up.
func TestVerifyLinksThatCannotBeUsedChangeNothing(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock))
		people := accounts.New(s.Store, accounts.Config{Mailer: nil})
		ctx := context.Background()
		a := s.newAgent(t)
		signUp := func(email string) (*storage.User, string) {
			a.signUp(a.get(s.URL+"/signup"), "Someone", email, "a long enough password", "")
			u, err := s.Store.UserByEmail(ctx, email)
			storagetest.Must(t, err)
			return u, s.verifyLink(t, email)
		}
		late, lateLink := signUp("late@example.com")
		clock.Advance(accounts.VerifyLinkTTL + time.Second)
		used, usedLink := signUp("used@example.com")
		kept, keptLink := signUp("kept@example.com")
		reset, err := people.NewLink(ctx, storage.PurposeResetPassword, kept, kept.Email)
		storagetest.Must(t, err)

		// A scanner opens the link twice: it still works, once.
		for range 2 {
			if p := a.get(usedLink); p.status != http.StatusOK || !strings.Contains(p.body, `id="confirm-email"`) {
				t.Fatalf("opening a fresh link: %d", p.status)
			}
		}
		confirm := func(token string) page {
			p := a.get(s.URL + "/signup") // any page, for the CSRF token
			return a.post(s.URL+accounts.PathVerifyEmail, url.Values{"csrf_token": {p.csrf(t)}, "token": {token}})
		}
		if p := confirm(tokenOfLink(t, usedLink)); p.status != http.StatusOK || !strings.Contains(p.body, "Your email address is verified") {
			t.Fatalf("confirming a fresh link: %d", p.status)
		}
		keptToken := tokenOfLink(t, keptLink)
		tests := []struct {
			name, token string
			status      int
			heading     string
			who         *storage.User
		}{
			{"expired", tokenOfLink(t, lateLink), http.StatusGone, "This link has expired", late},
			{"reused", tokenOfLink(t, usedLink), http.StatusGone, "This link was already used", nil},
			{"tampered", keptToken[:len(keptToken)-3] + "abc", http.StatusBadRequest, "This link is not valid", kept},
			{"a reset link", tokenOfLink(t, reset), http.StatusBadRequest, "This link is not valid", kept},
			{"made up", "not-a-token", http.StatusBadRequest, "This link is not valid", kept},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				for method, p := range map[string]page{
					"open":    a.get(s.URL + accounts.PathVerifyEmail + "?" + url.Values{"token": {tc.token}}.Encode()),
					"confirm": confirm(tc.token),
				} {
					if p.status != tc.status || !strings.Contains(p.body, `id="error-heading">`+tc.heading+`<`) {
						t.Errorf("%s: %d, want %d with %q:\n%.600s", method, p.status, tc.status, tc.heading, p.body)
					}
					if strings.Contains(p.body, tc.token) {
						t.Errorf("%s: the error page repeats the token", method)
					}
				}
				if tc.who != nil {
					if got, _ := s.Store.UserByID(ctx, tc.who.ID); got.EmailVerified {
						t.Errorf("the %s link verified %s", tc.name, tc.who.Email)
					}
				}
			})
		}
		// None of that used up the good link of kept@.
		if p := confirm(keptToken); p.status != http.StatusOK {
			t.Errorf("the good link after the bad ones: %d", p.status)
		}
		if got, _ := s.Store.UserByID(ctx, used.ID); !got.EmailVerified {
			t.Error("the used link's person is not verified")
		}
		s.wantNotLogged(t, lateLink, usedLink, keptLink, reset, keptToken)
	})
}

// Issue 11, item 3: signing up with an address that has an account
// answers byte for byte like signing up with a new one — status, headers
// that matter, body, and the page it leads to (whose footer's request id
// alone differs) — and the owner is mailed instead.
func TestSignUpAnswersAlikeForKnownAndUnknownAddresses(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		const password = "a long enough password"
		owner := s.createUser(t, "known@example.com", "the owner's own password", "Known")

		// answer signs up from a fresh browser without following the
		// redirect, then loads where it leads.
		type answer struct {
			status             int
			location, body     string
			cookies, then      string
			contentType, cache string
		}
		requestID := regexp.MustCompile(`request <span class="code">[^<]*</span>`)
		signUp := func(email string) answer {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			get := func(path string) (*http.Response, []byte) {
				resp, err := c.Get(s.URL + path)
				storagetest.Must(t, err)
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				return resp, body
			}
			_, form := get("/signup")
			csrf := csrfPattern.FindSubmatch(form)
			if csrf == nil {
				t.Fatal("no CSRF token on /signup")
			}
			resp, err := c.PostForm(s.URL+"/signup", url.Values{"csrf_token": {string(csrf[1])}, "name": {"Someone"},
				"email": {email}, "password": {password}, "organization": {""}})
			storagetest.Must(t, err)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var cookies []string
			for _, ck := range resp.Cookies() {
				cookies = append(cookies, ck.Name)
			}
			_, then := get(resp.Header.Get("Location"))
			return answer{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body),
				cookies: strings.Join(cookies, ","), contentType: resp.Header.Get("Content-Type"), cache: resp.Header.Get("Cache-Control"),
				then: requestID.ReplaceAllString(string(bytes.ReplaceAll(then, csrf[1], nil)), "")}
		}
		fresh, known := signUp("new@example.com"), signUp("KNOWN@example.com")
		if fresh.status != http.StatusSeeOther || fresh.location != "/signup/sent" {
			t.Fatalf("a new address: %d to %q, want 303 to /signup/sent", fresh.status, fresh.location)
		}
		if fresh != known {
			t.Errorf("the answers differ:\nnew:   %+v\nknown: %+v", fresh, known)
		}
		if !strings.Contains(fresh.then, "Check your inbox") {
			t.Errorf("the page after signing up:\n%s", fresh.then)
		}

		if got := s.Mail.Next(t, "known@example.com"); !strings.Contains(got.Subject, "Someone tried to sign up") ||
			!strings.Contains(got.Text, s.URL+"/password/forgot") || !strings.Contains(got.Text, s.URL+"/login") {
			t.Errorf("the owner got %q:\n%s", got.Subject, got.Text)
		}
		s.verifyLink(t, "new@example.com")
		// The owner's account is as it was: their password still works.
		if _, err := accounts.New(s.Store, accounts.Config{}).Authenticate(t.Context(), "known@example.com", "the owner's own password"); err != nil {
			t.Errorf("the owner's password after someone signed up with their address: %v", err)
		}
		if got, _ := s.Store.UserByID(t.Context(), owner.ID); got.Name != "Known" {
			t.Errorf("the owner's name is now %q", got.Name)
		}
		s.wantNotLogged(t, password)
	})
}
