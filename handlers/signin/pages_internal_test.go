package signin

import (
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// TestPagesRender renders every sign-in page with representative data and
// compares it with its golden file; run `go test ./handlers/signin -update`
// after changing a template, and review the diff.
func TestPagesRender(t *testing.T) {
	t.Parallel()
	user := &storage.User{ID: "usr_1", Email: "alice@example.com", Name: "Alice <Admin>"}
	base := func(title string, u *storage.User) web.BasePage {
		return web.BasePage{Title: title, CSRF: "csrf-token", RequestID: "req-1", User: u}
	}
	pages := map[string]any{
		"login": loginPage{BasePage: base("Sign in", nil), Flow: "flow-1", Email: "alice@example.com",
			Error: "Incorrect email or password.", ClientName: "Example <App>"},
		"consent": consentPage{BasePage: base("Allow access", user), Flow: "flow-1", ClientName: "Example App", ClientInitial: "E",
			UserName: user.Name, UserEmail: user.Email, RedirectHost: "app.example.com", AnyNew: true,
			Scopes: []consentScope{{Scope: tenancy.Describe("openid")}, {Scope: tenancy.Describe("read"), New: true},
				{Scope: tenancy.Describe("custom:x")}},
			Withheld:    []tenancy.Withheld{{Scope: tenancy.Describe("billing:read"), Reason: "Only an organization's owners can give this permission. You are a member."}},
			RolesDiffer: true,
			Orgs:        []storage.MemberOrg{{Organization: storage.Organization{ID: "org_1", Name: "Acme"}}, {Organization: storage.Organization{ID: "org_2", Name: "Globex <Inc>"}}},
			OrgID:       "org_2", LogoURI: "https://app.example.com/logo.png", ClientURI: "https://app.example.com",
			PolicyURI: "https://app.example.com/privacy", TOSURI: "https://app.example.com/terms", Publisher: "Initech"},
		"signup": signupPage{BasePage: base("Create your account", nil), Flow: "flow-1", ClientName: "Example App",
			Name: "Alice", Email: "alice@example.com", Organization: "Acme <Corp>",
			Errors: map[string]string{"email": "Enter a valid email address, like name@example.com.", "password": "Use at least 10 characters for your password."}},
		"logout": logoutPage{BasePage: base("Sign out", user), ClientName: "Example App", ClientID: "cl_1",
			PostLogoutRedirectURI: "https://app.example.com/bye", State: "s-1"},
		"outbox": outboxPage{BasePage: base("Demo outbox", nil), Messages: []mail.Sent{{
			To: "alice@example.com", Subject: "Verify <script>your</script> email", Template: "verify", MessageID: "m1@auth.example.com",
			Date: time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC), Text: "Open https://auth.example.com/email/verify?token=t&x=<App>\n"}}},
		"password_forgot": forgotPage{BasePage: base("Reset your password", nil), Email: "alice@example.com",
			Error: "Enter a valid email address, like name@example.com.", Wait: "You asked for too many links. Try again in 5 minutes."},
		"password_reset": resetPage{BasePage: base("Choose a new password", nil), Token: "reset-token", Email: "alice@example.com",
			Errors: map[string]string{"password": "Use at least 10 characters for your password.", "confirm": "The two passwords differ."}},
		// Its other modes: TestVerifyPagesRender.
		"verify": verifyPage{BasePage: base("Verify your email address first", user), Mode: "required", Email: user.Email, Flow: "flow-1", MailEnabled: true},
		// Its other modes: TestInvitationPagesRender.
		"invitation": invitationGoldenPage(base("Join Acme <Corp>", nil), "new"),
		"demo":       demoPage{BasePage: base("Demo callback", nil), Code: "ac_live_x.y", State: "s", Iss: "http://127.0.0.1:8080", Curl: "curl ..."},
	}
	for name, data := range pages {
		t.Run(name, func(t *testing.T) { webtest.GoldenPage(t, name, data) })
	}
}

func TestLocalPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"/settings/apps", "/settings/apps"},
		{"/a?b=c", "/a?b=c"},
		{"", ""},
		{"https://evil.example.com/", ""},
		{"//evil.example.com/", ""},
		{"/\\evil.example.com", ""},
		{"javascript:alert(1)", ""},
		{"relative/path", ""},
	}
	for _, tc := range tests {
		if got := localPath(tc.in); got != tc.want {
			t.Errorf("localPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
