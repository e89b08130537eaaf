// The server under test: started on a fresh store of each backend with
// the options a test asks for, plain HTTP and JSON calls to its
// endpoints, and a proxy that cuts it off from its database.

package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers"
	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
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
	// Mail is the SMTP server the server's mail goes to.
	Mail *mailtest.Server
	logs *syncBuffer
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
	// requireVerifiedEmail is accounts.require_verified_email.
	requireVerifiedEmail bool
}

// withRequireVerifiedEmail turns on accounts.require_verified_email.
func withRequireVerifiedEmail() func(*serverOptions) {
	return func(o *serverOptions) { o.requireVerifiedEmail = true }
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
	smtp := mailtest.Start(t)
	mailer := smtp.Mailer(t, issuer, log)
	router, err := handlers.NewRouter(handlers.Options{
		Mailer:               mailer,
		RequireVerifiedEmail: o.requireVerifiedEmail,
		Provider:             prov,
		Store:                store,
		CookieKey:            cookieKey,
		SessionTTL:           time.Hour,
		SessionIdle:          o.sessionIdle,
		Logger:               log,
		Usage:                usage,

		RegistrationMode:  o.registration,
		FirstPartyClients: o.firstParty,
	})
	if err != nil {
		t.Fatalf("router: %v", err)
	}
	hs.Config.Handler = router
	hs.Start()
	s := &server{URL: issuer, Store: store, Provider: prov, HTTP: hs, Usage: usage, Mail: smtp, logs: logs}
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

// createClient registers a client and returns it with its secret.
func (s *server) createClient(t testing.TB, spec clients.Spec) (*storage.Client, string) {
	t.Helper()
	c, secret, err := clients.New(spec)
	if err != nil {
		t.Fatalf("new client: %v", err)
	}
	if err := s.Store.CreateClient(context.Background(), c); err != nil {
		t.Fatalf("create client: %v", err)
	}
	return c, secret
}

func (s *server) client(t testing.TB, id string) *storage.Client {
	t.Helper()
	c, err := s.Store.FindClient(context.Background(), id)
	if err != nil {
		t.Fatalf("the app %s is not stored: %v", id, err)
	}
	return c
}

// resourceServer registers a confidential client that introspects tokens.
func (s *server) resourceServer(t testing.TB) (string, string) {
	t.Helper()
	c, secret := s.createClient(t, clients.Spec{Name: "Resource Server", GrantTypes: []string{clients.GrantClientCredentials},
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

// discovery fetches a metadata document of the server.
func discovery(t *testing.T, s *server, path string) map[string]any {
	t.Helper()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, s.URL+path, nil)
	resp, body := doJSON(t, req)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s: status %d", path, resp.StatusCode)
	}
	return body
}

func hostOf(raw string) string {
	u, _ := url.Parse(raw)
	return u.Host
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

// tcpProxy forwards a local port to the database and can cut every
// connection and refuse new ones, like a database that goes away.
type tcpProxy struct {
	t      *testing.T
	addr   string
	target string

	mu    sync.Mutex
	ln    net.Listener
	conns []net.Conn
}

func newTCPProxy(t *testing.T, target string) *tcpProxy {
	p := &tcpProxy{t: t, target: target}
	p.start("127.0.0.1:0")
	t.Cleanup(p.stop)
	return p
}

func (p *tcpProxy) start(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
}

// stop cuts the database off: the listener and every open connection.
func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// wantNotLogged fails the test when any of the secrets (a link, its
// token, a password) appears in the server's log.
func (s *server) wantNotLogged(t testing.TB, secrets ...string) {
	t.Helper()
	log := s.logs.String()
	for _, secret := range secrets {
		if secret != "" && strings.Contains(log, secret) {
			t.Errorf("the server's log holds a secret (%.12s…)", secret)
		}
	}
}
