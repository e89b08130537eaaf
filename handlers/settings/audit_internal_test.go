package settings

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
)

// auditEnv is the settings surface with an owner (alice, in her own
// organization) and, in it too, a member (bob) and an admin (carol),
// each with a browser signed in to alice's organization.
type auditEnv struct {
	env                *webtest.Env
	org                string
	alice, bob, carol  *storage.User
	owner, member, adm *webtest.Browser
}

func newAuditEnv(t *testing.T) *auditEnv {
	t.Helper()
	env := webtest.New(t)
	Mount(env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store, RevealKey: make([]byte, 32),
		Accounts: accounts.New(env.Store, accounts.Config{})})
	ctx := context.Background()
	a := &auditEnv{env: env, owner: env.SignIn(t, "alice@example.com")}
	var err error
	if a.alice, err = env.Store.UserByEmail(ctx, "alice@example.com"); err != nil {
		t.Fatal(err)
	}
	orgs, err := env.Store.UserOrganizations(ctx, a.alice.ID)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("alice's organizations: %v, %v", orgs, err)
	}
	a.org = orgs[0].ID
	join := func(email, role string) (*storage.User, *webtest.Browser) {
		env.SignIn(t, email)
		u, err := env.Store.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		if err := env.Store.AddMember(ctx, a.org, u.ID, role); err != nil {
			t.Fatal(err)
		}
		token, _, err := env.Store.CreateLoginSession(ctx, u.ID, a.org, time.Hour, "test", "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		b := env.Browser(t)
		name := env.Kit.CookieName(web.SessionCookie)
		b.Cookies[name] = &http.Cookie{Name: name, Value: token}
		return u, b
	}
	a.bob, a.member = join("bob@example.com", storage.RoleMember)
	a.carol, a.adm = join("carol@example.com", storage.RoleAdmin)
	return a
}

// record appends an event of kind by u in org.
func (a *auditEnv) record(t *testing.T, org, kind string, u *storage.User, target string) int64 {
	t.Helper()
	e := &storage.AuditEvent{Kind: kind, OrgID: org, ActorID: u.ID, Actor: u.Email, Target: target, IP: "192.0.2.5",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/133.0"}
	if err := a.env.Store.AppendAuditEvent(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	return e.ID
}

var eventIDPattern = regexp.MustCompile(`data-event="(\d+)"`)

// shownEvents are the ids of the events a page shows, in its order.
func shownEvents(body string) []string {
	var out []string
	for _, m := range eventIDPattern.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestAuditPage(t *testing.T) {
	t.Parallel()
	a := newAuditEnv(t)
	signIn := a.record(t, a.org, "signin.succeeded", a.alice, "alice@example.com")
	key := a.record(t, a.org, "api_key.created", a.bob, "CI <deploys>")
	revoked := a.record(t, a.org, "api_key.revoked", a.alice, "CI <deploys>")
	a.record(t, "org_other", "api_key.created", a.alice, "elsewhere")
	id := func(n int64) string { return fmt.Sprint(n) }

	for _, tc := range []struct {
		name    string
		browser *webtest.Browser
		path    string
		status  int
		events  []string
		want    []string
	}{
		{"the owner sees the organization's events newest first", a.owner, auditPath, http.StatusOK,
			[]string{id(revoked), id(key), id(signIn)},
			[]string{"API key revoked", "CI &lt;deploys&gt;", "bob@example.com", "192.0.2.5", "Firefox on Linux", `<option value="api_key.created">API key created</option>`}},
		{"an admin sees them too", a.adm, auditPath, http.StatusOK, []string{id(revoked), id(key), id(signIn)}, nil},
		{"by kind", a.owner, auditPath + "?kind=api_key.created", http.StatusOK, []string{id(key)},
			[]string{`<option value="api_key.created" selected>`}},
		{"by person", a.owner, auditPath + "?person=" + a.alice.ID, http.StatusOK, []string{id(revoked), id(signIn)},
			[]string{`<option value="` + a.alice.ID + `" selected>`, "bob@example.com"}},
		{"by kind and person, matching nothing", a.owner, auditPath + "?kind=api_key.created&person=" + a.alice.ID, http.StatusOK, nil,
			[]string{`id="no-events"`, "No events match these filters"}},
		{"a member is refused with a readable page", a.member, auditPath, http.StatusForbidden, nil,
			[]string{"Only owners and admins see the audit log", "ask an owner or an admin"}},
		{"an unknown kind", a.owner, auditPath + "?kind=api_key.stolen", http.StatusBadRequest, nil, []string{"Unknown kind of event"}},
		{"a person who is not a member", a.owner, auditPath + "?person=usr_nobody", http.StatusBadRequest, nil, []string{"Unknown person"}},
		{"a cursor that is no number", a.owner, auditPath + "?before=abc", http.StatusBadRequest, nil, []string{"does not exist"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := tc.browser.Do(http.MethodGet, tc.path, nil)
			body := rec.Body.String()
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d:\n%s", rec.Code, tc.status, body)
			}
			if got := shownEvents(body); strings.Join(got, ",") != strings.Join(tc.events, ",") {
				t.Errorf("events %v, want %v", got, tc.events)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("the page lacks %q", w)
				}
			}
			if strings.Contains(body, "elsewhere") {
				t.Error("the page shows another organization's event")
			}
		})
	}
}

func TestAuditPagePagesByCursor(t *testing.T) {
	t.Parallel()
	a := newAuditEnv(t)
	var want []string // newest first
	for i := range 2*auditPageSize + 7 {
		kind := "signin.succeeded"
		if i%3 == 0 {
			kind = "signout" // filtered out below, yet interleaved
		}
		n := a.record(t, a.org, kind, a.alice, "alice@example.com")
		if kind == "signin.succeeded" {
			want = append([]string{fmt.Sprint(n)}, want...)
		}
	}
	older := regexp.MustCompile(`<a href="([^"]+)" id="older">Older events</a>`)
	var got []string
	path := auditPath + "?kind=signin.succeeded"
	for pages := 1; ; pages++ {
		body := a.owner.Do(http.MethodGet, path, nil).Body.String()
		shown := shownEvents(body)
		if len(shown) > auditPageSize {
			t.Fatalf("page %d shows %d events, want at most %d", pages, len(shown), auditPageSize)
		}
		got = append(got, shown...)
		if pages > 1 && !strings.Contains(body, `id="newest"`) {
			t.Errorf("page %d has no link back to the newest events", pages)
		}
		m := older.FindStringSubmatch(body)
		if m == nil {
			break
		}
		u, err := url.Parse(strings.ReplaceAll(m[1], "&amp;", "&"))
		if err != nil || u.Query().Get("kind") != "signin.succeeded" {
			t.Fatalf("the older link %q loses the filter: %v", m[1], err)
		}
		path = u.RequestURI()
		if pages > 5 {
			t.Fatal("the pages do not end")
		}
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("paging showed %d events %v,\nwant %d %v", len(got), got, len(want), want)
	}
}

// TestHomeLinksTheAuditLogToOwnersAndAdmins: the account page links the
// audit log to whoever may read it, and not to a person who is only a
// member.
func TestHomeLinksTheAuditLogToOwnersAndAdmins(t *testing.T) {
	t.Parallel()
	a := newAuditEnv(t)
	if body := a.owner.Do(http.MethodGet, "/", nil).Body.String(); !strings.Contains(body, `id="audit-link"`) {
		t.Error("the owner's account page does not link the audit log")
	}
	ctx := context.Background()
	dave, err := a.env.Store.CreateUser(ctx, "dave@example.com", "Dave", "not-a-usable-hash")
	if err != nil {
		t.Fatal(err)
	}
	if err := a.env.Store.AddMember(ctx, a.org, dave.ID, storage.RoleMember); err != nil {
		t.Fatal(err)
	}
	token, _, err := a.env.Store.CreateLoginSession(ctx, dave.ID, a.org, time.Hour, "test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	b := a.env.Browser(t)
	name := a.env.Kit.CookieName(web.SessionCookie)
	b.Cookies[name] = &http.Cookie{Name: name, Value: token}
	body := b.Do(http.MethodGet, "/", nil).Body.String()
	if !strings.Contains(body, "dave@example.com") {
		t.Fatalf("dave's account page did not load:\n%s", body)
	}
	if strings.Contains(body, `id="audit-link"`) {
		t.Error("a person who is only a member is linked the audit log")
	}
}
