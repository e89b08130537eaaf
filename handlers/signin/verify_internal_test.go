package signin

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/storage"
)

// TestVerifyPagesRender renders each mode of the verification page but
// "required" (TestPagesRender's, verify.golden.html) and compares it with
// its golden file, testdata/verify-MODE.golden.html (webtest.GoldenPage
// keeps one per page); `go test ./handlers/signin -update` rewrites them.
func TestVerifyPagesRender(t *testing.T) {
	t.Parallel()
	user := &storage.User{ID: "usr_1", Email: "alice@example.com", Name: "Alice <Admin>"}
	base := func(title string, u *storage.User) web.BasePage {
		return web.BasePage{Title: title, CSRF: "csrf-token", RequestID: "req-1", User: u}
	}
	pages := map[string]verifyPage{
		"signup":          {BasePage: base("Check your inbox", nil), Mode: "signup", Flow: "flow-1", MailEnabled: true},
		"signup-nomail":   {BasePage: base("Now sign in", nil), Mode: "signup"},
		"confirm":         {BasePage: base("Verify your email address", nil), Mode: "confirm", Token: "tok-1"},
		"done":            {BasePage: base("Your email address is verified", nil), Mode: "done", Email: "alice+<x>@example.com"},
		"done-changed":    {BasePage: base("Your email address is changed", user), Mode: "done", Email: "new@example.com", Changed: true},
		"sent":            {BasePage: base("Check your inbox", user), Mode: "sent", Email: user.Email, Flow: "flow-1"},
		"wait":            {BasePage: base("Wait a moment", user), Mode: "wait", Email: user.Email, RetryIn: "60 seconds"},
		"verified":        {BasePage: base("Your address is already verified", user), Mode: "verified", Email: user.Email},
		"required-nomail": {BasePage: base("Verify your email address first", user), Mode: "required", Email: user.Email, Flow: "flow-1"},
	}
	update := flag.Lookup("update") // webtest's -update
	for mode, data := range pages {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := web.ExecutePage(&buf, "verify", data); err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(buf.Bytes(), []byte("<Admin>")) || bytes.Contains(buf.Bytes(), []byte("<x>")) {
				t.Fatalf("user input reached the page unescaped:\n%s", buf.String())
			}
			golden := filepath.Join("testdata", "verify-"+mode+".golden.html")
			if update != nil && update.Value.String() == "true" {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test with -update)", err)
			}
			if !bytes.Equal(want, buf.Bytes()) {
				t.Fatalf("%s differs (run go test with -update and review the diff):\n%s", golden, buf.String())
			}
		})
	}
}
