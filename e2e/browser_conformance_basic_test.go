package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The Basic OP plan's modules whose point is a page the person sees (see
// conformance_basic_test.go for the others), in headless Chromium. Each
// test starts one browser and runs in it once per backend, one after the
// other, with the browser's cookies cleared in between.

// basicBrowserOP is the plan's provider with a client whose redirect URI
// is a real app server, so the browser has somewhere to land.
type basicBrowserOP struct {
	*basicOP
	site  *appServer
	clock *storagetest.Clock
}

// basicInBrowser runs test in one browser for each backend, in turn; each
// run gets a fresh provider, app server and clock, and no cookies.
func basicInBrowser(t *testing.T, test func(t *testing.T, br *browser, op *basicBrowserOP)) {
	t.Helper()
	br := newBrowser(t)
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			if _, err := chromedp.Call(br.ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
				t.Fatalf("clear the browser's cookies: %v", err)
			}
			app := newAppServer(t)
			clock := storagetest.NewClock()
			op := newBasicOPAt(t, b, app.URL+"/callback", withClock(clock))
			test(t, br, &basicBrowserOP{basicOP: op, site: app, clock: clock})
			checkNoPageErrors(t, br, op.s)
		})
	}
}

// signInPage opens q's authorization in the browser and expects a normal
// sign-in page: a 200 with the email and password fields and the button.
func (op *basicBrowserOP) signInPage(t *testing.T, br *browser, q url.Values) {
	t.Helper()
	resp := br.open(t, op.authURL(q))
	br.expectAt(t, op.s.URL+"/login?flow=")
	if resp.Status != http.StatusOK {
		t.Errorf("the sign-in page answered %d, want 200", resp.Status)
	}
	if got := br.text(t, "h1"); got != "Sign in" {
		t.Errorf("the page's heading is %q, want %q", got, "Sign in")
	}
	for _, sel := range []string{"#email", "#password", "#sign-in"} {
		if br.count(t, sel) != 1 {
			t.Errorf("the sign-in page has no %s: %s", sel, br.describe(t))
		}
	}
}

// finish types what signInPage left for the person (the email unless
// skipEmail, and the password), submits, allows on the consent page, and
// redeems the code the app received after its before earlier callbacks.
// It returns the tokens and the ID token's claims.
func (op *basicBrowserOP) finish(t *testing.T, br *browser, q url.Values, before int, skipEmail bool) (*oauth2.Token, map[string]any) {
	t.Helper()
	if !skipEmail {
		br.do(t, "type the email", chromedp.SendKeys(chromedp.ID("email"), basicEmail))
	}
	br.do(t, "type the password", chromedp.SendKeys(chromedp.ID("password"), basicPassword))
	br.follow(t, "submit the sign-in form", chromedp.Click(chromedp.ID("sign-in")))
	br.expectAt(t, op.s.URL+"/consent?flow=")
	decide(t, br, op.site, "allow")
	cb := op.site.lastCallback(t, before)
	loc, _ := url.Parse(op.site.URL + "/callback?" + cb.Encode())
	tok := op.exchange(t, op.code(t, loc, q.Get("state")))
	_, claims := op.idToken(t, tok, q.Get("nonce"))
	return tok, claims
}

// signInAgain opens q's authorization in a browser that has a session
// and expects to be asked to sign in again, then does so.
func (op *basicBrowserOP) signInAgain(t *testing.T, br *browser, q url.Values, before int) map[string]any {
	t.Helper()
	mark := br.mark()
	op.signInPage(t, br, q)
	if reqs := br.requestsSince(mark); len(reqs) < 2 || !strings.HasPrefix(reqs[0], op.s.URL+"/authorize?") {
		t.Errorf("the browser went %v, want from /authorize to the sign-in page", reqs)
	}
	_, claims := op.finish(t, br, q, before, false)
	return claims
}

// oidcc-display-page: display=page shows the normal sign-in page and the flow completes.
func TestOIDCCDisplayPage(t *testing.T) {
	t.Parallel()
	basicInBrowser(t, func(t *testing.T, br *browser, op *basicBrowserOP) {
		q := op.params(t, "openid")
		q.Set("display", "page")
		op.signInPage(t, br, q)
		op.finish(t, br, q, 0, false)
	})
}

// oidcc-display-popup: display=popup is accepted: the sign-in page shows and the flow completes.
func TestOIDCCDisplayPopup(t *testing.T) {
	t.Parallel()
	basicInBrowser(t, func(t *testing.T, br *browser, op *basicBrowserOP) {
		q := op.params(t, "openid")
		q.Set("display", "popup")
		op.signInPage(t, br, q)
		op.finish(t, br, q, 0, false)
	})
}

// oidcc-prompt-login: prompt=login asks a signed-in person to sign in again, and the new ID token's auth_time is the new sign-in.
func TestOIDCCPromptLogin(t *testing.T) {
	t.Parallel()
	basicInBrowser(t, func(t *testing.T, br *browser, op *basicBrowserOP) {
		q := op.params(t, "openid")
		op.signInPage(t, br, q)
		_, first := op.finish(t, br, q, 0, false)

		op.clock.Advance(3 * time.Second)
		q = op.params(t, "openid")
		q.Set("prompt", "login")
		second := op.signInAgain(t, br, q, 1)
		if a1, a2 := basicAuthTime(t, first), basicAuthTime(t, second); a2 != a1+3 {
			t.Errorf("auth_time after prompt=login = %d, want the new sign-in's %d (the first was %d)", a2, a1+3, a1)
		}
		basicSameSubject(t, first, second)
	})
}

// oidcc-max-age-1: a sign-in older than max_age=1 is not reused: the person signs in again and auth_time says when.
func TestOIDCCMaxAge1(t *testing.T) {
	t.Parallel()
	basicInBrowser(t, func(t *testing.T, br *browser, op *basicBrowserOP) {
		q := op.params(t, "openid")
		op.signInPage(t, br, q)
		_, first := op.finish(t, br, q, 0, false)

		// The suite waits two seconds; the provider's clock moves instead.
		op.clock.Advance(2 * time.Second)
		q = op.params(t, "openid")
		q.Set("max_age", "1")
		second := op.signInAgain(t, br, q, 1)
		a1, a2 := basicAuthTime(t, first), basicAuthTime(t, second) // max_age makes auth_time required
		if a2 <= a1 {
			t.Errorf("the second auth_time %d is not later than the first %d", a2, a1)
		}
		if now := op.clock.Now().Unix(); a2 != now {
			t.Errorf("the second auth_time %d is not the sign-in just now (%d)", a2, now)
		}
		basicSameSubject(t, first, second)
	})
}

// basicSameSubject checks that two ID tokens are for the same person.
func basicSameSubject(t *testing.T, first, second map[string]any) {
	t.Helper()
	if first["sub"] != second["sub"] {
		t.Errorf("sub changed from %v to %v", first["sub"], second["sub"])
	}
}

// oidcc-login-hint: login_hint fills in the email on the sign-in page, so the person types only the password.
func TestOIDCCLoginHint(t *testing.T) {
	t.Parallel()
	basicInBrowser(t, func(t *testing.T, br *browser, op *basicBrowserOP) {
		q := op.params(t, "openid")
		q.Set("login_hint", basicEmail)
		op.signInPage(t, br, q)
		if got := run(t, br, "read the email field", chromedp.Value(chromedp.ID("email"))); got != basicEmail {
			t.Fatalf("the email field holds %q, want the login_hint %q", got, basicEmail)
		}
		_, claims := op.finish(t, br, q, 0, true)
		if claims["sub"] != op.user.ID {
			t.Errorf("sub = %v, want the hinted person %s", claims["sub"], op.user.ID)
		}
	})
}

// oidcc-ui-locales: ui_locales=se does not make the request fail: the sign-in page shows (in its one language) and the flow completes.
func TestOIDCCUiLocales(t *testing.T) {
	t.Parallel()
	basicInBrowser(t, func(t *testing.T, br *browser, op *basicBrowserOP) {
		q := op.params(t, "openid")
		q.Set("ui_locales", "se")
		op.signInPage(t, br, q)
		if lang := run(t, br, "read the page's language", chromedp.Evaluate[string](`document.documentElement.lang`)); lang != "en" {
			t.Errorf("the sign-in page's lang is %q, want en, the language it has", lang)
		}
		op.finish(t, br, q, 0, false)
	})
}
