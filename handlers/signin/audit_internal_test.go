package signin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

const (
	auditPassword  = "correct horse battery"
	auditUserAgent = "AuditTest/1.0 (X11; Linux x86_64)"
)

// signInAs posts the sign-in form from b, with a User-Agent of its own.
func signInAs(b *webtest.Browser, email, password string) int {
	h := http.Header{"User-Agent": {auditUserAgent}}
	return b.Send(http.MethodPost, "/login", url.Values{"csrf_token": {b.CSRF()}, "email": {email}, "password": {password}}, h).Code
}

// TestSignInsAndSignOutsAreRecorded: every sign-in, failed, throttled or
// not, and every sign-out is one event, with the client's address and
// browser, in the organization the person's session acts in; an unknown
// address is shown as tried, with no actor id, and what is no address not
// at all; no password reaches the log.
func TestSignInsAndSignOutsAreRecorded(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	people := accounts.New(e.Store, accounts.Config{})
	Mount(e.Routes.Protocol, e.Routes.Forms, Options{Kit: e.Kit, Provider: e.Provider, Store: e.Store, CookieKey: e.CookieKey, Accounts: people})
	made, err := people.Create(context.Background(), accounts.Person{Email: "alice@example.com", Password: auditPassword}, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	alice, org := made.User, made.Org.ID

	b := e.Browser(t)
	if code := signInAs(b, "alice@example.com", "not her password"); code != http.StatusUnauthorized {
		t.Fatalf("a wrong password: %d", code)
	}
	if code := signInAs(b, "nobody@example.com", "whatever password"); code != http.StatusUnauthorized {
		t.Fatalf("an unknown address: %d", code)
	}
	if code := signInAs(b, "my-secret-password", "oops"); code != http.StatusUnauthorized {
		t.Fatalf("a password in the email field: %d", code)
	}
	if code := signInAs(b, "Alice@Example.com", auditPassword); code != http.StatusSeeOther {
		t.Fatalf("the right password: %d", code)
	}
	rec := b.Send(http.MethodPost, "/logout", url.Values{"csrf_token": {b.CSRF()}}, http.Header{"User-Agent": {auditUserAgent}})
	if rec.Code != http.StatusOK {
		t.Fatalf("sign-out: %d", rec.Code)
	}

	events := storagetest.AuditEvents(t, e.Store)
	type row struct{ Kind, OrgID, ActorID, Actor, Detail string }
	var got []row
	for _, ev := range events {
		got = append(got, row{ev.Kind, ev.OrgID, ev.ActorID, ev.Actor, ev.Detail})
		if ev.IP != "192.0.2.1" || ev.UserAgent != auditUserAgent {
			t.Errorf("the %s event comes from %q with %q, want 192.0.2.1 with the browser's User-Agent", ev.Kind, ev.IP, ev.UserAgent)
		}
	}
	want := []row{
		{audit.SignInFailed, org, alice.ID, "alice@example.com", "wrong password"},
		{audit.SignInFailed, "", "", "nobody@example.com", "no account has this address"},
		{audit.SignInFailed, "", "", notAnAddress, "no account has this address"},
		{audit.SignIn, org, alice.ID, "alice@example.com", ""},
		{audit.SignOut, org, alice.ID, "alice@example.com", ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got %+v\nwant %+v", got, want)
	}
	storagetest.CheckNoSecret(t, events, auditPassword, "not her password", "whatever password", "my-secret-password", "oops")
}

// TestThrottledSignInsAreRecorded: an attempt refused before the password
// is checked is recorded as throttled, never as failed.
func TestThrottledSignInsAreRecorded(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	people := accounts.New(e.Store, accounts.Config{})
	Mount(e.Routes.Protocol, e.Routes.Forms, Options{Kit: e.Kit, Provider: e.Provider, Store: e.Store, CookieKey: e.CookieKey, Accounts: people})
	if _, err := people.Create(context.Background(), accounts.Person{Email: "alice@example.com", Password: auditPassword}, accounts.Options{}); err != nil {
		t.Fatal(err)
	}
	b := e.Browser(t)
	// Five free failures, then each waits 1s, 2s, 4s, …: of ten attempts
	// in a row, at least one is refused before its password is checked.
	const attempts = 10
	counts := map[int]int{}
	for range attempts {
		counts[signInAs(b, "alice@example.com", "wrong password 123")]++
	}
	if counts[http.StatusTooManyRequests] == 0 {
		t.Fatalf("no attempt was throttled: %v", counts)
	}
	events := storagetest.AuditEvents(t, e.Store)
	kinds := map[string]int{}
	for _, ev := range events {
		kinds[ev.Kind]++
		if ev.Actor != "alice@example.com" {
			t.Errorf("the %s event's actor is %q", ev.Kind, ev.Actor)
		}
	}
	if kinds[audit.SignInThrottled] != counts[http.StatusTooManyRequests] || kinds[audit.SignInFailed] != counts[http.StatusUnauthorized] || len(events) != attempts {
		t.Errorf("events %v for answers %v", kinds, counts)
	}
	storagetest.CheckNoSecret(t, events, "wrong password 123")
}
