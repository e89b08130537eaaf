package e2e

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The Basic OP plan's modules whose point is a page the person sees (see
// conformance_basic_test.go for the others), in headless Chromium. Each
// test starts one browser and runs in it once per backend, one after the
// other, with the browser's cookies cleared in between.

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
