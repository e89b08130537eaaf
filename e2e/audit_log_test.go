package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

var (
	auditKindPattern    = regexp.MustCompile(`data-kind="([a-z_.]+)"`)
	consentFieldPattern = regexp.MustCompile(`name="consent" value="([^"]+)"`)
)

// TestAuditLogListsEachActionOnce runs, over HTTP against a whole server,
// the actions an owner takes — a failed sign-in, sign-ins, API keys
// created, rotated and revoked, an app registered, changed, given a new
// secret and deleted, access granted to an app and taken back, signing
// out — and reads the organization's audit log at /settings/audit: each
// action is there exactly once, newest first, and no password, key,
// secret, code or token is in any event.
func TestAuditLogListsEachActionOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		const email = "owner@example.com"
		s.createUser(t, email, keyPassword, "Owner")
		secrets := []string{keyPassword, "not the password at all"}

		a := s.newAgent(t)
		if p := a.signIn(a.get(s.URL+"/login"), email, "not the password at all"); p.status != http.StatusUnauthorized {
			t.Fatalf("a wrong password: %d", p.status)
		}

		keys := s.openAPIKeys(t, email)
		key, keySecret := keys.mustCreate("CI deploys", "read")
		rotated := shownSecret(t, keys.rotate(key.ID, "1h"))
		if p := keys.revoke(s.keyBySecret(t, rotated).ID); p.status != http.StatusOK {
			t.Fatalf("revoke: %d", p.status)
		}
		secrets = append(secrets, keySecret, rotated)

		dev := s.openDeveloper(t, email)
		id, appSecret := dev.mustRegister("Acme dashboard", "https://app.example.com/callback")
		if p := dev.edit(id, devAppForm("Acme dashboard 2", "https://app.example.com/callback")); p.status != http.StatusOK {
			t.Fatalf("edit: %d", p.status)
		}
		p := dev.rotate(id, "none")
		m := devShownClientSecret.FindStringSubmatch(p.body)
		if m == nil {
			t.Fatalf("the rotation shows no secret (status %d)", p.status)
		}
		if p := dev.delete(id); p.status != http.StatusOK {
			t.Fatalf("delete: %d", p.status)
		}
		secrets = append(secrets, appSecret, m[1])

		app := newWebApp(t, s, false)
		az := app.newAuthorization(t)
		redirect := s.newAgent(t).authorize(az.url, email, keyPassword, "allow")
		tok := app.exchange(t, az, redirect)
		secrets = append(secrets, app.secret, redirect.Query().Get("code"), tok.AccessToken, tok.RefreshToken)
		if idToken, _ := tok.Extra("id_token").(string); idToken != "" {
			secrets = append(secrets, idToken)
		}
		// The token endpoint records nothing: refreshing is no event.
		if _, err := app.config.TokenSource(t.Context(), tok).Token(); err != nil {
			t.Fatal(err)
		}

		apps := s.openSettings(t, email, "/settings/apps")
		list := apps.list()
		c := consentFieldPattern.FindStringSubmatch(list.body)
		if c == nil {
			t.Fatalf("no connected app to revoke:\n%s", list.body)
		}
		if p := apps.post("/settings/apps/revoke", url.Values{"consent": {c[1]}}); p.status != http.StatusOK {
			t.Fatalf("revoke access: %d", p.status)
		}
		if p := apps.post("/logout", url.Values{}); p.status != http.StatusOK {
			t.Fatalf("sign out: %d", p.status)
		}

		log := s.openSettings(t, email, "/settings/audit").list()
		var shown []string
		for _, m := range auditKindPattern.FindAllStringSubmatch(log.body, -1) {
			shown = append(shown, m[1])
		}
		slices.Reverse(shown) // the page is newest first
		want := []string{
			audit.SignInFailed,
			audit.SignIn, audit.KeyCreated, audit.KeyRotated, audit.KeyRevoked,
			audit.SignIn, audit.AppRegistered, audit.AppChanged, audit.AppSecretRotated, audit.AppDeleted,
			audit.SignIn, audit.ConsentGranted,
			audit.SignIn, audit.ConsentRevoked, audit.SignOut,
			audit.SignIn, // to read the log
		}
		if !slices.Equal(shown, want) {
			t.Errorf("the audit page lists\n%v,\nwant\n%v", shown, want)
		}
		events := storagetest.AuditEvents(t, s.Store)
		if len(events) != len(want) {
			t.Errorf("the log holds %d events, the page lists %d", len(events), len(want))
		}
		storagetest.CheckNoSecret(t, events, secrets...)
	})
}
