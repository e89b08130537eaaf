package e2e

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// The Dynamic OP plan's registration modules whose result a person looks
// at (the suite asks for a screenshot): what the app registered about
// itself shows on the page where the person decides. This provider shows
// it on the consent page, which a headless Chromium reads here.

// oidcc-registration-logo-uri: the logo_uri a client registered is shown as an image, loaded and drawn, on the page where the person decides.
func TestOIDCCRegistrationLogoUri(t *testing.T) {
	t.Parallel()
	const logoURI = "https://rp.example.com/oidcc/logo.png" // CreateLogoUri, AddLogoUriToDynamicRegistrationRequest
	br, served := dynLogoBrowser(t, logoURI)
	s := dynConsentPage(t, br, "oidcc-registration-logo-uri", map[string]any{"logo_uri": logoURI})

	// ExpectLoginPageWithLogo.
	if n := br.count(t, "img#app-logo"); n != 1 {
		t.Fatalf("the consent page has %d logos, want 1; it says: %s", n, br.describe(t))
	}
	if src := run(t, br, "read the logo's src", chromedp.Attributes(chromedp.CSS("img#app-logo")))["src"]; src != logoURI {
		t.Errorf("the logo's src = %q, want the registered %q", src, logoURI)
	}
	// The page's Content-Security-Policy lets the image load, and it is
	// drawn at its own size.
	width := run(t, br, "wait for the logo to load", chromedp.Poll[int](
		`(() => { const i = document.getElementById("app-logo"); return i.complete && i.naturalWidth + 1 })()`,
		chromedp.WithPollingTimeout(0))) - 1
	if width != 4 {
		t.Errorf("the logo loaded with naturalWidth %d, want 4 (the image the app serves)", width)
	}
	if served.Load() == 0 {
		t.Error("the browser never asked for the logo")
	}
	checkNoPageErrors(t, br, s)
}

// oidcc-registration-policy-uri: the policy_uri a client registered is linked from the page where the person decides.
func TestOIDCCRegistrationPolicyUri(t *testing.T) {
	t.Parallel()
	const policyURI = "https://rp.example.com/oidcc/policy.html"
	br := newBrowser(t)
	s := dynConsentPage(t, br, "oidcc-registration-policy-uri", map[string]any{"policy_uri": policyURI})
	dynLink(t, br, "a#app-policy", policyURI)
	checkNoPageErrors(t, br, s)
}

// oidcc-registration-tos-uri: the tos_uri a client registered is linked from the page where the person decides.
func TestOIDCCRegistrationTosUri(t *testing.T) {
	t.Parallel()
	const tosURI = "https://rp.example.com/oidcc/tos.html"
	br := newBrowser(t)
	s := dynConsentPage(t, br, "oidcc-registration-tos-uri", map[string]any{"tos_uri": tosURI})
	dynLink(t, br, "a#app-tos", tosURI)
	checkNoPageErrors(t, br, s)
}
