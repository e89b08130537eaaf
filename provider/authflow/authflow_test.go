package authflow_test

import (
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/provider/authflow"
	"github.com/ajrly/ajrly-auth/storage"
)

func TestNeedsLogin(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	alice := authflow.Session{UserID: "usr_alice", AuthTime: now.Add(-10 * time.Minute)}
	tests := []struct {
		name string
		req  authflow.Request
		s    authflow.Session
		want bool
	}{
		{"nobody is signed in", authflow.Request{}, authflow.Session{}, true},
		{"a signed-in person, nothing asked", authflow.Request{}, alice, false},
		{"prompt=login signs in again", authflow.Request{Prompt: "login"}, alice, true},
		{"prompt=login among others", authflow.Request{Prompt: "consent login"}, alice, true},
		{"prompt=consent alone needs no sign-in", authflow.Request{Prompt: "consent"}, alice, false},
		{"a sign-in older than max_age", authflow.Request{MaxAge: "300"}, alice, true},
		{"a sign-in within max_age", authflow.Request{MaxAge: "3600"}, alice, false},
		{"max_age=0 always signs in again", authflow.Request{MaxAge: "0"}, authflow.Session{UserID: "usr_alice", AuthTime: now.Add(-time.Second)}, true},
		{"a max_age that is not a number is ignored", authflow.Request{MaxAge: "soon"}, alice, false},
		{"a negative max_age is ignored", authflow.Request{MaxAge: "-1"}, alice, false},
		{"the request demands the signed-in person", authflow.Request{Subject: "usr_alice"}, alice, false},
		{"the request demands someone else", authflow.Request{Subject: "usr_bob"}, alice, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := authflow.NeedsLogin(tc.req, tc.s, now); got != tc.want {
				t.Fatalf("NeedsLogin = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name                                 string
		prompt                               string
		needsLogin, mustVerify, consentGiven bool
		want                                 authflow.Outcome
	}{
		{"signed in and consent given: answer", "", false, false, true, authflow.Answer},
		{"signed in, consent not given: ask", "", false, false, false, authflow.ShowConsent},
		{"not signed in: sign in first", "", true, false, false, authflow.ShowLogin},
		{"not signed in, whatever the consent", "", true, false, true, authflow.ShowLogin},
		{"prompt=none, signed in, consent given: answer", "none", false, false, true, authflow.Answer},
		{"prompt=none, not signed in: login_required", "none", true, false, false, authflow.LoginRequired},
		{"prompt=none, consent not given: consent_required", "none", false, false, false, authflow.ConsentRequired},
		{"unverified, consent given (remembered, first-party): verify first", "", false, true, true, authflow.VerifyEmail},
		{"unverified, consent not given: verify first", "", false, true, false, authflow.VerifyEmail},
		{"unverified and not signed in: sign in first", "", true, true, false, authflow.ShowLogin},
		{"prompt=none, unverified, consent given: interaction_required", "none", false, true, true, authflow.VerificationRequired},
		{"prompt=none, unverified, not signed in: login_required", "none", true, true, false, authflow.LoginRequired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := authflow.Decide(authflow.Request{Prompt: tc.prompt}, tc.needsLogin, tc.mustVerify, tc.consentGiven); got != tc.want {
				t.Fatalf("Decide = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestConsent(t *testing.T) {
	t.Parallel()
	acme := storage.MemberOrg{Organization: storage.Organization{ID: "org_acme"}, Role: storage.RoleMember}
	globex := storage.MemberOrg{Organization: storage.Organization{ID: "org_globex"}, Role: storage.RoleOwner}
	remembered := func(org, scopes string) storage.Consent {
		return storage.Consent{OrgID: org, Scopes: scopes, Remember: true}
	}
	tests := []struct {
		name    string
		prompt  string
		facts   authflow.ConsentFacts
		wantOrg string
		given   bool
	}{
		{"nothing remembered: ask", "", authflow.ConsentFacts{Scopes: []string{"openid"}, Orgs: []storage.MemberOrg{acme}}, "", false},
		{"a remembered decision that covers the scopes", "", authflow.ConsentFacts{Scopes: []string{"openid", "read"},
			Orgs: []storage.MemberOrg{acme}, Consents: []storage.Consent{remembered("org_acme", "openid read")}}, "org_acme", true},
		{"a decision not ticked to be remembered", "", authflow.ConsentFacts{Scopes: []string{"openid"}, Orgs: []storage.MemberOrg{acme},
			Consents: []storage.Consent{{OrgID: "org_acme", Scopes: "openid"}}}, "", false},
		{"a remembered decision for fewer scopes", "", authflow.ConsentFacts{Scopes: []string{"openid", "write"},
			Orgs: []storage.MemberOrg{acme}, Consents: []storage.Consent{remembered("org_acme", "openid")}}, "", false},
		{"scopes the role cannot hold need no consent to leave out", "", authflow.ConsentFacts{Scopes: []string{"openid", "billing:read"},
			Orgs: []storage.MemberOrg{acme}, Consents: []storage.Consent{remembered("org_acme", "openid")}}, "org_acme", true},
		{"a role that now holds more asks again", "", authflow.ConsentFacts{Scopes: []string{"openid", "billing:read"},
			Orgs: []storage.MemberOrg{globex}, Consents: []storage.Consent{remembered("org_globex", "openid")}}, "", false},
		{"a decision in an organization left since", "", authflow.ConsentFacts{Scopes: []string{"openid"}, Orgs: []storage.MemberOrg{globex},
			Consents: []storage.Consent{remembered("org_acme", "openid")}}, "", false},
		{"a decision from before organizations", "", authflow.ConsentFacts{Scopes: []string{"openid"}, Orgs: []storage.MemberOrg{acme},
			Consents: []storage.Consent{remembered("", "openid")}}, "", false},
		{"prompt=consent always asks", "consent", authflow.ConsentFacts{Scopes: []string{"openid"}, Orgs: []storage.MemberOrg{acme},
			Consents: []storage.Consent{remembered("org_acme", "openid")}}, "", false},
		{"a first-party app acts in the session's organization", "", authflow.ConsentFacts{FirstParty: true,
			Orgs: []storage.MemberOrg{acme, globex}, SessionOrg: "org_globex"}, "org_globex", true},
		{"a first-party app, for a person in no organization, asks", "", authflow.ConsentFacts{FirstParty: true}, "", false},
		{"prompt=consent asks even for a first-party app", "consent", authflow.ConsentFacts{FirstParty: true, Orgs: []storage.MemberOrg{acme}}, "", false},
		{"a redirect URI another app could claim always asks", "", authflow.ConsentFacts{ClaimableRedirect: true, Scopes: []string{"openid"},
			Orgs: []storage.MemberOrg{acme}, Consents: []storage.Consent{remembered("org_acme", "openid")}}, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			org, given := authflow.Consent(authflow.Request{Prompt: tc.prompt}, tc.facts)
			if given != tc.given || org.ID != tc.wantOrg {
				t.Fatalf("Consent = %q, %v; want %q, %v", org.ID, given, tc.wantOrg, tc.given)
			}
		})
	}
}
