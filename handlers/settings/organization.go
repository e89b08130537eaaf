package settings

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
)

const (
	organizationPath  = "/settings/organization"
	organizationsPath = "/settings/organizations"
)

// orgRules is what the organization pages need of provider/teams.
type orgRules interface {
	CreateOrganization(ctx context.Context, a audit.Actor, name, ownerID string) (*storage.Organization, error)
	Rename(ctx context.Context, a audit.Actor, orgID, name string) error
	DeleteOrganization(ctx context.Context, a audit.Actor, orgID string) error
}

// Organization serves the organization the person works in —
// /settings/organization, renaming and deleting it, for its owners only —
// and creating a new one (/settings/organizations, from the account page),
// which the person owns and then works in.
type Organization struct {
	*site
	store sessionOrgSetter
	teams orgRules
	home  *Home
}

// Mount registers /settings/organization, its forms, and
// /settings/organizations.
func (o *Organization) Mount(r *mux.Router) {
	r.HandleFunc(organizationPath, o.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(organizationPath+"/org", o.switchOrg).Methods(http.MethodPost)
	r.HandleFunc(organizationPath+"/name", o.rename).Methods(http.MethodPost)
	r.HandleFunc(organizationPath+"/delete", o.delete).Methods(http.MethodPost)
	r.HandleFunc(organizationsPath, o.create).Methods(http.MethodPost)
}

// organizationPage is the owner's settings of an organization: its name,
// and deleting it once its name is typed.
type organizationPage struct {
	web.BasePage
	Org    *storage.MemberOrg
	Orgs   []storage.MemberOrg
	Notice string
	// Name is the rename form's value, Confirm the delete form's.
	Name, Confirm string
	// Errors are by form: "name", "confirm".
	Errors map[string]string
}

// OrgSwitchPath is where the organization switcher posts.
func (organizationPage) OrgSwitchPath() string { return organizationPath + "/org" }

// owned finds the organization the person works in and checks that they
// own it: others get a 403 page (and a person in none a 404).
func (o *Organization) owned(w http.ResponseWriter, r *http.Request, act teams.Action) (*workspace, bool) {
	ws, ok := o.workspace(w, r, o.store, organizationPath)
	if !ok {
		return nil, false
	}
	switch {
	case ws.org == nil:
		o.kit.RenderError(w, r, http.StatusNotFound, "Organization not found", "You do not belong to an organization.", "")
		return nil, false
	case !teams.Can(ws.org.Role, act, ""):
		o.kit.RenderError(w, r, http.StatusForbidden, "Only owners can change the organization",
			"Renaming or deleting "+ws.org.Name+" is for its owners. Ask one of them.", "")
		return nil, false
	}
	return ws, true
}

func (o *Organization) render(w http.ResponseWriter, r *http.Request, status int, ws *workspace, page organizationPage) {
	page.BasePage = o.kit.Page(w, r, "Organization settings", ws.user)
	page.Org, page.Orgs = ws.org, ws.orgs
	o.kit.Render(w, r, status, "organization", page)
}

func (o *Organization) show(w http.ResponseWriter, r *http.Request) {
	ws, ok := o.owned(w, r, teams.ActRename)
	if !ok {
		return
	}
	page := organizationPage{Name: ws.org.Name}
	switch {
	case r.URL.Query().Get("done") == "renamed":
		page.Notice = "Organization renamed."
	case r.URL.Query().Get("switched") == "1":
		page.Notice = "You now work in " + ws.org.Name + "."
	}
	o.render(w, r, http.StatusOK, ws, page)
}

func (o *Organization) switchOrg(w http.ResponseWriter, r *http.Request) {
	o.site.switchOrg(w, r, o.store, organizationPath)
}

// nameProblem is what is wrong with an organization's name, in the
// page's words, or "".
func nameProblem(name string) string {
	if strings.TrimSpace(name) == "" {
		return "Enter a name for the organization."
	}
	if err := storage.ValidateOrgName(name); err != nil {
		return fields.Sentence("the name " + err.Error())
	}
	return ""
}

// nameRefused says why the rules refused a name, or "" when err is not
// about the name.
func nameRefused(err error) (int, string) {
	var problems fields.Errors
	switch {
	case errors.Is(err, storage.ErrOrgNameTaken), errors.Is(err, storage.ErrConflict):
		return http.StatusConflict, "That name is taken. Choose another one."
	case errors.As(err, &problems) && len(problems) > 0:
		return http.StatusBadRequest, problems[0].Sentence()
	}
	return 0, ""
}

func (o *Organization) rename(w http.ResponseWriter, r *http.Request) {
	if !o.parseForm(w, r) {
		return
	}
	ws, ok := o.owned(w, r, teams.ActRename)
	if !ok {
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	refuse := func(status int, message string) {
		o.render(w, r, status, ws, organizationPage{Name: name, Errors: map[string]string{"name": message}})
	}
	if msg := nameProblem(name); msg != "" {
		refuse(http.StatusBadRequest, msg)
		return
	}
	err := o.teams.Rename(r.Context(), actorOf(r, ws.user), ws.org.ID, name)
	if status, msg := nameRefused(err); msg != "" {
		refuse(status, msg)
		return
	} else if err != nil {
		orgProblem(o.site, w, r, "rename organization", err)
		return
	}
	o.kit.Log.InfoContext(r.Context(), "organization renamed", "org_id", ws.org.ID)
	http.Redirect(w, r, o.kit.Base+organizationPath+"?done=renamed", http.StatusSeeOther)
}

// delete deletes the organization the person works in, once they typed
// its name: every key, app and grant of it is revoked. The browser goes
// to the account page, working in another organization of theirs.
func (o *Organization) delete(w http.ResponseWriter, r *http.Request) {
	if !o.parseForm(w, r) {
		return
	}
	ws, ok := o.owned(w, r, teams.ActDelete)
	if !ok {
		return
	}
	confirm := r.PostForm.Get("confirm")
	if strings.TrimSpace(confirm) != ws.org.Name {
		o.render(w, r, http.StatusBadRequest, ws, organizationPage{Name: ws.org.Name, Confirm: confirm,
			Errors: map[string]string{"confirm": "Type the organization's name exactly, " + ws.org.Name + ", to delete it."}})
		return
	}
	ctx := r.Context()
	if err := o.teams.DeleteOrganization(ctx, actorOf(r, ws.user), ws.org.ID); err != nil {
		orgProblem(o.site, w, r, "delete organization", err)
		return
	}
	o.kit.Log.InfoContext(ctx, "organization deleted", "org_id", ws.org.ID)
	if orgs, err := o.store.UserOrganizations(ctx, ws.user.ID); err == nil && len(orgs) > 0 {
		if err := o.store.SetSessionOrg(ctx, o.kit.Cookie(r, web.SessionCookie), orgs[0].ID); err != nil {
			o.kit.Log.WarnContext(ctx, "switch organization after deleting one", "err", err)
		}
	}
	http.Redirect(w, r, o.kit.Base+"/?deleted=1", http.StatusSeeOther)
}

// create makes a new organization the person owns, from the account
// page, and has this browser work in it.
func (o *Organization) create(w http.ResponseWriter, r *http.Request) {
	if !o.parseForm(w, r) {
		return
	}
	_, user, ok := o.kit.RequireUser(w, r, "/")
	if !ok {
		return
	}
	ctx := r.Context()
	name := strings.TrimSpace(r.PostForm.Get("name"))
	refuse := func(status int, message string) {
		o.home.render(w, r, status, user, func(p *homePage) { p.NewOrg, p.NewOrgError = name, message })
	}
	if msg := nameProblem(name); msg != "" {
		refuse(http.StatusBadRequest, msg)
		return
	}
	org, err := o.teams.CreateOrganization(ctx, actorOf(r, user), name, user.ID)
	if status, msg := nameRefused(err); msg != "" {
		refuse(status, msg)
		return
	} else if err != nil {
		orgProblem(o.site, w, r, "create organization", err)
		return
	}
	if err := o.store.SetSessionOrg(ctx, o.kit.Cookie(r, web.SessionCookie), org.ID); err != nil {
		o.kit.ServerErrorPage(w, r, "switch organization", err)
		return
	}
	o.kit.Log.InfoContext(ctx, "organization created", "org_id", org.ID, "user_id", user.ID)
	http.Redirect(w, r, o.kit.Base+teamPath+"?done=created", http.StatusSeeOther)
}
