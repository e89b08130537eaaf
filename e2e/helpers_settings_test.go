// The settings pages, driven over HTTP like a browser that runs no
// script: one signed-in person's page (settingsUI), the API keys page
// (keysUI) and the developer page (devUI), and what they show once.

package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/storage"
)

// settingsUI is one signed-in person's browser on a settings page.
type settingsUI struct {
	t    *testing.T
	s    *server
	a    *agent
	path string
	csrf string
}

// openSettings signs email in, starting from the settings page at path,
// which must send a stranger to sign in first and back after.
func (s *server) openSettings(t *testing.T, email, path string) *settingsUI {
	t.Helper()
	a := s.newAgent(t)
	login := a.get(s.URL + path)
	if login.url.Path != "/login" || login.url.Query().Get("return_to") != path {
		t.Fatalf("signed out, %s went to %s (status %d), want the sign-in page coming back here", path, login.url, login.status)
	}
	a.signIn(login, email, keyPassword)
	ui := &settingsUI{t: t, s: s, a: a, path: path}
	ui.csrf = ui.list().csrf(t)
	return ui
}

// list opens the page.
func (ui *settingsUI) list() page {
	ui.t.Helper()
	p := ui.a.get(ui.s.URL + ui.path)
	if p.status != http.StatusOK || p.url.Path != ui.path {
		ui.t.Fatalf("%s: status %d at %s:\n%s", ui.path, p.status, p.url, p.body)
	}
	return p
}

// post sends one of the page's forms, with the CSRF token.
func (ui *settingsUI) post(path string, form url.Values) page {
	ui.t.Helper()
	form.Set("csrf_token", ui.csrf)
	return ui.a.post(ui.s.URL+path, form)
}

// wantForgeriesRefused posts form to path without the CSRF token, with a
// wrong one, and with the right one from another site's page: each must
// be refused with 403.
func (ui *settingsUI) wantForgeriesRefused(t *testing.T, path string, form url.Values) {
	t.Helper()
	if p := ui.a.post(ui.s.URL+path, form); p.status != http.StatusForbidden {
		t.Errorf("without a token: status %d, want 403", p.status)
	}
	form.Set("csrf_token", "forged-"+ui.csrf)
	if p := ui.a.post(ui.s.URL+path, form); p.status != http.StatusForbidden {
		t.Errorf("with a wrong token: status %d, want 403", p.status)
	}
	form.Set("csrf_token", ui.csrf)
	req, _ := http.NewRequest(http.MethodPost, ui.s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if p := ui.a.do(req); p.status != http.StatusForbidden {
		t.Errorf("from another origin: status %d, want 403", p.status)
	}
}

const keysPath = "/settings/api-keys"

// keysUI is one signed-in person's browser on the API keys page.
type keysUI struct{ *settingsUI }

// openAPIKeys signs email in, starting from the keys page.
func (s *server) openAPIKeys(t *testing.T, email string) *keysUI {
	t.Helper()
	return &keysUI{s.openSettings(t, email, keysPath)}
}

// create fills in "Create new key".
func (ui *keysUI) create(name, expires string, scopes ...string) page {
	ui.t.Helper()
	return ui.post(keysPath, url.Values{"name": {name}, "expires": {expires}, "scope": scopes})
}

// mustCreate creates a key that never expires and returns it with the
// secret the answer showed.
func (ui *keysUI) mustCreate(name string, scopes ...string) (*storage.APIKey, string) {
	ui.t.Helper()
	secret := shownSecret(ui.t, ui.create(name, "never", scopes...))
	return ui.s.keyBySecret(ui.t, secret), secret
}

func (ui *keysUI) rotate(id, grace string) page {
	ui.t.Helper()
	return ui.post(keysPath+"/"+id+"/rotate", url.Values{"grace": {grace}})
}

func (ui *keysUI) revoke(id string) page {
	ui.t.Helper()
	return ui.post(keysPath+"/"+id+"/revoke", url.Values{})
}

var secretShown = regexp.MustCompile(`id="new-key">(sk_live_[0-9A-Za-z]{43})</code>`)

// shownSecret returns the key a page shows once, and checks that it shows
// it only there, with a copy button and the warning.
func shownSecret(t *testing.T, p page) string {
	t.Helper()
	m := secretShown.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("no new key on the page (status %d at %s):\n%s", p.status, p.url, p.body)
	}
	if n := strings.Count(p.body, m[1]); n != 1 {
		t.Errorf("the page shows the key %d times, want once", n)
	}
	for _, want := range []string{"It will not be shown again", `data-copy="new-key"`, `<script src="/static/copy.js" defer></script>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page with the new key lacks %q", want)
		}
	}
	if got := p.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q on the page with the key, want no-store", got)
	}
	if strings.Contains(p.url.String(), "sk_live_") || strings.Contains(p.header.Get("Location"), "sk_live_") {
		t.Errorf("the key is in a URL: %s", p.url)
	}
	return m[1]
}

const devPath = "/settings/developer"

// devUI is one signed-in person's browser on the developer page.
type devUI struct{ *settingsUI }

// openDeveloper signs email in, starting from the developer page.
func (s *server) openDeveloper(t *testing.T, email string) *devUI {
	t.Helper()
	return &devUI{s.openSettings(t, email, devPath)}
}

// devAppForm is a filled-in registration form: a confidential web app with
// the form's default scopes; extra pairs change or add fields.
func devAppForm(name, redirect string, extra ...string) url.Values {
	f := url.Values{
		"name": {name}, "redirect_uris": {redirect}, "type": {"confidential"},
		"scope": strings.Fields(appScopes),
	}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return f
}

func (ui *devUI) register(form url.Values) page {
	ui.t.Helper()
	return ui.post(devPath+"/apps", form)
}

// mustRegister registers a confidential app and returns the credentials
// the page showed.
func (ui *devUI) mustRegister(name, redirect string) (id, secret string) {
	ui.t.Helper()
	return devShownCredentials(ui.t, ui.register(devAppForm(name, redirect)))
}

func (ui *devUI) rotate(id, grace string) page {
	ui.t.Helper()
	return ui.post(devPath+"/apps/"+id+"/rotate", url.Values{"grace": {grace}})
}

func (ui *devUI) edit(id string, form url.Values) page {
	ui.t.Helper()
	return ui.post(devPath+"/apps/"+id, form)
}

func (ui *devUI) delete(id string) page {
	ui.t.Helper()
	return ui.post(devPath+"/apps/"+id+"/delete", url.Values{})
}

var (
	devShownClientID     = regexp.MustCompile(`id="new-client-id">(cl_[0-9A-Za-z]{22})</code>`)
	devShownClientSecret = regexp.MustCompile(`id="new-secret">([0-9A-Za-z_-]{43})</code>`)
	devShownToken        = regexp.MustCompile(`id="new-token">([0-9A-Za-z_-]{43})</code>`)
)

// devShownCredentials returns the client id and secret a page shows once (""
// for a public app's secret), and checks that it shows the secret only
// there, with copy buttons, the warning, and nothing in a URL.
func devShownCredentials(t *testing.T, p page) (id, secret string) {
	t.Helper()
	m := devShownClientID.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		t.Fatalf("no new client id on the page (status %d at %s):\n%s", p.status, p.url, p.body)
	}
	id = m[1]
	for _, want := range []string{`data-copy="new-client-id"`, `<script src="/static/copy.js" defer></script>`} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the page with the new credentials lacks %q", want)
		}
	}
	if s := devShownClientSecret.FindStringSubmatch(p.body); s != nil {
		secret = s[1]
		if n := strings.Count(p.body, secret); n != 1 {
			t.Errorf("the page shows the secret %d times, want once", n)
		}
		for _, want := range []string{"It will not be shown again", `data-copy="new-secret"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the page with the new secret lacks %q", want)
			}
		}
		if strings.Contains(p.url.String(), secret) {
			t.Errorf("the secret is in the URL %s", p.url)
		}
	}
	if got := p.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control %q on the page with the credentials, want no-store", got)
	}
	return id, secret
}
