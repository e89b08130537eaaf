package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/ajrly/ajrly-auth/handlers"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// testSecret is the system secret of test servers.
var testSecret = []byte("e2e-test-secret-e2e-test-secret-e2e-test-secret")

// server is a running Ajrly Auth on a real HTTP listener.
type server struct {
	URL      string // the issuer
	Store    *storage.Store
	Provider *provider.Provider
	HTTP     *httptest.Server
	// Usage counts API key uses in memory; Flush writes them.
	Usage *storage.UsageCounter
	logs  *syncBuffer
}

// syncBuffer collects the server's log for a failing test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// serverOptions adjust a test server.
type serverOptions struct {
	accessTTL time.Duration
	logLevel  slog.Level
	// registration is the /register mode; "" is the default (token).
	registration string
	// clock, if set, is the time of the store and the provider.
	clock *storagetest.Clock
	// firstParty are client ids the configuration makes first-party.
	firstParty []string
	// sessionIdle is the browser sessions' idle timeout (default 12h).
	sessionIdle time.Duration
}

// withSessionIdle sets the idle timeout of browser sessions.
func withSessionIdle(d time.Duration) func(*serverOptions) {
	return func(o *serverOptions) { o.sessionIdle = d }
}

// withFirstPartyClients makes clients first-party by configuration
// (first_party_clients).
func withFirstPartyClients(ids ...string) func(*serverOptions) {
	return func(o *serverOptions) { o.firstParty = ids }
}

// withClock runs a test server's store and provider on clock, so a test
// can move time forward without sleeping.
func withClock(c *storagetest.Clock) func(*serverOptions) {
	return func(o *serverOptions) { o.clock = c }
}

// withRegistration sets the /register mode of a test server.
func withRegistration(mode string) func(*serverOptions) {
	return func(o *serverOptions) { o.registration = mode }
}

// newServer starts a server over a fresh store of backend b.
func newServer(t testing.TB, b storagetest.Backend, adjust ...func(*serverOptions)) *server {
	t.Helper()
	o := serverOptions{accessTTL: time.Hour, logLevel: slog.LevelDebug}
	for _, f := range adjust {
		f(&o)
	}
	var now func() time.Time
	if o.clock != nil {
		now = o.clock.Now
	}
	store := b.Open(t, now)
	return startServer(t, store, o)
}

func startServer(t testing.TB, store *storage.Store, o serverOptions) *server {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: o.logLevel}))
	hs := httptest.NewUnstartedServer(nil)
	issuer := "http://" + hs.Listener.Addr().String()
	usage := store.NewUsageCounter()
	opts := provider.Options{
		Usage:           usage,
		Issuer:          issuer,
		Secret:          testSecret,
		AccessTokenTTL:  o.accessTTL,
		RefreshTokenTTL: 24 * time.Hour,
		AuthCodeTTL:     10 * time.Minute,
		IDTokenTTL:      time.Hour,
		Logger:          log,
	}
	if o.clock != nil {
		opts.Now = o.clock.Now
	}
	prov, err := provider.New(ctx, store, opts)
	if err != nil {
		t.Fatalf("provider: %v", err)
	}
	cookieKey, err := provider.DeriveKey(testSecret, provider.PurposeCookies)
	if err != nil {
		t.Fatal(err)
	}
	router, err := handlers.NewRouter(handlers.Options{
		Provider:    prov,
		Store:       store,
		CookieKey:   cookieKey,
		SessionTTL:  time.Hour,
		SessionIdle: o.sessionIdle,
		Logger:      log,
		Usage:       usage,

		RegistrationMode:  o.registration,
		FirstPartyClients: o.firstParty,
	})
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	hs.Config.Handler = router
	hs.Start()
	s := &server{URL: issuer, Store: store, Provider: prov, HTTP: hs, Usage: usage, logs: logs}
	t.Cleanup(func() {
		hs.Close()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return s
}

// forEachBackend runs a test against SQLite and PostgreSQL.
func forEachBackend(t *testing.T, test func(t *testing.T, b storagetest.Backend)) {
	t.Helper()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			test(t, b)
		})
	}
}

// createUser adds a person who can sign in, with a personal organization
// they own, as sign-up and the command line give everyone.
func (s *server) createUser(t testing.TB, email, password, name string) *storage.User {
	t.Helper()
	made, err := s.Provider.Tenancy().CreatePerson(context.Background(), tenancy.Person{Email: email, Name: name, Password: password})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return made.User
}

// createInvitee adds a person who belongs to no organization yet, for a
// test to put into organizations as an accepted invitation would: nobody
// stays without one.
func (s *server) createInvitee(t testing.TB, email, password, name string) *storage.User {
	t.Helper()
	u, err := s.Store.CreateUser(context.Background(), email, name, password)
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// createClient registers a client and returns it with its secret.
func (s *server) createClient(t testing.TB, spec provider.ClientSpec) (*storage.Client, string) {
	t.Helper()
	c, secret, err := provider.NewClient(spec)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	if err := s.Store.CreateClient(context.Background(), c); err != nil {
		t.Fatalf("create client: %v", err)
	}
	return c, secret
}

// resourceServer registers a confidential client that introspects tokens.
func (s *server) resourceServer(t testing.TB) (string, string) {
	t.Helper()
	c, secret := s.createClient(t, provider.ClientSpec{Name: "Resource Server", GrantTypes: []string{provider.GrantClientCredentials},
		Scopes: []string{"read"}, ResourceServer: true})
	return c.ID, secret
}

// introspect asks /introspect about a token as a resource server.
func (s *server) introspect(t testing.TB, clientID, secret, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/introspect", strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("introspect: %v", err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("introspect: status %d: %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("introspect: %v", err)
	}
	return out
}

// postForm posts a form to one of the server's endpoints; basic sets
// client_secret_basic credentials when non-empty.
func (s *server) postForm(t testing.TB, path string, form url.Values, basic ...string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if len(basic) == 2 {
		req.SetBasicAuth(url.QueryEscape(basic[0]), url.QueryEscape(basic[1]))
	}
	return doJSON(t, req)
}

// postJSON posts a JSON body.
func (s *server) postJSON(t testing.TB, path string, body any) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	return doJSON(t, req)
}

func doJSON(t testing.TB, req *http.Request) (*http.Response, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: status %d, body is not JSON: %s", req.Method, req.URL.Path, resp.StatusCode, raw)
		}
	}
	return resp, out
}

// agent is a browser without a browser: a cookie jar that follows the
// server's own redirects and fills in its forms.
type agent struct {
	t      testing.TB
	s      *server
	client *http.Client
}

func (s *server) newAgent(t testing.TB) *agent {
	jar, _ := cookiejar.New(nil)
	a := &agent{t: t, s: s}
	a.client = &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// Follow redirects within the provider; stop at the app.
			if req.URL.Host != hostOf(s.URL) || strings.HasPrefix(req.URL.Path, "/callback") {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return a
}

func hostOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
var flowPattern = regexp.MustCompile(`name="flow" value="([^"]+)"`)

// page is an HTML answer.
type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (p page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d):\n%s", p.url, p.status, p.body)
	}
	return m[1]
}

func (p page) flow() string {
	m := flowPattern.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

func (a *agent) do(req *http.Request) page {
	a.t.Helper()
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(b), header: resp.Header}
}

func (a *agent) get(raw string) page {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, raw, nil)
	req.Header.Set("Accept", "text/html")
	return a.do(req)
}

func (a *agent) post(raw string, form url.Values) page {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, raw, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return a.do(req)
}

// signIn fills in the sign-in page p.
func (a *agent) signIn(p page, email, password string) page {
	a.t.Helper()
	if p.url.Path != "/login" {
		a.t.Fatalf("expected the sign-in page, got %s (status %d):\n%s", p.url, p.status, p.body)
	}
	form := url.Values{"csrf_token": {p.csrf(a.t)}, "email": {email}, "password": {password}}
	if f := p.flow(); f != "" {
		form.Set("flow", f)
	}
	return a.post(a.s.URL+"/login", form)
}

// decide answers the consent page p with "allow" or "deny".
func (a *agent) decide(p page, decision string) page {
	a.t.Helper()
	if p.url.Path != "/consent" {
		a.t.Fatalf("expected the consent page, got %s (status %d):\n%s", p.url, p.status, p.body)
	}
	return a.post(a.s.URL+"/consent", url.Values{"csrf_token": {p.csrf(a.t)}, "flow": {p.flow()}, "decision": {decision}})
}

// authorize runs an authorization from start to the app's redirect: sign in
// if asked, then decide. It returns the redirect to the app.
func (a *agent) authorize(authURL, email, password, decision string) *url.URL {
	a.t.Helper()
	p := a.get(authURL)
	if p.url.Path == "/login" {
		p = a.signIn(p, email, password)
	}
	p = a.decide(p, decision)
	if p.status != http.StatusSeeOther {
		a.t.Fatalf("consent answered %d, want a redirect to the app:\n%s", p.status, p.body)
	}
	loc, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		a.t.Fatalf("bad redirect %q: %v", p.header.Get("Location"), err)
	}
	return loc
}

// freePort returns a loopback address nothing listens on, for redirect URIs.
func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

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

// jwks fetches the server's key set.
func (s *server) jwks(t testing.TB) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(s.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	return set
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
