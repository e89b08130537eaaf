package settings

import (
	"context"
	"net/http"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// The settings pages of an organization (API keys, developer apps) share
// how they find the person and the organization they work in, how they
// switch organization and how they read a form.

// orgLister is what finding the workspace needs from storage.
type orgLister interface {
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
}

// sessionOrgSetter is what switching organization needs from storage.
type sessionOrgSetter interface {
	orgLister
	SetSessionOrg(ctx context.Context, token, orgID string) error
}

// workspace is the signed-in person and the organization they work in.
type workspace struct {
	session *storage.LoginSession
	user    *storage.User
	orgs    []storage.MemberOrg
	org     *storage.MemberOrg // nil: in no organization
}

// workspace returns the signed-in person and their organization: the
// session's, or their first one when the session names none they are
// still in. Without a session it sends the browser to sign in and come
// back to returnTo.
func (s *site) workspace(w http.ResponseWriter, r *http.Request, store orgLister, returnTo string) (*workspace, bool) {
	ls, user, ok := s.kit.RequireUser(w, r, returnTo)
	if !ok {
		return nil, false
	}
	orgs, err := store.UserOrganizations(r.Context(), user.ID)
	if err != nil {
		s.kit.ServerErrorPage(w, r, "load organizations", err)
		return nil, false
	}
	ws := &workspace{session: ls, user: user, orgs: orgs}
	if org, err := tenancy.Choose(orgs, "", ls.OrgID); err == nil {
		ws.org = &org
	}
	return ws, true
}

// parseForm reads a form post (the CSRF middleware has checked its
// token already); on failure it has answered.
func (s *site) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		s.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return false
	}
	return true
}

// switchOrg changes the organization the session works in to the form's
// org, and sends the browser back to path with ?switched=1.
func (s *site) switchOrg(w http.ResponseWriter, r *http.Request, store sessionOrgSetter, path string) {
	if !s.parseForm(w, r) {
		return
	}
	ws, ok := s.workspace(w, r, store, path)
	if !ok {
		return
	}
	id := r.PostForm.Get("org")
	if !tenancy.IsMember(ws.orgs, id) {
		s.kit.RenderError(w, r, http.StatusNotFound, "Organization not found", "You are not a member of that organization.", "")
		return
	}
	if err := store.SetSessionOrg(r.Context(), s.kit.Cookie(r, web.SessionCookie), id); err != nil {
		s.kit.ServerErrorPage(w, r, "switch organization", err)
		return
	}
	http.Redirect(w, r, s.kit.Base+path+"?switched=1", http.StatusSeeOther)
}
