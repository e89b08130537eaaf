package e2e

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The developer dashboard (Settings → Developer), driven over HTTP like a
// browser that runs no script: register an OAuth app and sign in with the
// credentials the page showed once, rotate its secret, edit and delete
// it, make initial access tokens for /register, and who may do what.

// devAppOnPage returns an app's list entry, or "" when the page does not list it.
func devAppOnPage(p page, id string) string {
	m := regexp.MustCompile(`(?s)<li class="dev-app" data-app="` + regexp.QuoteMeta(id) + `">(.*?)\n    </li>`).FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// dashboardApp is a web app set up with the credentials the dashboard
// showed, and the client libraries it would use.
func (s *server) dashboardApp(t *testing.T, id, secret, redirect string) *webApp {
	t.Helper()
	op, err := oidc.NewProvider(t.Context(), s.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &webApp{
		s: s, id: id, secret: secret, redirect: redirect, oidc: op,
		config: oauth2.Config{ClientID: id, ClientSecret: secret, Endpoint: op.Endpoint(), RedirectURL: redirect,
			Scopes: strings.Fields(appScopes)},
		verifier: op.Verifier(&oidc.Config{ClientID: id}),
	}
}

// withSecret is the app with another client secret.
func (w *webApp) withSecret(secret string) *webApp {
	c := *w
	c.secret, c.config.ClientSecret = secret, secret
	return &c
}

// signInWith runs a code flow for email and redeems the code at /token
// with the app's client library and secret.
func (w *webApp) signInWith(t *testing.T, email string) (*oauth2.Token, error) {
	t.Helper()
	az := w.newAuthorization(t)
	code := w.code(t, az, email, keyPassword)
	return w.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
}

// wantTokenRefusesClient checks that /token refused the client's credentials.
func wantTokenRefusesClient(t *testing.T, what string, err error) {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.Response.StatusCode != http.StatusUnauthorized || re.ErrorCode != "invalid_client" {
		t.Errorf("%s: %v, want 401 invalid_client", what, err)
	}
}

func TestDeveloperRegisterAnAppAndSignInWithIt(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner := s.newKeyOwner(t, "owner@example.com")
		ui := s.openDeveloper(t, "owner@example.com")
		if p := ui.list(); !strings.Contains(p.body, `id="no-apps"`) || !strings.Contains(p.body, `id="register-app"`) {
			t.Fatalf("a new organization's developer page:\n%s", p.body)
		}
		redirect := "http://" + freePort(t) + "/callback"

		// The form answers with a redirect, with nothing secret in it.
		form := devAppForm("Acme Dashboard", redirect, "logo_uri", "https://acme.example.com/logo.png", "client_uri", "https://acme.example.com",
			"policy_uri", "https://acme.example.com/privacy", "tos_uri", "https://acme.example.com/terms",
			"post_logout_redirect_uris", "https://acme.example.com/bye")
		form.Set("csrf_token", ui.csrf)
		req, _ := http.NewRequest(http.MethodPost, s.URL+devPath+"/apps", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		noFollow := *ui.a.client
		noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		resp, err := noFollow.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != devPath || strings.Contains(string(raw), "new-secret") {
			t.Fatalf("the form answered %d, Location %q, want a redirect to %s with nothing secret", resp.StatusCode, resp.Header.Get("Location"), devPath)
		}

		// The page it leads to shows the client id and the secret, once.
		shown := ui.list()
		id, secret := devShownCredentials(t, shown)
		if secret == "" {
			t.Fatal("a confidential app's secret is not shown")
		}
		c := s.client(t, id)
		if c.OrgID != owner.org.ID || c.Name != "Acme Dashboard" || c.Public || c.FirstParty || !storage.DigestEqual(c.SecretDigest, secret) ||
			c.Metadata.LogoURI != "https://acme.example.com/logo.png" || c.Metadata.PolicyURI != "https://acme.example.com/privacy" ||
			len(c.PostLogoutRedirectURIs) != 1 || strings.Join(c.Scopes, " ") != appScopes || strings.Join(c.RedirectURIs, " ") != redirect {
			t.Errorf("stored app = %+v", c)
		}
		entry := devAppOnPage(shown, id)
		for _, want := range []string{"Acme Dashboard", "Confidential", redirect, `src="https://acme.example.com/logo.png"`, "offline_access", "client_secret_basic"} {
			if !strings.Contains(entry, want) {
				t.Errorf("the app's entry lacks %q:\n%s", want, entry)
			}
		}
		again := ui.list()
		if strings.Contains(again.body, secret) || strings.Contains(again.body, `id="new-secret"`) || strings.Contains(again.body, `id="new-client-id"`) {
			t.Fatal("reloading the page shows the credentials again")
		}
		if devAppOnPage(again, id) == "" {
			t.Error("after a reload the app is not listed")
		}
		for _, c := range ui.a.client.Jar.Cookies(req.URL) {
			if strings.Contains(c.Name, "reveal") {
				t.Errorf("the reveal cookie %s is still set after the secret was shown", c.Name)
			}
		}

		// The app signs people in with the credentials the page showed;
		// the consent page names it and the organization that made it.
		app := s.dashboardApp(t, id, secret, redirect)
		az := app.newAuthorization(t)
		a := s.newAgent(t)
		consent := a.signIn(a.get(az.url), "owner@example.com", keyPassword)
		if consent.url.Path != "/consent" || !strings.Contains(consent.body, "Acme Dashboard") || !strings.Contains(consent.body, owner.org.Name) {
			t.Fatalf("the consent page does not name the app and its organization (%s):\n%s", consent.url, consent.body)
		}
		tok := app.exchange(t, az, redirectOf(a.decide(consent, "allow")))
		if idt := verifyIDToken(t, app, tok, az.nonce); idt.Subject != owner.user.ID {
			t.Errorf("sub = %q, want %q", idt.Subject, owner.user.ID)
		}
		if tok.RefreshToken == "" {
			t.Error("no refresh token for offline_access")
		}
		if logs := s.logs.String(); strings.Contains(logs, secret) {
			t.Error("the client secret reached the log")
		} else if !strings.Contains(logs, "client registered in the dashboard") {
			t.Error("the registration is not in the log")
		}
	})
}

func TestDeveloperPublicApp(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	s.newKeyOwner(t, "owner@example.com")
	ui := s.openDeveloper(t, "owner@example.com")
	redirect := "http://" + freePort(t) + "/callback"
	p := ui.register(devAppForm("Acme SPA", redirect, "type", "public"))
	id, secret := devShownCredentials(t, p)
	if secret != "" || !strings.Contains(p.body, `id="no-secret"`) {
		t.Fatalf("a public app was shown a secret %q", secret)
	}
	if c := s.client(t, id); !c.Public || c.TokenEndpointAuthMethod != "none" || len(c.SecretDigest) != 0 {
		t.Errorf("stored public app = %+v", c)
	}
	if entry := devAppOnPage(p, id); !strings.Contains(entry, "Public") || strings.Contains(entry, "/rotate") {
		t.Errorf("a public app's entry:\n%s", entry)
	}
	// A public app signs in with PKCE and no secret.
	tok, err := s.dashboardApp(t, id, "", redirect).signInWith(t, "owner@example.com")
	if err != nil || tok.AccessToken == "" {
		t.Fatalf("a public app's code flow: %v", err)
	}
	if r := ui.rotate(id, "none"); r.status != http.StatusConflict {
		t.Errorf("rotating a public app's secret: status %d, want 409", r.status)
	}
}

func TestDeveloperRotatingTheSecret(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.newKeyOwner(t, "owner@example.com")
		tests := []struct {
			name, grace string
			oldWorks    bool
			note        string
		}{
			{"with an hour of grace both secrets work", "1h", true, "keeps working until"},
			{"without grace the old secret stops at once", "none", false, "stopped working"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				ui := s.openDeveloper(t, "owner@example.com")
				redirect := "http://" + freePort(t) + "/callback"
				id, oldSecret := ui.mustRegister("Worker "+tc.grace, redirect)

				rotated := ui.rotate(id, tc.grace)
				gotID, newSecret := devShownCredentials(t, rotated)
				if gotID != id || newSecret == "" || newSecret == oldSecret {
					t.Fatalf("rotation showed %s / %q, want a new secret for %s", gotID, newSecret, id)
				}
				if !strings.Contains(rotated.body, `id="old-secret"`) || !strings.Contains(rotated.body, tc.note) {
					t.Errorf("the rotation does not say what became of the old secret (%q)", tc.note)
				}
				if again := ui.list(); strings.Contains(again.body, newSecret) {
					t.Error("the new secret is shown again after a reload")
				}
				c := s.client(t, id)
				if !storage.DigestEqual(c.SecretDigest, newSecret) {
					t.Error("the stored digest is not the new secret's")
				}
				if tc.oldWorks {
					if len(c.RotatedSecrets) != 1 || time.Until(c.RotatedSecrets[0].ExpiresAt) < 59*time.Minute || time.Until(c.RotatedSecrets[0].ExpiresAt) > time.Hour {
						t.Errorf("former secrets = %+v, want one for an hour", c.RotatedSecrets)
					}
					if entry := devAppOnPage(ui.list(), id); !strings.Contains(entry, "A former secret still works until") {
						t.Errorf("the list does not say the former secret works:\n%s", entry)
					}
				} else if len(c.RotatedSecrets) != 0 {
					t.Errorf("former secrets = %+v, want none", c.RotatedSecrets)
				}

				// At /token: the new secret redeems a code; the old one
				// too during its grace, else invalid_client.
				app := s.dashboardApp(t, id, newSecret, redirect)
				if tok, err := app.signInWith(t, "owner@example.com"); err != nil || tok.AccessToken == "" {
					t.Errorf("a code redeemed with the new secret: %v", err)
				}
				tok, err := app.withSecret(oldSecret).signInWith(t, "owner@example.com")
				if tc.oldWorks && (err != nil || tok.AccessToken == "") {
					t.Errorf("a code redeemed with the old secret in its grace: %v", err)
				}
				if !tc.oldWorks {
					wantTokenRefusesClient(t, "a code redeemed with the old secret", err)
				}
				// And where clients authenticate elsewhere (introspection).
				if !s.clientSecretWorks(t, id, newSecret) {
					t.Error("the new secret fails at /introspect")
				}
				if got := s.clientSecretWorks(t, id, oldSecret); got != tc.oldWorks {
					t.Errorf("the old secret works at /introspect: %v, want %v", got, tc.oldWorks)
				}
				if strings.Contains(s.logs.String(), newSecret) || strings.Contains(s.logs.String(), oldSecret) {
					t.Error("a secret reached the log")
				}
			})
		}
	})
}

// Rotating again drops former secrets whose grace is over, and "now"
// stops every former secret (the secret leaked).
func TestDeveloperRotationPrunesFormerSecrets(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	s.newKeyOwner(t, "owner@example.com")
	ui := s.openDeveloper(t, "owner@example.com")
	id, first := ui.mustRegister("Pruned", "https://pruned.example.com/cb")
	_, second := devShownCredentials(t, ui.rotate(id, "1h"))

	// The first former secret's grace ends.
	c := s.client(t, id)
	c.RotatedSecrets[0].ExpiresAt = time.Now().Add(-time.Minute)
	if err := s.Store.UpdateClient(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	_, third := devShownCredentials(t, ui.rotate(id, "24h"))
	if c := s.client(t, id); len(c.RotatedSecrets) != 1 || !c.RotatedSecrets[0].Matches(second) {
		t.Errorf("former secrets = %+v, want only the second secret's", c.RotatedSecrets)
	}
	if s.clientSecretWorks(t, id, first) || !s.clientSecretWorks(t, id, second) || !s.clientSecretWorks(t, id, third) {
		t.Error("after the second rotation, want the first secret dead and the second and third working")
	}
	_, fourth := devShownCredentials(t, ui.rotate(id, "none"))
	if c := s.client(t, id); len(c.RotatedSecrets) != 0 {
		t.Errorf("after rotating with no grace, former secrets = %+v", c.RotatedSecrets)
	}
	if s.clientSecretWorks(t, id, second) || s.clientSecretWorks(t, id, third) || !s.clientSecretWorks(t, id, fourth) {
		t.Error("after rotating with no grace, only the newest secret may work")
	}
}

func TestDeveloperEditAndDelete(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.newKeyOwner(t, "owner@example.com")
		rsID, rsSecret := s.resourceServer(t)
		ui := s.openDeveloper(t, "owner@example.com")
		redirect := "http://" + freePort(t) + "/callback"
		id, secret := ui.mustRegister("Old Name", redirect)
		app := s.dashboardApp(t, id, secret, redirect)

		// The edit form holds the app and says its type stays.
		form := ui.a.get(s.URL + devPath + "/apps/" + id)
		if form.status != http.StatusOK || !strings.Contains(form.body, `value="Old Name"`) || !strings.Contains(form.body, redirect+"</textarea>") ||
			!strings.Contains(form.body, `id="type-note"`) || strings.Contains(form.body, `name="type"`) {
			t.Fatalf("the edit form (status %d):\n%s", form.status, form.body)
		}

		// A bad change is refused next to its field, with what was typed.
		bad := ui.edit(id, devAppForm("New Name", "http://evil.example.com/cb"))
		if bad.status != http.StatusBadRequest || !regexp.MustCompile(`id="error-redirect_uris">[^<]*evil\.example\.com`).MatchString(bad.body) ||
			!strings.Contains(bad.body, `value="New Name"`) || !strings.Contains(bad.body, "http://evil.example.com/cb</textarea>") {
			t.Fatalf("a bad edit: status %d:\n%s", bad.status, bad.body)
		}
		if c := s.client(t, id); c.Name != "Old Name" || c.RedirectURIs[0] != redirect {
			t.Errorf("the refused edit changed the app: %+v", c)
		}

		// A good one is saved; asking to make it public changes nothing.
		saved := ui.edit(id, devAppForm("New Name", redirect+"\n"+"https://new.example.com/cb", "type", "public", "logo_uri", "https://new.example.com/logo.png"))
		if saved.status != http.StatusOK || saved.url.Path != devPath || !strings.Contains(saved.body, "Your changes to “New Name” were saved.") {
			t.Fatalf("after saving: status %d at %s:\n%s", saved.status, saved.url, saved.body)
		}
		c := s.client(t, id)
		if c.Name != "New Name" || len(c.RedirectURIs) != 2 || c.Public || c.TokenEndpointAuthMethod != "client_secret_basic" ||
			!storage.DigestEqual(c.SecretDigest, secret) || c.Metadata.LogoURI != "https://new.example.com/logo.png" || c.OrgID == "" {
			t.Errorf("after the edit the app is %+v", c)
		}

		// The consent page shows the new name; the secret still works.
		az := app.newAuthorization(t)
		a := s.newAgent(t)
		consent := a.signIn(a.get(az.url), "owner@example.com", keyPassword)
		if consent.url.Path != "/consent" || !strings.Contains(consent.body, "New Name") || strings.Contains(consent.body, "Old Name") {
			t.Fatalf("the consent page after the edit:\n%s", consent.body)
		}
		tok := app.exchange(t, az, redirectOf(a.decide(consent, "allow")))
		if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["active"] != true || intro["client_id"] != id {
			t.Fatalf("the app's access token: %v", intro)
		}

		// Delete it through the confirmation page.
		confirm := ui.a.get(s.URL + devPath + "/apps/" + id + "/delete")
		if confirm.status != http.StatusOK || !strings.Contains(confirm.body, "Delete “New Name”?") || !strings.Contains(confirm.body, `id="delete-client-id">`+id+`<`) {
			t.Fatalf("the confirmation page (status %d):\n%s", confirm.status, confirm.body)
		}
		s.client(t, id) // not deleted by looking at the confirmation
		deleted := ui.delete(id)
		if deleted.status != http.StatusOK || deleted.url.Path != devPath || !strings.Contains(deleted.body, `id="notice"`) || devAppOnPage(deleted, id) != "" {
			t.Fatalf("after deleting: status %d at %s:\n%s", deleted.status, deleted.url, deleted.body)
		}
		if _, err := s.Store.FindClient(context.Background(), id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the deleted app is still stored: %v", err)
		}
		for _, token := range []string{tok.AccessToken, tok.RefreshToken} {
			if intro := s.introspect(t, rsID, rsSecret, token); intro["active"] != false {
				t.Errorf("a token of the deleted app is active: %v", intro)
			}
		}
		if s.clientSecretWorks(t, id, secret) {
			t.Error("the deleted app still authenticates")
		}
		for _, p := range []page{ui.a.get(s.URL + devPath + "/apps/" + id), ui.delete(id), ui.rotate(id, "none")} {
			if p.status != http.StatusNotFound {
				t.Errorf("%s of the deleted app: status %d, want 404", p.url.Path, p.status)
			}
		}
	})
}

func TestDeveloperRegistrationExplainsEachProblem(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	owner := s.newKeyOwner(t, "owner@example.com")
	ui := s.openDeveloper(t, "owner@example.com")
	tests := []struct {
		name           string
		form           url.Values
		field, message string
	}{
		{"no name", devAppForm(" ", "https://ok.example.com/cb"), "name", "Enter your app"},
		{"no redirect URI", devAppForm("App", ""), "redirect_uris", "At least one is required"},
		{"http on a host that is not loopback", devAppForm("App", "http://app.example.com/cb"), "redirect_uris", "not loopback"},
		{"a fragment", devAppForm("App", "https://app.example.com/cb#x"), "redirect_uris", "must not have a fragment"},
		{"a wildcard", devAppForm("App", "https://*.example.com/cb"), "redirect_uris", "wildcard"},
		{"a logo over http", devAppForm("App", "https://ok.example.com/cb", "logo_uri", "http://cdn.example.com/logo.png"), "logo_uri", "must use https"},
		{"a website that is not a URL", devAppForm("App", "https://ok.example.com/cb", "client_uri", "acme"), "client_uri", "not an absolute URL"},
		{"a bad post-logout URI", devAppForm("App", "https://ok.example.com/cb", "post_logout_redirect_uris", "ftp://x.example.com/"), "post_logout_redirect_uris", "uses the scheme"},
		{"no scope", url.Values{"name": {"App"}, "redirect_uris": {"https://ok.example.com/cb"}, "type": {"confidential"}}, "scope", "Choose at least one scope"},
		{"an unknown scope", devAppForm("App", "https://ok.example.com/cb", "scope", "admin:all"), "scope", "admin:all"},
		{"no type", devAppForm("App", "https://ok.example.com/cb", "type", "hybrid"), "type", "confidential or public"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ui.register(tc.form)
			re := regexp.MustCompile(`id="error-` + tc.field + `">[^<]*` + regexp.QuoteMeta(tc.message))
			if p.status != http.StatusBadRequest || !re.MatchString(unescapeHTML(p.body)) {
				t.Fatalf("status %d, want 400 with %q at %s:\n%s", p.status, tc.message, tc.field, p.body)
			}
			if name := strings.TrimSpace(tc.form.Get("name")); name != "" && !strings.Contains(p.body, `value="`+name+`"`) {
				t.Error("the name typed is not kept")
			}
			for _, u := range tc.form["redirect_uris"] {
				if !strings.Contains(unescapeHTML(p.body), u+"</textarea>") {
					t.Errorf("the redirect URIs typed are not kept")
				}
			}
		})
	}
	// Several problems at once are all shown.
	p := ui.register(devAppForm("", "http://app.example.com/cb", "logo_uri", "nope", "tos_uri", "http://x.example.com/"))
	for _, field := range []string{"name", "redirect_uris", "logo_uri", "tos_uri"} {
		if !strings.Contains(p.body, `id="error-`+field+`"`) {
			t.Errorf("with several problems, the one of %s is not shown", field)
		}
	}
	if apps, _ := s.Store.ListOrgClients(context.Background(), owner.org.ID); len(apps) != 0 {
		t.Errorf("refused registrations stored %d apps", len(apps))
	}
	// The owner is not offered first-party apps where they are not allowed.
	if strings.Contains(ui.list().body, `name="first_party"`) {
		t.Error("the first-party checkbox is offered where the server does not allow first-party apps")
	}
}

func TestDeveloperRoles(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	owner := s.newKeyOwner(t, "owner@acme.example")
	s.addMember(t, owner.org, "admin@acme.example", "Ada Admin", storage.RoleAdmin)
	s.addMember(t, owner.org, "member@acme.example", "Mia Member", storage.RoleMember)
	s.newKeyOwner(t, "outsider@example.com")

	ownerUI := s.openDeveloper(t, "owner@acme.example")
	appID, appSecret := ownerUI.mustRegister("Acme App", "https://acme.example.com/cb")
	outsiderUI := s.openDeveloper(t, "outsider@example.com")
	foreignID, _ := outsiderUI.mustRegister("Outsider App", "https://outsider.example.com/cb")
	ownerUI.post(devPath+"/tokens", url.Values{"expires": {"never"}})
	tokens, err := s.Store.ListInitialAccessTokens(context.Background(), owner.org.ID)
	if err != nil || len(tokens) != 1 {
		t.Fatalf("tokens: %v %v", tokens, err)
	}
	unchanged := func(t *testing.T) {
		t.Helper()
		c := s.client(t, appID)
		if c.Name != "Acme App" || !storage.DigestEqual(c.SecretDigest, appSecret) || len(c.RotatedSecrets) != 0 {
			t.Errorf("the app was changed: %+v", c)
		}
		if apps, _ := s.Store.ListOrgClients(context.Background(), owner.org.ID); len(apps) != 1 {
			t.Errorf("the organization has %d apps, want 1", len(apps))
		}
		if got, _ := s.Store.ListInitialAccessTokens(context.Background(), owner.org.ID); len(got) != 1 || got[0].RevokedAt != nil {
			t.Errorf("the tokens were changed: %+v", got)
		}
	}

	t.Run("a member sees the apps but no form and changes nothing", func(t *testing.T) {
		ui := s.openDeveloper(t, "member@acme.example")
		p := ui.list()
		entry := devAppOnPage(p, appID)
		if entry == "" || !strings.Contains(p.body, `id="member-note"`) {
			t.Fatalf("a member's list:\n%s", p.body)
		}
		for _, form := range []string{`id="register-app"`, "/rotate", "/delete", `class="button secondary edit"`, `id="create-token"`, tokens[0].ID} {
			if strings.Contains(p.body, form) {
				t.Errorf("a member is shown %s", form)
			}
		}
		for _, p := range []page{
			ui.register(devAppForm("Member App", "https://member.example.com/cb")),
			ui.edit(appID, devAppForm("Renamed", "https://acme.example.com/cb")),
			ui.rotate(appID, "none"),
			ui.delete(appID),
			ui.post(devPath+"/tokens", url.Values{"expires": {"never"}}),
			ui.post(devPath+"/tokens/"+tokens[0].ID+"/revoke", url.Values{}),
			ui.a.get(s.URL + devPath + "/apps/" + appID),
			ui.a.get(s.URL + devPath + "/apps/" + appID + "/delete"),
		} {
			if p.status != http.StatusForbidden || !strings.Contains(p.body, "Only owners and admins") {
				t.Errorf("a member at %s: status %d, want 403", p.url.Path, p.status)
			}
		}
		unchanged(t)
	})
	t.Run("another organization's app is not found", func(t *testing.T) {
		for _, email := range []string{"owner@acme.example", "member@acme.example"} {
			ui := s.openDeveloper(t, email)
			if strings.Contains(ui.list().body, foreignID) {
				t.Errorf("%s sees another organization's app", email)
			}
			for _, id := range []string{foreignID, "cl_doesnotexist"} {
				for _, p := range []page{
					ui.a.get(s.URL + devPath + "/apps/" + id),
					ui.a.get(s.URL + devPath + "/apps/" + id + "/delete"),
					ui.edit(id, devAppForm("Stolen", "https://evil.example.com/cb")),
					ui.rotate(id, "none"),
					ui.delete(id),
				} {
					if p.status != http.StatusNotFound || strings.Contains(p.body, "Outsider App") {
						t.Errorf("%s at %s: status %d, want a 404 that tells nothing", email, p.url.Path, p.status)
					}
				}
			}
		}
		if c := s.client(t, foreignID); c.Name != "Outsider App" {
			t.Errorf("the outsider's app was changed: %+v", c)
		}
		ui := s.openDeveloper(t, "outsider@example.com")
		if p := ui.post(devPath+"/tokens/"+tokens[0].ID+"/revoke", url.Values{}); p.status != http.StatusNotFound {
			t.Errorf("revoking another organization's token: status %d, want 404", p.status)
		}
		unchanged(t)
	})
	t.Run("an admin manages the apps", func(t *testing.T) {
		ui := s.openDeveloper(t, "admin@acme.example")
		p := ui.list()
		if !strings.Contains(p.body, `id="register-app"`) || !strings.Contains(devAppOnPage(p, appID), "/rotate") || strings.Contains(p.body, `name="first_party"`) {
			t.Errorf("an admin's page:\n%s", p.body)
		}
		id, _ := ui.mustRegister("Admin App", "https://admin.example.com/cb")
		if c := s.client(t, id); c.OrgID != owner.org.ID {
			t.Errorf("the admin's app is in %q", c.OrgID)
		}
		if p := ui.delete(id); p.status != http.StatusOK {
			t.Errorf("an admin deleting an app: status %d", p.status)
		}
	})
}

func TestDeveloperFormsNeedTheCSRFToken(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	owner := s.newKeyOwner(t, "owner@example.com")
	other := s.newKeyOwner(t, "other@example.com")
	if err := s.Store.AddMember(context.Background(), other.org.ID, owner.user.ID, storage.RoleMember); err != nil {
		t.Fatal(err)
	}
	ui := s.openDeveloper(t, "owner@example.com")
	id, secret := ui.mustRegister("Guarded", "https://guarded.example.com/cb")
	ui.post(devPath+"/tokens", url.Values{"expires": {"never"}})
	tokens, _ := s.Store.ListInitialAccessTokens(context.Background(), owner.org.ID)
	tests := []struct {
		name, path string
		form       url.Values
	}{
		{"register", devPath + "/apps", devAppForm("Forged", "https://forged.example.com/cb")},
		{"edit", devPath + "/apps/" + id, devAppForm("Forged", "https://forged.example.com/cb")},
		{"rotate", devPath + "/apps/" + id + "/rotate", url.Values{"grace": {"none"}}},
		{"delete", devPath + "/apps/" + id + "/delete", url.Values{}},
		{"create a token", devPath + "/tokens", url.Values{"expires": {"never"}}},
		{"revoke a token", devPath + "/tokens/" + tokens[0].ID + "/revoke", url.Values{}},
		{"switch organization", devPath + "/org", url.Values{"org": {other.org.ID}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { ui.wantForgeriesRefused(t, tc.path, tc.form) })
	}
	c := s.client(t, id)
	if c.Name != "Guarded" || !storage.DigestEqual(c.SecretDigest, secret) {
		t.Errorf("forged posts changed the app: %+v", c)
	}
	if apps, _ := s.Store.ListOrgClients(context.Background(), owner.org.ID); len(apps) != 1 {
		t.Errorf("%d apps after forged posts, want 1", len(apps))
	}
	if got, _ := s.Store.ListInitialAccessTokens(context.Background(), owner.org.ID); len(got) != 1 || got[0].RevokedAt != nil {
		t.Errorf("forged posts changed the tokens: %+v", got)
	}
}

func TestDeveloperSwitchingOrganization(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	owner := s.newKeyOwner(t, "owner@example.com")
	other := s.newKeyOwner(t, "other@example.com")
	if err := s.Store.AddMember(context.Background(), other.org.ID, owner.user.ID, storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	ui := s.openDeveloper(t, "owner@example.com")
	id, _ := ui.mustRegister("Mine", "https://mine.example.com/cb")
	switched := ui.post(devPath+"/org", url.Values{"org": {other.org.ID}})
	if switched.url.Path != devPath || !strings.Contains(switched.body, "You are now working in "+other.org.Name) || devAppOnPage(switched, id) != "" {
		t.Fatalf("after switching: %s:\n%s", switched.url, switched.body)
	}
	// A form shown before the switch (in another window) registers no app
	// in the organization switched to.
	stale := ui.register(devAppForm("Stale", "https://stale.example.com/cb", "org", owner.org.ID))
	if stale.status != http.StatusConflict || !strings.Contains(stale.body, `id="error-form"`) || !strings.Contains(stale.body, `value="Stale"`) {
		t.Errorf("a form from before the switch: status %d:\n%s", stale.status, stale.body)
	}
	for _, org := range []string{owner.org.ID, other.org.ID} {
		if apps, _ := s.Store.ListOrgClients(context.Background(), org); len(apps) != map[bool]int{true: 1, false: 0}[org == owner.org.ID] {
			t.Errorf("organization %s has %d apps", org, len(apps))
		}
	}
	if p := ui.post(devPath+"/org", url.Values{"org": {"org_notmine"}}); p.status != http.StatusNotFound {
		t.Errorf("switching to an organization one is not in: status %d, want 404", p.status)
	}
}

func TestDeveloperInitialAccessTokenRegistersForTheOrganization(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("token"))
		owner := s.newKeyOwner(t, "owner@example.com")
		ui := s.openDeveloper(t, "owner@example.com")

		created := ui.post(devPath+"/tokens", url.Values{"expires": {"7d"}})
		m := devShownToken.FindStringSubmatch(created.body)
		if created.status != http.StatusOK || created.url.Path != devPath || m == nil {
			t.Fatalf("creating a token: status %d at %s:\n%s", created.status, created.url, created.body)
		}
		token := m[1]
		if strings.Count(created.body, token) != 1 || !strings.Contains(created.body, `data-copy="new-token"`) || !strings.Contains(created.body, "It will not be shown again") {
			t.Error("the token is not shown once with its copy button and the warning")
		}
		if strings.Contains(ui.list().body, token) {
			t.Error("the token is shown again after a reload")
		}
		stored, err := s.Store.ListInitialAccessTokens(context.Background(), owner.org.ID)
		if err != nil || len(stored) != 1 || stored[0].Digest != storage.DigestHex(token) || stored[0].CreatedBy != owner.user.ID ||
			stored[0].ExpiresAt == nil || time.Until(*stored[0].ExpiresAt) < 6*24*time.Hour || time.Until(*stored[0].ExpiresAt) > 7*24*time.Hour {
			t.Fatalf("stored tokens = %+v (%v)", stored, err)
		}
		if strings.Contains(s.logs.String(), token) {
			t.Error("the token reached the log")
		}

		// The token registers an app at /register, for the organization.
		register := func(tok string) (*http.Response, map[string]any) {
			body := `{"client_name":"Self-registered","redirect_uris":["https://self.example.com/cb"]}`
			req, _ := http.NewRequest(http.MethodPost, s.URL+"/register", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			return doJSON(t, req)
		}
		resp, reg := register(token)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("/register with the dashboard's token: %d %v", resp.StatusCode, reg)
		}
		id, _ := reg["client_id"].(string)
		if c := s.client(t, id); c.OrgID != owner.org.ID {
			t.Errorf("the self-registered app is in %q, want %q", c.OrgID, owner.org.ID)
		}
		entry := devAppOnPage(ui.list(), id)
		if !strings.Contains(entry, "Self-registered") || !strings.Contains(entry, "By API") {
			t.Errorf("the organization's list does not show the self-registered app:\n%s", entry)
		}

		// Revoked, it registers nothing more.
		revoked := ui.post(devPath+"/tokens/"+stored[0].ID+"/revoke", url.Values{})
		if revoked.status != http.StatusOK || !strings.Contains(revoked.body, "was revoked") ||
			!regexp.MustCompile(`data-token="`+stored[0].ID+`">\s*<div class="key-head">\s*<div><span class="code token-id">[^<]*</span> <span class="state revoked">`).MatchString(revoked.body) {
			t.Fatalf("after revoking: status %d:\n%s", revoked.status, revoked.body)
		}
		if resp, body := register(token); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("/register with the revoked token: %d %v, want 401", resp.StatusCode, body)
		}
		if p := ui.post(devPath+"/tokens/"+stored[0].ID+"/revoke", url.Values{}); p.status != http.StatusNotFound {
			t.Errorf("revoking it again: status %d, want 404", p.status)
		}
	})
}

// Where /register is open or off, the page makes no tokens.
func TestDeveloperTokensOnlyInTokenMode(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"open", "off"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			s := newServer(t, storagetest.Backends()[0], withRegistration(mode))
			s.newKeyOwner(t, "owner@example.com")
			ui := s.openDeveloper(t, "owner@example.com")
			if p := ui.list(); strings.Contains(p.body, `id="create-token"`) || !strings.Contains(p.body, `id="registration-`+mode+`"`) {
				t.Errorf("registration %s: the page:\n%s", mode, p.body)
			}
			if p := ui.post(devPath+"/tokens", url.Values{"expires": {"never"}}); p.status != http.StatusConflict {
				t.Errorf("creating a token with registration %s: status %d, want 409", mode, p.status)
			}
		})
	}
}
