package signin

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/internal/mail"
)

// In demo mode without SMTP, what the mailer would have sent is on
// /demo/outbox, newest first; outside it there is no such page.
func TestDemoOutboxListsTheMailOfDemoMode(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	m, err := mail.New(mail.Options{Demo: true, Name: "Ajrly", Issuer: webtest.Issuer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close(context.Background()) })
	if !m.LogsOnly() {
		t.Fatal("a demo mailer without SMTP should only log")
	}
	Mount(env.Routes.Protocol, env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store,
		CookieKey: env.CookieKey, DemoOutbox: m.Outbox})
	b := env.Browser(t)
	if page := b.Do(http.MethodGet, "/demo/outbox", nil); page.Code != http.StatusOK || !strings.Contains(page.Body.String(), `id="outbox-empty"`) {
		t.Fatalf("an empty outbox: %d\n%s", page.Code, page.Body)
	}
	for _, to := range []string{"first@example.com", "second@example.com"} {
		if err := m.Send(context.Background(), mail.Message{To: to, Template: "test"}); err != nil {
			t.Fatal(err)
		}
	}
	page := b.Do(http.MethodGet, "/demo/outbox", nil)
	body := page.Body.String()
	first, second := strings.Index(body, "first@example.com"), strings.Index(body, "second@example.com")
	if page.Code != http.StatusOK || first < 0 || second < 0 || second > first {
		t.Fatalf("the outbox: %d, want both messages, newest first\n%s", page.Code, body)
	}
	if !strings.Contains(body, "This is a test message") {
		t.Errorf("the outbox does not show the message's text:\n%s", body)
	}

	other := webtest.New(t)
	Mount(other.Routes.Protocol, other.Routes.Forms, Options{Kit: other.Kit, Provider: other.Provider, Store: other.Store, CookieKey: other.CookieKey})
	if page := other.Browser(t).Do(http.MethodGet, "/demo/outbox", nil); page.Code != http.StatusNotFound {
		t.Errorf("without demo mail, /demo/outbox answers %d, want 404", page.Code)
	}
}
