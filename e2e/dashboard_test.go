package e2e

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The Settings → API keys dashboard, driven over HTTP like a browser that
// runs no script: create a key and read it once, use it, rotate it, revoke
// it, and who may do what.

// keyOnPage returns the state (a CSS class) and the list entry of a key,
// or "" when the page does not list it.
func keyOnPage(p page, id string) (state, entry string) {
	m := regexp.MustCompile(`(?s)<li class="key ([a-z]+)" data-key="` + regexp.QuoteMeta(id) + `">(.*?)</dl>`).FindStringSubmatch(p.body)
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}

func (s *server) keyByID(t testing.TB, id string) *storage.APIKey {
	t.Helper()
	k, err := s.Store.APIKeyByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// keyWorks reports whether a key is active at introspection; a working key
// must also be exchangeable for a JWT, and a dead one must not.
func (s *server) keyWorks(t testing.TB, rsID, rsSecret, secret string) bool {
	t.Helper()
	active := s.introspect(t, rsID, rsSecret, secret)["active"] == true
	resp, body := s.postForm(t, "/token", exchangeForm(secret))
	if exchanged := resp.StatusCode == http.StatusOK && body["access_token"] != nil; exchanged != active {
		t.Errorf("introspection says active=%v but the exchange answered %d %v", active, resp.StatusCode, body)
	}
	return active
}

func TestAPIKeyIsShownOnceAndWorks(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b) // logs at debug
		owner := s.newKeyOwner(t, "owner@example.com")
		rsID, rsSecret := s.resourceServer(t)
		ui := s.openAPIKeys(t, "owner@example.com")
		if p := ui.list(); !strings.Contains(p.body, `id="no-keys"`) || !strings.Contains(p.body, owner.org.Name) {
			t.Fatalf("a new organization's keys page:\n%s", p.body)
		}

		created := ui.create("Deploy bot", "30d", "projects:read", "projects:write")
		secret := shownSecret(t, created)
		key := s.keyBySecret(t, secret)
		if key.Name != "Deploy bot" || key.OrgID != owner.org.ID || key.UserID != owner.user.ID || key.Scopes != "projects:read projects:write" {
			t.Errorf("stored key = %+v", key)
		}
		if key.ExpiresAt == nil || time.Until(*key.ExpiresAt) < 29*24*time.Hour || time.Until(*key.ExpiresAt) > 30*24*time.Hour {
			t.Errorf("expires at %v, want in 30 days", key.ExpiresAt)
		}
		if state, entry := keyOnPage(created, key.ID); state != "expiring" || !strings.Contains(entry, key.Hint()) || !strings.Contains(entry, "Read your projects") {
			t.Errorf("the new key in the list: state %q:\n%s", state, entry)
		}

		// A reload shows the name and the hint, never the key.
		reload := ui.list()
		if strings.Contains(reload.body, secret) || strings.Contains(reload.body, `id="new-key"`) {
			t.Fatal("reloading the page shows the key again")
		}
		if _, entry := keyOnPage(reload, key.ID); !strings.Contains(entry, "Deploy bot") || !strings.Contains(entry, key.Hint()) {
			t.Errorf("after a reload the list does not show the key's name and hint:\n%s", reload.body)
		}

		// The key works: exchanged for a JWT, and at introspection.
		resp, tok := s.postForm(t, "/token", exchangeForm(secret))
		if resp.StatusCode != http.StatusOK || tok["access_token"] == "" || tok["scope"] != "projects:read projects:write" {
			t.Fatalf("exchange: %d %v", resp.StatusCode, tok)
		}
		intro := s.introspect(t, rsID, rsSecret, secret)
		if intro["active"] != true || intro["key_id"] != key.ID || intro["org"] != owner.org.ID {
			t.Errorf("introspection of the key = %v", intro)
		}

		// The copy button's script is served, from our origin as the CSP wants.
		js := ui.a.get(s.URL + "/static/copy.js")
		if js.status != http.StatusOK || !strings.Contains(js.header.Get("Content-Type"), "javascript") || !strings.Contains(js.body, "navigator.clipboard") {
			t.Errorf("copy.js: %d %s", js.status, js.header.Get("Content-Type"))
		}
		if csp := created.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("CSP %q", csp)
		}
		if logs := s.logs.String(); strings.Contains(logs, strings.TrimPrefix(secret, storage.APIKeyPrefix)) {
			t.Error("the key reached the log")
		} else if !strings.Contains(logs, "api key created") {
			t.Error("the creation is not in the log")
		}
	})
}

func TestRotatingAnAPIKey(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.newKeyOwner(t, "owner@example.com")
		rsID, rsSecret := s.resourceServer(t)
		tests := []struct {
			name, grace string
			oldWorks    bool
			oldState    string
			oldMessage  string
		}{
			{"with an hour of grace both keys work", "1h", true, "replaced", "keeps working until"},
			{"without grace the old key stops at once", "none", false, "revoked", "stopped working"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ui := s.openAPIKeys(t, "owner@example.com")
				oldSecret := shownSecret(t, ui.create("Worker "+tc.grace, "90d", "read", "projects:write"))
				old := s.keyBySecret(t, oldSecret)

				rotated := ui.rotate(old.ID, tc.grace)
				newSecret := shownSecret(t, rotated)
				if newSecret == oldSecret || !strings.Contains(rotated.body, `id="old-key"`) || !strings.Contains(rotated.body, tc.oldMessage) {
					t.Errorf("the rotation's answer does not say what became of the old key:\n%s", rotated.body)
				}
				replacement := s.keyBySecret(t, newSecret)
				if replacement.Name != old.Name || replacement.Scopes != old.Scopes || !replacement.ExpiresAt.Equal(*old.ExpiresAt) {
					t.Errorf("the replacement %+v does not keep the name, scopes and expiry of %+v", replacement, old)
				}
				if got := s.keyByID(t, old.ID).ReplacedBy; got != replacement.ID {
					t.Errorf("the old key is replaced by %q, want %q", got, replacement.ID)
				}
				if state, _ := keyOnPage(rotated, old.ID); state != tc.oldState {
					t.Errorf("the old key is listed as %q, want %q", state, tc.oldState)
				}
				if !s.keyWorks(t, rsID, rsSecret, newSecret) {
					t.Error("the new key does not work")
				}
				if got := s.keyWorks(t, rsID, rsSecret, oldSecret); got != tc.oldWorks {
					t.Errorf("the old key works: %v, want %v", got, tc.oldWorks)
				}
				if reload := ui.list(); strings.Contains(reload.body, newSecret) {
					t.Error("reloading shows the new key again")
				}
				// A key is rotated once; its replacement is what to rotate next.
				if again := ui.rotate(old.ID, "none"); again.status != http.StatusConflict {
					t.Errorf("rotating a rotated key: status %d, want 409", again.status)
				}
			})
		}
	})
}

func TestRevokingAnAPIKey(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.newKeyOwner(t, "owner@example.com")
		rsID, rsSecret := s.resourceServer(t)
		ui := s.openAPIKeys(t, "owner@example.com")
		key, secret := ui.mustCreate("Nightly export", "read")
		_, tok := s.postForm(t, "/token", exchangeForm(secret))
		jwt, _ := tok["access_token"].(string)
		if jwt == "" {
			t.Fatalf("exchange: %v", tok)
		}

		confirm := ui.a.get(s.URL + keysPath + "/" + key.ID + "/revoke")
		for _, want := range []string{"Nightly export", key.Hint(), "cannot be undone", `action="/settings/api-keys/` + key.ID + `/revoke"`} {
			if !strings.Contains(confirm.body, want) {
				t.Errorf("the confirmation page lacks %q", want)
			}
		}
		if confirm.status != http.StatusOK || s.introspect(t, rsID, rsSecret, secret)["active"] != true {
			t.Fatalf("asking to confirm: status %d, or the key stopped already", confirm.status)
		}

		done := ui.revoke(key.ID)
		if done.url.Path != keysPath || !strings.Contains(done.body, `id="notice"`) {
			t.Fatalf("after revoking: %d at %s:\n%s", done.status, done.url, done.body)
		}
		if state, _ := keyOnPage(done, key.ID); state != "revoked" {
			t.Errorf("the revoked key is listed as %q", state)
		}
		if s.keyWorks(t, rsID, rsSecret, secret) {
			t.Error("the revoked key still works")
		}
		if intro := s.introspect(t, rsID, rsSecret, jwt); intro["active"] != false {
			t.Errorf("the JWT of the revoked key is still active: %v", intro)
		}
		if again := ui.revoke(key.ID); again.status != http.StatusConflict {
			t.Errorf("revoking twice: status %d, want 409", again.status)
		}
	})
}

func TestAPIKeyRoles(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	rsID, rsSecret := s.resourceServer(t)
	owner := s.newKeyOwner(t, "owner@acme.example")
	member := keyOwner{user: s.addMember(t, owner.org, "member@acme.example", "Mia Member", storage.RoleMember), org: owner.org}
	s.addMember(t, owner.org, "admin@acme.example", "Ada Admin", storage.RoleAdmin)
	outsider := s.newKeyOwner(t, "outsider@example.com")

	ownersKey, _ := s.newAPIKey(t, owner, "read billing:read", nil)
	membersKey, _ := s.newAPIKey(t, member, "projects:read", nil)
	doomedKey, doomedSecret := s.newAPIKey(t, member, "projects:read", nil)
	outsidersKey, _ := s.newAPIKey(t, outsider, "read", nil)

	t.Run("a member sees only their own keys", func(t *testing.T) {
		t.Parallel()
		p := s.openAPIKeys(t, "member@acme.example").list()
		if state, _ := keyOnPage(p, membersKey.ID); state == "" {
			t.Error("the member's own key is missing")
		}
		if state, _ := keyOnPage(p, ownersKey.ID); state != "" || strings.Contains(p.body, ownersKey.Hint()) {
			t.Error("a member sees the owner's key")
		}
	})
	t.Run("a member is offered only the permissions a member may grant", func(t *testing.T) {
		t.Parallel()
		p := s.openAPIKeys(t, "member@acme.example").list()
		for scope, offered := range map[string]bool{"read": true, "projects:write": true, "team:manage": false, "billing:read": false} {
			if got := strings.Contains(p.body, `name="scope" value="`+scope+`"`); got != offered {
				t.Errorf("%s offered: %v, want %v", scope, got, offered)
			}
		}
	})
	t.Run("a member cannot grant billing:read", func(t *testing.T) {
		t.Parallel()
		p := s.openAPIKeys(t, "member@acme.example").create("Invoices", "never", "billing:read")
		if p.status != http.StatusBadRequest || !regexp.MustCompile(`id="error-scope">[^<]*billing:read`).MatchString(p.body) {
			t.Fatalf("status %d:\n%s", p.status, p.body)
		}
		keys, _ := s.Store.ListAPIKeys(context.Background(), owner.org.ID, member.user.ID)
		for _, k := range keys {
			if k.Name == "Invoices" {
				t.Error("the refused key was stored")
			}
		}
	})
	t.Run("someone else's key is not found", func(t *testing.T) {
		t.Parallel()
		tests := []struct {
			name, email, keyID string
		}{
			{"the owner's key, for a member", "member@acme.example", ownersKey.ID},
			{"another organization's key, for a member", "member@acme.example", outsidersKey.ID},
			{"another organization's key, for an owner", "owner@acme.example", outsidersKey.ID},
			{"a key that does not exist", "owner@acme.example", "key_doesnotexist"},
		}
		for _, tc := range tests {
			ui := s.openAPIKeys(t, tc.email)
			for _, p := range []page{
				ui.a.get(s.URL + keysPath + "/" + tc.keyID + "/revoke"),
				ui.revoke(tc.keyID),
				ui.rotate(tc.keyID, "none"),
			} {
				if p.status != http.StatusNotFound || strings.Contains(p.body, "billing") {
					t.Errorf("%s: %s: status %d, want 404 that tells nothing", tc.name, p.url.Path, p.status)
				}
			}
		}
		for _, k := range []*storage.APIKey{ownersKey, outsidersKey} {
			if got := s.keyByID(t, k.ID); got.RevokedAt != nil || got.ReplacedBy != "" {
				t.Errorf("key %s was changed: %+v", k.ID, got)
			}
		}
	})
	t.Run("an owner sees every key and revokes a member's", func(t *testing.T) {
		t.Parallel()
		ui := s.openAPIKeys(t, "owner@acme.example")
		p := ui.list()
		for _, k := range []*storage.APIKey{ownersKey, membersKey, doomedKey} {
			if state, _ := keyOnPage(p, k.ID); state == "" {
				t.Errorf("the owner does not see key %s", k.ID)
			}
		}
		if _, entry := keyOnPage(p, membersKey.ID); !strings.Contains(entry, "Mia Member") {
			t.Errorf("the member's key does not say who created it:\n%s", entry)
		}
		if state, _ := keyOnPage(ui.revoke(doomedKey.ID), doomedKey.ID); state != "revoked" {
			t.Errorf("after revoking, the member's key is listed as %q", state)
		}
		if s.keyWorks(t, rsID, rsSecret, doomedSecret) {
			t.Error("the member's key revoked by the owner still works")
		}
	})
	t.Run("an admin sees every key but cannot rotate one with permissions an admin cannot grant", func(t *testing.T) {
		t.Parallel()
		ui := s.openAPIKeys(t, "admin@acme.example")
		if state, _ := keyOnPage(ui.list(), ownersKey.ID); state == "" {
			t.Error("the admin does not see the owner's key")
		}
		if p := ui.rotate(ownersKey.ID, "none"); p.status != http.StatusForbidden || !strings.Contains(p.body, "billing:read") {
			t.Errorf("an admin rotating a billing key: status %d", p.status)
		}
		if got := s.keyByID(t, ownersKey.ID); got.RevokedAt != nil || got.ReplacedBy != "" {
			t.Errorf("the refused rotation changed the key: %+v", got)
		}
	})
}

func TestAPIKeyFormsNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	owner := s.newKeyOwner(t, "owner@example.com")
	other := s.newKeyOwner(t, "other@example.com")
	if err := s.Store.AddMember(context.Background(), other.org.ID, owner.user.ID, storage.RoleMember); err != nil {
		t.Fatal(err)
	}
	ui := s.openAPIKeys(t, "owner@example.com")
	key, _ := ui.mustCreate("Guarded", "read")
	tests := []struct {
		name, path string
		form       url.Values
	}{
		{"create", keysPath, url.Values{"name": {"Forged"}, "scope": {"read"}}},
		{"rotate", keysPath + "/" + key.ID + "/rotate", url.Values{"grace": {"none"}}},
		{"revoke", keysPath + "/" + key.ID + "/revoke", url.Values{}},
		{"switch organization", keysPath + "/org", url.Values{"org": {other.org.ID}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { ui.wantForgeriesRefused(t, tc.path, tc.form) })
	}
	keys, _ := s.Store.ListAPIKeys(context.Background(), "", "")
	if len(keys) != 1 {
		t.Errorf("%d keys, want only the one created", len(keys))
	}
	if got := s.keyByID(t, key.ID); got.RevokedAt != nil || got.ReplacedBy != "" {
		t.Errorf("the key changed: %+v", got)
	}
	if p := ui.list(); !strings.Contains(p.body, `<strong id="org-name">`+owner.org.Name+`</strong>`) {
		t.Error("the page switched organization")
	}
}

func TestCreatingAnAPIKeyExplainsEachProblem(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	owner := s.newKeyOwner(t, "owner@example.com")
	tests := []struct {
		name, keyName, expires string
		scopes                 []string
		field, message         string
	}{
		{"an empty name", "   ", "never", []string{"read"}, "name", "Give the key a name"},
		{"a name too long", strings.Repeat("k", 81), "never", []string{"read"}, "name", "At most 80 characters"},
		{"no permission", "Reports", "never", nil, "scope", "Choose at least one permission"},
		{"an unknown permission", "Reports", "never", []string{"read", "admin:everything"}, "scope", "admin:everything"},
		{"an expiry not offered", "Reports", "forever", []string{"write"}, "expires", "Choose one of the expiries offered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := s.openAPIKeys(t, "owner@example.com").create(tc.keyName, tc.expires, tc.scopes...)
			if p.status != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", p.status)
			}
			if !regexp.MustCompile(`id="error-` + tc.field + `">[^<]*` + regexp.QuoteMeta(tc.message)).MatchString(p.body) {
				t.Fatalf("no %q message for %s:\n%s", tc.message, tc.field, p.body)
			}
			if m := inputValue("name").FindStringSubmatch(p.body); m == nil || m[1] != tc.keyName {
				t.Errorf("the name typed was not kept: %v", m)
			}
			for _, scope := range tc.scopes {
				if scope != "admin:everything" && !strings.Contains(p.body, `value="`+scope+`" checked`) {
					t.Errorf("the permission %s ticked was not kept", scope)
				}
			}
			if strings.Contains(p.body, `id="new-key"`) {
				t.Error("a refused key was shown")
			}
		})
	}
	t.Cleanup(func() {
		if keys, _ := s.Store.ListAPIKeys(context.Background(), owner.org.ID, ""); len(keys) != 0 {
			t.Errorf("refused forms stored %d keys", len(keys))
		}
	})
}

func TestAPIKeyUsageShowsInTheChart(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.newKeyOwner(t, "owner@example.com")
		rsID, rsSecret := s.resourceServer(t)
		ui := s.openAPIKeys(t, "owner@example.com")
		key, secret := ui.mustCreate("Metered", "read")
		if _, entry := keyOnPage(ui.list(), key.ID); !strings.Contains(entry, `aria-label="0 requests in the last 30 days"`) ||
			!strings.Contains(entry, `class="last-used">never<`) {
			t.Fatalf("an unused key:\n%s", entry)
		}
		for range 3 {
			s.introspect(t, rsID, rsSecret, secret)
		}
		if resp, _ := s.postForm(t, "/token", exchangeForm(secret)); resp.StatusCode != http.StatusOK {
			t.Fatalf("exchange: %d", resp.StatusCode)
		}
		if n := s.Usage.Pending(); n != 4 {
			t.Fatalf("%d uses counted in memory, want 4", n)
		}
		// The page writes the counts before reading them: no need to wait
		// for the flush timer.
		_, entry := keyOnPage(ui.list(), key.ID)
		today := time.Now().UTC().Format("2 Jan")
		for _, want := range []string{
			`aria-label="4 requests in the last 30 days"`,
			`<strong class="requests">4</strong>`,
			`<title>` + today + `: 4 requests</title>`,
		} {
			if !strings.Contains(entry, want) {
				t.Errorf("the key's usage lacks %q:\n%s", want, entry)
			}
		}
		if strings.Contains(entry, `class="last-used">never<`) {
			t.Error("the key is still listed as never used")
		}
		if n := s.Usage.Pending(); n != 0 {
			t.Errorf("%d uses left unwritten after the page was shown", n)
		}
	})
}

func TestTheKeysPageWorksInOneOrganization(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	alice := s.newKeyOwner(t, "alice@example.com")
	globex := s.newKeyOwner(t, "globex-owner@example.com")
	if err := s.Store.AddMember(context.Background(), globex.org.ID, alice.user.ID, storage.RoleMember); err != nil {
		t.Fatal(err)
	}
	stranger := s.newKeyOwner(t, "stranger@example.com")

	ui := s.openAPIKeys(t, "alice@example.com")
	p := ui.list()
	for _, o := range []*storage.Organization{alice.org, globex.org} {
		if !strings.Contains(p.body, `<option value="`+o.ID+`"`) {
			t.Fatalf("the switcher does not offer %s:\n%s", o.Name, p.body)
		}
	}
	ownKey, _ := ui.mustCreate("In my org", "billing:read")
	if ownKey.OrgID != alice.org.ID {
		t.Fatalf("the key was made in %s, want the first organization %s", ownKey.OrgID, alice.org.ID)
	}

	switched := ui.post(keysPath+"/org", url.Values{"org": {globex.org.ID}})
	if switched.url.Path != keysPath || !strings.Contains(switched.body, "You are now working in "+globex.org.Name) {
		t.Fatalf("after switching: %d at %s:\n%s", switched.status, switched.url, switched.body)
	}
	if state, _ := keyOnPage(switched, ownKey.ID); state != "" {
		t.Error("the other organization's key is listed")
	}
	if strings.Contains(switched.body, `value="billing:read"`) {
		t.Error("a member of Globex is offered billing:read")
	}
	if p := ui.a.get(s.URL + keysPath + "/" + ownKey.ID + "/revoke"); p.status != http.StatusNotFound {
		t.Errorf("a key of the organization not worked in: status %d, want 404", p.status)
	}
	globexKey, _ := ui.mustCreate("In Globex", "projects:read")
	if globexKey.OrgID != globex.org.ID {
		t.Errorf("the key was made in %s, want Globex %s", globexKey.OrgID, globex.org.ID)
	}
	// A form shown before switching does not make a key in the wrong place.
	if p := ui.post(keysPath, url.Values{"org": {alice.org.ID}, "name": {"Stale form"}, "scope": {"read"}}); p.status != http.StatusConflict {
		t.Errorf("a form of the organization switched away from: status %d, want 409", p.status)
	}

	if p := ui.post(keysPath+"/org", url.Values{"org": {stranger.org.ID}}); p.status != http.StatusNotFound {
		t.Errorf("switching to an organization one is not in: status %d, want 404", p.status)
	}
	if p := ui.list(); !strings.Contains(p.body, `<strong id="org-name">`+globex.org.Name+`</strong>`) {
		t.Error("a refused switch changed the organization")
	}

	t.Run("a person in no organization is told keys belong to one", func(t *testing.T) {
		s.createInvitee(t, "loner@example.com", keyPassword, "Loner") // as a person whose last membership was taken away
		ui := s.openAPIKeys(t, "loner@example.com")
		if p := ui.list(); !strings.Contains(p.body, "API keys belong to an organization") || strings.Contains(p.body, `id="create-key"`) {
			t.Errorf("the page of a person in no organization:\n%s", p.body)
		}
		if p := ui.create("Nowhere", "never", "read"); p.status != http.StatusForbidden {
			t.Errorf("creating a key in no organization: status %d, want 403", p.status)
		}
	})
}

// A new key's form answers with a redirect, so reloading the page that
// shows the key neither shows it again nor posts the form a second time
// (which would make a second key).
func TestCreatingAnAPIKeyRedirectsSoAReloadMakesNoSecondKey(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	owner := s.newKeyOwner(t, "owner@example.com")
	ui := s.openAPIKeys(t, "owner@example.com")

	// The answer to the form itself, not followed.
	req, _ := http.NewRequest(http.MethodPost, s.URL+keysPath, strings.NewReader(url.Values{
		"csrf_token": {ui.csrf}, "name": {"CI deploys"}, "expires": {"never"}, "scope": {"read"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noFollow := *ui.a.client
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != keysPath || strings.Contains(string(body), "sk_live_") {
		t.Fatalf("the form answered %d, Location %q, want a redirect to %s with no key in it", resp.StatusCode, resp.Header.Get("Location"), keysPath)
	}
	secret := shownSecret(t, ui.list()) // shown once, by the page the redirect leads to
	if again := ui.list(); strings.Contains(again.body, secret[8:]) {
		t.Fatal("the key is shown again after a reload")
	}
	keys, err := s.Store.ListAPIKeys(t.Context(), owner.org.ID, "")
	if err != nil || len(keys) != 1 {
		t.Fatalf("%d keys after one creation and two page loads (%v)", len(keys), err)
	}
	// The cookie that carried it is sealed, bound to the person, and gone.
	for _, c := range ui.a.client.Jar.Cookies(resp.Request.URL) {
		if strings.Contains(c.Name, "reveal") {
			t.Errorf("the reveal cookie is still set after the key was shown")
		}
	}
}
