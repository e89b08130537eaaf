// Teams in a real browser: two servers sharing one database, the team
// page's forms (invite, change a role, remove), the invitation mail's
// link and the page it opens, and what the database says of a member.

package e2e

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

const teamPath = "/settings/team"

// newSharedServers starts two servers, each with its own connections to
// one fresh database of backend b, like two instances behind a load
// balancer: what one writes, the other must enforce at once.
func newSharedServers(t *testing.T, b storagetest.Backend) (first, second *server) {
	t.Helper()
	dsn := b.FreshDSN(t)
	open := func() *storage.Store {
		store, err := storage.Open(context.Background(), storagetest.Options(dsn, nil))
		if err != nil {
			t.Fatalf("open %s: %v", b.Name, err)
		}
		t.Cleanup(func() { store.Close() })
		return store
	}
	one, two := open(), open()
	if _, err := one.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	o := serverOptions{accessTTL: time.Hour, logLevel: slog.LevelDebug}
	return startServer(t, one, o), startServer(t, two, o)
}

// openTeam opens the team page in br and checks it is there.
func openTeam(t *testing.T, br *browser, s *server) {
	t.Helper()
	if resp := br.open(t, s.URL+teamPath); resp.Status != http.StatusOK {
		t.Fatalf("the team page: status %d; it says %s", resp.Status, br.describe(t))
	}
	expectPath(t, br, s, teamPath)
}

// inviteIn fills in the invite form of the team page and sends it; it
// returns the link the invitee was mailed.
func inviteIn(t *testing.T, br *browser, s *server, email, role string) string {
	t.Helper()
	openTeam(t, br, s)
	br.do(t, "fill in the invite form", steps(typeInto("invite-email", email),
		[]chromedp.Action[chromedp.Void]{chromedp.SetValue(chromedp.ID("invite-role"), role)})...)
	if resp := br.follow(t, "send the invitation", chromedp.Click(chromedp.ID("send-invitation"))); resp.Status != http.StatusOK {
		t.Fatalf("inviting %s: status %d; the page says %s", email, resp.Status, br.describe(t))
	}
	expectPath(t, br, s, teamPath)
	if got := shownText(t, br, "#notice"); !strings.HasPrefix(got, "Invitation sent.") {
		t.Errorf("after inviting, the page says %q", got)
	}
	if got := shownText(t, br, `#invitations [data-invitation] .invitation-email`); got != email {
		t.Errorf("the pending invitation shown is for %q, want %s", got, email)
	}
	msg := s.Mail.Next(t, email)
	return msg.Link(t, teams.PathAccept)
}

// openInvitation opens an invitation link and checks the page names the
// organization, the role and who invited; it returns the page's mode.
func openInvitation(t *testing.T, br *browser, s *server, link, org, role, inviter string, status int) string {
	t.Helper()
	if resp := br.open(t, link); resp.Status != int64(status) {
		t.Fatalf("the invitation link: status %d, want %d; the page says %s", resp.Status, status, br.describe(t))
	}
	expectPath(t, br, s, teams.PathAccept)
	for sel, want := range map[string]string{"#invitation-org": org, "#invitation-role": role, "#invited-by": inviter} {
		if got := shownText(t, br, sel); got != want {
			t.Errorf("the invitation page's %s reads %q, want %q", sel, got, want)
		}
	}
	return run(t, br, "read the page's mode", chromedp.AttributeValue(chromedp.ID("invitation"), "data-mode")).Value
}

// memberRow is the CSS selector of a person's row on the team page.
func memberRow(u *storage.User) string { return `#members [data-member="` + u.ID + `"]` }

// changeRoleIn picks role in u's row of the team page and submits it.
func changeRoleIn(t *testing.T, br *browser, s *server, u *storage.User, role string) {
	t.Helper()
	openTeam(t, br, s)
	br.do(t, "pick the new role", chromedp.SetValue(chromedp.ID("role-"+u.ID), role))
	br.follow(t, "change the role", chromedp.Click(chromedp.CSS(memberRow(u)+" .change-role button")))
	expectPath(t, br, s, teamPath)
	if got := shownText(t, br, "#notice"); !strings.HasPrefix(got, "Role changed.") {
		t.Errorf("after changing the role, the page says %q", got)
	}
	if got := run(t, br, "read the row's role", chromedp.AttributeValue(chromedp.CSS(memberRow(u)), "data-role")).Value; got != role {
		t.Errorf("after the change, the row shows the role %q, want %s", got, role)
	}
}

// removeIn clicks Remove in u's row of the team page.
func removeIn(t *testing.T, br *browser, s *server, u *storage.User) {
	t.Helper()
	openTeam(t, br, s)
	br.follow(t, "remove "+u.Email, chromedp.Click(chromedp.CSS(memberRow(u)+" .remove-member button")))
	expectPath(t, br, s, teamPath)
	if got := shownText(t, br, "#notice"); !strings.HasPrefix(got, "Removed from the organization") {
		t.Errorf("after removing, the page says %q", got)
	}
	if br.count(t, memberRow(u)) != 0 {
		t.Errorf("%s is still listed after the removal", u.Email)
	}
}

// role is u's role in org now, "" when they are not a member.
func (s *server) role(t *testing.T, org *storage.Organization, u *storage.User) string {
	t.Helper()
	m, err := s.Store.MembershipOf(context.Background(), org.ID, u.ID)
	if errors.Is(err, storage.ErrNotFound) {
		return ""
	} else if err != nil {
		t.Fatal(err)
	}
	return m.Role
}

// orgNames are the names of the organizations u belongs to.
func (s *server) orgNames(t *testing.T, u *storage.User) []string {
	t.Helper()
	orgs, err := s.Store.UserOrganizations(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range orgs {
		names = append(names, o.Name)
	}
	slices.Sort(names)
	return names
}

// introspection is what a resource server learns of a token on s.
type introspection struct {
	active bool
	scopes []string
}

func (s *server) introspected(t *testing.T, rsID, rsSecret, token string) introspection {
	t.Helper()
	out := s.introspect(t, rsID, rsSecret, token)
	scope, _ := out["scope"].(string)
	return introspection{active: out["active"] == true, scopes: strings.Fields(scope)}
}

// wantSignedOut fails unless the agent, opening path, is sent to sign in.
func (a *agent) wantSignedOut(t *testing.T, path, who string) {
	t.Helper()
	if p := a.get(a.s.URL + path); p.url.Path != "/login" {
		t.Errorf("%s is still signed in: %s answered %d at %s", who, path, p.status, p.url)
	}
}
