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
	"github.com/ajrly/ajrly-auth/provider/clients"
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

// TestConsentIsRecorded: allowing an app on the consent page records one
// consent.granted event, in the organization chosen, with the scopes
// granted; denying records nothing; no code reaches the log.
func TestConsentIsRecorded(t *testing.T) {
	t.Parallel()
	e := webtest.New(t)
	Mount(e.Routes.Protocol, e.Routes.Forms, Options{Kit: e.Kit, Provider: e.Provider, Store: e.Store, CookieKey: e.CookieKey,
		Accounts: accounts.New(e.Store, accounts.Config{})})
	app, _, err := clients.New(clients.Spec{Name: "Example <App>", RedirectURIs: []string{"https://app.example.com/cb"}, Scopes: []string{"openid", "read"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Store.CreateClient(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	b := e.SignIn(t, "alice@example.com")
	alice, err := e.Store.UserByEmail(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := e.Store.UserOrganizations(context.Background(), alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	decide := func(decision string) *url.URL {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {app.ID}, "redirect_uri": {"https://app.example.com/cb"},
			"scope": {"openid read"}, "state": {"state-1234567890"}, "nonce": {"nonce-1234567890"},
			"code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"}, "code_challenge_method": {"S256"}}
		rec := b.Do(http.MethodGet, "/authorize?"+q.Encode(), nil)
		loc, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusSeeOther || err != nil || loc.Path != "/consent" {
			t.Fatalf("authorize: %d to %q\n%s", rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		form := url.Values{"csrf_token": {b.CSRF()}, "flow": {loc.Query().Get("flow")}, "decision": {decision}, "org": {orgs[0].ID}}
		rec = b.Send(http.MethodPost, "/consent", form, http.Header{"User-Agent": {auditUserAgent}})
		back, err := url.Parse(rec.Header().Get("Location"))
		if rec.Code != http.StatusSeeOther || err != nil || back.Host != "app.example.com" {
			t.Fatalf("consent %s: %d to %q\n%s", decision, rec.Code, rec.Header().Get("Location"), rec.Body.String())
		}
		return back
	}
	decide("deny")
	if events := storagetest.AuditEvents(t, e.Store); len(events) != 0 {
		t.Fatalf("denying recorded %v", storagetest.AuditKinds(events))
	}
	back := decide("allow")
	events := storagetest.AuditEvents(t, e.Store)
	if got := storagetest.AuditKinds(events); !slices.Equal(got, []string{audit.ConsentGranted}) {
		t.Fatalf("events %v, want one consent.granted", got)
	}
	ev := events[0]
	if ev.OrgID != orgs[0].ID || ev.ActorID != alice.ID || ev.TargetID != app.ID || ev.Target != "Example <App>" ||
		ev.Detail != "scopes: openid read" || ev.UserAgent != auditUserAgent {
		t.Errorf("the event: %+v", ev)
	}
	code := back.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", back)
	}
	storagetest.CheckNoSecret(t, events, code)
}
