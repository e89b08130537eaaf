package web_test

import (
	"path/filepath"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
)

// TestErrorPageRenders compares the shared error page with its golden file;
// run `go test ./handlers/web -update` after changing the template.
func TestErrorPageRenders(t *testing.T) {
	t.Parallel()
	webtest.GoldenPage(t, "error", web.ErrorPage{
		BasePage: web.BasePage{Title: "Oops", CSRF: "csrf-token", RequestID: "req-1"},
		Status:   400, Heading: "This sign-in link is not valid", Message: "The app <script> is unknown."})
}

// TestEveryPageHasAGoldenFile holds each surface to a golden test of every
// page it renders: a new page without one fails here.
func TestEveryPageHasAGoldenFile(t *testing.T) {
	t.Parallel()
	for _, name := range web.PageNames() {
		found, err := filepath.Glob(filepath.Join("..", "*", "testdata", name+".golden.html"))
		if err != nil {
			t.Fatal(err)
		}
		if len(found) != 1 {
			t.Errorf("page %s has %d golden files (%v): exactly one surface's TestPagesRender must render it", name, len(found), found)
		}
	}
}
