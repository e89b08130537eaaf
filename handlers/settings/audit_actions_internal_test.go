package settings

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

var (
	newKeyPattern    = regexp.MustCompile(`id="new-key">(sk_live_[^<]+)<`)
	newSecretPattern = regexp.MustCompile(`id="new-secret">([^<]+)<`)
)

// TestSettingsActionsAreRecorded: creating, rotating and revoking an API
// key, registering, changing, rotating the secret of and deleting an app,
// revoking an app's access and changing the password on the settings
// pages each record one event, by the person, in their organization, from
// their browser — and no key, secret or password reaches the log.
func TestSettingsActionsAreRecorded(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	Mount(env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store, RevealKey: make([]byte, 32),
		RegistrationMode: clients.RegistrationToken, Accounts: accounts.New(env.Store, accounts.Config{})})
	b := env.SignIn(t, "alice@example.com")
	ctx := context.Background()
	alice, err := env.Store.UserByEmail(ctx, "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	orgs, err := env.Store.UserOrganizations(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	org := orgs[0].ID
	post := func(path string, form url.Values) {
		t.Helper()
		form.Set(web.CSRFField, b.CSRF())
		if rec := b.Send(http.MethodPost, path, form, http.Header{"User-Agent": {"SettingsTest/2.0"}}); rec.Code != http.StatusSeeOther {
			t.Fatalf("POST %s: %d\n%s", path, rec.Code, rec.Body.String())
		}
	}
	reveal := func(path string, pattern *regexp.Regexp) string {
		t.Helper()
		m := pattern.FindStringSubmatch(b.Do(http.MethodGet, path, nil).Body.String())
		if m == nil {
			t.Fatalf("%s shows no new secret", path)
		}
		return m[1]
	}
	var secrets []string

	post(apiKeysPath, url.Values{"name": {"CI deploys"}, "scope": {"read"}, "expires": {"never"}})
	secrets = append(secrets, reveal(apiKeysPath, newKeyPattern))
	keys, err := env.Store.ListAPIKeys(ctx, org, "")
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys: %v, %v", keys, err)
	}
	post(apiKeysPath+"/"+keys[0].ID+"/rotate", url.Values{"grace": {"1h"}})
	secrets = append(secrets, reveal(apiKeysPath, newKeyPattern))
	post(apiKeysPath+"/"+keys[0].ID+"/revoke", url.Values{})

	post(developerPath+"/apps", url.Values{"name": {"Acme dashboard"}, "redirect_uris": {"https://app.example.com/cb"},
		"type": {"confidential"}, "scope": {"openid", "read"}})
	secrets = append(secrets, reveal(developerPath, newSecretPattern))
	apps, err := env.Store.ListOrgClients(ctx, org)
	if err != nil || len(apps) != 1 {
		t.Fatalf("apps: %v, %v", apps, err)
	}
	app := developerPath + "/apps/" + apps[0].ID
	post(app, url.Values{"name": {"Acme dashboard 2"}, "redirect_uris": {"https://app.example.com/cb"}, "scope": {"openid", "read"}})
	post(app+"/rotate", url.Values{"grace": {"none"}})
	secrets = append(secrets, reveal(developerPath, newSecretPattern))
	post(app+"/delete", url.Values{})

	other, secret, err := clients.New(clients.Spec{Name: "Other app", RedirectURIs: []string{"https://other.example.com/cb"}, Scopes: []string{"openid", "read"}})
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, secret)
	if err := env.Store.CreateClient(ctx, other); err != nil {
		t.Fatal(err)
	}
	consent, err := env.Store.SaveConsent(ctx, storage.Consent{UserID: alice.ID, OrgID: org, ClientID: other.ID, Scopes: "openid read", Remember: true})
	if err != nil {
		t.Fatal(err)
	}
	post("/settings/apps/revoke", url.Values{"consent": {consent.ID}})

	const newPassword = "a brand new passphrase 42"
	post(securityPath+"/password", url.Values{"current_password": {"a long enough password"}, "password": {newPassword}, "confirm": {newPassword}})
	secrets = append(secrets, newPassword, "a long enough password")

	events := storagetest.AuditEvents(t, env.Store)
	want := []string{audit.KeyCreated, audit.KeyRotated, audit.KeyRevoked,
		audit.AppRegistered, audit.AppChanged, audit.AppSecretRotated, audit.AppDeleted,
		audit.ConsentRevoked, audit.PasswordChanged}
	if got := storagetest.AuditKinds(events); !slices.Equal(got, want) {
		t.Fatalf("events %v,\nwant %v", got, want)
	}
	targets := map[string]string{audit.KeyCreated: "CI deploys (" + keys[0].Hint() + ")", audit.AppRegistered: "Acme dashboard",
		audit.AppChanged: "Acme dashboard 2", audit.ConsentRevoked: "Other app", audit.PasswordChanged: "alice@example.com"}
	for _, e := range events {
		if e.OrgID != org || e.ActorID != alice.ID || e.Actor != "alice@example.com" || e.IP != "192.0.2.1" || e.UserAgent != "SettingsTest/2.0" {
			t.Errorf("the %s event: org %q, actor %q (%s), from %q with %q", e.Kind, e.OrgID, e.ActorID, e.Actor, e.IP, e.UserAgent)
		}
		if want, ok := targets[e.Kind]; ok && e.Target != want {
			t.Errorf("the %s event's target is %q, want %q", e.Kind, e.Target, want)
		}
	}
	storagetest.CheckNoSecret(t, events, secrets...)
}
