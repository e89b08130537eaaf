package handlers

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"strings"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/templates"
)

// formPostScript is the only inline script any page runs; the CSP allows it
// by hash.
const formPostScript = "document.forms[0].submit()"

// pageNames are the pages rendered inside layout.html. Start-up fails if
// one is missing.
var pageNames = []string{"login", "signup", "consent", "error", "home", "logout", "apps", "apikeys", "developer", "demo"}

// pages renders the HTML pages.
type pages struct {
	rt       *router
	byName   map[string]*template.Template
	formPost *template.Template
}

func newPages(rt *router) (*pages, error) {
	p := &pages{rt: rt, byName: map[string]*template.Template{}}
	funcs := template.FuncMap{"join": strings.Join}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templates.FS, "layout.html", name+".html")
		if err != nil {
			return nil, fmt.Errorf("parse page %s: %w", name, err)
		}
		p.byName[name] = t
	}
	raw, err := fs.ReadFile(templates.FS, "form_post.html")
	if err != nil {
		return nil, fmt.Errorf("read form_post page: %w", err)
	}
	if !strings.Contains(string(raw), "<script>"+formPostScript+"</script>") {
		return nil, fmt.Errorf("form_post.html must run exactly %q, the script the CSP allows", formPostScript)
	}
	if p.formPost, err = template.New("form_post").Parse(string(raw)); err != nil {
		return nil, fmt.Errorf("parse form_post page: %w", err)
	}
	return p, nil
}

// basePage is what the layout needs; every page embeds it.
type basePage struct {
	Title     string
	Base      string
	CSRF      string
	RequestID string
	User      *storage.User
}

// page fills the layout's fields for r.
func (p *pages) page(w http.ResponseWriter, r *http.Request, title string, user *storage.User) basePage {
	return basePage{
		Title:     title,
		Base:      p.rt.base,
		CSRF:      p.rt.csrfToken(w, r),
		RequestID: RequestID(r.Context()),
		User:      user,
	}
}

// render executes a page into a buffer first, so that a template error
// becomes a clean error page instead of half a page.
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := p.byName[name]
	if !ok {
		panic("unknown page " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		p.rt.log.ErrorContext(r.Context(), "render page", "page", name, "err", err, "request_id", RequestID(r.Context()))
		if name != "error" {
			p.renderError(w, r, http.StatusInternalServerError, "Something went wrong", "The page could not be shown.", "")
			return
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	basePage
	Status  int
	Heading string
	Message string
	Detail  string
}

// renderError shows the readable error page.
func (p *pages) renderError(w http.ResponseWriter, r *http.Request, status int, heading, message, detail string) {
	p.render(w, r, status, "error", errorPage{
		basePage: p.page(w, r, heading, nil),
		Status:   status,
		Heading:  heading,
		Message:  message,
		Detail:   detail,
	})
}

// writeJSON answers with a JSON document.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "server_error", "The response could not be encoded.")
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// writeJSONError answers with an RFC 6749 error document.
func writeJSONError(w http.ResponseWriter, status int, code, description string) {
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, description})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// serverErrorPage logs a failure the person cannot fix and shows the error
// page: 503 while the database is away, 500 otherwise.
func (rt *router) serverErrorPage(w http.ResponseWriter, r *http.Request, what string, err error) {
	rt.log.ErrorContext(r.Context(), what, "err", err, "request_id", RequestID(r.Context()))
	rt.pages.renderError(w, r, statusOf(err), "Something went wrong", "Please try again in a moment.", "")
}
