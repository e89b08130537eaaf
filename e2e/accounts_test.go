package e2e

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestSignUpContinuesTheAuthorizationWithTheOrgClaim(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app := newWebApp(t, s, false)
		rsID, rsSecret := s.resourceServer(t)
		a := s.newAgent(t)
		az := app.newAuthorization(t)

		login := a.get(az.url)
		if !strings.Contains(login.body, `href="/signup?flow=`+login.flow()) {
			t.Fatalf("the sign-in page does not link to sign-up for this flow:\n%s", login.body)
		}
		signup := a.get(s.URL + "/signup?flow=" + login.flow())
		if !strings.Contains(signup.body, `href="/login?flow=`) {
			t.Fatal("the sign-up page does not link back to sign-in")
		}
		consent := a.signUpThenSignIn(signup, "Carol New", "carol@example.com", "a long enough password", "Initech")
		if consent.url.Path != "/consent" || !strings.Contains(consent.body, "Initech") {
			t.Fatalf("after sign-up: %d at %s; want the consent page naming the organization", consent.status, consent.url)
		}
		org, err := s.Store.OrganizationByName(context.Background(), "Initech")
		if err != nil {
			t.Fatal(err)
		}
		tok := app.exchange(t, az, redirectOf(a.decide(consent, "allow")))

		idt := verifyIDToken(t, app, tok, az.nonce)
		var claims struct {
			Org string `json:"org"`
		}
		_ = idt.Claims(&claims)
		if claims.Org != org.ID {
			t.Errorf("ID token org = %q, want %q", claims.Org, org.ID)
		}
		if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["org"] != org.ID {
			t.Errorf("introspection org = %v, want %q", intro["org"], org.ID)
		}
		info, err := app.oidc.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
		if err != nil {
			t.Fatal(err)
		}
		var ui map[string]any
		_ = info.Claims(&ui)
		if ui["org"] != org.ID || ui["name"] != "Carol New" {
			t.Errorf("userinfo = %v", ui)
		}
		// The new person owns the new organization.
		orgs, _ := s.Store.UserOrganizations(context.Background(), idt.Subject)
		if len(orgs) != 1 || orgs[0].Role != storage.RoleOwner {
			t.Errorf("organizations of the new user = %+v", orgs)
		}
	})
}

func TestSignUpExplainsEachProblem(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	s.createUser(t, "taken@example.com", "a long enough password", "Taken")
	s.signUp(t, "owner@example.com", "Owner", "a long enough password", "Acme")
	const good = "a long enough password"
	tests := []struct {
		name                       string
		fullName, email, pass, org string
		field, message             string
		status                     int
	}{
		{"an empty name", "", "new1@example.com", good, "NewCo1", "name", "Enter your name.", 400},
		{"a bad email", "Dan", "dan.example.com", good, "NewCo2", "email", "Enter a valid email address", 400},
		{"a short password", "Dan", "new3@example.com", "short", "NewCo3", "password", "at least 10 characters", 400},
		{"the email as password", "Dan", "new4@example.com", "new4@example.com", "NewCo4", "password", "must not be your email", 400},
		{"a taken organization", "Dan", "new7@example.com", good, "acme", "organization", "That organization name is taken.", 409},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a := s.newAgent(t)
			p := a.signUp(a.get(s.URL+"/signup"), tc.fullName, tc.email, tc.pass, tc.org)
			if p.status != tc.status {
				t.Fatalf("status %d, want %d", p.status, tc.status)
			}
			if !regexp.MustCompile(`id="error-` + tc.field + `">[^<]*` + regexp.QuoteMeta(tc.message)).MatchString(p.body) {
				t.Fatalf("no %q message for %s:\n%s", tc.message, tc.field, p.body)
			}
			if m := inputValue("email").FindStringSubmatch(p.body); m == nil || m[1] != strings.TrimSpace(tc.email) {
				t.Errorf("the email typed was not kept: %v", m)
			}
			if m := inputValue("organization").FindStringSubmatch(p.body); m == nil || m[1] != strings.TrimSpace(tc.org) {
				t.Errorf("the organization typed was not kept: %v", m)
			}
			if strings.Contains(p.body, tc.pass) && tc.pass != tc.email {
				t.Error("the page repeats the password")
			}
			if _, err := s.Store.UserByEmail(context.Background(), tc.email); err == nil {
				t.Error("a refused sign-up created a user")
			}
		})
	}
}

func TestAPersonInSeveralOrganizationsPicksOne(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	u := s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	ctx := context.Background()
	acme, _ := s.Store.CreateOrganization(ctx, "Acme", u.ID)
	globex, _ := s.Store.CreateOrganization(ctx, "Globex", u.ID)
	app := newWebApp(t, s, false)
	rsID, rsSecret := s.resourceServer(t)
	a := s.newAgent(t)
	az := app.newAuthorization(t)
	consent := a.signIn(a.get(az.url), "alice@example.com", "correct horse battery")
	for _, o := range []*storage.Organization{acme, globex} {
		if !strings.Contains(consent.body, `<option value="`+o.ID+`"`) {
			t.Fatalf("the consent page does not offer %s:\n%s", o.Name, consent.body)
		}
	}
	post := func(org string) page {
		return a.post(s.URL+"/consent", url.Values{"csrf_token": {consent.csrf(t)}, "flow": {consent.flow()}, "decision": {"allow"}, "org": {org}})
	}
	// An organization the person is not in is refused, and the flow stays open.
	outsider, _ := s.Store.CreateOrganization(ctx, "Hooli", s.createUser(t, "bob@example.com", "correct horse battery", "Bob").ID)
	if p := post(outsider.ID); p.status != http.StatusBadRequest {
		t.Fatalf("choosing someone else's organization: status %d", p.status)
	}
	tok := app.exchange(t, az, redirectOf(post(globex.ID)))
	if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["org"] != globex.ID {
		t.Fatalf("introspection org = %v, want Globex %s", intro["org"], globex.ID)
	}
}

func TestFirstPartyAppsSkipConsent(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	redirect := "http://" + freePort(t) + "/callback"
	c, _ := s.createClient(t, clients.Spec{Name: "Ajrly Dashboard", RedirectURIs: []string{redirect}, FirstParty: true})
	q := url.Values{"client_id": {c.ID}, "response_type": {"code"}, "redirect_uri": {redirect}, "scope": {"openid read"}, "state": {"state-12345678"}}
	a := s.newAgent(t)
	// Right after signing in, and on later visits, no consent page.
	if loc := redirectOf(a.signIn(a.get(s.URL+"/authorize?"+q.Encode()), "alice@example.com", "correct horse battery")); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("signing in for a first-party app: Location %v; want a code", loc)
	}
	if loc := redirectOf(a.get(s.URL + "/authorize?" + q.Encode())); loc == nil || loc.Query().Get("code") == "" {
		t.Fatalf("a signed-in person authorizing a first-party app: Location %v; want a code", loc)
	}
	q.Set("prompt", "consent")
	if p := a.get(s.URL + "/authorize?" + q.Encode()); p.url.Path != "/consent" {
		t.Fatalf("prompt=consent for a first-party app went to %s", p.url.Path)
	}
}

func TestRevokingAConnectedAppStopsItsTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		app, az, code := alicesCode(t, s)
		rsID, rsSecret := s.resourceServer(t)
		tok, err := app.config.Exchange(t.Context(), code, oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatal(err)
		}
		a := s.newAgent(t)
		a.signIn(a.get(s.URL+"/login"), "alice@example.com", "correct horse battery")
		apps := a.get(s.URL + "/settings/apps")
		if !strings.Contains(apps.body, `data-client="`+app.id+`"`) || !strings.Contains(apps.body, "Read all your resources") {
			t.Fatalf("connected apps does not list the app with its scopes:\n%s", apps.body)
		}
		consentID := regexp.MustCompile(`name="consent" value="([^"]+)"`).FindStringSubmatch(apps.body)
		if consentID == nil {
			t.Fatal("no revoke form")
		}
		// Without the CSRF token nothing happens.
		if p := a.post(s.URL+"/settings/apps/revoke", url.Values{"consent": {consentID[1]}}); p.status != http.StatusForbidden {
			t.Fatalf("revoke without CSRF: status %d", p.status)
		}
		after := a.post(s.URL+"/settings/apps/revoke", url.Values{"csrf_token": {apps.csrf(t)}, "consent": {consentID[1]}})
		if after.url.Path != "/settings/apps" || !strings.Contains(after.body, `id="notice"`) || strings.Contains(after.body, `data-client="`+app.id+`"`) {
			t.Fatalf("after revoking: %d at %s:\n%s", after.status, after.url, after.body)
		}
		if intro := s.introspect(t, rsID, rsSecret, tok.AccessToken); intro["active"] != false {
			t.Errorf("the access token is still active: %v", intro)
		}
		stale := *tok
		stale.Expiry = time.Now().Add(-time.Minute)
		if _, err := app.config.TokenSource(t.Context(), &stale).Token(); oauthError(err) != "invalid_grant" {
			t.Errorf("refresh after revocation: %v, want invalid_grant", err)
		}
		// The app must ask again.
		if p := a.get(app.newAuthorization(t).url); p.url.Path != "/consent" {
			t.Errorf("after revoking, authorizing went to %s, want the consent page", p.url.Path)
		}
	})
}

func TestRPInitiatedLogout(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		s.createUser(t, "bob@example.com", "correct horse battery", "Bob")
		bye := "https://app.example.com/signed-out"
		app := newWebAppWith(t, s, clients.Spec{Name: "App", RedirectURIs: []string{"http://" + freePort(t) + "/callback"},
			Scopes: []string{"openid"}, PostLogoutRedirectURIs: []string{bye}})

		signedIn := func(email string) (*agent, string) {
			a := s.newAgent(t)
			az := app.newAuthorization(t)
			tok := app.exchange(t, az, a.authorize(az.url, email, "correct horse battery", "allow"))
			return a, tok.Extra("id_token").(string)
		}
		isSignedIn := func(a *agent) bool { return a.get(s.URL+"/").url.Path == "/" }

		t.Run("a valid hint and a registered URI sign out at once", func(t *testing.T) {
			a, idt := signedIn("alice@example.com")
			q := url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {bye}, "state": {"st-1"}}
			loc := redirectOf(a.get(s.URL + "/logout?" + q.Encode()))
			if loc == nil || loc.String() != bye+"?state=st-1" {
				t.Fatalf("redirect %v, want %s?state=st-1", loc, bye)
			}
			if isSignedIn(a) {
				t.Error("still signed in")
			}
		})
		t.Run("an unregistered URI shows an error and never redirects", func(t *testing.T) {
			a, idt := signedIn("alice@example.com")
			p := a.get(s.URL + "/logout?" + url.Values{"id_token_hint": {idt}, "post_logout_redirect_uri": {"https://evil.example.com/"}}.Encode())
			if p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
				t.Fatalf("status %d, Location %q", p.status, p.header.Get("Location"))
			}
			if !isSignedIn(a) {
				t.Error("a refused logout signed the person out")
			}
		})
		t.Run("without a hint the person confirms first", func(t *testing.T) {
			a, _ := signedIn("alice@example.com")
			p := a.get(s.URL + "/logout?" + url.Values{"client_id": {app.id}, "post_logout_redirect_uri": {bye}, "state": {"st-2"}}.Encode())
			if p.status != http.StatusOK || !strings.Contains(p.body, `id="confirm-sign-out"`) || !isSignedIn(a) {
				t.Fatalf("status %d; want the confirmation page and no sign-out yet", p.status)
			}
			loc := redirectOf(a.post(s.URL+"/logout", url.Values{"csrf_token": {p.csrf(t)}, "client_id": {app.id}, "post_logout_redirect_uri": {bye}, "state": {"st-2"}}))
			if loc == nil || loc.String() != bye+"?state=st-2" || isSignedIn(a) {
				t.Fatalf("after confirming: redirect %v", loc)
			}
		})
		t.Run("a hint for someone else asks first", func(t *testing.T) {
			_, bobsToken := signedIn("bob@example.com")
			a, _ := signedIn("alice@example.com")
			p := a.get(s.URL + "/logout?" + url.Values{"id_token_hint": {bobsToken}}.Encode())
			if !strings.Contains(p.body, `id="confirm-sign-out"`) || !isSignedIn(a) {
				t.Fatalf("status %d at %s; want the confirmation page", p.status, p.url.Path)
			}
		})
		t.Run("a forged hint is refused", func(t *testing.T) {
			a, _ := signedIn("alice@example.com")
			p := a.get(s.URL + "/logout?id_token_hint=not.a.token&post_logout_redirect_uri=" + url.QueryEscape(bye))
			if p.status != http.StatusBadRequest || p.header.Get("Location") != "" || !isSignedIn(a) {
				t.Fatalf("status %d, Location %q", p.status, p.header.Get("Location"))
			}
		})
	})
}

func TestSignOutOfAllDevices(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	phone, laptop := s.newAgent(t), s.newAgent(t)
	home := phone.signIn(phone.get(s.URL+"/login"), "alice@example.com", "correct horse battery")
	laptop.signIn(laptop.get(s.URL+"/login"), "alice@example.com", "correct horse battery")
	out := phone.post(s.URL+"/logout", url.Values{"csrf_token": {home.csrf(t)}, "all": {"1"}})
	if !strings.Contains(out.body, "every device") {
		t.Fatalf("sign out everywhere: status %d:\n%s", out.status, out.body)
	}
	for name, a := range map[string]*agent{"phone": phone, "laptop": laptop} {
		if p := a.get(s.URL + "/"); p.url.Path != "/login" {
			t.Errorf("%s is still signed in (at %s)", name, p.url.Path)
		}
	}
}

func TestFailedSignInsAreThrottledWithoutRevealingAccounts(t *testing.T) {
	t.Parallel()
	// The clock stands still: on the wall clock alice's one-second block
	// could end while the unknown account's attempts ran on a busy machine.
	s := newServer(t, storagetest.Backends()[0], withClock(storagetest.NewClock()))
	s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	attempt := func(a *agent, email, password string) page {
		return a.signIn(a.get(s.URL+"/login"), email, password)
	}
	statuses := func(email string) []int {
		a := s.newAgent(t)
		var out []int
		for range 7 {
			out = append(out, attempt(a, email, "wrong password!").status)
		}
		return out
	}
	known, unknown := statuses("alice@example.com"), statuses("nobody@example.com")
	want := []int{401, 401, 401, 401, 401, 401, 429}
	for i := range want {
		if known[i] != want[i] || unknown[i] != want[i] {
			t.Fatalf("answers for a real account %v and an unknown one %v, want both %v", known, unknown, want)
		}
	}
	a := s.newAgent(t)
	blocked := attempt(a, "alice@example.com", "correct horse battery")
	if blocked.status != http.StatusTooManyRequests || !strings.Contains(blocked.body, "Too many failed sign-in attempts. Wait") {
		t.Fatalf("the right password while blocked: status %d:\n%s", blocked.status, blocked.body)
	}
	// Another account from the same address is not blocked by alice's failures.
	s.createUser(t, "bob@example.com", "correct horse battery", "Bob")
	if p := attempt(a, "bob@example.com", "correct horse battery"); p.url.Path != "/" {
		t.Fatalf("bob could not sign in: %d at %s", p.status, p.url.Path)
	}
}
