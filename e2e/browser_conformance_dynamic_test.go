package e2e

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"

	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The Dynamic OP plan's registration modules whose result a person looks
// at (the suite asks for a screenshot): what the app registered about
// itself shows on the page where the person decides. This provider shows
// it on the consent page, which a headless Chromium reads here.

// dynPNG is a small image for a logo.
func dynPNG(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	for x := range 4 {
		for y := range 3 {
			img.Set(x, y, color.RGBA{R: 0x20, G: 0x60, B: 0xc0, A: 0xff})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// dynLogoBrowser returns a browser whose tab answers requests for logoURL
// itself with a 4×3 PNG, as the app's server would (the test has no
// network), and counts them.
func dynLogoBrowser(t *testing.T, logoURL string) (*browser, *atomic.Int32) {
	t.Helper()
	base := newBrowser(t)
	logo := dynPNG(t)
	var served atomic.Int32
	b := &browser{output: base.output}
	ready := make(chan struct{})
	// A second tab of the same browser, with a listener that records what
	// the harness's does and fulfils the paused logo requests. The
	// listener runs in the tab's event loop, so it answers from a goroutine.
	var tab context.Context
	tab, cancel := chromedp.NewContext(base.ctx, chromedp.WithListener(func(ev any) {
		b.record(ev)
		if ev, ok := ev.(*fetch.EventRequestPaused); ok {
			go func() {
				<-ready
				served.Add(1)
				_, _ = chromedp.Call(tab, fetch.FulfillRequest, fetch.FulfillRequestParams{
					RequestID:       ev.RequestID,
					ResponseCode:    200,
					ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "image/png"}},
					Body:            logo,
				})
			}()
		}
	}))
	t.Cleanup(cancel) // before the browser closes: cleanups run last in, first out
	b.ctx = tab
	close(ready)
	if _, err := chromedp.Call(tab, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: logoURL}}}); err != nil {
		t.Fatalf("browser: intercept %s: %v", logoURL, err)
	}
	return b, &served
}

// dynConsentPage registers a dynamic client with meta's extra members,
// signs in with the browser and leaves it on the consent page.
func dynConsentPage(t *testing.T, br *browser, module string, extra map[string]any) *server {
	t.Helper()
	s := dynNewServer(t, storagetest.Backends()[0])
	key := dynKey(t, false)
	meta := dynMetadata(module, key, dynRedirect(t))
	for k, v := range extra {
		meta[k] = v
	}
	c := dynRegister(t, s, meta, key)
	for k, v := range extra {
		if c.reg.body[k] != v {
			t.Errorf("the registration answer has %s %v, want %v", k, c.reg.body[k], v)
		}
	}
	signIn(t, br, s, c.authorization(t).url, dynEmail, dynPassword)
	if got := br.text(t, "#app-name"); got != meta["client_name"] {
		t.Errorf("the consent page names the app %q, want %q", got, meta["client_name"])
	}
	return s
}

// dynLink checks that the consent page links to href with the element sel,
// shown with words, and opened without handing the app the page.
func dynLink(t *testing.T, br *browser, sel, href string) {
	t.Helper()
	if n := br.count(t, sel); n != 1 {
		t.Fatalf("the consent page has %d elements %s, want 1", n, sel)
	}
	attrs := run(t, br, "read "+sel, chromedp.Attributes(chromedp.CSS(sel)))
	if attrs["href"] != href {
		t.Errorf("%s links to %q, want the registered %q", sel, attrs["href"], href)
	}
	if !slices.Contains(strings.Fields(attrs["rel"]), "noopener") {
		t.Errorf("%s has rel %q, want noopener", sel, attrs["rel"])
	}
	if text := br.text(t, sel); text == "" {
		t.Errorf("%s has no text", sel)
	}
}

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
