package teams_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

const issuer = "https://auth.example.com"

// env is a store, the teams over it mailing a real SMTP server, and its
// people.
type env struct {
	t      *testing.T
	ctx    context.Context
	store  *storage.Store
	people *accounts.Accounts
	teams  *teams.Teams
	smtp   *mailtest.Server
	clock  *storagetest.Clock
}

func newEnv(t *testing.T, b storagetest.Backend) *env {
	t.Helper()
	clock := storagetest.NewClock()
	store := b.Open(t, clock.Now)
	srv := mailtest.Start(t)
	mailer := srv.Mailer(t, issuer, nil)
	people := accounts.New(store, accounts.Config{Mailer: mailer, Issuer: issuer})
	return &env{t: t, ctx: t.Context(), store: store, people: people, smtp: srv, clock: clock,
		teams: teams.New(store, teams.Config{Mailer: mailer, Issuer: issuer, People: people, Now: clock.Now})}
}

// eachBackend runs fn on SQLite and PostgreSQL.
func eachBackend(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, b))
		})
	}
}

// person creates someone with their own organization named org (a
// personal one when org is empty) and returns them and it.
func (e *env) person(email, name, org string) (*storage.User, *storage.Organization) {
	e.t.Helper()
	made, err := e.people.Create(e.ctx, accounts.Person{Email: email, Name: name, Password: "a long password", Organization: org}, accounts.Options{})
	storagetest.Must(e.t, err)
	return made.User, &made.Org.Organization
}

// member creates someone who belongs to org alone, with role.
func (e *env) member(org *storage.Organization, email, name, role string) *storage.User {
	e.t.Helper()
	u, err := e.store.CreateUser(e.ctx, email, name, "$argon2id$x")
	storagetest.Must(e.t, err)
	storagetest.Must(e.t, e.store.AddMember(e.ctx, org.ID, u.ID, role))
	return u
}

func as(u *storage.User) audit.Actor {
	return audit.Actor{UserID: u.ID, Email: u.Email, IP: "192.0.2.7", UserAgent: "Firefox"}
}

// role is u's role in org, "" when they are not a member.
func (e *env) role(org *storage.Organization, u *storage.User) string {
	e.t.Helper()
	m, err := e.store.MembershipOf(e.ctx, org.ID, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return ""
	}
	storagetest.Must(e.t, err)
	return m.Role
}

// events are the kinds of org's audit events, oldest first, with who
// acted and on whom.
func (e *env) events(orgID string) []storage.AuditEvent {
	e.t.Helper()
	evs, err := e.store.ListAuditEvents(e.ctx, storage.AuditQuery{OrgID: orgID, Limit: 1000})
	storagetest.Must(e.t, err)
	for i, j := 0, len(evs)-1; i < j; i, j = i+1, j-1 {
		evs[i], evs[j] = evs[j], evs[i]
	}
	return evs
}

func kinds(evs []storage.AuditEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.Kind+" "+ev.Actor+" → "+ev.Target)
	}
	return out
}

// noSecretIn fails when any audit event carries one of the secrets.
func (e *env) noSecretIn(secrets ...string) {
	e.t.Helper()
	evs, err := e.store.ListAuditEvents(e.ctx, storage.AuditQuery{AllOrgs: true, Limit: 1000})
	storagetest.Must(e.t, err)
	for _, ev := range evs {
		for _, s := range secrets {
			if s == "" {
				continue
			}
			for _, field := range []string{ev.Actor, ev.Target, ev.TargetID, ev.Detail, ev.UserAgent} {
				if strings.Contains(field, s) {
					e.t.Errorf("audit event %s carries a secret: %+v", ev.Kind, ev)
				}
			}
		}
	}
}

// invitationToken reads the token of the invitation mailed to email.
func (e *env) invitationMail(email string) (mailtest.Message, string) {
	e.t.Helper()
	m := e.smtp.Next(e.t, email)
	link, err := url.Parse(m.Link(e.t, teams.PathAccept))
	storagetest.Must(e.t, err)
	if got := link.Scheme + "://" + link.Host + link.Path; got != issuer+teams.PathAccept {
		e.t.Fatalf("the link leads to %s", got)
	}
	return m, link.Query().Get("token")
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
}

// The whole way of a new person in: the mail says who invites them where
// and as what; the link shows the invitation without using it; creating
// their account through it verifies their address and makes them a
// member, with no personal organization; the link then works no more.
func TestANewPersonJoinsByTheInvitationMail(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		inv, err := e.teams.Invite(e.ctx, as(ada), acme.ID, " New@Example.com ", storage.RoleAdmin)
		storagetest.Must(t, err)
		if inv.Email != "new@example.com" || inv.OrgName != "Acme" || inv.InvitedBy != "Ada" || inv.Role != storage.RoleAdmin ||
			!inv.ExpiresAt.Equal(inv.CreatedAt.Add(24*time.Hour)) {
			t.Fatalf("invitation = %+v", inv)
		}
		m, token := e.invitationMail("new@example.com")
		for _, want := range []string{"Ada invited you to join the organization Acme", "as an admin", "24 hours"} {
			if !strings.Contains(strings.Join(strings.Fields(m.Text), " "), want) {
				t.Errorf("the mail does not say %q:\n%s", want, m.Text)
			}
		}
		if !strings.Contains(m.Subject, "Ada invited you to Acme") {
			t.Errorf("subject %q", m.Subject)
		}
		pending, err := e.teams.Invitations(e.ctx, as(ada), acme.ID)
		storagetest.Must(t, err)
		if len(pending) != 1 || pending[0].ID != inv.ID || pending[0].InvitedBy != "Ada" {
			t.Fatalf("pending = %+v", pending)
		}

		seen, err := e.teams.LookupInvitation(e.ctx, token)
		storagetest.Must(t, err)
		if seen.ID != inv.ID || seen.OrgName != "Acme" || seen.Role != storage.RoleAdmin {
			t.Fatalf("looked up %+v", seen)
		}
		_, _, err = e.teams.AcceptAsNewPerson(e.ctx, audit.Actor{IP: "192.0.2.9"}, token, "Newt", "short")
		var problems fields.Errors
		if !errors.As(err, &problems) || !problems.Has("password") {
			t.Fatalf("a short password: %v, want the password's problem", err)
		}
		u, joined, err := e.teams.AcceptAsNewPerson(e.ctx, audit.Actor{IP: "192.0.2.9", UserAgent: "Safari"}, token, "Newt", "a long password")
		storagetest.Must(t, err)
		if u.Email != "new@example.com" || u.Name != "Newt" || !u.EmailVerified || joined.ID != inv.ID {
			t.Fatalf("created %+v for %+v", u, joined)
		}
		stored, err := e.store.UserByID(e.ctx, u.ID)
		storagetest.Must(t, err)
		if !stored.EmailVerified {
			t.Error("the address of a person who came by the mail is not verified")
		}
		orgs, err := e.store.UserOrganizations(e.ctx, u.ID)
		storagetest.Must(t, err)
		if len(orgs) != 1 || orgs[0].ID != acme.ID || orgs[0].Role != storage.RoleAdmin {
			t.Fatalf("their organizations = %+v, want Acme alone, as admin", orgs)
		}
		if _, err := e.people.Authenticate(e.ctx, "new@example.com", "a long password"); err != nil {
			t.Fatalf("signing in with the password chosen: %v", err)
		}

		_, _, err = e.teams.AcceptAsNewPerson(e.ctx, audit.Actor{}, token, "Again", "another long password")
		wantErr(t, "the link used twice", err, teams.ErrInvitationInvalid)
		_, err = e.teams.LookupInvitation(e.ctx, token)
		wantErr(t, "looking up a used link", err, storage.ErrNotFound)
		if pending, _ := e.teams.Invitations(e.ctx, as(ada), acme.ID); len(pending) != 0 {
			t.Errorf("pending after acceptance = %+v", pending)
		}

		got := kinds(e.events(acme.ID))
		want := []string{"member.invited ada@example.com → new@example.com", "member.joined new@example.com → new@example.com"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if joinedEv := e.events(acme.ID)[1]; joinedEv.IP != "192.0.2.9" || joinedEv.ActorID != u.ID || joinedEv.UserAgent != "Safari" {
			t.Errorf("the joining is recorded as %+v", joinedEv)
		}
		e.noSecretIn(token, storage.DigestHex(token), "a long password")
	})
}

// A person with an account accepts signed in, with the address the
// invitation went to; Invite answers the same whether the address has an
// account or not.
func TestAPersonWithAnAccountAcceptsSignedIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		bob, _ := e.person("bob@example.com", "Bob", "")
		carol, _ := e.person("carol@example.com", "Carol", "")

		forBob, err := e.teams.Invite(e.ctx, as(ada), acme.ID, "BOB@example.com", storage.RoleMember)
		storagetest.Must(t, err)
		forNobody, err := e.teams.Invite(e.ctx, as(ada), acme.ID, "nobody@example.com", storage.RoleMember)
		storagetest.Must(t, err)
		bobMail, token := e.invitationMail("bob@example.com")
		nobodyMail, _ := e.invitationMail("nobody@example.com")
		if bobMail.Subject != nobodyMail.Subject || forBob.InvitedBy != forNobody.InvitedBy || forBob.OrgName != forNobody.OrgName {
			t.Errorf("an address with an account is answered otherwise: %q / %q, %+v / %+v", bobMail.Subject, nobodyMail.Subject, forBob, forNobody)
		}
		unlinked := func(m mailtest.Message) string {
			return strings.ReplaceAll(m.Text, m.Link(t, teams.PathAccept), "LINK")
		}
		if unlinked(bobMail) != unlinked(nobodyMail) {
			t.Errorf("the mails differ beyond the link:\n%s\n---\n%s", bobMail.Text, nobodyMail.Text)
		}
		_, err = e.teams.Accept(e.ctx, as(carol), token)
		wantErr(t, "accepting as someone else", err, teams.ErrWrongAccount)
		if e.role(acme, carol) != "" {
			t.Fatal("Carol joined with Bob's invitation")
		}
		_, _, err = e.teams.AcceptAsNewPerson(e.ctx, audit.Actor{}, token, "Bob Again", "a long password")
		wantErr(t, "a new account for a taken address", err, teams.ErrAccountExists)
		if _, err := e.teams.LookupInvitation(e.ctx, token); err != nil {
			t.Fatalf("the invitation after refusals: %v, want it still usable", err)
		}
		joined, err := e.teams.Accept(e.ctx, as(bob), token)
		storagetest.Must(t, err)
		if joined.OrgName != "Acme" || e.role(acme, bob) != storage.RoleMember {
			t.Fatalf("joined %+v, Bob's role %q", joined, e.role(acme, bob))
		}
		if orgs, _ := e.store.UserOrganizations(e.ctx, bob.ID); len(orgs) != 2 {
			t.Errorf("Bob's organizations = %+v, want his own and Acme", orgs)
		}
		_, err = e.teams.Accept(e.ctx, as(bob), token)
		wantErr(t, "accepting twice", err, teams.ErrInvitationInvalid)
		_, err = e.teams.Invite(e.ctx, as(ada), acme.ID, "bob@example.com", storage.RoleAdmin)
		wantErr(t, "inviting a member", err, teams.ErrAlreadyMember)
		_, err = e.teams.Accept(e.ctx, as(bob), "")
		wantErr(t, "no token", err, teams.ErrInvitationInvalid)
		_, err = e.teams.Accept(e.ctx, as(bob), token+"x")
		wantErr(t, "a tampered token", err, teams.ErrInvitationInvalid)
		e.noSecretIn(token, storage.DigestHex(token))
	})
}

// Who may invite whom, and what happens to a refused invitation: nothing.
func TestInvitingIsRefusedToWhomTheMatrixRefuses(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		ann := e.member(acme, "ann@example.com", "Ann", storage.RoleAdmin)
		mo := e.member(acme, "mo@example.com", "Mo", storage.RoleMember)
		out, _ := e.person("out@example.com", "Out", "")
		silent := teams.New(e.store, teams.Config{Issuer: issuer})
		tests := []struct {
			name        string
			teams       *teams.Teams
			by          *storage.User
			email, role string
			want        error
		}{
			{"an owner invites an owner", e.teams, ada, "o@example.com", storage.RoleOwner, nil},
			{"an admin invites an admin", e.teams, ann, "a@example.com", storage.RoleAdmin, nil},
			{"an admin invites a member", e.teams, ann, "m@example.com", storage.RoleMember, nil},
			{"an admin invites an owner", e.teams, ann, "x1@example.com", storage.RoleOwner, teams.ErrForbidden},
			{"a member invites a member", e.teams, mo, "x2@example.com", storage.RoleMember, teams.ErrForbidden},
			{"an outsider invites", e.teams, out, "x3@example.com", storage.RoleMember, tenancy.ErrNotMember},
			{"an unknown role", e.teams, ada, "x4@example.com", "boss", teams.ErrInvalidRole},
			{"not an address", e.teams, ada, "x5", storage.RoleMember, teams.ErrInvalidEmail},
			{"a server without mail", silent, ada, "x6@example.com", storage.RoleMember, teams.ErrMailDisabled},
		}
		for _, tc := range tests {
			e.clock.Advance(time.Second)
			_, err := tc.teams.Invite(e.ctx, as(tc.by), acme.ID, tc.email, tc.role)
			wantErr(t, tc.name, err, tc.want)
		}
		pending, err := e.teams.Invitations(e.ctx, as(ann), acme.ID)
		storagetest.Must(t, err)
		var got []string
		for _, p := range pending {
			got = append(got, p.Email)
		}
		if strings.Join(got, " ") != "m@example.com a@example.com o@example.com" {
			t.Errorf("pending = %v, want the three allowed, newest first", got)
		}
		_, err = e.teams.Invitations(e.ctx, as(mo), acme.ID)
		wantErr(t, "a member lists invitations", err, teams.ErrForbidden)
		if n := len(e.events(acme.ID)); n != 3 {
			t.Errorf("%d audit events, want the three invitations", n)
		}
	})
}

// A resent invitation has a new link and the old one stops; a revoked
// one works no more; only who may send an invitation of its role resends
// it.
func TestInvitationsAreResentAndRevoked(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		ann := e.member(acme, "ann@example.com", "Ann", storage.RoleAdmin)
		mo := e.member(acme, "mo@example.com", "Mo", storage.RoleMember)
		inv, err := e.teams.Invite(e.ctx, as(ada), acme.ID, "new@example.com", storage.RoleMember)
		storagetest.Must(t, err)
		_, first := e.invitationMail("new@example.com")
		e.clock.Advance(time.Hour)
		storagetest.Must(t, e.teams.ResendInvitation(e.ctx, as(ann), acme.ID, inv.ID))
		_, second := e.invitationMail("new@example.com")
		_, err = e.teams.LookupInvitation(e.ctx, first)
		wantErr(t, "the link before the resend", err, teams.ErrInvitationInvalid)
		again, err := e.teams.LookupInvitation(e.ctx, second)
		storagetest.Must(t, err)
		if !again.ExpiresAt.After(inv.ExpiresAt) {
			t.Errorf("the resent invitation expires at %v, before %v", again.ExpiresAt, inv.ExpiresAt)
		}

		owner, err := e.teams.Invite(e.ctx, as(ada), acme.ID, "boss@example.com", storage.RoleOwner)
		storagetest.Must(t, err)
		_, ownerLink := e.invitationMail("boss@example.com")
		wantErr(t, "an admin resends an owner's invitation", e.teams.ResendInvitation(e.ctx, as(ann), acme.ID, owner.ID), teams.ErrForbidden)
		if _, err := e.teams.LookupInvitation(e.ctx, ownerLink); err != nil {
			t.Errorf("the owner's invitation after a refused resend: %v", err)
		}
		wantErr(t, "a member revokes", e.teams.RevokeInvitation(e.ctx, as(mo), acme.ID, inv.ID), teams.ErrForbidden)
		storagetest.Must(t, e.teams.RevokeInvitation(e.ctx, as(ann), acme.ID, inv.ID))
		_, err = e.teams.LookupInvitation(e.ctx, second)
		wantErr(t, "a revoked link", err, teams.ErrInvitationInvalid)
		wantErr(t, "revoking twice", e.teams.RevokeInvitation(e.ctx, as(ann), acme.ID, inv.ID), storage.ErrNotFound)
		wantErr(t, "resending a revoked one", e.teams.ResendInvitation(e.ctx, as(ann), acme.ID, inv.ID), storage.ErrNotFound)

		got := kinds(e.events(acme.ID))
		want := []string{
			"member.invited ada@example.com → new@example.com",
			"member.invited ann@example.com → new@example.com",
			"member.invited ada@example.com → boss@example.com",
			"member.invitation_revoked ann@example.com → new@example.com",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		e.noSecretIn(first, second, ownerLink)
	})
}

// newClient stores a public app.
func (e *env) newClient() *storage.Client {
	e.t.Helper()
	c := &storage.Client{ID: storage.NewID("cl"), Name: "Example App",
		RedirectURIs: storage.Strings{"https://app.example.com/cb"}, GrantTypes: storage.Strings{"authorization_code", "refresh_token"},
		ResponseTypes: storage.Strings{"code"}, Scopes: storage.Strings{"openid", "offline_access", "read", "team:manage"},
		Audience: storage.Strings{}, TokenEndpointAuthMethod: "none", Public: true}
	storagetest.Must(e.t, e.store.CreateClient(e.ctx, c))
	return c
}

// grant stores a consent of u to c acting in org, with an access and a
// refresh token named sig, as the authorization code flow leaves them.
func (e *env) grant(c *storage.Client, u *storage.User, org *storage.Organization, sig, scopes string) {
	e.t.Helper()
	_, err := e.store.SaveConsent(e.ctx, storage.Consent{UserID: u.ID, OrgID: org.ID, ClientID: c.ID, Scopes: scopes, Remember: true})
	storagetest.Must(e.t, err)
	sess := &openid.DefaultSession{Subject: u.ID, Claims: &jwt.IDTokenClaims{Subject: u.ID, Extra: map[string]any{storage.ClaimOrg: org.ID}},
		Headers: &jwt.Headers{}}
	for _, tt := range []fosite.TokenType{fosite.AccessToken, fosite.RefreshToken} {
		sess.SetExpiresAt(tt, e.clock.Now().Add(time.Hour))
	}
	r := fosite.NewRequest()
	r.ID, r.RequestedAt, r.Client, r.Session = storage.NewID("req"), e.clock.Now(), c, sess
	r.GrantedScope = strings.Fields(scopes)
	storagetest.Must(e.t, e.store.CreateAccessTokenSession(e.ctx, "at-"+sig, r))
	storagetest.Must(e.t, e.store.CreateRefreshTokenSession(e.ctx, "rt-"+sig, "at-"+sig, r))
}

func (e *env) tokenAlive(table, sig string) bool {
	e.t.Helper()
	var err error
	if table == "access" {
		_, err = e.store.GetAccessTokenSession(e.ctx, "at-"+sig, openid.NewDefaultSession())
	} else {
		_, err = e.store.GetRefreshTokenSession(e.ctx, "rt-"+sig, openid.NewDefaultSession())
	}
	if err != nil && !errors.Is(err, fosite.ErrNotFound) {
		e.t.Fatal(err)
	}
	return err == nil
}

// Roles change as the matrix allows, the last owner stays, and a lowered
// role narrows at once what the person's grants in the organization hold.
func TestRolesChangeAsTheMatrixAllows(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		ann := e.member(acme, "ann@example.com", "Ann", storage.RoleAdmin)
		mo := e.member(acme, "mo@example.com", "Mo", storage.RoleMember)
		out, _ := e.person("out@example.com", "Out", "")
		steps := []struct {
			name     string
			by, whom *storage.User
			role     string
			want     error
		}{
			{"an admin makes a member an admin", ann, mo, storage.RoleAdmin, nil},
			{"an admin makes an admin a member", ann, mo, storage.RoleMember, nil},
			{"an admin makes a member an owner", ann, mo, storage.RoleOwner, teams.ErrForbidden},
			{"an admin demotes an owner", ann, ada, storage.RoleAdmin, teams.ErrForbidden},
			{"an admin makes themselves an owner", ann, ann, storage.RoleOwner, teams.ErrForbidden},
			{"a member makes an admin a member", mo, ann, storage.RoleMember, teams.ErrForbidden},
			{"a member makes themselves an admin", mo, mo, storage.RoleAdmin, teams.ErrForbidden},
			{"an outsider changes a role", out, mo, storage.RoleAdmin, tenancy.ErrNotMember},
			{"the role of an outsider", ada, out, storage.RoleAdmin, tenancy.ErrNotMember},
			{"an unknown role", ada, mo, "boss", teams.ErrInvalidRole},
			{"the last owner demotes themselves", ada, ada, storage.RoleAdmin, teams.ErrLastOwner},
			{"an owner makes an admin an owner", ada, ann, storage.RoleOwner, nil},
			{"an owner demotes themselves with another owner left", ada, ada, storage.RoleAdmin, nil},
			{"an owner makes the former owner one again", ann, ada, storage.RoleOwner, nil},
		}
		for _, s := range steps {
			wantErr(t, s.name, e.teams.SetRole(e.ctx, as(s.by), acme.ID, s.whom.ID, s.role), s.want)
		}
		if e.role(acme, ada) != storage.RoleOwner || e.role(acme, ann) != storage.RoleOwner || e.role(acme, mo) != storage.RoleMember {
			t.Fatalf("roles after the steps: Ada %s, Ann %s, Mo %s", e.role(acme, ada), e.role(acme, ann), e.role(acme, mo))
		}

		// Ann, an owner, holds team:manage and billing:read through an app in
		// Acme, and a grant in her own organization.
		c := e.newClient()
		other, err := e.teams.CreateOrganization(e.ctx, as(ann), "Ann's side project", ann.ID)
		storagetest.Must(t, err)
		e.grant(c, ann, acme, "acme", "openid read team:manage billing:read")
		e.grant(c, ann, other, "side", "openid read team:manage billing:read")
		storagetest.Must(t, e.teams.SetRole(e.ctx, as(ada), acme.ID, ann.ID, storage.RoleMember))
		consents, err := e.store.MemberConsents(e.ctx, acme.ID, ann.ID)
		storagetest.Must(t, err)
		if len(consents) != 1 || consents[0].Scopes != "openid read" {
			t.Errorf("Ann's consent in Acme = %+v, want it narrowed to openid read", consents)
		}
		if kept, _ := e.store.MemberConsents(e.ctx, other.ID, ann.ID); len(kept) != 1 || kept[0].Scopes != "openid read team:manage billing:read" {
			t.Errorf("Ann's consent in her own organization = %+v, want it kept", kept)
		}
		if e.tokenAlive("access", "acme") {
			t.Error("Ann's access token in Acme outlived her lowered role")
		}
		if !e.tokenAlive("refresh", "acme") || !e.tokenAlive("access", "side") || !e.tokenAlive("refresh", "side") {
			t.Error("a lowered role took a refresh token (which narrows when used) or tokens in another organization")
		}

		var changes []string
		for _, ev := range e.events(acme.ID) {
			if ev.Kind == audit.RoleChanged {
				changes = append(changes, ev.Actor+": "+ev.Target+" "+ev.Detail)
			}
		}
		want := []string{
			"ann@example.com: mo@example.com member → admin",
			"ann@example.com: mo@example.com admin → member",
			"ada@example.com: ann@example.com admin → owner",
			"ada@example.com: ada@example.com owner → admin",
			"ann@example.com: ada@example.com admin → owner",
			"ada@example.com: ann@example.com owner → member",
		}
		if strings.Join(changes, "\n") != strings.Join(want, "\n") {
			t.Errorf("role changes recorded:\n%s\nwant:\n%s", strings.Join(changes, "\n"), strings.Join(want, "\n"))
		}
	})
}

// Two owners demoting each other, or each themselves, at the same moment
// leave one owner: the organization is locked while its people change.
func TestTwoOwnersDemotingAtOnceLeaveAnOwner(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		bo := e.member(acme, "bo@example.com", "Bo", storage.RoleOwner)
		op := audit.OperatorActor()
		for round := range 5 {
			for _, self := range []bool{false, true} {
				storagetest.Must(t, e.teams.SetRole(e.ctx, op, acme.ID, ada.ID, storage.RoleOwner))
				storagetest.Must(t, e.teams.SetRole(e.ctx, op, acme.ID, bo.ID, storage.RoleOwner))
				pairs := [][2]*storage.User{{ada, bo}, {bo, ada}}
				if self {
					pairs = [][2]*storage.User{{ada, ada}, {bo, bo}}
				}
				var (
					wg   sync.WaitGroup
					errs = make([]error, 2)
				)
				start := make(chan struct{})
				for i, p := range pairs {
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						errs[i] = e.teams.SetRole(e.ctx, as(p[0]), acme.ID, p[1].ID, storage.RoleAdmin)
					}()
				}
				close(start)
				wg.Wait()
				ok := 0
				for _, err := range errs {
					switch {
					case err == nil:
						ok++
					case errors.Is(err, teams.ErrLastOwner), errors.Is(err, teams.ErrForbidden):
					default:
						t.Fatalf("round %d: %v", round, err)
					}
				}
				n, err := e.store.CountOwners(e.ctx, acme.ID)
				storagetest.Must(t, err)
				if ok != 1 || n != 1 {
					t.Fatalf("round %d (self %v): %d demotions succeeded (%v), %d owners left; want 1 and 1", round, self, ok, errs, n)
				}
			}
		}
	})
}

// Removing a member takes from them at once, in that organization only,
// their sessions, the API keys they created, their consents and tokens;
// a person left in no organization gets a personal one; a person who
// leaves stays signed in; the last owner can neither leave nor be
// removed.
func TestRemovingAndLeaving(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		ann := e.member(acme, "ann@example.com", "Ann", storage.RoleAdmin)
		mo := e.member(acme, "mo@example.com", "Mo", storage.RoleMember)
		c := e.newClient()
		e.grant(c, mo, acme, "mo", "openid read")
		e.grant(c, ann, acme, "ann", "openid read")
		moSession, _, err := e.store.CreateLoginSession(e.ctx, mo.ID, acme.ID, time.Hour, "Firefox", "192.0.2.1")
		storagetest.Must(t, err)
		annSession, _, err := e.store.CreateLoginSession(e.ctx, ann.ID, acme.ID, time.Hour, "Firefox", "192.0.2.2")
		storagetest.Must(t, err)
		key := &storage.APIKey{ID: storage.NewID("key"), OrgID: acme.ID, UserID: mo.ID, Name: "CI",
			Digest: storage.DigestHex("sk_live_mokeymokeymokey"), Prefix: "moke", Last4: "mkey", Scopes: "read", CreatedAt: e.clock.Now()}
		storagetest.Must(t, e.store.CreateAPIKey(e.ctx, key))

		wantErr(t, "an admin removes an owner", e.teams.Remove(e.ctx, as(ann), acme.ID, ada.ID), teams.ErrForbidden)
		wantErr(t, "a member removes an admin", e.teams.Remove(e.ctx, as(mo), acme.ID, ann.ID), teams.ErrForbidden)
		wantErr(t, "the last owner leaves", e.teams.Remove(e.ctx, as(ada), acme.ID, ada.ID), teams.ErrLastOwner)
		wantErr(t, "the last owner is removed by the operator", e.teams.Remove(e.ctx, audit.OperatorActor(), acme.ID, ada.ID), teams.ErrLastOwner)
		storagetest.Must(t, e.teams.Remove(e.ctx, as(ann), acme.ID, mo.ID))

		if e.role(acme, mo) != "" {
			t.Fatal("Mo is still a member")
		}
		if _, err := e.store.LoginSessionByToken(e.ctx, moSession); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Mo's session in Acme: %v, want ended", err)
		}
		if k, _ := e.store.APIKeyByID(e.ctx, key.ID); k == nil || k.RevokedAt == nil {
			t.Errorf("Mo's API key = %+v, want revoked", k)
		}
		if consents, _ := e.store.MemberConsents(e.ctx, acme.ID, mo.ID); len(consents) != 0 {
			t.Errorf("Mo's consents = %+v, want none", consents)
		}
		if e.tokenAlive("access", "mo") || e.tokenAlive("refresh", "mo") {
			t.Error("Mo's tokens in Acme outlived the removal")
		}
		if !e.tokenAlive("access", "ann") || !e.tokenAlive("refresh", "ann") {
			t.Error("removing Mo took Ann's tokens")
		}
		orgs, err := e.store.UserOrganizations(e.ctx, mo.ID)
		storagetest.Must(t, err)
		if len(orgs) != 1 || orgs[0].Role != storage.RoleOwner || orgs[0].Name != "Mo's organization" {
			t.Errorf("Mo's organizations = %+v, want a personal one", orgs)
		}
		wantErr(t, "removing a non-member", e.teams.Remove(e.ctx, as(ann), acme.ID, mo.ID), tenancy.ErrNotMember)
		wantErr(t, "a former member removes", e.teams.Remove(e.ctx, as(mo), acme.ID, ann.ID), tenancy.ErrNotMember)

		storagetest.Must(t, e.teams.Remove(e.ctx, as(ann), acme.ID, ann.ID))
		ls, err := e.store.LoginSessionByToken(e.ctx, annSession)
		storagetest.Must(t, err)
		if ls.OrgID != "" {
			t.Errorf("the session of Ann, who left, works in %q, want none", ls.OrgID)
		}
		if e.tokenAlive("access", "ann") {
			t.Error("Ann's tokens in Acme outlived her leaving")
		}

		got := kinds(e.events(acme.ID))
		want := []string{"member.removed ann@example.com → mo@example.com", "member.left ann@example.com → ann@example.com"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if evs := e.events(orgs[0].ID); len(evs) != 1 || evs[0].Kind != audit.OrgCreated {
			t.Errorf("the personal organization's events = %v", kinds(evs))
		}
	})
}

// Organizations are created by a person for themselves, renamed and
// deleted by their owners; deleting one revokes what is of it and gives
// its people left in none a personal one.
func TestOrganizationsAreCreatedRenamedAndDeleted(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		bob, _ := e.person("bob@example.com", "Bob", "")
		_, err := e.teams.CreateOrganization(e.ctx, as(ada), "Bob's other", bob.ID)
		wantErr(t, "creating one for someone else", err, teams.ErrForbidden)
		_, err = e.teams.CreateOrganization(e.ctx, as(ada), " acme ", ada.ID)
		wantErr(t, "a taken name", err, storage.ErrOrgNameTaken)
		if _, err := e.teams.CreateOrganization(e.ctx, as(ada), "  ", ada.ID); err == nil {
			t.Fatal("created an organization without a name")
		}
		globex, err := e.teams.CreateOrganization(e.ctx, as(ada), "Globex", ada.ID)
		storagetest.Must(t, err)
		if e.role(globex, ada) != storage.RoleOwner {
			t.Fatal("the creator does not own it")
		}
		ann := e.member(globex, "ann@example.com", "Ann", storage.RoleAdmin)
		storagetest.Must(t, e.teams.AddMember(e.ctx, audit.OperatorActor(), globex.ID, bob.ID, storage.RoleMember))
		wantErr(t, "adding twice", e.teams.AddMember(e.ctx, audit.OperatorActor(), globex.ID, bob.ID, storage.RoleMember), teams.ErrAlreadyMember)

		wantErr(t, "an admin renames", e.teams.Rename(e.ctx, as(ann), globex.ID, "Initech"), teams.ErrForbidden)
		wantErr(t, "renaming to a taken name", e.teams.Rename(e.ctx, as(ada), globex.ID, "ACME"), storage.ErrOrgNameTaken)
		storagetest.Must(t, e.teams.Rename(e.ctx, as(ada), globex.ID, "Initech"))
		if o, _ := e.store.OrganizationByID(e.ctx, globex.ID); o == nil || o.Name != "Initech" {
			t.Fatalf("renamed = %+v", o)
		}

		c := &storage.Client{ID: storage.NewID("cl"), Name: "Initech's app", OrgID: globex.ID, RedirectURIs: storage.Strings{"https://initech.example.com/cb"},
			GrantTypes: storage.Strings{"authorization_code"}, ResponseTypes: storage.Strings{"code"}, Scopes: storage.Strings{"openid"},
			Audience: storage.Strings{}, TokenEndpointAuthMethod: "none", Public: true}
		storagetest.Must(t, e.store.CreateClient(e.ctx, c))
		e.grant(c, bob, globex, "bob", "openid")
		wantErr(t, "an admin deletes", e.teams.DeleteOrganization(e.ctx, as(ann), globex.ID), teams.ErrForbidden)
		storagetest.Must(t, e.teams.DeleteOrganization(e.ctx, as(ada), globex.ID))

		if _, err := e.store.OrganizationByID(e.ctx, globex.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Fatalf("the deleted organization: %v", err)
		}
		if _, err := e.store.FindClient(e.ctx, c.ID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("its app: %v, want deleted", err)
		}
		if e.tokenAlive("access", "bob") || e.tokenAlive("refresh", "bob") {
			t.Error("tokens of its app outlived it")
		}
		annOrgs, err := e.store.UserOrganizations(e.ctx, ann.ID)
		storagetest.Must(t, err)
		if len(annOrgs) != 1 || annOrgs[0].Name != "Ann's organization" {
			t.Errorf("Ann's organizations = %+v, want a personal one", annOrgs)
		}
		if orgs, _ := e.store.UserOrganizations(e.ctx, ada.ID); len(orgs) != 1 || orgs[0].ID != acme.ID {
			t.Errorf("Ada's organizations = %+v, want Acme alone", orgs)
		}
		if orgs, _ := e.store.UserOrganizations(e.ctx, bob.ID); len(orgs) != 1 {
			t.Errorf("Bob's organizations = %+v, want his personal one alone", orgs)
		}

		got := kinds(e.events(globex.ID))
		want := []string{
			"org.created ada@example.com → Globex",
			"member.joined operator → bob@example.com",
			"org.renamed ada@example.com → Initech",
			"org.deleted ada@example.com → Initech",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("audit events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// Of two sign-ups through one invitation at once, exactly one creates the
// person; so of two signed-in acceptances, exactly one makes a member.
func TestAnInvitationIsAcceptedOnceUnderRaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ada, acme := e.person("ada@example.com", "Ada", "Acme")
		race := func(fn func() error) (ok int, errs []error) {
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				start = make(chan struct{})
			)
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					err := fn()
					mu.Lock()
					defer mu.Unlock()
					if err == nil {
						ok++
					} else {
						errs = append(errs, err)
					}
				}()
			}
			close(start)
			wg.Wait()
			return ok, errs
		}
		_, err := e.teams.Invite(e.ctx, as(ada), acme.ID, "new@example.com", storage.RoleMember)
		storagetest.Must(t, err)
		_, token := e.invitationMail("new@example.com")
		ok, errs := race(func() error {
			_, _, err := e.teams.AcceptAsNewPerson(e.ctx, audit.Actor{}, token, "Newt", "a long password")
			return err
		})
		for _, err := range errs {
			if !errors.Is(err, teams.ErrInvitationInvalid) && !errors.Is(err, teams.ErrAccountExists) {
				t.Errorf("a losing sign-up: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d sign-ups through one invitation succeeded, want 1 (%v)", ok, errs)
		}

		bob, _ := e.person("bob@example.com", "Bob", "")
		_, err = e.teams.Invite(e.ctx, as(ada), acme.ID, "bob@example.com", storage.RoleAdmin)
		storagetest.Must(t, err)
		_, token = e.invitationMail("bob@example.com")
		ok, errs = race(func() error { _, err := e.teams.Accept(e.ctx, as(bob), token); return err })
		for _, err := range errs {
			if !errors.Is(err, teams.ErrInvitationInvalid) {
				t.Errorf("a losing acceptance: %v", err)
			}
		}
		if ok != 1 || e.role(acme, bob) != storage.RoleAdmin {
			t.Fatalf("%d acceptances succeeded (%v), Bob is %q; want 1, admin", ok, errs, e.role(acme, bob))
		}
		joined := 0
		for _, ev := range e.events(acme.ID) {
			if ev.Kind == audit.MemberJoined {
				joined++
			}
		}
		if joined != 2 {
			t.Errorf("%d joinings recorded, want 2", joined)
		}
	})
}
