package e2e

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

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
	c, secret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
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
