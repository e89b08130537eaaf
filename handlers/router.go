package handlers

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ajrly/ajrly-auth/handlers/oauth"
	"github.com/ajrly/ajrly-auth/handlers/ops"
	"github.com/ajrly/ajrly-auth/handlers/settings"
	"github.com/ajrly/ajrly-auth/handlers/signin"
	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/static"
	"github.com/ajrly/ajrly-auth/storage"
)

// Options configures the server's handlers.
type Options struct {
	Provider *provider.Provider
	Store    *storage.Store
	// CookieKey signs CSRF tokens and device cookies; derive it from the
	// system secret.
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
	// RegistrationMode is how /register admits clients:
	// clients.RegistrationOpen, clients.RegistrationToken (the default) or
	// clients.RegistrationOff.
	RegistrationMode string
	// FirstPartyClients are client ids the operator's configuration makes
	// first-party (no consent page), besides those the command line marked.
	FirstPartyClients []string
	// DemoOutbox, when set, serves /demo/outbox (demo mode without SMTP).
	DemoOutbox func() []mail.Sent
	// Collectors are more metrics for /metrics (the mailer's).
	Collectors []prometheus.Collector
	// Mailer delivers the account mail (verification, recovery,
	// notices); nil sends none, and the flows that need mail are off.
	Mailer *mail.Mailer
	// RequireVerifiedEmail: people verify their address before they
	// consent to an app (accounts.require_verified_email).
	RequireVerifiedEmail bool
	// DemoClientID, when set, serves /demo/callback, the demo client's
	// redirect URI (serve --demo).
	DemoClientID string
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

// NewHandlers builds the web kit and mounts every surface on it: the
// protocol endpoints (oauth), the sign-in pages (signin), the dashboards
// (settings) and the operations endpoints (ops). Each surface gets only
// what it needs; none sees another.
func NewHandlers(opts Options) (*Handlers, error) {
	if opts.Provider == nil || opts.Store == nil {
		return nil, fmt.Errorf("handlers: provider and store are required")
	}
	switch opts.RegistrationMode {
	case "":
		opts.RegistrationMode = clients.RegistrationToken
	case clients.RegistrationOpen, clients.RegistrationToken, clients.RegistrationOff:
	default:
		return nil, fmt.Errorf("handlers: unknown registration mode %q", opts.RegistrationMode)
	}
	metrics := ops.NewMetrics(opts.Store, opts.Collectors...)
	kit, err := web.New(web.Options{
		Provider: opts.Provider, Sessions: opts.Store, CookieKey: opts.CookieKey,
		SessionTTL: opts.SessionTTL, SessionIdle: opts.SessionIdle, FlowTTL: opts.FlowTTL,
		TrustedProxies: opts.TrustedProxies, Logger: opts.Logger, FirstPartyClients: opts.FirstPartyClients,
		Observe: metrics.Observe,
	})
	if err != nil {
		return nil, fmt.Errorf("handlers: %w", err)
	}
	revealKey, err := provider.DeriveKey(opts.CookieKey, "ajrly secret reveal v1")
	if err != nil {
		return nil, err
	}

	people := accounts.New(opts.Store, accounts.Config{Mailer: opts.Mailer, Issuer: opts.Provider.Issuer()})
	// One rulebook of organizations for both surfaces: the team and
	// organization pages (settings) and accepting an invitation (signin).
	orgs := teams.New(opts.Store, teams.Config{Mailer: opts.Mailer, Issuer: opts.Provider.Issuer(), People: people, Now: opts.Provider.Now})
	rt := kit.NewRoutes()
	if err := oauth.Mount(rt.API, oauth.Options{Kit: kit, Provider: opts.Provider, Store: opts.Store, RegistrationMode: opts.RegistrationMode}); err != nil {
		return nil, err
	}
	health := &ops.Health{Store: opts.Store, Metrics: metrics}
	health.Mount(rt.Root)
	signin.Mount(rt.Protocol, rt.Forms, signin.Options{Kit: kit, Provider: opts.Provider, Store: opts.Store,
		CookieKey: opts.CookieKey, DemoClientID: opts.DemoClientID, DemoOutbox: opts.DemoOutbox,
		Accounts: people, Teams: orgs, RequireVerifiedEmail: opts.RequireVerifiedEmail})
	settings.Mount(rt.Forms, settings.Options{Kit: kit, Provider: opts.Provider, Store: opts.Store, RevealKey: revealKey,
		Usage: opts.Usage, RegistrationMode: opts.RegistrationMode, Accounts: people, Teams: orgs})

	files := http.StripPrefix(kit.Base+"/static/", http.FileServer(http.FS(static.FS)))
	rt.Root.PathPrefix("/static/").Methods(http.MethodGet, http.MethodHead).Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(w, req)
	}))

	opsRouter := mux.NewRouter()
	health.Mount(opsRouter)
	health.MountMetrics(opsRouter)
	opsRouter.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		web.WriteJSONError(w, http.StatusNotFound, "not_found", "The operations listener serves /metrics, /health/alive and /health/ready.")
	})
	return &Handlers{Public: rt.Handler(), Ops: opsRouter}, nil
}
