package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"sync"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/templates"
)

// formPostScript is the only inline script any page runs; the CSP allows it
// by hash.
const formPostScript = "document.forms[0].submit()"

// pageNames are the pages rendered inside layout.html. Start-up fails if
// one is missing.
var pageNames = []string{"login", "signup", "consent", "error", "home", "logout", "apps", "apikeys", "developer", "demo", "outbox", "password_forgot", "password_reset", "verify", "profile", "security", "team", "organization", "invitation", "audit"}

// PageNames lists every page the templates hold.
func PageNames() []string { return append([]string(nil), pageNames...) }

// pages are the parsed templates; they are the same for every Kit, so they
// are parsed once.
type pages struct {
	byName   map[string]*template.Template
	formPost *template.Template
}

var (
	parseOnce sync.Once
	parsed    *pages
	parseErr  error
)

func loadPages() (*pages, error) {
	parseOnce.Do(func() { parsed, parseErr = parsePages() })
	return parsed, parseErr
}

func parsePages() (*pages, error) {
	p := &pages{byName: map[string]*template.Template{}}
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

// ExecutePage renders the page name with data into w, without headers: the
// golden-file tests of each surface use it.
func ExecutePage(w io.Writer, name string, data any) error {
	p, err := loadPages()
	if err != nil {
		return err
	}
	t, ok := p.byName[name]
	if !ok {
		return fmt.Errorf("unknown page %q", name)
	}
	return t.ExecuteTemplate(w, "layout", data)
}

// BasePage is what the layout needs; every page embeds it.
type BasePage struct {
	Title     string
	Base      string
	CSRF      string
	RequestID string
	User      *storage.User
}

// Page fills the layout's fields for r.
func (k *Kit) Page(w http.ResponseWriter, r *http.Request, title string, user *storage.User) BasePage {
	return BasePage{
		Title:     title,
		Base:      k.Base,
		CSRF:      k.CSRFToken(w, r),
		RequestID: RequestID(r.Context()),
		User:      user,
	}
}

// Render executes the page name with data into a buffer first, so that a
// template error becomes a clean error page instead of half a page.
func (k *Kit) Render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	t, ok := k.pages.byName[name]
	if !ok {
		panic("unknown page " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", data); err != nil {
		k.Log.ErrorContext(r.Context(), "render page", "page", name, "err", err)
		if name != "error" {
			k.RenderError(w, r, http.StatusInternalServerError, "Something went wrong", "The page could not be shown.", "")
			return
		}
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// ErrorPage is the data of the readable error page.
type ErrorPage struct {
	BasePage
	Status  int
	Heading string
	Message string
	Detail  string
}

// RenderError shows the readable error page.
func (k *Kit) RenderError(w http.ResponseWriter, r *http.Request, status int, heading, message, detail string) {
	k.Render(w, r, status, "error", ErrorPage{
		BasePage: k.Page(w, r, heading, nil),
		Status:   status,
		Heading:  heading,
		Message:  message,
		Detail:   detail,
	})
}

// WriteJSON answers with a JSON document.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		WriteJSONError(w, http.StatusInternalServerError, "server_error", "The response could not be encoded.")
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// WriteJSONError answers with an RFC 6749 error document.
func WriteJSONError(w http.ResponseWriter, status int, code, description string) {
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description,omitempty"`
	}{code, description})
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// ServerErrorPage logs a failure the person cannot fix and shows the error
// page: 503 while the database is away, 500 otherwise.
func (k *Kit) ServerErrorPage(w http.ResponseWriter, r *http.Request, what string, err error) {
	k.Log.ErrorContext(r.Context(), what, "err", err)
	k.RenderError(w, r, StatusOf(err), "Something went wrong", "Please try again in a moment.", "")
}

// StatusOf maps a storage error to the status to answer with: 503 while
// the database is away, 500 otherwise.
func StatusOf(err error) int {
	if errors.Is(err, storage.ErrUnavailable) {
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}

// FormPost is the form_post response mode's page (OAuth 2.0 Form Post
// Response Mode), whose one script the CSP allows by hash.
func (k *Kit) FormPost() *template.Template { return k.pages.formPost }
