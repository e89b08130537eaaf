package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

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

func TestDatabaseOutageAnswers503AndRecovers(t *testing.T) {
	t.Parallel()
	base := storagetest.PostgresDSN(t)
	dsn := storagetest.FreshPostgresSchema(t, base)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newTCPProxy(t, u.Host)
	u.Host = proxy.addr
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()

	store, err := storage.Open(context.Background(), storagetest.Options(u.String(), nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, store, serverOptions{accessTTL: time.Hour})
	c, secret := s.createClient(t, provider.ClientSpec{Name: "Worker", GrantTypes: []string{provider.GrantClientCredentials}, Scopes: []string{"read"}})
	rsID, rsSecret := s.resourceServer(t)
	resp, body := s.postForm(t, "/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("before the outage: status %d: %v", resp.StatusCode, body)
	}
	token := body["access_token"].(string)

	ready := func() int {
		resp, err := http.Get(s.URL + "/health/ready")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	proxy.stop()
	if got := ready(); got != http.StatusServiceUnavailable {
		t.Errorf("/health/ready during the outage: %d, want 503", got)
	}
	// Clients are cached, so authentication still works; storing the token cannot.
	resp, body = s.postForm(t, "/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
	if resp.StatusCode != http.StatusServiceUnavailable || body["error"] != "temporarily_unavailable" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("/token during the outage: status %d, body %v; want 503 temporarily_unavailable with Retry-After", resp.StatusCode, body)
	}
	resp, body = s.postForm(t, "/introspect", url.Values{"token": {token}}, rsID, rsSecret)
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/introspect during the outage: status %d, body %v; want 503, not active:false", resp.StatusCode, body)
	}

	proxy.start(proxy.addr) // the database is back, at the same address
	if got := ready(); got != http.StatusOK {
		t.Fatalf("/health/ready after the outage: %d, want 200", got)
	}
	resp, body = s.postForm(t, "/token", url.Values{"grant_type": {"client_credentials"}}, c.ID, secret)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/token after the outage: status %d: %v", resp.StatusCode, body)
	}
	if intro := s.introspect(t, rsID, rsSecret, token); intro["active"] != true {
		t.Fatalf("the token issued before the outage: %v", intro)
	}
}
