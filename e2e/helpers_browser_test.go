// A real browser: a headless Chromium tab driven over chromedp (browser),
// the web app's end of the redirect it lands on (appServer), and the
// steps and checks of the provider's pages in it.

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// browser is a headless Chromium with one tab, owned by one test. It keeps
// the addresses of the documents the tab requested and what its console said.
type browser struct {
	ctx    context.Context
	output *syncBuffer // Chromium's own output and chromedp's log

	mu       sync.Mutex
	requests []string // every document request, redirects included
	console  []string // errors the pages reported
}

// newBrowser starts a browser for t; it closes when t ends.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := findChromium(t)
	dir := t.TempDir() // removed after the browser closes (cleanups run last in, first out)
	select {
	case browserSlots <- struct{}{}:
	case <-t.Context().Done():
		t.Fatal("the test ended while waiting for a free browser slot")
	}
	t.Cleanup(func() { <-browserSlots })

	b := &browser{output: &syncBuffer{}}
	logf := func(format string, args ...any) { fmt.Fprintf(b.output, "chromedp: "+format+"\n", args...) }
	// The browser outlives t.Context, which ends before cleanups run, so
	// that it can close gracefully in the cleanup below; the deadline still
	// ends it if the test hangs.
	base, cancelDeadline := context.WithTimeout(context.WithoutCancel(t.Context()), browserDeadline)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(base,
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(dir),
		chromedp.CombinedOutput(b.output),
	)
	ctx, cancelTab := chromedp.NewContext(allocCtx,
		chromedp.WithListener(b.record),
		chromedp.WithLogf(logf),
		chromedp.WithErrorf(logf),
	)
	b.ctx = ctx
	t.Cleanup(func() {
		if err := chromedp.Cancel(ctx); err != nil {
			t.Logf("close chromium: %v", err)
		}
		cancelTab()
		cancelAlloc() // waits for the browser process to exit
		cancelDeadline()
		if t.Failed() {
			t.Logf("chromium output:\n%s", b.output)
		}
	})
	if err := chromedp.Do(ctx); err != nil { // starts the browser and opens the tab
		t.Fatalf("start chromium %s: %v (its output follows)", path, err)
	}
	return b
}

// record runs in the tab's event loop: it must be quick and call nothing.
func (b *browser) record(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *network.EventRequestWillBeSent:
		if ev.Type == network.ResourceTypeDocument {
			b.requests = append(b.requests, ev.Request.URL)
		}
	case *cdplog.EventEntryAdded:
		if ev.Entry.Level == cdplog.EntryLevelError {
			b.console = append(b.console, fmt.Sprintf("%s: %s (%s)", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
		}
	case *runtime.EventExceptionThrown:
		b.console = append(b.console, "exception: "+ev.ExceptionDetails.Text)
	}
}

// run runs one action in the tab and returns its value; on error it fails
// the test, saying what it was doing and where the browser was.
func run[T any](t testing.TB, b *browser, what string, action chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(b.ctx, action)
	if err != nil {
		t.Fatalf("browser: %s: %v (last document %s)", what, err, b.lastRequest())
	}
	return v
}

// do runs actions that return nothing, in order.
func (b *browser) do(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	run(t, b, what, chromedp.Steps(steps...))
}

// open navigates to rawURL, follows its redirects, waits for the page to
// load and returns the page's response.
func (b *browser) open(t testing.TB, rawURL string) *network.Response {
	t.Helper()
	return run(t, b, "open "+rawURL, chromedp.NavigateResponse(rawURL))
}

// follow runs steps that make the tab load another page, such as a click on
// a submit button, waits for that page (after any redirects) and returns
// its response.
func (b *browser) follow(t testing.TB, what string, steps ...chromedp.Action[chromedp.Void]) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, steps...)
	if err != nil {
		t.Fatalf("browser: %s: %v (last document %s)", what, err, b.lastRequest())
	}
	return resp
}

// expectAt fails the test unless the tab shows the page at prefix; the
// failure says what the tab shows instead.
func (b *browser) expectAt(t testing.TB, prefix string) {
	t.Helper()
	if loc := b.location(t); !strings.HasPrefix(loc.String(), prefix) {
		t.Fatalf("the browser is at %s, want %s...; the page says: %s", loc, prefix, b.describe(t))
	}
}

// describe summarises the page the tab shows, for failure messages.
func (b *browser) describe(t testing.TB) string {
	t.Helper()
	var parts []string
	for _, sel := range []string{"h1", "#error-message", "[role=alert]"} {
		if b.count(t, sel) > 0 {
			text := run(t, b, "read "+sel, chromedp.Text(chromedp.CSS(sel)))
			parts = append(parts, fmt.Sprintf("%s %q", sel, strings.TrimSpace(text)))
		}
	}
	if len(parts) == 0 {
		return "(no heading or error)"
	}
	return strings.Join(parts, ", ")
}

// location is the address of the page the tab shows.
func (b *browser) location(t testing.TB) *url.URL {
	t.Helper()
	raw := run(t, b, "read the location", chromedp.Location())
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("browser location %q: %v", raw, err)
	}
	return u
}

// text is the rendered text of the first element sel matches; it waits
// for the element to be visible.
func (b *browser) text(t testing.TB, sel string) string {
	t.Helper()
	b.do(t, "wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
	return strings.TrimSpace(run(t, b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// count is how many elements sel matches now, without waiting.
func (b *browser) count(t testing.TB, sel string) int {
	t.Helper()
	return len(run(t, b, "count "+sel, chromedp.Nodes(chromedp.CSSAll(sel), chromedp.AtLeast(0))))
}

// cookies are the cookies the browser holds for rawURL, with their flags.
func (b *browser) cookies(t testing.TB, rawURL string) []*network.Cookie {
	t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{rawURL}})
	if err != nil {
		t.Fatalf("browser: get cookies of %s: %v", rawURL, err)
	}
	return res.Cookies
}

// mark returns how many documents the tab has requested so far, for
// requestsSince.
func (b *browser) mark() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.requests)
}

// requestsSince returns the documents requested after mark.
func (b *browser) requestsSince(mark int) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.requests[mark:]...)
}

func (b *browser) lastRequest() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		return "(none)"
	}
	return b.requests[len(b.requests)-1]
}

// consoleErrors returns the errors the pages reported so far, such as
// resources the Content-Security-Policy blocked.
func (b *browser) consoleErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.console...)
}

// headerValue reads a response header regardless of the case of its name.
func headerValue(h network.Headers, name string) string {
	for k, v := range h {
		if strings.EqualFold(k, name) {
			s, _ := v.(string)
			return s
		}
	}
	return ""
}

// shownText is the text of sel on the page the tab shows; unlike text it
// fails at once, saying what the page shows, when sel is not there.
func shownText(t *testing.T, b *browser, sel string) string {
	t.Helper()
	if b.count(t, sel) == 0 {
		t.Fatalf("the page at %s has no %s; it says: %s", b.location(t), sel, b.describe(t))
	}
	return b.text(t, sel)
}

// fieldValue is the current value of the form field with id.
func fieldValue(t *testing.T, b *browser, id string) string {
	t.Helper()
	return run(t, b, "read the value of #"+id, chromedp.Value(chromedp.ID(id)))
}

// expectPath fails unless the tab shows the provider's page at path
// (exactly, whatever the query).
func expectPath(t *testing.T, b *browser, s *server, path string) {
	t.Helper()
	loc := b.location(t)
	if loc.Host != hostOf(s.URL) || loc.Path != path {
		t.Fatalf("the browser is at %s, want the provider's %s; the page says: %s", loc, path, b.describe(t))
	}
}

// pageHTML is the whole document the tab shows now.
func pageHTML(t *testing.T, b *browser) string {
	t.Helper()
	return run(t, b, "read the page's HTML", chromedp.OuterHTML(chromedp.CSS("html")))
}

// readClipboard grants the page the right to read the clipboard and
// returns what it holds; ok is false when the browser does not let it.
func readClipboard(t *testing.T, b *browser, s *server) (text string, ok bool) {
	t.Helper()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
		Permission: &cdpbrowser.PermissionDescriptor{Name: "clipboard-read"},
		Setting:    cdpbrowser.PermissionSettingGranted,
		Origin:     s.URL,
	}); err != nil {
		t.Logf("cannot read the clipboard back (permission: %v)", err)
		return "", false
	}
	text, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`navigator.clipboard.readText()`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Logf("cannot read the clipboard back: %v", err)
		return "", false
	}
	return text, true
}

// appServer is the web app's end of the redirect: a real server the
// browser lands on, which records every request it gets.
type appServer struct {
	URL string

	mu   sync.Mutex
	hits []appHit
}

// appHit is one request the app got.
type appHit struct {
	url     *url.URL
	referer string
}

// appResultPage is what the app's callback answers, so the browser has a
// page to land on.
const appResultPage = `<!doctype html><html><head><title>Example App</title></head><body><p id="result">ok</p></body></html>`

func newAppServer(t *testing.T) *appServer {
	t.Helper()
	a := &appServer{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.hits = append(a.hits, appHit{url: r.URL, referer: r.Referer()})
		a.mu.Unlock()
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, appResultPage)
	}))
	t.Cleanup(hs.Close)
	a.URL = hs.URL
	return a
}

// requests returns every request the app got.
func (a *appServer) requests() []appHit {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.hits)
}

// callbacks returns the requests to /callback, in order.
func (a *appServer) callbacks() []appHit {
	var out []appHit
	for _, h := range a.requests() {
		if h.url.Path == "/callback" {
			out = append(out, h)
		}
	}
	return out
}

// lastCallback returns the query of the one callback after the first
// before ones, and fails unless there is exactly one. The provider's pages
// send no referrer, so the callback must carry none: a Referer would hand
// the app (and anything it loads) the provider's flow address.
func (a *appServer) lastCallback(t *testing.T, before int) url.Values {
	t.Helper()
	got := a.callbacks()
	if len(got) != before+1 {
		t.Fatalf("the app's callback was called %d times, want 1: %v", len(got)-before, got[before:])
	}
	if ref := got[before].referer; ref != "" {
		t.Errorf("the app's callback came with Referer %q, want none (Referrer-Policy: no-referrer)", ref)
	}
	return got[before].url.Query()
}

// newBrowserApp registers a confidential web app whose redirect URI is the
// app server's /callback, with the client libraries it would use.
func newBrowserApp(t *testing.T, s *server, app *appServer) *webApp {
	t.Helper()
	return newWebAppAt(t, s, app.URL+"/callback", false)
}

// signIn opens an authorization URL, expects the sign-in page, types the
// email and password, submits, and expects the consent page. It returns
// the responses of both pages.
func signIn(t *testing.T, b *browser, s *server, authURL, email, password string) (login, consent *network.Response) {
	t.Helper()
	login = b.open(t, authURL)
	b.expectAt(t, s.URL+"/login?flow=")
	b.do(t, "type the email and password",
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), password),
	)
	consent = b.follow(t, "submit the sign-in form", chromedp.Click(chromedp.ID("sign-in")))
	b.expectAt(t, s.URL+"/consent?flow=")
	return login, consent
}

// decide clicks #allow or #deny on the consent page and expects the app's
// callback page.
func decide(t *testing.T, b *browser, app *appServer, button string) {
	t.Helper()
	b.follow(t, "click #"+button, chromedp.Click(chromedp.ID(button)))
	b.expectAt(t, app.URL+"/callback?")
	if got := b.text(t, "#result"); got != "ok" {
		t.Fatalf("the app's page says %q", got)
	}
}

// checkCallback checks the authorization response the app received: state
// returned unchanged, and iss naming the provider (RFC 9207).
func checkCallback(t *testing.T, s *server, q url.Values, state string) {
	t.Helper()
	if got := q.Get("state"); got != state {
		t.Errorf("the app received state %q, want %q", got, state)
	}
	if got := q.Get("iss"); got != s.URL {
		t.Errorf("the app received iss %q, want %q (RFC 9207)", got, s.URL)
	}
}

// checkPageHeaders checks the security headers of a page the browser
// received (SECURITY.md, Browser).
func checkPageHeaders(t *testing.T, page string, resp *network.Response) {
	t.Helper()
	for _, tc := range []struct {
		name, header string
		ok           func(string) bool
		want         string
	}{
		{"forbids framing in its content security policy", "Content-Security-Policy",
			func(v string) bool { return strings.Contains(v, "frame-ancestors 'none'") }, "frame-ancestors 'none'"},
		{"allows no inline script or eval", "Content-Security-Policy",
			func(v string) bool {
				return v != "" && !strings.Contains(v, "'unsafe-inline'") && !strings.Contains(v, "'unsafe-eval'")
			}, "no 'unsafe-inline' or 'unsafe-eval'"},
		{"forbids framing for older browsers", "X-Frame-Options",
			func(v string) bool { return strings.EqualFold(v, "DENY") }, "DENY"},
		{"sends no referrer", "Referrer-Policy",
			func(v string) bool { return v == "no-referrer" }, "no-referrer"},
		{"turns off content sniffing", "X-Content-Type-Options",
			func(v string) bool { return v == "nosniff" }, "nosniff"},
	} {
		t.Run(page+" "+tc.name, func(t *testing.T) {
			if got := headerValue(resp.Headers, tc.header); !tc.ok(got) {
				t.Errorf("%s: %s = %q, want %s", resp.URL, tc.header, got, tc.want)
			}
		})
	}
}

// checkNoPageErrors fails on anything the provider's pages reported to the
// console, such as a resource the Content-Security-Policy blocked.
func checkNoPageErrors(t *testing.T, b *browser, s *server) {
	t.Helper()
	for _, msg := range b.consoleErrors() {
		if strings.Contains(msg, s.URL+"/") || strings.Contains(msg, "Content Security Policy") || strings.HasPrefix(msg, "exception:") {
			t.Errorf("the browser reported: %s", msg)
		}
	}
}
