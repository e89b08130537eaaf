package oauth_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/oauth"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider/clients"
)

// TestRoutes is the protocol surface's route table: every endpoint, asked
// without credentials or parameters, answers as RFC 6749 JSON (or the
// document it serves, or a bare Bearer challenge), never with a page or a
// 5xx.
func TestRoutes(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	if err := oauth.Mount(env.Routes.API, oauth.Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store,
		RegistrationMode: clients.RegistrationToken}); err != nil {
		t.Fatal(err)
	}
	const json = "application/json"
	noForm := url.Values{}
	webtest.RouteTable(t, env, []webtest.Route{
		{Method: http.MethodGet, Path: "/.well-known/openid-configuration", Status: http.StatusOK, ContentType: json},
		{Method: http.MethodGet, Path: "/.well-known/oauth-authorization-server", Status: http.StatusOK, ContentType: json},
		{Method: http.MethodGet, Path: "/.well-known/jwks.json", Status: http.StatusOK, ContentType: json},
		{Method: http.MethodPost, Path: "/token", Form: noForm, Status: http.StatusBadRequest, ContentType: json},
		{Method: http.MethodPost, Path: "/introspect", Form: noForm, Status: http.StatusUnauthorized, ContentType: json},
		{Method: http.MethodPost, Path: "/revoke", Form: noForm, Status: http.StatusBadRequest, ContentType: json},
		// RFC 6750 §3.1: no token, no error code; the challenge is the answer.
		{Method: http.MethodGet, Path: "/userinfo", Status: http.StatusUnauthorized},
		{Method: http.MethodPost, Path: "/userinfo", Form: noForm, Status: http.StatusUnauthorized},
		{Method: http.MethodPost, Path: "/register", Header: http.Header{"Content-Type": {json}}, Status: http.StatusUnauthorized, ContentType: json},
		{Method: http.MethodGet, Path: "/register/cl_unknown", Status: http.StatusUnauthorized, ContentType: json},
		{Method: http.MethodPut, Path: "/register/cl_unknown", Header: http.Header{"Content-Type": {json}}, Status: http.StatusUnauthorized, ContentType: json},
		{Method: http.MethodDelete, Path: "/register/cl_unknown", Status: http.StatusUnauthorized, ContentType: json},
		{Method: http.MethodDelete, Path: "/token", Status: http.StatusMethodNotAllowed, ContentType: json},
	})
}
