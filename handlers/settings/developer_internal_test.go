package settings

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
)

func TestApplyRegistrationShowsEveryFieldsProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		reg    clients.Registration
		fields []string
	}{
		{"a good registration has no problem", clients.Registration{ClientName: "App", RedirectURIs: []string{"https://app.example.com/cb"}, Scope: "openid"}, nil},
		{"each bad field is named", clients.Registration{
			ClientName:             strings.Repeat("x", 101),
			RedirectURIs:           []string{"http://app.example.com/cb"},
			PostLogoutRedirectURIs: []string{"https://app.example.com/bye#x"},
			LogoURI:                "ftp://app.example.com/logo.png",
			ClientURI:              "not a url",
			PolicyURI:              "http://app.example.com/privacy",
			TOSURI:                 "https://app.example.com/terms",
			Scope:                  "openid admin:all",
		}, []string{"logo_uri", "client_uri", "name", "policy_uri", "post_logout_redirect_uris", "redirect_uris", "scope"}},
		{"no redirect URI is a redirect URI problem", clients.Registration{ClientName: "App", Scope: "openid"}, []string{"redirect_uris"}},
		{"a problem of no field is the form's, and the fields' are still named", clients.Registration{ClientName: "App", Scope: "openid",
			RedirectURIs: []string{"https://app.example.com/cb"}, TokenEndpointAuthMethod: "magic", LogoURI: "ftp://x"},
			[]string{"form", "logo_uri"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			problems := map[string][]string{}
			c := &storage.Client{ID: "cl_1", OrgID: "org_1"}
			applyForm(tc.reg, c, problems)
			var got []string
			for field, msgs := range problems {
				got = append(got, field)
				for _, m := range msgs {
					if !strings.HasSuffix(m, ".") || strings.HasPrefix(m, field+":") {
						t.Errorf("%s: %q is not a sentence about the field", field, m)
					}
				}
			}
			if !sameSet(got, tc.fields) {
				t.Errorf("problems in %v, want %v: %v", got, tc.fields, problems)
			}
			if (len(problems) == 0) != (c.Name != "") {
				t.Errorf("the client was set (%q) with problems %v", c.Name, problems)
			}
			if c.OrgID != "org_1" || c.ID != "cl_1" {
				t.Errorf("validation changed the client's id or organization: %+v", c)
			}
		})
	}
}

// applyForm validates reg as the dashboard does and sets c from it when
// there is no problem.
func applyForm(reg clients.Registration, c *storage.Client, problems map[string][]string) {
	try := *c
	if err := clients.Apply(&reg, &try, appRules); err != nil {
		addProblems(err, problems)
		return
	}
	*c = try
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !strings.Contains(" "+strings.Join(b, " ")+" ", " "+x+" ") {
			return false
		}
	}
	return true
}

// An edit starts from everything the app registered, so that what the
// form does not show (contacts, keys, the authentication method) is kept.
func TestRegistrationOfKeepsWhatTheFormDoesNotShow(t *testing.T) {
	t.Parallel()
	jwks := `{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1"}]}`
	reg, err := clients.Parse([]byte(`{"client_name":"Old","redirect_uris":["https://app.example.com/cb"],
		"token_endpoint_auth_method":"private_key_jwt","jwks":` + jwks + `,"token_endpoint_auth_signing_alg":"ES256",
		"contacts":["ops@example.com"],"software_id":"sw-1","grant_types":["authorization_code","client_credentials"],
		"scope":"openid read","x_custom":"kept"}`))
	if err != nil {
		t.Fatal(err)
	}
	c := &storage.Client{ID: "cl_1"}
	if err := clients.Apply(reg, c, clients.Options{}); err != nil {
		t.Fatal(err)
	}
	base := clients.RegistrationOf(c)
	f := appForm{Name: "New name", RedirectURIs: "https://app.example.com/new\n\n https://app.example.com/cb ",
		Scopes: scopeChoices([]string{"openid", "profile"})}
	updated := *c
	problems := map[string][]string{}
	applyForm(*f.registration(base), &updated, problems)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	got := []any{updated.Name, []string(updated.RedirectURIs), []string(updated.Scopes), updated.TokenEndpointAuthMethod,
		updated.TokenEndpointAuthSigningAlg, updated.JWKS != "", []string(updated.GrantTypes), updated.Metadata.Contacts,
		updated.Metadata.SoftwareID, updated.Metadata.Extra["x_custom"]}
	want := []any{"New name", []string{"https://app.example.com/new", "https://app.example.com/cb"}, []string{"openid", "profile"},
		clients.AuthPrivateKeyJWT, "ES256", true, []string{"authorization_code", "client_credentials"}, []string{"ops@example.com"},
		"sw-1", any("kept")}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("after an edit (-want +got):\n%s", diff)
	}
}

// TestDeveloperPageModes renders what the golden file does not show: the
// edit form, the delete confirmation, a member's list, a rotated secret,
// a new initial access token and a person in no organization.
func TestDeveloperPageModes(t *testing.T) {
	t.Parallel()
	user := &storage.User{ID: "usr_1", Email: "alice@example.com"}
	now := time.Now()
	app := storage.Client{ID: "cl_1", Name: "Deploy <bot>", RedirectURIs: storage.Strings{"https://app.example.com/cb"}, Scopes: storage.Strings{"openid"},
		TokenEndpointAuthMethod: clients.AuthSecretBasic, FirstParty: true, CreatedAt: now}
	row := newAppRow(&app, now, true)
	row.CanChange = true
	owner := &storage.MemberOrg{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner}
	member := &storage.MemberOrg{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleMember}
	base := func(title string) web.BasePage { return web.BasePage{Title: title, CSRF: "csrf-token", User: user} }
	d := &Developer{}
	adminWS := &workspace{user: user, org: &storage.MemberOrg{Organization: owner.Organization, Role: storage.RoleAdmin}}
	tests := []struct {
		name      string
		data      developerPage
		want, not []string
	}{
		{"the edit form holds the app and says the type stays", developerPage{BasePage: base("Edit"), Org: owner, CanManage: true, Edit: &row,
			Form: d.formOf(adminWS, &app)},
			[]string{`action="/settings/developer/apps/cl_1"`, `value="Deploy &lt;bot&gt;"`, "https://app.example.com/cb</textarea>",
				`id="type-note"`, "cannot be changed", `id="first-party-note"`, `name="csrf_token" value="csrf-token"`},
			[]string{"<bot>", `name="type"`, `id="app-first-party"`, `id="register-app"`}},
		{"the delete confirmation names the app and what stops", developerPage{BasePage: base("Delete"), Org: owner, Delete: &row},
			[]string{"Delete “Deploy &lt;bot&gt;”?", `id="delete-client-id">cl_1<`, `action="/settings/developer/apps/cl_1/delete"`,
				"its access and refresh tokens stop working", `id="confirm-delete"`, `id="cancel"`},
			[]string{"<bot>", `id="register-app"`}},
		{"a member sees the apps and no form", developerPage{BasePage: base("Developer"), Org: member, Apps: []appRow{row}},
			[]string{`data-app="cl_1"`, `id="member-note"`},
			[]string{"<form method=\"post\" action=\"/settings/developer/apps", "/rotate", "/delete", `id="create-token"`, `id="token-list"`, "Initial access tokens"}},
		{"a rotated secret is shown once with what became of the old one", developerPage{BasePage: base("Developer"), Org: owner, CanManage: true,
			Shown: &shownSecret{Kind: "secret", Name: "Deploy <bot>", ClientID: "cl_1", Secret: "s3cr3t", Note: "The old secret keeps working until then."}},
			[]string{"A new secret for “Deploy &lt;bot&gt;”", `id="new-secret">s3cr3t<`, `id="old-secret">The old secret keeps working`, "It will not be shown again", `data-copy="new-secret"`, "/static/copy.js"},
			nil},
		{"a public app's credentials say it has no secret", developerPage{BasePage: base("Developer"), Org: owner, CanManage: true,
			Shown: &shownSecret{Kind: "app", Name: "Mobile", ClientID: "cl_2"}},
			[]string{`id="new-client-id">cl_2<`, `id="no-secret"`}, []string{`id="new-secret"`}},
		{"a new initial access token is shown once", developerPage{BasePage: base("Developer"), Org: owner, CanManage: true, RegistrationMode: clients.RegistrationToken,
			RegisterURL: "https://auth.example.com/register", Shown: &shownSecret{Kind: "token", Token: "t0k3n", Note: "It works until you revoke it."}},
			[]string{`id="new-token">t0k3n<`, `data-copy="new-token"`, "POST https://auth.example.com/register", "It works until you revoke it.", `id="create-token"`},
			[]string{`id="new-client-id"`}},
		{"open registration needs no token", developerPage{BasePage: base("Developer"), Org: owner, CanManage: true, RegistrationMode: clients.RegistrationOpen},
			[]string{`id="registration-open"`}, []string{`id="create-token"`}},
		{"a person in no organization learns that apps belong to one", developerPage{BasePage: base("Developer")},
			[]string{`id="no-org"`}, []string{`id="register-app"`, `id="apps"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := web.ExecutePage(&buf, "developer", tc.data); err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.want {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("the page lacks %q", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(buf.String(), s) {
					t.Errorf("the page shows %q", s)
				}
			}
			if t.Failed() {
				t.Log(buf.String())
			}
		})
	}
}

var csrfValue = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// First-party apps skip consent for everyone on the server: only the
// operator makes them (audit finding 3). The dashboard offers no checkbox,
// and a forged first_party field makes an ordinary app, for owners too.
func TestDashboardNeverMakesAppsFirstParty(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	Mount(env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store, RevealKey: make([]byte, 32),
		RegistrationMode: clients.RegistrationToken})
	store, ctx := env.Store, context.Background()
	people := accounts.New(store, accounts.Config{})
	made, err := people.Create(ctx, accounts.Person{Email: "owner@example.com", Name: "Owner", Password: "a long enough password", Organization: "Acme"}, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	owner, org := made.User, made.Org
	other, err := people.Create(ctx, accounts.Person{Email: "admin@example.com", Name: "Admin", Password: "a long enough password"}, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	admin := other.User
	if err := store.AddMember(ctx, org.ID, admin.ID, storage.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	for _, who := range []struct {
		role string
		user *storage.User
	}{{storage.RoleOwner, owner}, {storage.RoleAdmin, admin}} {
		t.Run(who.role, func(t *testing.T) {
			token, _, err := store.CreateLoginSession(ctx, who.user.ID, org.ID, time.Hour, "test", "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			b := env.Browser(t)
			b.Cookies[env.Kit.CookieName(web.SessionCookie)] = &http.Cookie{Name: env.Kit.CookieName(web.SessionCookie), Value: token}
			list := b.Do(http.MethodGet, developerPath, nil)
			if list.Code != http.StatusOK {
				t.Fatalf("the page: %d", list.Code)
			}
			if strings.Contains(list.Body.String(), `name="first_party"`) {
				t.Error("the dashboard offers a first-party checkbox")
			}
			m := csrfValue.FindStringSubmatch(list.Body.String())
			if m == nil {
				t.Fatal("no CSRF token")
			}
			name := "Internal " + who.role
			post := b.Do(http.MethodPost, developerPath+"/apps", url.Values{"csrf_token": {m[1]}, "name": {name},
				"redirect_uris": {"https://internal.example.com/cb"}, "type": {"confidential"}, "scope": {"openid", "read"}, "first_party": {"1"}})
			clients, err := store.ListOrgClients(ctx, org.ID)
			if err != nil {
				t.Fatal(err)
			}
			var made *storage.Client
			for i := range clients {
				if clients[i].Name == name {
					made = &clients[i]
				}
			}
			if post.Code != http.StatusSeeOther || made == nil || made.FirstParty {
				t.Errorf("a forged first_party field: status %d, stored %+v; want an ordinary app", post.Code, made)
			}
		})
	}
}
