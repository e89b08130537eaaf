package settings

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/teams"
)

// TestRoutes is the settings surface's route table. Signed out, a page
// sends the browser to sign in; signed in, it answers HTML, and an unknown
// key or app is the readable "not found" page; every form posted without
// its CSRF token is refused by the middleware (403), signed in or not,
// and with it reaches its handler: an empty form is a 400 page naming
// the problems, an unknown key, app, token, consent, organization or
// signed-in device 404; signing out the other devices needs no field and
// sends the browser back to the page.
func TestRoutes(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	people := accounts.New(env.Store, accounts.Config{})
	Mount(env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store, RevealKey: make([]byte, 32),
		RegistrationMode: clients.RegistrationToken, Accounts: people,
		Teams: teams.New(env.Store, teams.Config{Mailer: mailtest.Start(t).Mailer(t, webtest.Issuer, nil), Issuer: webtest.Issuer, People: people})})
	const html = "text/html"
	noForm := url.Values{}
	get := func(path string, status int) webtest.Route {
		return webtest.Route{Method: http.MethodGet, Path: path, SignedIn: true, Status: status, ContentType: html}
	}
	// post is a form posted without its token, refused by the CSRF
	// middleware, then with it, answered by the route's handler.
	post := func(path string, status int) []webtest.Route {
		return []webtest.Route{
			{Method: http.MethodPost, Path: path, SignedIn: true, Form: noForm, Status: http.StatusForbidden, ContentType: html},
			{Method: http.MethodPost, Path: path, SignedIn: true, Form: noForm, CSRF: true, Status: status, ContentType: html},
		}
	}
	var routes []webtest.Route
	add := func(rows ...any) {
		for _, r := range rows {
			switch r := r.(type) {
			case webtest.Route:
				routes = append(routes, r)
			case []webtest.Route:
				routes = append(routes, r...)
			}
		}
	}
	add(
		webtest.Route{Method: http.MethodGet, Path: "/", Status: http.StatusSeeOther, ContentType: html},
		get("/", http.StatusOK),
		get("/settings/profile", http.StatusOK),
		post("/settings/profile/name", http.StatusBadRequest),
		post("/settings/profile/email", http.StatusBadRequest),
		get("/settings/security", http.StatusOK),
		post("/settings/security/password", http.StatusBadRequest),
		post("/settings/security/sessions/sign-out", http.StatusNotFound),
		webtest.Route{Method: http.MethodPost, Path: "/settings/security/sessions/sign-out-others", SignedIn: true, Form: noForm,
			Status: http.StatusForbidden, ContentType: html},
		webtest.Route{Method: http.MethodPost, Path: "/settings/security/sessions/sign-out-others", SignedIn: true, Form: noForm, CSRF: true,
			Status: http.StatusSeeOther, ContentType: ""},
		get("/settings/apps", http.StatusOK),
		post("/settings/apps/revoke", http.StatusNotFound),
		get("/settings/api-keys", http.StatusOK),
		post("/settings/api-keys", http.StatusBadRequest),
		post("/settings/api-keys/org", http.StatusNotFound),
		post("/settings/api-keys/key_unknown/rotate", http.StatusNotFound),
		get("/settings/api-keys/key_unknown/revoke", http.StatusNotFound),
		post("/settings/api-keys/key_unknown/revoke", http.StatusNotFound),
		webtest.Route{Method: http.MethodPost, Path: "/settings/api-keys", Form: noForm, Status: http.StatusForbidden, ContentType: html},
		get("/settings/developer", http.StatusOK),
		post("/settings/developer/org", http.StatusNotFound),
		post("/settings/developer/apps", http.StatusBadRequest),
		get("/settings/developer/apps/cl_unknown", http.StatusNotFound),
		post("/settings/developer/apps/cl_unknown", http.StatusNotFound),
		post("/settings/developer/apps/cl_unknown/rotate", http.StatusNotFound),
		get("/settings/developer/apps/cl_unknown/delete", http.StatusNotFound),
		post("/settings/developer/apps/cl_unknown/delete", http.StatusNotFound),
		post("/settings/developer/tokens", http.StatusBadRequest),
		post("/settings/developer/tokens/iat_unknown/revoke", http.StatusNotFound),
		get("/settings/team", http.StatusOK),
		post("/settings/team/org", http.StatusNotFound),
		post("/settings/team/invitations", http.StatusBadRequest),
		post("/settings/team/invitations/inv_unknown/resend", http.StatusNotFound),
		post("/settings/team/invitations/inv_unknown/revoke", http.StatusNotFound),
		post("/settings/team/members/usr_unknown/role", http.StatusBadRequest),
		post("/settings/team/members/usr_unknown/remove", http.StatusNotFound),
		post("/settings/team/leave", http.StatusConflict),
		get("/settings/organization", http.StatusOK),
		post("/settings/organization/org", http.StatusNotFound),
		post("/settings/organization/name", http.StatusBadRequest),
		post("/settings/organization/delete", http.StatusBadRequest),
		post("/settings/organizations", http.StatusBadRequest),
		get("/settings/audit", http.StatusOK),
		get("/settings/audit?kind=nope", http.StatusBadRequest),
		post("/settings/audit/org", http.StatusNotFound),
	)
	webtest.RouteTable(t, env, routes)
}
