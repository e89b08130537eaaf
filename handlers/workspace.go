package handlers

import (
	"context"
	"net/http"
	"net/url"
	"time"

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
func (rt *router) workspace(w http.ResponseWriter, r *http.Request, store orgLister, returnTo string) (*workspace, bool) {
	ls, user, ok := rt.requireUser(w, r, returnTo)
	if !ok {
		return nil, false
	}
	orgs, err := store.UserOrganizations(r.Context(), user.ID)
	if err != nil {
		rt.serverErrorPage(w, r, "load organizations", err)
		return nil, false
	}
	ws := &workspace{session: ls, user: user, orgs: orgs}
	if org, err := tenancy.Choose(orgs, "", ls.OrgID); err == nil {
		ws.org = &org
	}
	return ws, true
}

// parseForm reads a form post and checks its CSRF token; on failure it
// has answered.
func (rt *router) parseForm(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil || !rt.checkCSRF(r) {
		rt.refuseCSRF(w, r)
		return false
	}
	return true
}

// switchOrg changes the organization the session works in to the form's
// org, and sends the browser back to path with ?switched=1.
func (rt *router) switchOrg(w http.ResponseWriter, r *http.Request, store sessionOrgSetter, path string) {
	if !rt.parseForm(w, r) {
		return
	}
	ws, ok := rt.workspace(w, r, store, path)
	if !ok {
		return
	}
	id := r.PostForm.Get("org")
	if !tenancy.IsMember(ws.orgs, id) {
		rt.pages.renderError(w, r, http.StatusNotFound, "Organization not found", "You are not a member of that organization.", "")
		return
	}
	if err := store.SetSessionOrg(r.Context(), rt.cookie(r, sessionCookie), id); err != nil {
		rt.serverErrorPage(w, r, "switch organization", err)
		return
	}
	http.Redirect(w, r, rt.base+path+"?switched=1", http.StatusSeeOther)
}

// recentSignIn is how recent a sign-in must be for forms that mint a
// durable credential (an API key, a client secret, an initial access
// token): a stolen session cookie alone must not be enough (ASVS 3.7.1,
// audit finding 19).
const recentSignIn = 15 * time.Minute

// requireRecentSignIn checks that ws signed in less than recentSignIn
// ago; otherwise it sends the browser to sign in again and come back to
// returnTo, and answers false.
func (rt *router) requireRecentSignIn(w http.ResponseWriter, r *http.Request, ws *workspace, returnTo string) bool {
	if rt.opts.Provider.Now().Sub(ws.session.AuthTime) <= recentSignIn {
		return true
	}
	ctx := r.Context()
	rt.log.InfoContext(ctx, "sensitive action needs a recent sign-in", "request_id", RequestID(ctx), "user_id", ws.user.ID, "path", r.URL.Path)
	http.Redirect(w, r, rt.base+"/login?reauth=1&return_to="+url.QueryEscape(returnTo), http.StatusSeeOther)
	return false
}
