package e2e

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Teams in a real browser, with the invitation mail arriving at a real
// SMTP server: an owner builds a team — a new person and one who has an
// account join through the mail's link, someone else's account is
// refused — and changes a role and removes a member, which their API key
// and their app's refresh token feel at once, on another instance too.

const teamPassword = "a long enough password"

// An owner invites someone new: the link in the mail opens a page naming
// the organization, the role and the owner; creating the account there
// makes them a member, signed in, with the address verified and no
// organization of their own.
func TestBrowserInviteANewPerson(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner, org := s.signUp(t, "olga@example.com", "Olga", teamPassword, "Acme")
		br := newBrowser(t)
		signInToAccount(t, br, s, owner.Email, teamPassword)
		link := inviteIn(t, br, s, "newbie@example.com", storage.RoleMember)

		invitee := isolatedBrowser(t, br)
		if mode := openInvitation(t, invitee, s, link, "Acme", "a member", "Olga", http.StatusOK); mode != "new" {
			t.Fatalf("signed out, the invitation page is in mode %q, want new", mode)
		}
		if got := fieldValue(t, invitee, "email"); got != "newbie@example.com" {
			t.Errorf("the account form's address is %q, want the invited one", got)
		}
		const password = "the newbie's passphrase"
		invitee.do(t, "fill in the account form", steps(typeInto("name", "Nina Newbie"), typeInto("password", password))...)
		invitee.follow(t, "create the account", chromedp.Click(chromedp.ID("create-and-join")))
		expectPath(t, invitee, s, teamPath)
		if got := shownText(t, invitee, "#notice"); !strings.Contains(got, "You are now a member") {
			t.Errorf("after joining, the page says %q", got)
		}
		if got := shownText(t, invitee, "#org-name"); got != "Acme" {
			t.Errorf("after joining, the browser works in %q", got)
		}
		if got := shownText(t, invitee, "#me .member-role"); got != "Member" {
			t.Errorf("the newcomer's own row says %q", got)
		}

		nina, err := s.Store.UserByEmail(t.Context(), "newbie@example.com")
		if err != nil {
			t.Fatalf("the new person is not stored: %v", err)
		}
		if !nina.EmailVerified || nina.Name != "Nina Newbie" {
			t.Errorf("the new person: verified %v, name %q; want verified, Nina Newbie", nina.EmailVerified, nina.Name)
		}
		if got := s.role(t, org, nina); got != storage.RoleMember {
			t.Errorf("the new person's role in Acme is %q, want member", got)
		}
		if got := s.orgNames(t, nina); !slices.Equal(got, []string{"Acme"}) {
			t.Errorf("the new person belongs to %v, want Acme alone", got)
		}

		// The link worked once; the owner sees the newcomer and no
		// pending invitation.
		if resp := isolatedBrowser(t, br).open(t, link); resp.Status != http.StatusGone {
			t.Errorf("the used link: status %d, want 410", resp.Status)
		}
		openTeam(t, br, s)
		if got := shownText(t, br, memberRow(nina)+" .member-email"); got != "newbie@example.com" {
			t.Errorf("the owner's team page lists %q", got)
		}
		if br.count(t, "#invitations [data-invitation]") != 0 {
			t.Error("the accepted invitation is still pending")
		}
		checkNoPageErrors(t, br, s)
		s.wantNotLogged(t, link, tokenOfLink(t, link), password, teamPassword)
	})
}

// An owner invites someone who has an account: signed out, the link
// offers to sign in, which comes back to it with the address filled in;
// their Join button makes them an admin of the organization besides
// their own, and the organization switcher lists both.
func TestBrowserInviteAnExistingPerson(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner, org := s.signUp(t, "olga@example.com", "Olga", teamPassword, "Acme")
		carol, _ := s.signUp(t, "carol@example.com", "Carol", teamPassword, "Carol's")
		br := newBrowser(t)
		signInToAccount(t, br, s, owner.Email, teamPassword)
		link := inviteIn(t, br, s, carol.Email, storage.RoleAdmin)

		invitee := isolatedBrowser(t, br)
		openInvitation(t, invitee, s, link, "Acme", "an admin", "Olga", http.StatusOK)
		invitee.follow(t, "sign in to accept", chromedp.Click(chromedp.ID("login-link")))
		expectPath(t, invitee, s, "/login")
		if got := fieldValue(t, invitee, "email"); got != carol.Email {
			t.Errorf("the sign-in page's address is %q, want the invited one", got)
		}
		invitee.do(t, "type the password", chromedp.SendKeys(chromedp.ID("password"), teamPassword))
		invitee.follow(t, "sign in", chromedp.Click(chromedp.ID("sign-in")))
		expectPath(t, invitee, s, teams.PathAccept)
		if s.role(t, org, carol) != "" {
			t.Fatal("signing in joined before the button was pressed")
		}
		invitee.follow(t, "join", chromedp.Click(chromedp.ID("join")))
		expectPath(t, invitee, s, teamPath)
		if got := shownText(t, invitee, "#org-name"); got != "Acme" {
			t.Errorf("after joining, the browser works in %q", got)
		}
		if got := s.role(t, org, carol); got != storage.RoleAdmin {
			t.Errorf("carol's role in Acme is %q, want admin", got)
		}
		if got := s.orgNames(t, carol); !slices.Equal(got, []string{"Acme", "Carol's"}) {
			t.Errorf("carol belongs to %v", got)
		}
		options := run(t, invitee, "list the switcher's organizations", chromedp.Evaluate[[]string](
			`[...document.querySelectorAll("#switch-org option")].map(o => o.textContent.trim())`))
		slices.Sort(options)
		if !slices.Equal(options, []string{"Acme (admin)", "Carol's (owner)"}) {
			t.Errorf("the organization switcher offers %v", options)
		}
		checkNoPageErrors(t, invitee, s)
		s.wantNotLogged(t, link, tokenOfLink(t, link), teamPassword)
	})
}

// Signed in as someone else, an invitation link is refused with a page
// that says so and offers to sign out; nothing is joined, by the page or
// by posting its form anyway, and the invited person can still use it.
func TestBrowserInvitationForAnotherAccountIsRefused(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner, org := s.signUp(t, "olga@example.com", "Olga", teamPassword, "Acme")
		eve, _ := s.signUp(t, "eve@example.com", "Eve", teamPassword, "Eve's")
		br := newBrowser(t)
		signInToAccount(t, br, s, owner.Email, teamPassword)
		link := inviteIn(t, br, s, "dave@example.com", storage.RoleMember)

		other := isolatedBrowser(t, br)
		signInToAccount(t, other, s, eve.Email, teamPassword)
		if mode := openInvitation(t, other, s, link, "Acme", "a member", "Olga", http.StatusForbidden); mode != "wrong" {
			t.Fatalf("another account's invitation page is in mode %q, want wrong", mode)
		}
		if got := shownText(t, other, "#wrong-account"); !strings.Contains(got, "This invitation is for another account.") {
			t.Errorf("the refusal reads %q", got)
		}
		if other.count(t, "#join") != 0 || other.count(t, "#sign-out") != 1 {
			t.Error("the refusal page offers to join, or no sign-out")
		}
		a := s.signedInAgent(t, eve.Email, teamPassword)
		p := a.get(link)
		if forged := a.post(s.URL+teams.PathAccept, url.Values{"csrf_token": {p.csrf(t)}, "token": {tokenOfLink(t, link)}}); forged.status != http.StatusForbidden {
			t.Errorf("posting the join form as another account: status %d, want 403", forged.status)
		}
		if got := s.role(t, org, eve); got != "" {
			t.Errorf("eve became %q of Acme", got)
		}
		other.follow(t, "sign out", chromedp.Click(chromedp.ID("sign-out")))
		if mode := openInvitation(t, other, s, link, "Acme", "a member", "Olga", http.StatusOK); mode != "new" {
			t.Errorf("signed out, the link is in mode %q, want new: it still works", mode)
		}
		checkNoPageErrors(t, br, s)
		s.wantNotLogged(t, link, tokenOfLink(t, link), teamPassword)
	})
}

// Changes to a member take effect at once, on every instance: an admin
// holds an sk_live_ key with team:manage and an app's refresh token;
// lowered to member on one instance, the key introspects on the other
// without team:manage; removed, the key and the refresh token are
// inactive there, and their browser is signed out of the organization.
func TestBrowserRoleChangeAndRemovalTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s, other := newSharedServers(t, b)
		owner, org := s.signUp(t, "olga@example.com", "Olga", teamPassword, "Acme")
		mallory := s.addMember(t, org, "mallory@example.com", "Mallory", storage.RoleAdmin)
		keys := s.openAPIKeys(t, mallory.Email)
		_, key := keys.mustCreate("deploys", "read", "team:manage")
		_, tok := s.appRefreshToken(t, mallory.Email, keyPassword)
		rsID, rsSecret := s.resourceServer(t)

		before := other.introspected(t, rsID, rsSecret, key)
		if !before.active || !slices.Contains(before.scopes, "team:manage") {
			t.Fatalf("before any change, the other instance introspects the key as %+v, want active with team:manage", before)
		}
		if !other.introspected(t, rsID, rsSecret, tok.RefreshToken).active {
			t.Fatal("before any change, the refresh token is inactive on the other instance")
		}

		br := newBrowser(t)
		signInToAccount(t, br, s, owner.Email, teamPassword)
		changeRoleIn(t, br, s, mallory, storage.RoleMember)
		lowered := other.introspected(t, rsID, rsSecret, key)
		if !lowered.active || slices.Contains(lowered.scopes, "team:manage") || !slices.Contains(lowered.scopes, "read") {
			t.Errorf("lowered to member, the key introspects on the other instance as %+v, want active with read and without team:manage", lowered)
		}

		removeIn(t, br, s, mallory)
		if got := s.role(t, org, mallory); got != "" {
			t.Errorf("after the removal mallory is still %s of Acme", got)
		}
		if got := other.introspected(t, rsID, rsSecret, key); got.active {
			t.Errorf("after the removal, the other instance introspects the key as %+v, want inactive", got)
		}
		if got := other.introspected(t, rsID, rsSecret, tok.RefreshToken); got.active {
			t.Errorf("after the removal, the other instance introspects the refresh token as %+v, want inactive", got)
		}
		keys.a.wantSignedOut(t, keysPath, "the removed member's browser")
		checkNoPageErrors(t, br, s)
		s.wantNotLogged(t, key, tok.RefreshToken, teamPassword, keyPassword)
		other.wantNotLogged(t, key, tok.RefreshToken)
	})
}
