package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Regression tests for the tenancy findings of the December 2026 security
// audit (../shared/audits/2026-12-security.md): what a token asserts — its
// org and its role-bound scopes — is the server's decision, never the
// form's or the request's. Each test is named after what it proves; the
// comment names the finding.

// member adds user to org with role, as an owner inviting them would.
func (s *server) member(t testing.TB, orgID string, user *storage.User, role string) {
	t.Helper()
	if err := s.Store.AddMember(context.Background(), orgID, user.ID, role); err != nil {
		t.Fatal(err)
	}
}

// setRole changes a member's role directly in the database (the team
// pages come later; the policy must follow whatever the table says now).
func (s *server) setRole(t testing.TB, orgID, userID, role string) {
	t.Helper()
	storagetest.Must(t, s.Store.DB().Exec("UPDATE memberships SET role = ? WHERE org_id = ? AND user_id = ?", role, orgID, userID).Error)
}

// removeMember takes a person out of an organization directly in the database.
func (s *server) removeMember(t testing.TB, orgID, userID string) {
	t.Helper()
	storagetest.Must(t, s.Store.DB().Exec("DELETE FROM memberships WHERE org_id = ? AND user_id = ?", orgID, userID).Error)
}

// orgOf returns the one organization a person belongs to.
func (s *server) orgOf(t testing.TB, u *storage.User) storage.MemberOrg {
	t.Helper()
	orgs, err := s.Store.UserOrganizations(context.Background(), u.ID)
	if err != nil || len(orgs) != 1 {
		t.Fatalf("organizations of %s: %v, %v", u.Email, orgs, err)
	}
	return orgs[0]
}

// teamApp is a web app that may ask for every API scope, the role-limited
// ones included.
func teamApp(t *testing.T, s *server) *webApp {
	t.Helper()
	return newWebAppWith(t, s, clients.Spec{Name: "Team Tool", RedirectURIs: []string{"http://" + freePort(t) + "/callback"},
		Scopes: []string{"openid", "offline_access", "read", "team:manage", "billing:read"}})
}

// consentPageFor starts an authorization of app with scope and signs
// email in: it returns the agent and the consent page.
func consentPageFor(t *testing.T, s *server, app *webApp, scope, email, password string, extra ...string) (*agent, page, authorization) {
	t.Helper()
	az := app.newAuthorization(t)
	u, _ := url.Parse(az.url)
	q := u.Query()
	q.Set("scope", scope)
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	u.RawQuery = q.Encode()
	az.url = u.String()
	a := s.newAgent(t)
	p := a.signIn(a.get(u.String()), email, password)
	return a, p, az
}

// Finding 1: the consent form's org was trusted when the person belonged
// to no organization; now it is only ever a choice among theirs.
func TestConsentRefusesOrganizationOfWhichPersonIsNoMember(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		victim := s.newKeyOwner(t, "victim@example.com")
		app := teamApp(t, s)

		for _, tc := range []struct {
			name   string
			person func() string
			status int
		}{
			{"a member of another organization", func() string {
				s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
				return "alice@example.com"
			}, http.StatusBadRequest},
			{"a person in no organization at all", func() string {
				// As the command line made people before every person had one.
				s.createInvitee(t, "carol@example.com", "correct horse battery", "Carol")
				return "carol@example.com"
			}, http.StatusForbidden},
		} {
			t.Run(tc.name, func(t *testing.T) {
				email := tc.person()
				a, p, _ := consentPageFor(t, s, app, "openid read", email, "correct horse battery")
				csrf, flow := p.csrfIfAny(), p.flow()
				if flow == "" {
					// No consent page for someone who can act nowhere: it says why.
					if p.status != tc.status || !strings.Contains(p.body, "not in an organization") {
						t.Fatalf("status %d:\n%s", p.status, p.body)
					}
					csrf = a.get(s.URL + "/login").csrf(t)
					flow = strings.TrimPrefix(p.url.RawQuery, "flow=")
				}
				got := a.post(s.URL+"/consent", url.Values{"csrf_token": {csrf}, "flow": {flow}, "decision": {"allow"}, "org": {victim.org.ID}})
				if got.status != tc.status || got.header.Get("Location") != "" {
					t.Fatalf("consent with org=%s: status %d, Location %q; want %d and no code", victim.org.ID, got.status, got.header.Get("Location"), tc.status)
				}
			})
		}
	})
}

// csrfIfAny is the page's CSRF token, or "" when it has no form.
func (p page) csrfIfAny() string {
	m := csrfPattern.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

// Finding 2: a member consenting to an app that asks for team:manage and
// billing:read got them; now the grant leaves out what the role cannot
// hold, the page says which and why, and the token response's scope says
// what was granted.
func TestConsentLeavesOutScopesBeyondThePersonsRole(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner := s.newKeyOwner(t, "owner@example.com")
		bob := s.createUser(t, "bob@example.com", "correct horse battery", "Bob")
		s.removeMember(t, s.orgOf(t, bob).ID, bob.ID) // bob is only in Acme
		s.member(t, owner.org.ID, bob, storage.RoleMember)
		app := teamApp(t, s)
		rsID, rsSecret := s.resourceServer(t)

		a, p, az := consentPageFor(t, s, app, "openid read team:manage billing:read", "bob@example.com", "correct horse battery")
		for _, want := range []string{`id="withheld"`, `data-scope="team:manage"`, `data-scope="billing:read"`, "You are a member."} {
			if !strings.Contains(p.body, want) {
				t.Errorf("the consent page lacks %q", want)
			}
		}
		if strings.Contains(strings.Split(p.body, `id="withheld"`)[0], `data-scope="billing:read"`) {
			t.Error("billing:read is listed among what the app will be able to do")
		}
		loc := redirectOf(a.decide(p, "allow"))
		if loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("no code: %v", loc)
		}
		tok, err := app.config.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("scope"); got != "openid read" {
			t.Errorf("the token response's scope is %q, want %q (RFC 6749 §3.3)", got, "openid read")
		}
		if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["scope"] != "openid read" || intro["org"] != owner.org.ID {
			t.Errorf("introspection: %v", intro)
		}

		// The owner, asked the same, gets everything.
		a, p, az = consentPageFor(t, s, app, "openid read team:manage billing:read", "owner@example.com", keyPassword)
		if strings.Contains(p.body, `id="withheld"`) {
			t.Error("the owner's consent page withholds something")
		}
		loc = redirectOf(a.decide(p, "allow"))
		if loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("no code for the owner: %v", loc)
		}
		tok, err = app.config.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("scope"); got != "openid read team:manage billing:read" {
			t.Errorf("the owner's token response's scope is %q", got)
		}
	})
}

// Finding 2: a member's read key could be exchanged for billing:read,
// and for invented scopes; read covers only what the creator's role holds.
func TestMembersReadKeyCannotBeExchangedForOwnerOnlyScopes(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner := s.newKeyOwner(t, "owner@example.com")
		bob := s.createUser(t, "bob@example.com", "correct horse battery", "Bob")
		s.member(t, owner.org.ID, bob, storage.RoleMember)
		bobs := keyOwner{user: bob, org: owner.org}
		_, memberKey := s.newAPIKeyAs(t, bobs, storage.RoleMember, "read")
		_, ownerKey := s.newAPIKey(t, owner, "read", nil)

		for _, tc := range []struct {
			name, key, scope string
			status           int
			code, granted    string
		}{
			{"a member's read covers projects:read", memberKey, "projects:read", 200, "", "projects:read"},
			{"a member's read does not cover billing:read", memberKey, "billing:read", 400, "invalid_scope", ""},
			{"a member's read does not cover an invented scope", memberKey, "secrets:read", 400, "invalid_scope", ""},
			{"a member's read does not cover billing:read among others", memberKey, "projects:read billing:read", 400, "invalid_scope", ""},
			{"an owner's read covers billing:read", ownerKey, "billing:read", 200, "", "billing:read"},
			{"an owner's read never covers an invented scope", ownerKey, "secrets:read", 400, "invalid_scope", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, body := s.postForm(t, "/token", exchangeForm(tc.key, "scope", tc.scope))
				if resp.StatusCode != tc.status || (tc.code != "" && body["error"] != tc.code) || (tc.granted != "" && body["scope"] != tc.granted) {
					t.Fatalf("status %d %v; want %d %s %s", resp.StatusCode, body, tc.status, tc.code, tc.granted)
				}
			})
		}
	})
}

// newAPIKeyAs creates a key with scopes for o, whose role is role.
func (s *server) newAPIKeyAs(t testing.TB, o keyOwner, role, scopes string) (*storage.APIKey, string) {
	t.Helper()
	k, secret, err := apikeys.New(apikeys.Spec{OrgID: o.org.ID, UserID: o.user.ID, Role: role,
		Name: "test key", Scopes: strings.Fields(scopes)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Store.CreateAPIKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return k, secret
}

// Finding S3: keys and grants act with their creator's authority now: a
// lowered role narrows what a key exchanges for and what introspection
// says it holds; leaving the organization ends the key, its JWTs and the
// person's refreshes there.
func TestKeysAndRefreshesFollowTheCreatorsCurrentRole(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner := s.newKeyOwner(t, "owner@example.com")
		rsID, rsSecret := s.resourceServer(t)
		_, key := s.newAPIKey(t, owner, "projects:read billing:read", nil)
		jwtResp, jwtBody := s.postForm(t, "/token", exchangeForm(key, "scope", "projects:read"))
		if jwtResp.StatusCode != 200 {
			t.Fatalf("exchange: %v", jwtBody)
		}
		exchanged := jwtBody["access_token"].(string)

		app := teamApp(t, s)
		a, p, az := consentPageFor(t, s, app, "openid offline_access read billing:read", "owner@example.com", keyPassword)
		loc := redirectOf(a.decide(p, "allow"))
		tok, err := app.config.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		if got := tok.Extra("scope"); got != "openid offline_access read billing:read" {
			t.Fatalf("the owner's grant: %q", got)
		}

		// The second owner demotes the first to member.
		s.setRole(t, owner.org.ID, owner.user.ID, storage.RoleMember)
		if intro := s.introspect(t, rsID, rsSecret, key); intro["active"] != true || intro["scope"] != "projects:read" {
			t.Errorf("the demoted owner's key at introspection: %v; want only projects:read", intro)
		}
		if resp, body := s.postForm(t, "/token", exchangeForm(key, "scope", "billing:read")); resp.StatusCode != 400 || body["error"] != "invalid_scope" {
			t.Errorf("exchanging for billing:read after the demotion: %d %v", resp.StatusCode, body)
		}
		refreshed, err := app.config.TokenSource(t.Context(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil {
			t.Fatalf("refresh after the demotion: %v", err)
		}
		if got := refreshed.Extra("scope"); got != "openid offline_access read" {
			t.Errorf("the refresh after the demotion holds %q; want billing:read gone", got)
		}

		// Then they leave the organization.
		s.removeMember(t, owner.org.ID, owner.user.ID)
		if intro := s.introspect(t, rsID, rsSecret, key); intro["active"] != false {
			t.Errorf("a key of someone who left: %v", intro)
		}
		if intro := s.introspect(t, rsID, rsSecret, exchanged); intro["active"] != false {
			t.Errorf("a JWT exchanged for a key of someone who left: %v", intro)
		}
		if resp, body := s.postForm(t, "/token", exchangeForm(key)); resp.StatusCode != 400 || body["error"] != "invalid_request" ||
			!strings.Contains(body["error_description"].(string), "no longer a member") {
			t.Errorf("exchanging a key of someone who left: %d %v", resp.StatusCode, body)
		}
		resp, body := s.postForm(t, "/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshed.RefreshToken}}, app.id, app.secret)
		if resp.StatusCode != 400 || body["error"] != "invalid_grant" {
			t.Errorf("a refresh of someone who left: %d %v; want invalid_grant", resp.StatusCode, body)
		}
	})
}

// Finding 2 (remembered consent): a remembered decision is re-checked:
// it counts only in an organization the person still belongs to.
func TestRememberedConsentNeedsACurrentMembership(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner := s.newKeyOwner(t, "owner@example.com")
		bob := s.createUser(t, "bob@example.com", "correct horse battery", "Bob")
		s.removeMember(t, s.orgOf(t, bob).ID, bob.ID)
		s.member(t, owner.org.ID, bob, storage.RoleMember)
		app := teamApp(t, s)
		a, p, az := consentPageFor(t, s, app, "openid read", "bob@example.com", "correct horse battery")
		remembered := a.post(s.URL+"/consent", url.Values{"csrf_token": {p.csrf(t)}, "flow": {p.flow()}, "decision": {"allow"}, "remember": {"1"}})
		if loc := redirectOf(remembered); loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("consent: %d", remembered.status)
		}
		if loc := redirectOf(a.get(az.url)); loc == nil || loc.Query().Get("code") == "" {
			t.Fatalf("the remembered decision was not used while a member: %v", loc)
		}
		// Bob leaves Acme and gets a personal organization of his own.
		s.removeMember(t, owner.org.ID, bob.ID)
		if _, err := s.Store.CreateOrganization(t.Context(), "Bob's own", bob.ID); err != nil {
			t.Fatal(err)
		}
		next := a.get(app.newAuthorization(t).url)
		if next.url.Path != "/consent" {
			t.Fatalf("after leaving, the remembered decision still answered silently (%s)", next.url)
		}
		if promptNone := redirectOf(a.get(app.newAuthorization(t).url + "&prompt=none")); promptNone == nil || promptNone.Query().Get("error") != "consent_required" {
			t.Fatalf("prompt=none after leaving: %v; want consent_required", promptNone)
		}
	})
}

// Finding 2 (client credentials): a client registered with read does not
// get the role-limited billing:read through the umbrella, nor an unknown
// scope.
func TestClientCredentialsNeverGrantsRoleLimitedScopesThroughAnUmbrella(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		c, secret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
		for _, tc := range []struct {
			scope  string
			status int
		}{{"projects:read", 200}, {"billing:read", 400}, {"team:manage", 400}, {"secrets:read", 400}} {
			resp, body := s.postForm(t, "/token", url.Values{"grant_type": {"client_credentials"}, "scope": {tc.scope}}, c.ID, secret)
			if resp.StatusCode != tc.status || (tc.status == 400 && body["error"] != "invalid_scope") || (tc.status == 200 && body["scope"] != tc.scope) {
				t.Errorf("scope %s: %d %v; want %d", tc.scope, resp.StatusCode, body, tc.status)
			}
		}
	})
}

// Finding 3: first-party apps are the operator's decision only: an admin
// can neither repoint nor rotate one, RFC 7592 updates to one are refused,
// and the configuration can make one too.
func TestFirstPartyAppsAreTheOperatorsOnly(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"), withFirstPartyClients("cl_configured"))
		owner := s.newKeyOwner(t, "owner@example.com")
		admin := s.newKeyOwner(t, "admin@example.com")
		s.member(t, owner.org.ID, admin.user, storage.RoleAdmin)
		ownerUI := s.openDeveloper(t, "owner@example.com")
		id, _ := ownerUI.mustRegister("Ajrly Dashboard", "https://dashboard.example.com/cb")
		// The operator marks it first-party.
		c, err := s.Store.FindClient(t.Context(), id)
		storagetest.Must(t, err)
		c.FirstParty = true
		storagetest.Must(t, s.Store.UpdateClient(t.Context(), c))

		adminUI := s.openDeveloper(t, "admin@example.com")
		adminUI.a.post(s.URL+devPath+"/org", url.Values{"csrf_token": {adminUI.csrf}, "org": {owner.org.ID}})
		if p := adminUI.edit(id, devAppForm("Ajrly Dashboard", "https://evil.example/cb")); p.status != http.StatusForbidden {
			t.Errorf("an admin repointing a first-party app: status %d, want 403", p.status)
		}
		if p := adminUI.rotate(id, "none"); p.status != http.StatusForbidden || strings.Contains(p.body, `id="new-secret"`) {
			t.Errorf("an admin rotating a first-party app's secret: status %d, want 403 and no secret", p.status)
		}
		after, err := s.Store.FindClient(t.Context(), id)
		storagetest.Must(t, err)
		if after.RedirectURIs[0] != "https://dashboard.example.com/cb" || !bytes.Equal(after.SecretDigest, c.SecretDigest) {
			t.Errorf("the app changed: %v", after.RedirectURIs)
		}
		if p := ownerUI.edit(id, devAppForm("Ajrly Dashboard", "https://dashboard.example.com/callback")); p.url.Query().Get("saved") != id {
			t.Errorf("the owner editing it: status %d at %s", p.status, p.url)
		}

		// Registered at /register, then made first-party: its registration
		// access token no longer changes it.
		reg := s.register(t, appMetadata(t, "client_secret_basic"))
		rc, err := s.Store.FindClient(t.Context(), reg.id)
		storagetest.Must(t, err)
		rc.FirstParty = true
		storagetest.Must(t, s.Store.UpdateClient(t.Context(), rc))
		meta := appMetadata(t, "client_secret_basic")
		meta["client_id"] = reg.id
		meta["redirect_uris"] = []string{"https://evil.example/cb"}
		if resp, body := s.registrationCall(t, http.MethodPut, "/register/"+reg.id, reg.token, meta); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an RFC 7592 update of a first-party client: %d %v, want 403", resp.StatusCode, body)
		}

		// The configuration's first_party_clients skip consent too.
		redirect := "http://" + freePort(t) + "/callback"
		configured, _, err := clients.New(clients.Spec{Name: "Configured", RedirectURIs: []string{redirect}, Scopes: []string{"openid", "read"}, Public: true})
		storagetest.Must(t, err)
		configured.ID = "cl_configured"
		storagetest.Must(t, s.Store.CreateClient(t.Context(), configured))
		q := url.Values{"client_id": {configured.ID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"openid read"},
			"state": {"state-12345678"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		if loc := redirectOf(ownerUI.a.get(s.URL + "/authorize?" + q.Encode())); loc == nil || loc.Query().Get("code") == "" {
			t.Errorf("a client in first_party_clients: Location %v; want a code without a consent page", loc)
		}
	})
}

// Finding 9: introspection answered any confidential client about any
// token; now only the token's own client and the resource servers the
// operator marked learn anything, and API keys are for resource servers
// only.
func TestIntrospectionAnswersOnlyTheTokensClientAndResourceServers(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		app, az, code := alicesCode(t, s)
		tok, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		owner := s.newKeyOwner(t, "owner@example.com")
		_, key := s.newAPIKey(t, owner, "read", nil)
		_, jwtBody := s.postForm(t, "/token", exchangeForm(key))
		exchanged, _ := jwtBody["access_token"].(string)
		rsID, rsSecret := s.resourceServer(t)
		stranger := s.register(t, map[string]any{"redirect_uris": []string{"https://x.example/cb"}})

		for _, tc := range []struct {
			name, token    string
			id, secret     string
			active         bool
			wantNoKeyNames bool
		}{
			{"a self-registered client asks about another's refresh token", tok.RefreshToken, stranger.id, stranger.secret, false, false},
			{"a self-registered client asks about another's access token", tok.AccessToken, stranger.id, stranger.secret, false, false},
			{"a self-registered client asks about an API key", key, stranger.id, stranger.secret, false, false},
			{"a self-registered client asks about an API-key JWT", exchanged, stranger.id, stranger.secret, false, false},
			{"the app asks about an API key", key, app.id, app.secret, false, false},
			{"the app asks about its own refresh token", tok.RefreshToken, app.id, app.secret, true, false},
			{"the app asks about its own access token", tok.AccessToken, app.id, app.secret, true, false},
			{"a resource server asks about the app's access token", tok.AccessToken, rsID, rsSecret, true, false},
			{"a resource server asks about an API key", key, rsID, rsSecret, true, true},
			{"a resource server asks about an API-key JWT", exchanged, rsID, rsSecret, true, false},
		} {
			t.Run(tc.name, func(t *testing.T) {
				intro := s.introspect(t, tc.id, tc.secret, tc.token)
				if intro["active"] != tc.active {
					t.Fatalf("active = %v, want %v: %v", intro["active"], tc.active, intro)
				}
				if !tc.active && len(intro) != 1 {
					t.Errorf("an inactive answer says more than active:false: %v", intro)
				}
				if _, ok := intro["key_name"]; ok {
					t.Errorf("the answer names the key: %v", intro)
				}
			})
		}
		s.Usage.Flush(t.Context())
		usage, err := s.Store.APIKeyUsage(t.Context(), []string{mustKeyID(t, s, key)}, time.Now().AddDate(0, 0, -1))
		storagetest.Must(t, err)
		var n int64
		for _, days := range usage {
			for _, c := range days {
				n += c
			}
		}
		if n != 2 { // the exchange and the resource server's one question
			t.Errorf("the key's use was counted %d times, want 2: a refused introspection is no use", n)
		}
	})
}

func mustKeyID(t testing.TB, s *server, secret string) string {
	t.Helper()
	k, err := s.Store.APIKeyByDigest(context.Background(), storage.DigestHex(secret))
	storagetest.Must(t, err)
	return k.ID
}

// Finding 15: a request that demands a person (claims sub, id_token_hint)
// gave a code for whoever signed in; now another person gets
// login_required and no code.
func TestAuthorizationForAnotherPersonThanDemandedIsRefused(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app, az, code := alicesCode(t, s)
		bob := s.createUser(t, "bob@example.com", "correct horse battery", "Bob")
		tok, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		alicesIDToken, _ := tok.Extra("id_token").(string)

		for _, tc := range []struct{ name, param, value string }{
			{"the claims parameter demands Bob", "claims", `{"id_token":{"sub":{"value":"` + bob.ID + `","essential":true}}}`},
			{"the id_token_hint is Alice's, Bob signs in", "id_token_hint", alicesIDToken},
		} {
			t.Run(tc.name, func(t *testing.T) {
				who := "alice@example.com"
				if tc.param == "id_token_hint" {
					who = "bob@example.com"
				}
				a, p, _ := consentPageFor(t, s, app, "openid", who, "correct horse battery", tc.param, tc.value)
				if p.url.Path == "/consent" {
					p = a.decide(p, "allow")
				}
				loc := redirectOf(p)
				if loc == nil || loc.Query().Get("code") != "" || loc.Query().Get("error") != "login_required" {
					t.Fatalf("status %d, Location %v; want login_required and no code", p.status, loc)
				}
			})
		}
	})
}

// Every person has an organization (issue 9, item 2; finding 1's root):
// signing up without naming one gives a personal organization the person
// owns, so the API-key dashboard works for them at once.
func TestSignUpWithoutAnOrganizationGivesAPersonalOneAndTheKeysPageWorks(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		a := s.newAgent(t)
		if p := a.signUpThenSignIn(a.get(s.URL+"/signup"), "Nadia", "nadia@example.com", keyPassword, ""); p.status != http.StatusOK || p.url.Path != "/" {
			t.Fatalf("signing up without an organization: status %d at %s", p.status, p.url)
		}
		u, err := s.Store.UserByEmail(t.Context(), "nadia@example.com")
		storagetest.Must(t, err)
		if org := s.orgOf(t, u); org.Name != "Nadia's organization" || org.Role != storage.RoleOwner {
			t.Fatalf("the new person's organization: %+v", org)
		}
		ui := s.openAPIKeys(t, "nadia@example.com")
		if p := ui.create("CI", "never", "read"); p.status != http.StatusOK || !strings.Contains(p.body, `id="new-key"`) {
			t.Fatalf("creating a key right after signing up: status %d", p.status)
		}
	})
}
