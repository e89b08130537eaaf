// Which Chromium the browser tests drive, how many run at once, and for
// how long at most. Tests never download a browser.

package e2e

import (
	"os"
	"os/exec"
	"testing"
	"time"
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
