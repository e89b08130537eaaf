package web

import (
	"net/http"

	"github.com/gorilla/mux"
)

// Routes are the routers a surface mounts its routes on, each with the
// headers and checks its kind of route needs:
//   - API: the JSON endpoints (no-store, CORS where the endpoint allows it);
//   - Protocol: pages other sites send people to by GET or POST
//     (/authorize, /logout), with page headers and no CSRF token;
//   - Forms: our own pages and every form they post, with page headers
//     and the CSRF middleware, so a new form cannot forget the check;
//   - Root: anything else (health checks, static files).
//
// All of them sit under the issuer's path.
type Routes struct {
	Root, API, Protocol, Forms *mux.Router

	kit *Kit
	mux *mux.Router
}

// NewRoutes builds the routers, answering unknown paths with the readable
// "page not found" page and wrong methods with a JSON error.
func (k *Kit) NewRoutes() *Routes {
	m := mux.NewRouter()
	r := m
	if k.Base != "" {
		r = m.PathPrefix(k.Base).Subrouter()
	}
	m.NotFoundHandler = k.PageHeaders(http.HandlerFunc(k.NotFound))
	m.MethodNotAllowedHandler = http.HandlerFunc(k.MethodNotAllowed)
	r.NotFoundHandler, r.MethodNotAllowedHandler = m.NotFoundHandler, m.MethodNotAllowedHandler

	rt := &Routes{Root: r, kit: k, mux: m}
	rt.API = r.NewRoute().Subrouter()
	rt.API.Use(func(h http.Handler) http.Handler { return APIHeaders(true, h) })
	rt.Protocol = r.NewRoute().Subrouter()
	rt.Protocol.Use(k.PageHeaders)
	rt.Forms = r.NewRoute().Subrouter()
	rt.Forms.Use(k.PageHeaders, k.CSRF)
	return rt
}

// Handler is the whole of it, inside the kit's per-request middleware.
func (rt *Routes) Handler() http.Handler { return rt.kit.Wrap(rt.mux) }

// Mux is the top router, for walking the routes in tests.
func (rt *Routes) Mux() *mux.Router { return rt.mux }
