package signin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// invitationRules is what the invitation pages need of provider/teams.
type invitationRules interface {
	LookupInvitation(ctx context.Context, token string) (*teams.Invitation, error)
	Accept(ctx context.Context, a audit.Actor, token string) (*teams.Invitation, error)
	AcceptAsNewPerson(ctx context.Context, a audit.Actor, token, name, password string) (*storage.User, *teams.Invitation, error)
}

// sessionOrgs is what joining needs of storage: the browser then works in
// the organization joined.
type sessionOrgs interface {
	SetSessionOrg(ctx context.Context, token, orgID string) error
}

// Invitations serves the link of an invitation mail
// (/invitations/accept?token=…). Following it only shows a page — the
// organization, the role and who invited — so mail scanners do not use it
// up. Signed in with the invited address, its button joins; signed in
// with another, the page says so and joins nothing; signed out, the
// person signs in to accept, or creates their account with the invited
// address, which counts as verified since the link came by mail.
type Invitations struct {
	*site
	store sessionOrgs
	teams invitationRules
}

// Mount registers /invitations/accept and its forms.
func (v *Invitations) Mount(r *mux.Router) {
	r.HandleFunc(teams.PathAccept, v.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(teams.PathAccept, v.accept).Methods(http.MethodPost)
	r.HandleFunc(teams.PathAccept+"/signup", v.signUp).Methods(http.MethodPost)
}

// invitationPage is the page of an invitation link, by Mode: "join" (the
// invited person is signed in: a button), "wrong" (someone else is signed
// in), "new" (signed out: sign in, or create the account) and "exists"
// (signed out, and the address has an account: sign in).
type invitationPage struct {
	web.BasePage
	Mode       string
	Token      string
	Invitation *teams.Invitation
	RoleLabel  string
	Expires    string
	// LoginURL signs in and comes back here, the address filled in.
	LoginURL string
	// Name is the account form's name as typed; Errors its problems, by
	// field ("name", "password", "form").
	Name   string
	Errors map[string]string
}

// MinPassword is the password policy's shortest password, for the
// account form's hint and its minlength.
func (invitationPage) MinPassword() int { return accounts.MinPasswordLength }

// linkProblem answers a link whose invitation cannot be used: 404 for a
// link without a token, 410 for one that is no longer (or never was)
// valid — expired, used, revoked or mistyped, which the rules do not tell
// apart.
func (v *Invitations) linkProblem(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case err == nil || errors.Is(err, teams.ErrInvitationInvalid) || errors.Is(err, storage.ErrNotFound):
		status := http.StatusGone
		if err == nil {
			status = http.StatusNotFound
		}
		v.kit.RenderError(w, r, status, "This invitation link does not work",
			"It may have expired (links work for 24 hours), been used already or been revoked. Ask the person who invited you to send a new one.", "")
	default:
		v.kit.ServerErrorPage(w, r, "invitation", err)
	}
}

// wrongAccount refuses an invitation for another address than the
// signed-in person's: nothing is joined, and the page offers to sign out.
func (v *Invitations) wrongAccount(w http.ResponseWriter, r *http.Request, user *storage.User, token string, inv *teams.Invitation) {
	v.kit.Log.InfoContext(r.Context(), "invitation refused: another account is signed in", "user_id", user.ID)
	v.render(w, r, http.StatusForbidden, user, invitationPage{Mode: "wrong", Token: token, Invitation: inv})
}

func (v *Invitations) render(w http.ResponseWriter, r *http.Request, status int, user *storage.User, page invitationPage) {
	title := "Join an organization"
	if page.Invitation != nil {
		title = "Join " + page.Invitation.OrgName
		page.RoleLabel = tenancy.RoleWithArticle(page.Invitation.Role)
		page.Expires = page.Invitation.ExpiresAt.UTC().Format("2 Jan 2006 15:04 UTC")
		back := teams.PathAccept + "?" + url.Values{"token": {page.Token}}.Encode()
		page.LoginURL = v.kit.Base + "/login?" + url.Values{"return_to": {back}, "login_hint": {page.Invitation.Email}}.Encode()
	}
	page.BasePage = v.kit.Page(w, r, title, user)
	w.Header().Set("Cache-Control", "no-store")
	v.kit.Render(w, r, status, "invitation", page)
}

// invitationActor is who acts on an invitation, for the rules and the
// audit log: the signed-in person, or nobody yet.
func invitationActor(r *http.Request, u *storage.User) audit.Actor {
	a := audit.Actor{IP: web.ClientIP(r.Context()), UserAgent: r.UserAgent()}
	if u != nil {
		a.UserID, a.Email = u.ID, u.Email
	}
	return a
}

func (v *Invitations) show(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if token == "" {
		v.linkProblem(w, r, nil)
		return
	}
	inv, err := v.teams.LookupInvitation(r.Context(), token)
	if err != nil {
		v.linkProblem(w, r, err)
		return
	}
	_, user, err := v.kit.CurrentUser(r)
	if err != nil {
		v.kit.ServerErrorPage(w, r, "load session", err)
		return
	}
	switch {
	case user == nil:
		v.render(w, r, http.StatusOK, nil, invitationPage{Mode: "new", Token: token, Invitation: inv})
	case !strings.EqualFold(user.Email, inv.Email):
		v.wrongAccount(w, r, user, token, inv)
	default:
		v.render(w, r, http.StatusOK, user, invitationPage{Mode: "join", Token: token, Invitation: inv})
	}
}

// accept is the Join button: the signed-in person becomes a member with
// the invitation's role and this browser works in the organization.
func (v *Invitations) accept(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		v.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		v.linkProblem(w, r, nil)
		return
	}
	back := teams.PathAccept + "?" + url.Values{"token": {token}}.Encode()
	_, user, ok := v.kit.RequireUser(w, r, back)
	if !ok {
		return
	}
	inv, err := v.teams.Accept(ctx, invitationActor(r, user), token)
	switch {
	case errors.Is(err, teams.ErrWrongAccount):
		looked, lookErr := v.teams.LookupInvitation(ctx, token)
		if lookErr != nil {
			v.linkProblem(w, r, lookErr)
			return
		}
		v.wrongAccount(w, r, user, token, looked)
		return
	case errors.Is(err, teams.ErrAlreadyMember):
		v.kit.RenderError(w, r, http.StatusConflict, "You are a member already",
			"You belong to this organization already; the invitation changes nothing. Switch to it from its Team page.", "")
		return
	case err != nil:
		v.linkProblem(w, r, err)
		return
	}
	v.joined(w, r, user, inv)
}

// joined has the browser work in the organization just joined and shows
// its team page.
func (v *Invitations) joined(w http.ResponseWriter, r *http.Request, user *storage.User, inv *teams.Invitation) {
	ctx := r.Context()
	if err := v.store.SetSessionOrg(ctx, v.kit.Cookie(r, web.SessionCookie), inv.OrgID); err != nil {
		v.kit.Log.ErrorContext(ctx, "switch to the organization joined", "err", err)
		http.Redirect(w, r, v.kit.Base+"/", http.StatusSeeOther)
		return
	}
	v.kit.Log.InfoContext(ctx, "joined organization", "user_id", user.ID, "org_id", inv.OrgID)
	http.Redirect(w, r, v.kit.Base+"/settings/team?done=joined", http.StatusSeeOther)
}

// signUp is the account form of a signed-out person: it creates the
// person with the invitation's address (verified), a member with its
// role, and signs them in.
func (v *Invitations) signUp(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		v.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	token, name, password := r.PostForm.Get("token"), strings.TrimSpace(r.PostForm.Get("name")), r.PostForm.Get("password")
	if token == "" {
		v.linkProblem(w, r, nil)
		return
	}
	inv, err := v.teams.LookupInvitation(ctx, token)
	if err != nil {
		v.linkProblem(w, r, err)
		return
	}
	refuse := func(status int, mode string, problems map[string]string) {
		v.render(w, r, status, nil, invitationPage{Mode: mode, Token: token, Invitation: inv, Name: name, Errors: problems})
	}
	if problems := append(accounts.CheckName(name), accounts.CheckPassword(password, inv.Email)...); len(problems) > 0 {
		refuse(http.StatusBadRequest, "new", signupProblems(problems))
		return
	}
	user, joined, err := v.teams.AcceptAsNewPerson(ctx, invitationActor(r, nil), token, name, password)
	var problems fields.Errors
	switch {
	case errors.As(err, &problems):
		refuse(http.StatusBadRequest, "new", signupProblems(problems))
		return
	case errors.Is(err, teams.ErrAccountExists):
		refuse(http.StatusConflict, "exists", nil)
		return
	case errors.Is(err, accounts.ErrBusy):
		v.passwordsBusy(w, r)
		return
	case err != nil:
		v.linkProblem(w, r, err)
		return
	}
	if _, err := v.kit.StartSession(w, r, user.ID); err != nil {
		v.kit.ServerErrorPage(w, r, "start session", err)
		return
	}
	v.rememberDevice(w, r, accountThrottleKey(user.Email))
	v.kit.Log.InfoContext(ctx, "signed up through an invitation", "user_id", user.ID, "org_id", joined.OrgID)
	v.joined(w, r, user, joined)
}
