package settings

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

const teamPath = "/settings/team"

// teamRules is what the team page needs of provider/teams: the members
// and invitations of an organization, and changing them. Every method
// checks the actor's role itself; the page only leaves out the forms the
// role could not use.
type teamRules interface {
	Members(ctx context.Context, a audit.Actor, orgID string) ([]teams.Member, error)
	Invitations(ctx context.Context, a audit.Actor, orgID string) ([]teams.Invitation, error)
	Invite(ctx context.Context, a audit.Actor, orgID, email, role string) (*teams.Invitation, error)
	ResendInvitation(ctx context.Context, a audit.Actor, orgID, invitationID string) error
	RevokeInvitation(ctx context.Context, a audit.Actor, orgID, invitationID string) error
	SetRole(ctx context.Context, a audit.Actor, orgID, userID, role string) error
	Remove(ctx context.Context, a audit.Actor, orgID, userID string) error
}

// Team serves /settings/team: the members of the organization the person
// works in, with their roles and when they joined, its pending
// invitations, and — as far as the person's role allows (teams.Can) —
// inviting by email, resending and revoking invitations, changing roles
// and removing people; anyone may leave.
type Team struct {
	*site
	store sessionOrgSetter
	teams teamRules
}

// Mount registers /settings/team and its forms.
func (p *Team) Mount(r *mux.Router) {
	r.HandleFunc(teamPath, p.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(teamPath+"/org", p.switchOrg).Methods(http.MethodPost)
	r.HandleFunc(teamPath+"/invitations", p.invite).Methods(http.MethodPost)
	r.HandleFunc(teamPath+"/invitations/{id}/resend", p.resend).Methods(http.MethodPost)
	r.HandleFunc(teamPath+"/invitations/{id}/revoke", p.revoke).Methods(http.MethodPost)
	r.HandleFunc(teamPath+"/members/{id}/role", p.setRole).Methods(http.MethodPost)
	r.HandleFunc(teamPath+"/members/{id}/remove", p.remove).Methods(http.MethodPost)
	r.HandleFunc(teamPath+"/leave", p.leave).Methods(http.MethodPost)
}

// roles are the roles, most powerful first, with their words.
var roles = []struct{ Value, Label string }{
	{storage.RoleOwner, "Owner"},
	{storage.RoleAdmin, "Admin"},
	{storage.RoleMember, "Member"},
}

func roleLabel(role string) string {
	for _, r := range roles {
		if r.Value == role {
			return r.Label
		}
	}
	return role
}

// teamPage is the list of members and invitations with the forms the
// viewer's role may use.
type teamPage struct {
	web.BasePage
	// Org is where the person works; nil when they belong to none.
	Org  *storage.MemberOrg
	Orgs []storage.MemberOrg
	// Notice says what the last change did.
	Notice  string
	Members []memberRow
	// ShowInvitations: the viewer may see the pending invitations.
	ShowInvitations bool
	Invitations     []invitationRow
	// InviteRoles are the roles the viewer may invite; none: no form.
	InviteRoles []option
	Invite      inviteForm
	// IsOwner: a link to the organization's settings.
	IsOwner bool
}

// OrgSwitchPath is where the organization switcher posts.
func (teamPage) OrgSwitchPath() string { return teamPath + "/org" }

// inviteForm is the invite form as typed, with what is wrong with it.
type inviteForm struct {
	Email  string
	Errors map[string]string // "email", "role", "form"
}

// memberRow is one member as the list shows them.
type memberRow struct {
	UserID, Name, Email, Role, RoleLabel, Joined string
	You                                          bool
	// Roles are the choices of the role form, the current one selected;
	// nil when the viewer may not change this person's role.
	Roles []option
	// RoleError is what was wrong with the last role change of this row.
	RoleError string
	CanRemove bool
}

// invitationRow is one pending invitation.
type invitationRow struct {
	ID, Email, Role, RoleLabel, Sent, Expires string
	CanResend, CanRevoke                      bool
}

// teamNotices are the page's words after each change (?done=...).
var teamNotices = map[string]string{
	"invited": "Invitation sent. The link in it works for 24 hours.",
	"unsent":  "The invitation is saved, but its mail could not be sent. Use Resend to try again.",
	"resent":  "Invitation sent again with a new link; the old link no longer works.",
	"revoked": "Invitation revoked: its link no longer works.",
	"role":    "Role changed. It applies at once, to their keys and apps too.",
	"removed": "Removed from the organization: their sessions, keys and app access there are revoked.",
	"joined":  "Welcome! You are now a member of this organization.",
	"created": "Organization created. You are its owner.",
	"renamed": "Organization renamed.",
}

// actorOf is who acts in a request, for the rules and the audit log.
func actorOf(r *http.Request, u *storage.User) audit.Actor {
	return audit.Actor{UserID: u.ID, Email: u.Email, IP: web.ClientIP(r.Context()), UserAgent: r.UserAgent()}
}

// dateOf is how the team page writes a day.
func dateOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006")
}

// timeOf is how the team page writes a moment.
func timeOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2 Jan 2006 15:04 UTC")
}

// page builds the page of ws: its members and, for those who may see
// them, its invitations, with the forms the viewer's role allows.
func (p *Team) page(w http.ResponseWriter, r *http.Request, ws *workspace) (teamPage, error) {
	page := teamPage{BasePage: p.kit.Page(w, r, "Team", ws.user), Org: ws.org, Orgs: ws.orgs}
	if ws.org == nil {
		return page, nil
	}
	ctx, a, role := r.Context(), actorOf(r, ws.user), ws.org.Role
	page.IsOwner = role == storage.RoleOwner
	members, err := p.teams.Members(ctx, a, ws.org.ID)
	if err != nil {
		return page, err
	}
	for _, m := range members {
		page.Members = append(page.Members, newMemberRow(m, role, ws.user.ID))
	}
	for _, r := range roles {
		if teams.Can(role, teams.ActInvite, r.Value) {
			page.InviteRoles = append(page.InviteRoles, option{Value: r.Value, Label: r.Label})
		}
	}
	if n := len(page.InviteRoles); n > 0 {
		page.InviteRoles[n-1].Selected = true // the least powerful role by default
	}
	if !teams.Can(role, teams.ActRevokeInvitation, "") && len(page.InviteRoles) == 0 {
		return page, nil
	}
	page.ShowInvitations = true
	invitations, err := p.teams.Invitations(ctx, a, ws.org.ID)
	if err != nil {
		return page, err
	}
	for _, inv := range invitations {
		page.Invitations = append(page.Invitations, invitationRow{ID: inv.ID, Email: inv.Email, Role: inv.Role, RoleLabel: roleLabel(inv.Role),
			Sent: timeOf(inv.CreatedAt), Expires: timeOf(inv.ExpiresAt),
			CanResend: teams.Can(role, teams.ActInvite, inv.Role), CanRevoke: teams.Can(role, teams.ActRevokeInvitation, inv.Role)})
	}
	return page, nil
}

// newMemberRow is m as a viewer with role sees them: the role form lists
// the roles the viewer may move m between (none: no form), and Remove is
// there when the viewer may remove m (for oneself it is Leave instead).
func newMemberRow(m teams.Member, viewerRole, viewerID string) memberRow {
	row := memberRow{UserID: m.UserID, Name: m.Name, Email: m.Email, Role: m.Role, RoleLabel: roleLabel(m.Role),
		Joined: dateOf(m.JoinedAt), You: m.UserID == viewerID}
	if teams.Can(viewerRole, teams.ActChangeRole, m.Role) {
		for _, r := range roles {
			if r.Value == m.Role || teams.Can(viewerRole, teams.ActChangeRole, r.Value) {
				row.Roles = append(row.Roles, option{Value: r.Value, Label: r.Label, Selected: r.Value == m.Role})
			}
		}
		if len(row.Roles) < 2 {
			row.Roles = nil
		}
	}
	row.CanRemove = !row.You && teams.Can(viewerRole, teams.ActRemove, m.Role)
	return row
}

func (p *Team) show(w http.ResponseWriter, r *http.Request) {
	ws, ok := p.workspace(w, r, p.store, teamPath)
	if !ok {
		return
	}
	page, err := p.page(w, r, ws)
	if err != nil {
		p.problem(w, r, "load team", err)
		return
	}
	page.Notice = teamNotices[r.URL.Query().Get("done")]
	if r.URL.Query().Get("switched") == "1" && ws.org != nil {
		page.Notice = "You now work in " + ws.org.Name + "."
	}
	p.kit.Render(w, r, http.StatusOK, "team", page)
}

func (p *Team) switchOrg(w http.ResponseWriter, r *http.Request) {
	p.site.switchOrg(w, r, p.store, teamPath)
}

// inOrg reads the form and finds the person and the organization they
// work in; on failure it has answered.
func (p *Team) inOrg(w http.ResponseWriter, r *http.Request) (*workspace, bool) {
	if !p.parseForm(w, r) {
		return nil, false
	}
	ws, ok := p.workspace(w, r, p.store, teamPath)
	if !ok {
		return nil, false
	}
	if ws.org == nil {
		p.kit.RenderError(w, r, http.StatusNotFound, "Organization not found", "You do not belong to an organization.", "")
		return nil, false
	}
	return ws, true
}

// done sends the browser back to the team page, which says what happened.
func (p *Team) done(w http.ResponseWriter, r *http.Request, what string) {
	http.Redirect(w, r, p.kit.Base+teamPath+"?done="+what, http.StatusSeeOther)
}

// problem answers an error of provider/teams that no form shows: a
// readable page with the status it deserves.
func (p *Team) problem(w http.ResponseWriter, r *http.Request, what string, err error) {
	orgProblem(p.site, w, r, what, err)
}

// orgProblem is the readable answer to an error of provider/teams on the
// settings surface.
func orgProblem(s *site, w http.ResponseWriter, r *http.Request, what string, err error) {
	switch {
	case errors.Is(err, teams.ErrLastOwner):
		s.kit.RenderError(w, r, http.StatusConflict, "Transfer ownership first",
			"An organization needs an owner: its last owner can neither leave, be removed nor become an admin or member. Make someone else an owner first, then try again.", "")
	case errors.Is(err, teams.ErrForbidden):
		s.kit.RenderError(w, r, http.StatusForbidden, "Your role does not allow this",
			"Only an owner (or, for some changes, an admin) of the organization can do that. Ask one of its owners.", "")
	case errors.Is(err, tenancy.ErrNotMember):
		s.kit.RenderError(w, r, http.StatusNotFound, "Member not found", "That person is not a member of this organization.", "")
	case errors.Is(err, teams.ErrInvitationInvalid), errors.Is(err, storage.ErrNotFound):
		s.kit.RenderError(w, r, http.StatusNotFound, "Invitation not found", "That invitation was accepted, revoked or has expired.", "")
	case errors.Is(err, teams.ErrInvalidRole):
		s.kit.RenderError(w, r, http.StatusBadRequest, "Choose a role", "A role is owner, admin or member.", "")
	default:
		s.kit.ServerErrorPage(w, r, what, err)
	}
}

// again shows the page once more with the forms as they were typed and
// what was wrong with them.
func (p *Team) again(w http.ResponseWriter, r *http.Request, ws *workspace, status int, fix func(*teamPage)) {
	page, err := p.page(w, r, ws)
	if err != nil {
		p.problem(w, r, "load team", err)
		return
	}
	fix(&page)
	p.kit.Render(w, r, status, "team", page)
}

func (p *Team) invite(w http.ResponseWriter, r *http.Request) {
	ws, ok := p.inOrg(w, r)
	if !ok {
		return
	}
	email, role := strings.TrimSpace(r.PostForm.Get("email")), r.PostForm.Get("role")
	formError := func(status int, field, message string) {
		p.again(w, r, ws, status, func(page *teamPage) {
			page.Invite = inviteForm{Email: email, Errors: map[string]string{field: message}}
			for i := range page.InviteRoles {
				page.InviteRoles[i].Selected = page.InviteRoles[i].Value == role
			}
		})
	}
	switch {
	case email == "":
		formError(http.StatusBadRequest, "email", "Enter the email address of the person to invite.")
		return
	case !teams.ValidRole(role):
		formError(http.StatusBadRequest, "role", "Choose a role: owner, admin or member.")
		return
	}
	_, err := p.teams.Invite(r.Context(), actorOf(r, ws.user), ws.org.ID, email, role)
	var problems fields.Errors
	switch {
	case err == nil:
		p.kit.Log.InfoContext(r.Context(), "member invited", "org_id", ws.org.ID, "role", role)
		p.done(w, r, "invited")
	case errors.Is(err, teams.ErrNotSent):
		p.kit.Log.ErrorContext(r.Context(), "invitation mail not queued", "err", err)
		p.done(w, r, "unsent")
	case errors.Is(err, teams.ErrInvalidEmail):
		formError(http.StatusBadRequest, "email", "Enter a valid email address, like name@example.com.")
	case errors.As(err, &problems):
		field, message := "email", "Enter a valid email address, like name@example.com."
		if len(problems) > 0 && problems[0].Field != "email" {
			field, message = "form", problems[0].Sentence()
		}
		formError(http.StatusBadRequest, field, message)
	case errors.Is(err, teams.ErrAlreadyMember):
		formError(http.StatusBadRequest, "email", "That person is a member of "+ws.org.Name+" already.")
	case errors.Is(err, teams.ErrInvalidRole):
		formError(http.StatusBadRequest, "role", "Choose a role: owner, admin or member.")
	case errors.Is(err, teams.ErrMailDisabled):
		formError(http.StatusServiceUnavailable, "form", "This server sends no mail, so it cannot send invitations. Ask the people who run it.")
	default:
		p.problem(w, r, "invite member", err)
	}
}

func (p *Team) resend(w http.ResponseWriter, r *http.Request) {
	ws, ok := p.inOrg(w, r)
	if !ok {
		return
	}
	err := p.teams.ResendInvitation(r.Context(), actorOf(r, ws.user), ws.org.ID, mux.Vars(r)["id"])
	switch {
	case err == nil:
		p.done(w, r, "resent")
	case errors.Is(err, teams.ErrNotSent):
		p.kit.Log.ErrorContext(r.Context(), "invitation mail not queued", "err", err)
		p.done(w, r, "unsent")
	case errors.Is(err, teams.ErrMailDisabled):
		p.kit.RenderError(w, r, http.StatusServiceUnavailable, "No mail", "This server sends no mail, so it cannot send invitations.", "")
	default:
		p.problem(w, r, "resend invitation", err)
	}
}

func (p *Team) revoke(w http.ResponseWriter, r *http.Request) {
	ws, ok := p.inOrg(w, r)
	if !ok {
		return
	}
	if err := p.teams.RevokeInvitation(r.Context(), actorOf(r, ws.user), ws.org.ID, mux.Vars(r)["id"]); err != nil {
		p.problem(w, r, "revoke invitation", err)
		return
	}
	p.done(w, r, "revoked")
}

func (p *Team) setRole(w http.ResponseWriter, r *http.Request) {
	ws, ok := p.inOrg(w, r)
	if !ok {
		return
	}
	userID, role := mux.Vars(r)["id"], r.PostForm.Get("role")
	roleError := func(message string) {
		p.again(w, r, ws, http.StatusBadRequest, func(page *teamPage) {
			for i := range page.Members {
				if page.Members[i].UserID == userID {
					page.Members[i].RoleError = message
				}
			}
		})
	}
	if !teams.ValidRole(role) {
		roleError("Choose a role: owner, admin or member.")
		return
	}
	err := p.teams.SetRole(r.Context(), actorOf(r, ws.user), ws.org.ID, userID, role)
	switch {
	case err == nil:
		p.kit.Log.InfoContext(r.Context(), "role changed", "org_id", ws.org.ID, "user_id", userID, "role", role)
		p.done(w, r, "role")
	case errors.Is(err, teams.ErrInvalidRole):
		roleError("Choose a role: owner, admin or member.")
	default:
		p.problem(w, r, "change role", err)
	}
}

func (p *Team) remove(w http.ResponseWriter, r *http.Request) {
	ws, ok := p.inOrg(w, r)
	if !ok {
		return
	}
	userID := mux.Vars(r)["id"]
	if userID == ws.user.ID {
		p.leave(w, r)
		return
	}
	if err := p.teams.Remove(r.Context(), actorOf(r, ws.user), ws.org.ID, userID); err != nil {
		p.problem(w, r, "remove member", err)
		return
	}
	p.kit.Log.InfoContext(r.Context(), "member removed", "org_id", ws.org.ID, "user_id", userID)
	p.done(w, r, "removed")
}

// leave takes the person out of the organization they work in. They
// stay signed in, and this browser moves to another organization of
// theirs (a personal one, made for them, when they are left in none).
func (p *Team) leave(w http.ResponseWriter, r *http.Request) {
	ws, ok := p.inOrg(w, r)
	if !ok {
		return
	}
	ctx, left := r.Context(), ws.org.ID
	if err := p.teams.Remove(ctx, actorOf(r, ws.user), left, ws.user.ID); err != nil {
		p.problem(w, r, "leave organization", err)
		return
	}
	p.kit.Log.InfoContext(ctx, "left organization", "org_id", left, "user_id", ws.user.ID)
	if orgs, err := p.store.UserOrganizations(ctx, ws.user.ID); err != nil {
		p.kit.Log.WarnContext(ctx, "load organizations after leaving one", "err", err)
	} else if len(orgs) > 0 {
		if err := p.store.SetSessionOrg(ctx, p.kit.Cookie(r, web.SessionCookie), orgs[0].ID); err != nil {
			p.kit.Log.WarnContext(ctx, "switch organization after leaving one", "err", err)
		}
	}
	http.Redirect(w, r, p.kit.Base+"/?left=1", http.StatusSeeOther)
}
