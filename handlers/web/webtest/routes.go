package webtest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
)

// Route is one row of a surface's route table: a request and what it is
// answered with.
type Route struct {
	Method, Path string
	// SignedIn sends the request from a signed-in browser.
	SignedIn bool
	// Form is posted as application/x-www-form-urlencoded when not nil;
	// with CSRF, it carries the browser's CSRF token too, as our pages'
	// forms do.
	Form url.Values
	CSRF bool
	// Header is added to the request.
	Header http.Header
	Status int
	// ContentType is the answer's media type ("" for none), compared
	// without parameters.
	ContentType string
}

// RouteTable sends every row's request to the Env's handler and checks
// status and content type; then it checks that the rows cover every
// route the surface mounted (each path template with each method other
// than HEAD and OPTIONS), so that a new route cannot go without a row.
func RouteTable(t *testing.T, e *Env, routes []Route) {
	t.Helper()
	covered := map[string]bool{}
	for i, rt := range routes {
		name := rt.Method + " " + rt.Path
		if rt.SignedIn {
			name += " signed in"
		}
		if rt.CSRF {
			name += " with its token"
		}
		t.Run(name, func(t *testing.T) {
			b := e.Browser(t)
			if rt.SignedIn {
				b = e.SignIn(t, fmt.Sprintf("person%d@example.com", i))
			}
			form := rt.Form
			if rt.CSRF {
				form = url.Values{}
				for k, v := range rt.Form {
					form[k] = v
				}
				form.Set(web.CSRFField, b.CSRF())
			}
			req := httptest.NewRequest(rt.Method, Issuer+rt.Path, nil)
			if key, ok := matched(e.Routes.Mux(), req); ok {
				covered[key] = true
			}
			rec := b.Send(rt.Method, rt.Path, form, rt.Header)
			if rec.Code != rt.Status {
				t.Errorf("status %d, want %d; body: %.300s", rec.Code, rt.Status, rec.Body.String())
			}
			got, _, _ := strings.Cut(rec.Header().Get("Content-Type"), ";")
			if strings.TrimSpace(got) != rt.ContentType {
				t.Errorf("content type %q, want %q", rec.Header().Get("Content-Type"), rt.ContentType)
			}
		})
	}
	var missing []string
	_ = e.Routes.Mux().Walk(func(route *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := route.GetPathTemplate()
		if err != nil {
			return nil
		}
		methods, err := route.GetMethods()
		if err != nil {
			return nil // a subrouter or a prefix
		}
		for _, m := range methods {
			if m == http.MethodHead || m == http.MethodOptions {
				continue
			}
			if !covered[m+" "+tpl] {
				missing = append(missing, m+" "+tpl)
			}
		}
		return nil
	})
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("routes without a row in the table: %s", strings.Join(slices.Compact(missing), ", "))
	}
}

// matched names the route req reaches: its method and path template.
func matched(m *mux.Router, req *http.Request) (string, bool) {
	var match mux.RouteMatch
	if !m.Match(req, &match) || match.Route == nil {
		return "", false
	}
	tpl, err := match.Route.GetPathTemplate()
	if err != nil {
		return "", false
	}
	return req.Method + " " + tpl, true
}
