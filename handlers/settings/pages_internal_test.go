package settings

import (
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// TestPagesRender renders every settings page with representative data and
// compares it with its golden file; run `go test ./handlers/settings -update`
// after changing a template, and review the diff.
func TestPagesRender(t *testing.T) {
	t.Parallel()
	user := &storage.User{ID: "usr_1", Email: "alice@example.com", Name: "Alice <Admin>"}
	base := func(title string, u *storage.User) web.BasePage {
		return web.BasePage{Title: title, CSRF: "csrf-token", RequestID: "req-1", User: u}
	}
	pages := map[string]any{
		"apps": appsPage{BasePage: base("Connected apps", user), Notice: "Access revoked: the app's tokens no longer work.",
			Apps: []connectedApp{{ConnectedApp: storage.ConnectedApp{Consent: storage.Consent{ID: "cns_1", ClientID: "cl_1", Remember: true},
				ClientName: "Example <App>", OrgName: "Acme"}, When: "1 December 2026",
				Scopes: []tenancy.Scope{tenancy.Describe("openid"), tenancy.Describe("read")}}}},
		"apikeys":   apiKeysGoldenPage(base("API keys", user), user),
		"developer": developerGoldenPage(base("Developer", user), user),
		"home": homePage{BasePage: base("Your account", user), Orgs: []storage.MemberOrg{
			{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner}}, MailEnabled: true,
			Notice: homeNotices["left"], NewOrg: "Globex <Inc>", NewOrgError: "That name is taken. Choose another one.", CanAudit: true},
		"profile":      profileGoldenPage(base("Profile", user)),
		"team":         teamGoldenPage(base("Team", user), user),
		"organization": organizationGoldenPage(base("Organization settings", user)),
		"audit":        auditGoldenPage(base("Audit log", user)),
		"security":     securityGoldenPage(base("Security", user)),
	}
	for name, data := range pages {
		t.Run(name, func(t *testing.T) { webtest.GoldenPage(t, name, data) })
	}
}

// apiKeysGoldenPage is an owner's list of keys in every state, right after
// rotating one: its new secret is shown once.
func apiKeysGoldenPage(b web.BasePage, me *storage.User) apiKeysPage {
	now := time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC)
	at := func(s string) *time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return &t
	}
	days := usageWindow(now)
	busy := map[string]int64{}
	for i, d := range days {
		if i%7 != 5 {
			busy[storage.UsageDay(d)] = int64(40 + (i*37)%90)
		}
	}
	busy[storage.UsageDay(now)] = 1234 // a busy day: the others scale to it
	keys := []struct {
		key     storage.APIKey
		creator string
		usage   map[string]int64
	}{
		{storage.APIKey{ID: "key_new", Name: "Production server", Prefix: "Zx9q", Last4: "f00d", Scopes: "projects:read projects:write",
			UserID: me.ID, CreatedAt: now}, "you", nil},
		{storage.APIKey{ID: "key_old", Name: "Production server", Prefix: "Ab3d", Last4: "9wXy", Scopes: "projects:read projects:write",
			UserID: me.ID, CreatedAt: *at("2026-09-01T08:00:00Z"), LastUsedAt: at("2026-12-15T09:58:00Z"),
			ExpiresAt: at("2026-12-16T10:00:00Z"), ReplacedBy: "key_new"}, "you", busy},
		{storage.APIKey{ID: "key_ci", Name: "CI deploys", Prefix: "Qr7T", Last4: "00aB", Scopes: "read write",
			UserID: "usr_2", CreatedAt: *at("2026-11-20T12:00:00Z"), ExpiresAt: at("2027-03-01T00:00:00Z"),
			LastUsedAt: at("2026-12-14T22:10:00Z")}, "Bob", map[string]int64{storage.UsageDay(now.AddDate(0, 0, -1)): 1}},
		{storage.APIKey{ID: "key_bill", Name: "Billing <App> export", Prefix: "Mm2k", Last4: "Lp0o", Scopes: "billing:read",
			UserID: "usr_3", CreatedAt: *at("2026-01-05T12:00:00Z"), RevokedAt: at("2026-12-01T09:00:00Z")}, "carol@example.com", nil},
		{storage.APIKey{ID: "key_trial", Name: "Trial integration", Prefix: "Tt1a", Last4: "zZ9Z", Scopes: "team:manage",
			UserID: me.ID, CreatedAt: *at("2026-10-01T12:00:00Z"), ExpiresAt: at("2026-11-01T12:00:00Z")}, "you", nil},
	}
	p := apiKeysPage{
		BasePage: b,
		Org:      &storage.MemberOrg{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner},
		Orgs: []storage.MemberOrg{
			{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner},
			{Organization: storage.Organization{ID: "org_2", Name: "Globex <Inc>"}, Role: storage.RoleMember},
		},
		ManageAll: true,
		NewKey: &oneTimeKey{Name: "Production server", Hint: "sk_live_Zx9q…f00d", Secret: "sk_live_Zx9qExampleExampleExampleExampleExamf00d",
			OldKey: "The old key sk_live_Ab3d…9wXy keeps working until 16 Dec 2026 10:00 UTC."},
		Form:     newKeyForm(storage.RoleOwner, nil, "never"),
		Expiries: options(expiryChoices, "never"),
		Graces:   options(graceChoices, "1h"),
	}
	for _, k := range keys {
		row := newKeyRow(&k.key, now)
		row.CreatedBy, row.CreatorEmail = k.creator, k.creator+"@example.com"
		if k.key.UserID == me.ID {
			row.CreatorEmail = me.Email
		}
		row.Usage = newUsageChart(days, k.usage)
		p.Keys = append(p.Keys, row)
	}
	return p
}

// developerGoldenPage is an owner's developer dashboard, where first-party
// apps are allowed, right after registering an app: its client id and
// secret are shown once, and the organization has apps and initial access
// tokens in every state.
func changeable(r appRow) appRow { r.CanChange = true; return r }

func developerGoldenPage(b web.BasePage, me *storage.User) developerPage {
	now := time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	web := storage.Client{ID: "cl_web", Name: "Acme <App> Dashboard", RedirectURIs: storage.Strings{"https://app.example.com/callback", "http://127.0.0.1/callback"},
		PostLogoutRedirectURIs: storage.Strings{"https://app.example.com/bye"}, Scopes: storage.Strings{"openid", "profile", "read"},
		TokenEndpointAuthMethod: clients.AuthSecretBasic, FirstParty: true, CreatedAt: now.AddDate(0, -2, 0),
		Metadata: storage.ClientMetadata{LogoURI: "https://app.example.com/logo.png", ClientURI: "https://app.example.com",
			PolicyURI: "https://app.example.com/privacy", TOSURI: "https://app.example.com/terms"},
		RotatedSecrets: storage.RotatedSecrets{{Digest: "00", ExpiresAt: now.Add(time.Hour)}, {Digest: "11", ExpiresAt: now.Add(-time.Hour)}}}
	spa := storage.Client{ID: "cl_spa", Name: "Acme mobile", RedirectURIs: storage.Strings{"com.acme.app:/callback"}, Public: true,
		Scopes: storage.Strings{"openid", "offline_access"}, TokenEndpointAuthMethod: clients.AuthNone, RegistrationTokenDigest: "ab", CreatedAt: now}
	form := appForm{Name: "New <App>", RedirectURIs: "http://app.example.com/cb", Type: appConfidential, Scopes: scopeChoices(defaultAppScopes),
		Errors: map[string][]string{"redirect_uris": {`"http://app.example.com/cb" uses http on a host that is not loopback.`}}}
	tokens := []storage.InitialAccessToken{
		{ID: "iat_active", CreatedBy: me.ID, CreatedAt: now.Add(-time.Hour), ExpiresAt: at(24 * time.Hour)},
		{ID: "iat_forever", CreatedBy: "usr_2", CreatedAt: now.Add(-48 * time.Hour)},
		{ID: "iat_expired", CreatedBy: me.ID, CreatedAt: now.AddDate(0, -1, 0), ExpiresAt: at(-time.Hour)},
		{ID: "iat_revoked", CreatedBy: me.ID, CreatedAt: now.AddDate(0, -1, 0), RevokedAt: at(-24 * time.Hour)},
	}
	p := developerPage{
		BasePage: b,
		Org:      &storage.MemberOrg{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner},
		Orgs: []storage.MemberOrg{
			{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner},
			{Organization: storage.Organization{ID: "org_2", Name: "Globex <Inc>"}, Role: storage.RoleMember},
		},
		CanManage:        true,
		Apps:             []appRow{changeable(newAppRow(&web, now, true)), changeable(newAppRow(&spa, now, false))},
		Shown:            &shownSecret{Kind: "app", Name: "Acme <App> Dashboard", ClientID: "cl_web", Secret: "Zx9qExampleExampleExampleExampleExampleExa"},
		Form:             form,
		Graces:           options(secretGraceChoices, "1h"),
		TokenExpiries:    options(tokenExpiryChoices, "never"),
		RegistrationMode: clients.RegistrationToken,
		RegisterURL:      "https://auth.example.com/register",
	}
	for _, t := range tokens {
		p.Tokens = append(p.Tokens, newTokenRow(&t, me, now))
	}
	return p
}

// profileGoldenPage is the profile of a person whose address is not
// verified yet, right after asking to move to a new one, with a problem
// in the name form.
func profileGoldenPage(b web.BasePage) profilePage {
	return profilePage{BasePage: b, Name: strings.Repeat("n", 101), SentTo: "alice@new.example.com", MailEnabled: true,
		MaxName: accounts.MaxNameLength, Errors: map[string]string{"name": "Use at most 100 characters for your name."}}
}

// securityGoldenPage is the security page after a wrong current password,
// with this browser and two others signed in, one of which sent a header
// nobody recognises.
func securityGoldenPage(b web.BasePage) securityPage {
	now := time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC)
	sessions := []storage.LoginSession{
		{IDDigest: "d1", AuthTime: now.Add(-2 * time.Hour), LastSeenAt: now, RemoteAddr: "192.0.2.10",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
		{IDDigest: "d2", AuthTime: now.AddDate(0, 0, -3), LastSeenAt: now.Add(-5 * time.Hour), RemoteAddr: "2001:db8::1",
			UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"},
		{IDDigest: "d3", AuthTime: now.AddDate(0, 0, -6), LastSeenAt: now.AddDate(0, 0, -1), UserAgent: "<script>alert(1)</script>"},
	}
	p := securityPage{BasePage: b, MinPassword: accounts.MinPasswordLength,
		Errors: map[string]string{"current_password": "That is not your current password. Too many wrong passwords. Wait 2 seconds, then try again."}}
	for i := range sessions {
		p.Devices = append(p.Devices, newDevice(&sessions[i], &sessions[0]))
	}
	return p
}

// teamGoldenPage is an admin's team page right after an invitation: the
// owner's row has no forms, a member's and another admin's have the role
// form and Remove, the admin's own row Leave; both invitations can be
// resent and revoked.
func teamGoldenPage(b web.BasePage, me *storage.User) teamPage {
	joined := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	org := storage.MemberOrg{Organization: storage.Organization{ID: "org_1", Name: "Acme <Corp>"}, Role: storage.RoleAdmin}
	p := teamPage{BasePage: b, Org: &org, Orgs: []storage.MemberOrg{org,
		{Organization: storage.Organization{ID: "org_2", Name: "Globex <Inc>"}, Role: storage.RoleOwner}},
		Notice: teamNotices["invited"], ShowInvitations: true}
	for _, m := range []teams.Member{
		{UserID: "usr_o", Email: "olga@example.com", Name: "Olga <Owner>", Role: storage.RoleOwner, JoinedAt: joined},
		{UserID: me.ID, Email: me.Email, Name: me.Name, Role: storage.RoleAdmin, JoinedAt: joined.AddDate(0, 0, 3)},
		{UserID: "usr_d", Email: "dan@example.com", Role: storage.RoleAdmin, JoinedAt: joined.AddDate(0, 0, 5)},
		{UserID: "usr_m", Email: "mia@example.com", Name: "Mia", Role: storage.RoleMember, JoinedAt: joined.AddDate(0, 1, 0)},
	} {
		p.Members = append(p.Members, newMemberRow(m, org.Role, me.ID))
	}
	p.Members[3].RoleError = "Choose a role: owner, admin or member."
	for _, r := range roles {
		if teams.Can(org.Role, teams.ActInvite, r.Value) {
			p.InviteRoles = append(p.InviteRoles, option{Value: r.Value, Label: r.Label, Selected: r.Value == storage.RoleMember})
		}
	}
	p.Invitations = []invitationRow{
		{ID: "inv_1", Email: "new@example.com", Role: storage.RoleMember, RoleLabel: "Member", Sent: "15 Dec 2026 10:00 UTC",
			Expires: "16 Dec 2026 10:00 UTC", CanResend: true, CanRevoke: true},
		{ID: "inv_2", Email: "<script>@example.com", Role: storage.RoleAdmin, RoleLabel: "Admin", Sent: "14 Dec 2026 08:00 UTC",
			Expires: "15 Dec 2026 08:00 UTC", CanResend: true, CanRevoke: true},
	}
	p.Invite = inviteForm{Email: "bad address", Errors: map[string]string{"email": "Enter a valid email address, like name@example.com."}}
	return p
}

// organizationGoldenPage is an owner's organization settings after a
// delete confirmation that did not match the name.
func organizationGoldenPage(b web.BasePage) organizationPage {
	org := storage.MemberOrg{Organization: storage.Organization{ID: "org_1", Name: "Acme <Corp>"}, Role: storage.RoleOwner}
	return organizationPage{BasePage: b, Org: &org, Orgs: []storage.MemberOrg{org}, Name: org.Name, Confirm: "acme",
		Errors: map[string]string{"confirm": "Type the organization's name exactly, Acme <Corp>, to delete it."}}
}

// auditGoldenPage is the second page of an owner's audit log, filtered by
// kind, with an older page after it: events with and without an actor,
// a target, a detail and a device.
func auditGoldenPage(b web.BasePage) auditPage {
	at := time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC)
	events := []storage.AuditEvent{
		{ID: 120, CreatedAt: at, Kind: "api_key.created", OrgID: "org_1", ActorID: "usr_1", Actor: "alice@example.com",
			TargetID: "key_1", Target: "CI <deploys> (sk_live_Ab3d…9wXy)", Detail: "read projects:write", IP: "192.0.2.10",
			UserAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"},
		{ID: 99, CreatedAt: at.Add(-time.Hour), Kind: "signin.failed", OrgID: "org_1", Actor: "mallory@example.com", Detail: "wrong password", IP: "2001:db8::1"},
		{ID: 98, CreatedAt: at.Add(-48 * time.Hour), Kind: "signing_key.rotated", OrgID: "org_1", Actor: "operator"},
	}
	p := auditPage{
		BasePage: b,
		Org:      &storage.MemberOrg{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner},
		Orgs:     []storage.MemberOrg{{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner}},
		Kind:     "api_key.created",
		Kinds: []option{{Value: "", Label: "Any kind"}, {Value: "signin.succeeded", Label: "Signed in"},
			{Value: "api_key.created", Label: "API key created", Selected: true}},
		People: []option{{Value: "", Label: "Anyone", Selected: true}, {Value: "usr_1", Label: "Alice <Admin> (alice@example.com)"}},
		Older:  "/settings/audit?before=98&kind=api_key.created",
		Newest: "/settings/audit?kind=api_key.created",
	}
	for i := range events {
		p.Events = append(p.Events, newAuditRow(&events[i]))
	}
	return p
}
