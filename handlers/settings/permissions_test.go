package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
)

// teamWorld is an organization, Acme, with one person of each role to act
// (owner, admin, member) and one of each role to be acted upon (a second
// owner, so that no change is refused for leaving Acme without one), a
// pending invitation, and the settings pages over it.
type teamWorld struct {
	env    *webtest.Env
	teams  *teams.Teams
	org    *storage.Organization
	actors map[string]*storage.User // by role
	// targets are the people acted upon, by role.
	targets    map[string]*storage.User
	invitation *teams.Invitation
}

// teamHash is one password's hash for everyone in a teamWorld: nobody
// signs in with it, and hashing it once keeps the matrix quick.
var teamHash = func() func(t *testing.T) string {
	var once sync.Once
	var hash string
	var err error
	return func(t *testing.T) string {
		once.Do(func() { hash, err = accounts.HashPassword(context.Background(), "a long enough password") })
		if err != nil {
			t.Fatal(err)
		}
		return hash
	}
}()

func newTeamWorld(t *testing.T) *teamWorld {
	t.Helper()
	ctx := context.Background()
	env := webtest.New(t)
	people := accounts.New(env.Store, accounts.Config{})
	rules := teams.New(env.Store, teams.Config{Mailer: mailtest.Start(t).Mailer(t, webtest.Issuer, nil), Issuer: webtest.Issuer,
		People: people, Now: env.Provider.Now})
	Mount(env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store, RevealKey: make([]byte, 32),
		RegistrationMode: clients.RegistrationToken, Accounts: people, Teams: rules})
	w := &teamWorld{env: env, teams: rules, actors: map[string]*storage.User{}, targets: map[string]*storage.User{}}
	person := func(email string) *storage.User {
		u, err := env.Store.CreateUser(ctx, email, "", teamHash(t))
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	w.actors[storage.RoleOwner] = person("owner@example.com")
	org, err := env.Store.CreateOrganization(ctx, "Acme", w.actors[storage.RoleOwner].ID)
	if err != nil {
		t.Fatal(err)
	}
	w.org = org
	add := func(into map[string]*storage.User, role, email string) {
		u := person(email)
		if err := env.Store.AddMember(ctx, org.ID, u.ID, role); err != nil {
			t.Fatal(err)
		}
		into[role] = u
	}
	add(w.actors, storage.RoleAdmin, "admin@example.com")
	add(w.actors, storage.RoleMember, "member@example.com")
	for _, role := range []string{storage.RoleOwner, storage.RoleAdmin, storage.RoleMember} {
		add(w.targets, role, "target-"+role+"@example.com")
	}
	if w.invitation, err = rules.Invite(ctx, audit.OperatorActor(), org.ID, "pending@example.com", storage.RoleMember); err != nil {
		t.Fatalf("invite: %v", err)
	}
	return w
}

// browser is a browser signed in as u, working in Acme.
func (w *teamWorld) browser(t *testing.T, u *storage.User) *webtest.Browser {
	t.Helper()
	token, _, err := w.env.Store.CreateLoginSession(context.Background(), u.ID, w.org.ID, time.Hour, "test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	b := w.env.Browser(t)
	name := w.env.Kit.CookieName(web.SessionCookie)
	b.Cookies[name] = &http.Cookie{Name: name, Value: token}
	return b
}

// role is target's role in Acme now, "" when they are not a member.
func (w *teamWorld) role(t *testing.T, u *storage.User) string {
	t.Helper()
	m, err := w.env.Store.MembershipOf(context.Background(), w.org.ID, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	return m.Role
}

// pending are the addresses with a pending invitation into Acme, with
// their roles.
func (w *teamWorld) pending(t *testing.T) map[string]string {
	t.Helper()
	list, err := w.teams.Invitations(context.Background(), audit.OperatorActor(), w.org.ID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, inv := range list {
		out[inv.Email] = inv.Role
	}
	return out
}

// orgName is Acme's name now, "" once it is deleted.
func (w *teamWorld) orgName(t *testing.T) string {
	t.Helper()
	org, err := w.env.Store.OrganizationByID(context.Background(), w.org.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	return org.Name
}

// TestPermissionMatrix is who may do what to whom, over HTTP, against a
// real store: each actor (owner, admin, member of Acme) posts each form of
// the team and organization pages, as a browser would (with its CSRF
// token), and the answer is the status the role deserves — 303 back with
// a notice when allowed, the readable 403 page otherwise — with the
// change made in the database, or none. The audit log has no page yet:
// its row ("view audit") is not here.
func TestPermissionMatrix(t *testing.T) {
	t.Parallel()
	const (
		owner  = storage.RoleOwner
		admin  = storage.RoleAdmin
		member = storage.RoleMember
	)
	type action struct {
		name string
		// post is the form's path and fields in w.
		post func(w *teamWorld) (string, url.Values)
		// effect reports whether the change is in the database.
		effect func(t *testing.T, w *teamWorld) bool
	}
	invite := func(role string) action {
		email := "new-" + role + "@example.com"
		return action{"invite " + role,
			func(*teamWorld) (string, url.Values) {
				return teamPath + "/invitations", url.Values{"email": {email}, "role": {role}}
			},
			func(t *testing.T, w *teamWorld) bool { return w.pending(t)[email] == role }}
	}
	// changeRole moves a target of role to another: an owner to admin, an
	// admin to member, a member to admin.
	changeRole := func(role string) action {
		to := map[string]string{owner: admin, admin: member, member: admin}[role]
		return action{"change the role of " + role + " to " + to,
			func(w *teamWorld) (string, url.Values) {
				return teamPath + "/members/" + w.targets[role].ID + "/role", url.Values{"role": {to}}
			},
			func(t *testing.T, w *teamWorld) bool { return w.role(t, w.targets[role]) == to }}
	}
	remove := func(role string) action {
		return action{"remove " + role,
			func(w *teamWorld) (string, url.Values) {
				return teamPath + "/members/" + w.targets[role].ID + "/remove", url.Values{}
			},
			func(t *testing.T, w *teamWorld) bool { return w.role(t, w.targets[role]) == "" }}
	}
	revoke := action{"revoke an invitation",
		func(w *teamWorld) (string, url.Values) {
			return teamPath + "/invitations/" + w.invitation.ID + "/revoke", url.Values{}
		},
		func(t *testing.T, w *teamWorld) bool { _, ok := w.pending(t)["pending@example.com"]; return !ok }}
	rename := action{"rename the organization",
		func(*teamWorld) (string, url.Values) {
			return organizationPath + "/name", url.Values{"name": {"Acme Renamed"}}
		},
		func(t *testing.T, w *teamWorld) bool { return w.orgName(t) == "Acme Renamed" }}
	deleteOrg := action{"delete the organization",
		func(*teamWorld) (string, url.Values) {
			return organizationPath + "/delete", url.Values{"confirm": {"Acme"}}
		},
		func(t *testing.T, w *teamWorld) bool { return w.orgName(t) == "" }}

	// allowed says, per action, which actors may do it.
	rows := []struct {
		action  action
		allowed []string
	}{
		{invite(owner), []string{owner}},
		{invite(admin), []string{owner, admin}},
		{invite(member), []string{owner, admin}},
		{changeRole(owner), []string{owner}},
		{changeRole(admin), []string{owner, admin}},
		{changeRole(member), []string{owner, admin}},
		{remove(owner), []string{owner}},
		{remove(admin), []string{owner, admin}},
		{remove(member), []string{owner, admin}},
		{revoke, []string{owner, admin}},
		{rename, []string{owner}},
		{deleteOrg, []string{owner}},
	}
	for _, row := range rows {
		for _, actor := range []string{owner, admin, member} {
			allowed := false
			for _, a := range row.allowed {
				allowed = allowed || a == actor
			}
			want, verb := http.StatusForbidden, "may not"
			if allowed {
				want, verb = http.StatusSeeOther, "may"
			}
			t.Run(fmt.Sprintf("%s %s %s", actor, verb, row.action.name), func(t *testing.T) {
				t.Parallel()
				w := newTeamWorld(t)
				b := w.browser(t, w.actors[actor])
				path, form := row.action.post(w)
				form.Set(web.CSRFField, b.CSRF())
				rec := b.Do(http.MethodPost, path, form)
				if rec.Code != want {
					t.Errorf("status %d, want %d; body: %.400s", rec.Code, want, rec.Body.String())
				}
				if done := row.action.effect(t, w); done != allowed {
					t.Errorf("the change is made: %v, want %v", done, allowed)
				}
			})
		}
	}
}

// TestTeamAnswers is how the team, organization and account pages answer
// what the rules refuse or allow beyond the matrix: a form's problem is
// the page again with the message next to the field (400); the last
// owner cannot step down (409, "transfer ownership first"); deleting
// needs the name typed; creating an organization makes its creator the
// owner, working in it; leaving keeps the person signed in, working in
// another organization of theirs.
func TestTeamAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		actor      string
		path       string
		form       url.Values
		status     int
		location   string // where a 303 sends the browser
		body       string // what the answer says
		afterwards func(t *testing.T, w *teamWorld, b *webtest.Browser)
	}{
		{name: "an invitation to no address is the form again", actor: storage.RoleAdmin, path: teamPath + "/invitations",
			form: url.Values{"email": {"not an address"}, "role": {storage.RoleMember}}, status: http.StatusBadRequest,
			body: "Enter a valid email address, like name@example.com."},
		{name: "an invitation to a member is the form again", actor: storage.RoleOwner, path: teamPath + "/invitations",
			form: url.Values{"email": {"target-member@example.com"}, "role": {storage.RoleMember}}, status: http.StatusBadRequest,
			body: "is a member of Acme already"},
		{name: "an invitation with an unknown role is the form again", actor: storage.RoleOwner, path: teamPath + "/invitations",
			form: url.Values{"email": {"new@example.com"}, "role": {"king"}}, status: http.StatusBadRequest, body: "Choose a role"},
		{name: "an unknown role for a member is refused", actor: storage.RoleOwner, path: teamPath + "/members/{member}/role",
			form: url.Values{"role": {"king"}}, status: http.StatusBadRequest, body: "Choose a role"},
		{name: "the last owner cannot become an admin", actor: "sole owner", path: teamPath + "/members/{me}/role",
			form: url.Values{"role": {storage.RoleAdmin}}, status: http.StatusConflict, body: "Transfer ownership first"},
		{name: "the last owner cannot leave", actor: "sole owner", path: teamPath + "/leave",
			form: url.Values{}, status: http.StatusConflict, body: "Make someone else an owner first"},
		{name: "deleting without the name typed is refused", actor: storage.RoleOwner, path: organizationPath + "/delete",
			form: url.Values{"confirm": {"acme"}}, status: http.StatusBadRequest, body: "Type the organization&#39;s name exactly",
			afterwards: func(t *testing.T, w *teamWorld, _ *webtest.Browser) {
				if w.orgName(t) != "Acme" {
					t.Error("Acme was deleted without its name typed")
				}
			}},
		{name: "a name taken by another organization is refused", actor: storage.RoleOwner, path: organizationPath + "/name",
			form: url.Values{"name": {"Other"}}, status: http.StatusConflict, body: "That name is taken"},
		{name: "a new organization is its creator's, who works in it", actor: storage.RoleMember, path: organizationsPath,
			form: url.Values{"name": {"Globex"}}, status: http.StatusSeeOther, location: teamPath + "?done=created",
			afterwards: func(t *testing.T, w *teamWorld, b *webtest.Browser) {
				page := b.Do(http.MethodGet, teamPath, nil).Body.String()
				if !strings.Contains(page, `<strong id="org-name">Globex</strong>`) || !strings.Contains(page, `<strong id="my-role">owner</strong>`) {
					t.Errorf("after creating Globex the team page is not Globex's, owned:\n%.600s", page)
				}
			}},
		{name: "a new organization needs a name", actor: storage.RoleMember, path: organizationsPath,
			form: url.Values{"name": {"  "}}, status: http.StatusBadRequest, body: "Enter a name for the organization."},
		{name: "a member who leaves stays signed in, in another organization", actor: storage.RoleMember, path: teamPath + "/leave",
			form: url.Values{}, status: http.StatusSeeOther, location: "/?left=1",
			afterwards: func(t *testing.T, w *teamWorld, b *webtest.Browser) {
				if w.role(t, w.actors[storage.RoleMember]) != "" {
					t.Error("the member is still in Acme")
				}
				page := b.Do(http.MethodGet, teamPath, nil)
				if page.Code != http.StatusOK || strings.Contains(page.Body.String(), `<strong id="org-name">Acme</strong>`) {
					t.Errorf("after leaving, the team page: %d, still Acme's or not there:\n%.600s", page.Code, page.Body.String())
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w := newTeamWorld(t)
			ctx := context.Background()
			actor := w.actors[tc.actor]
			if tc.actor == "sole owner" {
				// Acme's owners step down but one.
				for _, u := range []*storage.User{w.targets[storage.RoleOwner]} {
					if err := w.teams.Remove(ctx, audit.OperatorActor(), w.org.ID, u.ID); err != nil {
						t.Fatal(err)
					}
				}
				actor = w.actors[storage.RoleOwner]
			}
			if _, err := w.env.Store.CreateOrganization(ctx, "Other", w.targets[storage.RoleMember].ID); err != nil {
				t.Fatal(err)
			}
			b := w.browser(t, actor)
			path := strings.NewReplacer("{me}", actor.ID, "{member}", w.targets[storage.RoleMember].ID).Replace(tc.path)
			form := url.Values{}
			for k, v := range tc.form {
				form[k] = v
			}
			form.Set(web.CSRFField, b.CSRF())
			rec := b.Do(http.MethodPost, path, form)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d; body: %.600s", rec.Code, tc.status, rec.Body.String())
			}
			if got := rec.Header().Get("Location"); tc.location != "" && got != tc.location {
				t.Errorf("sent to %q, want %q", got, tc.location)
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("the answer does not say %q:\n%.800s", tc.body, rec.Body.String())
			}
			if tc.afterwards != nil {
				tc.afterwards(t, w, b)
			}
		})
	}
}
