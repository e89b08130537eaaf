package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromiumEnv names a browser binary to use instead of looking for one.
const chromiumEnv = "AJRLY_CHROMIUM"

// chromiumNames are the browsers looked for, in order, when chromiumEnv is
// not set. Tests never download a browser.
var chromiumNames = []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"}

// browserSlots caps how many browsers run at once: each Chromium wants a
// core or so, and the test machine has two.
var browserSlots = make(chan struct{}, 2)

// browserDeadline bounds one test's whole browser session, so that a
// browser that stops answering fails the test instead of hanging the suite.
// It is a safety net, not an assertion about speed.
const browserDeadline = 60 * time.Second

// findChromium returns the browser to drive. Without one the test is
// skipped, except in CI (CI=true), where the browser tests must run.
func findChromium(t testing.TB) string {
	t.Helper()
	if name := os.Getenv(chromiumEnv); name != "" {
		path, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("%s=%q is not an executable browser: %v", chromiumEnv, name, err)
		}
		return path
	}
	for _, name := range chromiumNames {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("chromium not found but CI=true: the browser tests must run in CI; install it with apt-get install -y chromium (or set %s)", chromiumEnv)
	}
	t.Skip("chromium not found; browser tests skipped (install it with apt-get install -y chromium)")
	return ""
}

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
