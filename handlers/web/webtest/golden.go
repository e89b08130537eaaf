// Package webtest holds what the surfaces' tests share: the golden-file
// check of a page.
package webtest

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web"
)

var update = flag.Bool("update", false, "rewrite the golden HTML files in testdata/")

// Unescaped are fragments the golden data puts in user-controlled fields;
// none may reach a page as markup.
var Unescaped = []string{"<script>", "<Admin>", "<App>", "<Inc>", "<Corp>"}

// GoldenPage renders the page name with data and compares it with
// testdata/NAME.golden.html in the calling package; `go test PKG -update`
// rewrites the file after a template change, for review in the diff.
func GoldenPage(t *testing.T, name string, data any) {
	t.Helper()
	var buf bytes.Buffer
	if err := web.ExecutePage(&buf, name, data); err != nil {
		t.Fatalf("render %s: %v", name, err)
	}
	for _, raw := range Unescaped {
		if bytes.Contains(buf.Bytes(), []byte(raw)) {
			t.Fatalf("%s: user input %q reached the page unescaped", name, raw)
		}
	}
	golden := filepath.Join("testdata", name+".golden.html")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test with -update)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Fatalf("%s differs from %s (run go test with -update and review the diff):\n%s", name, golden, buf.String())
	}
}
