package api

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultIssuer              = "http://127.0.0.1:8080"
	DefaultAudience            = "https://api.ajrly.com"
	DefaultCacheTTL            = 10 * time.Second
	DefaultJWKSRefetchInterval = 30 * time.Second
	DefaultJWKSMaxAge          = 5 * time.Minute
	DefaultLeeway              = 30 * time.Second
	// Realm is the realm of every WWW-Authenticate challenge (RFC 6750 §3).
	Realm = "example-api"
)

// Options configure a Server.
type Options struct {
	// Issuer is the provider's issuer URL, exactly as its discovery
	// document and its tokens' iss claim say it.
	Issuer string
	// ClientID and ClientSecret are the confidential client the server
	// introspects with (client_secret_basic).
	ClientID, ClientSecret string
	// Audience is this API's identifier: a JWT's aud must contain it, and
	// so must an introspection answer's aud when it has one.
	Audience string
	// CacheTTL is how long a positive introspection answer is reused
	// (never past the token's exp); 0 turns the cache off.
	CacheTTL time.Duration
	// CacheSize bounds the introspection cache (default 10,000 entries).
	CacheSize int
	// JWKSRefetchInterval is the least time between two fetches of the
	// JWKS caused by an unknown kid (default 30 s), so that a stream of
	// forged kids cannot make the server hammer the provider.
	JWKSRefetchInterval time.Duration
	// JWKSMaxAge is how long fetched keys are used before they are
	// fetched again (default 5 min, the provider's Cache-Control).
	JWKSMaxAge time.Duration
	// Leeway is the clock skew allowed on exp and nbf (default 30 s).
	Leeway time.Duration
	// HTTPClient calls the provider (default: a client with a 5 s timeout).
	HTTPClient *http.Client
	// Logger receives the request log and the provider's troubles
	// (default: slog.Default()). Tokens and secrets are never logged.
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests move it to expire cache
	// entries and tokens.
	Now func() time.Time
}

// Server is the example API. It is an http.Handler.
type Server struct {
	opts     Options
	log      *slog.Logger
	provider *providerClient
	intro    *introspector
	keys     *keySet
	projects *projectStore
	mux      *http.ServeMux
}

// New checks opts and returns a Server. It does not call the provider:
// discovery and the JWKS are fetched on first use, so the API can start
// before the provider does.
func New(opts Options) (*Server, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 10_000
	}
	if opts.JWKSRefetchInterval <= 0 {
		opts.JWKSRefetchInterval = DefaultJWKSRefetchInterval
	}
	if opts.JWKSMaxAge <= 0 {
		opts.JWKSMaxAge = DefaultJWKSMaxAge
	}
	if opts.Leeway <= 0 {
		opts.Leeway = DefaultLeeway
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: 5 * time.Second}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, log: opts.Logger, projects: newProjectStore()}
	s.provider = &providerClient{
		issuer: opts.Issuer, clientID: opts.ClientID, clientSecret: opts.ClientSecret,
		http: opts.HTTPClient, log: opts.Logger,
	}
	s.intro = newIntrospector(s.provider, opts)
	s.keys = newKeySet(s.provider.fetchJWKS, opts)
	s.mux = http.NewServeMux()
	byPath := map[string][]Route{}
	for _, rt := range Routes {
		byPath[rt.Path] = append(byPath[rt.Path], rt)
	}
	for path, rts := range byPath {
		s.mux.Handle(path, s.route(rts))
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "not_found", Description: "There is nothing at " + r.URL.Path + "."})
	})
	return s, nil
}

func (o Options) validate() error {
	var problems []error
	if o.Issuer == "" {
		problems = append(problems, errors.New("issuer: required"))
	} else if u, err := url.Parse(o.Issuer); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" ||
		u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(o.Issuer, "/") {
		problems = append(problems, fmt.Errorf("issuer: %q is not an issuer URL (http or https, a host, no query, fragment or trailing slash)", o.Issuer))
	}
	if o.ClientID == "" {
		problems = append(problems, errors.New("client id: required (the confidential client this API introspects with)"))
	}
	if o.ClientSecret == "" {
		problems = append(problems, errors.New("client secret: required"))
	}
	if o.Audience == "" {
		problems = append(problems, errors.New("audience: required"))
	}
	if o.CacheTTL < 0 {
		problems = append(problems, errors.New("cache ttl: must not be negative"))
	}
	return errors.Join(problems...)
}

// Route is an endpoint of the API and the scope it needs.
type Route struct {
	Method, Path string
	// Scope is the permission a caller's credential must satisfy, by
	// tenancy.Satisfies (read covers projects:read, ...).
	Scope  string
	handle func(s *Server, w http.ResponseWriter, r *http.Request, c *Caller)
}

// Routes are the API's endpoints.
var Routes = []Route{
	{Method: http.MethodGet, Path: "/v1/projects", Scope: "projects:read", handle: (*Server).listProjects},
	{Method: http.MethodPost, Path: "/v1/projects", Scope: "projects:write", handle: (*Server).createProject},
	{Method: http.MethodGet, Path: "/v1/team", Scope: "team:manage", handle: (*Server).team},
	{Method: http.MethodGet, Path: "/v1/billing", Scope: "billing:read", handle: (*Server).billing},
}

// ServeHTTP serves the API and logs each request (never its query
// string or credentials).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &recorder{ResponseWriter: w, status: http.StatusOK}
	s.mux.ServeHTTP(rec, r)
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
		slog.Duration("duration", time.Since(start))}
	if c := rec.caller; c != nil {
		attrs = append(attrs, slog.String("checked_by", c.CheckedBy), slog.String("sub", c.Subject),
			slog.String("org", c.Org), slog.String("client_id", c.ClientID))
	}
	if rec.cause != nil {
		attrs = append(attrs, slog.Any("err", rec.cause))
	}
	level := slog.LevelInfo
	if rec.status >= 500 {
		level = slog.LevelWarn
	}
	s.log.LogAttrs(r.Context(), level, "request", attrs...)
}

// recorder keeps the status, the caller and the cause of a refusal for
// the request log.
type recorder struct {
	http.ResponseWriter
	status int
	caller *Caller
	cause  error
}

func (r *recorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// route dispatches one path by method, then authenticates the caller and
// checks the route's scope before calling its handler.
func (s *Server) route(rts []Route) http.Handler {
	var allow []string
	for _, rt := range rts {
		allow = append(allow, rt.Method)
		if rt.Method == http.MethodGet {
			allow = append(allow, http.MethodHead)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		var rt *Route
		for i := range rts {
			if rts[i].Method == method {
				rt = &rts[i]
			}
		}
		if rt == nil {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeJSON(w, http.StatusMethodNotAllowed, errorBody{Error: "method_not_allowed",
				Description: r.Method + " is not allowed on " + r.URL.Path + " (allowed: " + strings.Join(allow, ", ") + ")."})
			return
		}
		caller, err := s.Authenticate(r)
		if err != nil {
			s.refuse(w, err)
			return
		}
		if rec, ok := w.(*recorder); ok {
			rec.caller = caller
		}
		if !caller.HasScope(rt.Scope) {
			s.refuse(w, &AuthError{Status: http.StatusForbidden, Code: "insufficient_scope", Scope: rt.Scope,
				Description: "This request needs the scope " + rt.Scope + "; the credential has: " + orNone(caller.Scope) + ".",
				caller:      caller})
			return
		}
		if caller.Org == "" {
			writeJSON(w, http.StatusForbidden, errorBody{Error: "organization_required",
				Description: "The credential does not act for an organization (it has no org claim), and every resource here belongs to one.",
				Caller:      caller})
			return
		}
		rt.handle(s, w, r, caller)
	})
}

func orNone(scope string) string {
	if scope == "" {
		return "none"
	}
	return scope
}
