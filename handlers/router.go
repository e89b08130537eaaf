package handlers

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/static"
	"github.com/ajrly/ajrly-auth/storage"
)

// Options configures the router.
type Options struct {
	Provider *provider.Provider
	Store    *storage.Store
	// CookieKey signs CSRF tokens; derive it from the system secret.
	CookieKey []byte
	// SessionTTL is how long a browser stays signed in.
	SessionTTL time.Duration
	// SessionIdle signs a browser out after this long without a request
	// (default 12h).
	SessionIdle time.Duration
	// FlowTTL is how long a person has to sign in and consent (default 30m).
	FlowTTL time.Duration
	// TrustedProxies are the load balancers whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	// Usage counts uses of API keys for the dashboard; nil counts nothing.
	Usage *storage.UsageCounter
	// RegistrationMode is how /register admits clients: RegistrationOpen,
	// RegistrationToken (the default) or RegistrationOff.
	RegistrationMode string
	// FirstPartyClients are client ids the operator's configuration makes
	// first-party (no consent page), besides those the command line marked.
	FirstPartyClients []string
	// DemoClientID, when set, serves /demo/callback, the demo client's
	// redirect URI (serve --demo).
	DemoClientID string
}

// router holds what every handler shares.
type router struct {
	opts     Options
	log      *slog.Logger
	issuer   *url.URL
	base     string // the issuer's path, "" at the root
	proxies  proxies
	ids      *requestIDs
	csp      string
	pages    *pages
	metrics  *metrics
	sessions sessionStore
}

// Handlers are the two HTTP handlers of a server: Public for the issuer's
// listener (the protocol endpoints, the pages, the health checks) and Ops
// for the operations listener (metrics, and the health checks again), which
// must not be reachable from the internet (audit finding 19).
type Handlers struct {
	Public, Ops http.Handler
}

// NewRouter builds the public HTTP handler (see NewHandlers).
func NewRouter(opts Options) (http.Handler, error) {
	h, err := NewHandlers(opts)
	if err != nil {
		return nil, err
	}
	return h.Public, nil
}

// NewHandlers builds the public and the operations handlers of a server.
func NewHandlers(opts Options) (*Handlers, error) {
	if opts.Provider == nil || opts.Store == nil {
		return nil, errors.New("handlers: provider and store are required")
	}
	if len(opts.CookieKey) < 32 {
		return nil, errors.New("handlers: cookie key must be at least 32 bytes")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 7 * 24 * time.Hour
	}
	if opts.SessionIdle <= 0 {
		opts.SessionIdle = 12 * time.Hour
	}
	if opts.FlowTTL <= 0 {
		opts.FlowTTL = 30 * time.Minute
	}
	switch opts.RegistrationMode {
	case "":
		opts.RegistrationMode = RegistrationToken
	case RegistrationOpen, RegistrationToken, RegistrationOff:
	default:
		return nil, fmt.Errorf("handlers: unknown registration mode %q", opts.RegistrationMode)
	}
	issuer, err := url.Parse(opts.Provider.Issuer())
	if err != nil {
		return nil, fmt.Errorf("handlers: issuer: %w", err)
	}
	rt := &router{
		opts:     opts,
		log:      opts.Logger,
		issuer:   issuer,
		base:     strings.TrimSuffix(issuer.Path, "/"),
		proxies:  proxies(opts.TrustedProxies),
		ids:      newRequestIDs(),
		metrics:  newMetrics(opts.Store),
		sessions: opts.Store,
	}
	rt.pages, err = newPages(rt)
	if err != nil {
		return nil, err
	}
	// Pages may run exactly one inline script: the form_post auto-submit.
	sum := sha256.Sum256([]byte(formPostScript))
	rt.csp = "default-src 'self'; script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; style-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

	m := mux.NewRouter()
	r := m
	if rt.base != "" {
		r = m.PathPrefix(rt.base).Subrouter()
	}
	m.NotFoundHandler = rt.pageHeaders(http.HandlerFunc(rt.notFound))
	m.MethodNotAllowedHandler = http.HandlerFunc(rt.methodNotAllowed)
	r.NotFoundHandler, r.MethodNotAllowedHandler = m.NotFoundHandler, m.MethodNotAllowedHandler

	api := func(cors bool) mux.MiddlewareFunc {
		return func(h http.Handler) http.Handler { return apiHeaders(cors, h) }
	}
	oauth := &OAuth{rt: rt, provider: opts.Provider, store: opts.Store}
	discovery, err := newDiscovery(rt, opts.Provider, opts.RegistrationMode != RegistrationOff)
	if err != nil {
		return nil, err
	}
	apiRoutes := r.NewRoute().Subrouter()
	apiRoutes.Use(api(true))
	discovery.Mount(apiRoutes)
	oauth.Mount(apiRoutes)
	(&Registration{rt: rt, provider: opts.Provider, store: opts.Store, mode: opts.RegistrationMode}).Mount(apiRoutes)
	health := &Health{store: opts.Store, metrics: rt.metrics}
	health.Mount(r)

	pageRoutes := r.NewRoute().Subrouter()
	pageRoutes.Use(rt.pageHeaders)
	(&Authorize{rt: rt, provider: opts.Provider, store: opts.Store}).Mount(pageRoutes)
	login := &Login{rt: rt, store: opts.Store}
	login.Mount(pageRoutes)
	(&Signup{rt: rt, login: login, store: opts.Store, tenancy: opts.Provider.Tenancy()}).Mount(pageRoutes)
	(&Consent{rt: rt, provider: opts.Provider, store: opts.Store}).Mount(pageRoutes)
	(&Account{rt: rt, provider: opts.Provider, store: opts.Store}).Mount(pageRoutes)
	(&Apps{rt: rt, store: opts.Store}).Mount(pageRoutes)
	revealKey, err := provider.DeriveKey(opts.CookieKey, "ajrly secret reveal v1")
	if err != nil {
		return nil, err
	}
	(&APIKeys{rt: rt, store: opts.Store, now: opts.Provider.Now, usage: opts.Usage, revealKey: revealKey}).Mount(pageRoutes)
	(&Developer{rt: rt, store: opts.Store, now: opts.Provider.Now, revealKey: revealKey}).Mount(pageRoutes)
	if opts.DemoClientID != "" {
		(&Demo{rt: rt, clientID: opts.DemoClientID}).Mount(pageRoutes)
	}

	files := http.StripPrefix(rt.base+"/static/", http.FileServer(http.FS(static.FS)))
	r.PathPrefix("/static/").Methods(http.MethodGet, http.MethodHead).Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, req)
	}))
	ops := mux.NewRouter()
	health.Mount(ops)
	health.MountMetrics(ops)
	ops.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeJSONError(w, http.StatusNotFound, "not_found", "The operations listener serves /metrics, /health/alive and /health/ready.")
	})
	return &Handlers{Public: rt.wrap(m), Ops: ops}, nil
}

// url returns an absolute URL of one of our paths.
func (rt *router) url(path string) string {
	return strings.TrimSuffix(rt.opts.Provider.Issuer(), "/") + path
}

// secure reports whether cookies must be Secure: the issuer is https.
func (rt *router) secure() bool { return rt.issuer.Scheme == "https" }

func (rt *router) notFound(w http.ResponseWriter, r *http.Request) {
	rt.pages.renderError(w, r, http.StatusNotFound, "Page not found", "There is nothing at this address.", "")
}

func (rt *router) methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	// Not behind apiHeaders or pageHeaders (mux answers before either), so
	// it sets its own: a JSON body is never sniffed as something else.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	writeJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "This endpoint does not accept the HTTP method "+r.Method+".")
}

// internalError answers a request that failed in a way the client cannot fix.
func (rt *router) internalError(w http.ResponseWriter, r *http.Request) {
	if wantsHTML(r) {
		rt.pages.renderError(w, r, http.StatusInternalServerError, "Something went wrong",
			"The server could not complete your request. Please try again.", "")
		return
	}
	writeJSONError(w, http.StatusInternalServerError, "server_error", "The server could not complete the request.")
}

func wantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}
