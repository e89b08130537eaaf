// Package web is the kit every HTTP surface shares: the middleware that
// wraps every request (request id and a request-scoped logger, client
// address, body caps and the text check, panic recovery, the access log),
// the headers of pages and of the JSON endpoints, CSRF protection as a
// middleware for every browser form, cookies and browser sessions,
// rendering pages and errors, and JSON answers. A surface (oauth, signin,
// settings, ops) builds on it and never on another surface.
package web

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

// Options configures the kit.
type Options struct {
	Provider *provider.Provider
	// Sessions are where browser sessions and their people are kept.
	Sessions SessionStore
	// CookieKey signs CSRF tokens and device cookies; derive it from the
	// system secret. At least 32 bytes.
	CookieKey []byte
	// SessionTTL is how long a browser stays signed in (default 7 days),
	// SessionIdle how long it may go unused (default 12h), FlowTTL how long
	// a person has to sign in and consent (default 30m).
	SessionTTL, SessionIdle, FlowTTL time.Duration
	// TrustedProxies are the load balancers whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []netip.Prefix
	Logger         *slog.Logger
	// FirstPartyClients are client ids the operator's configuration makes
	// first-party, besides those the command line marked.
	FirstPartyClients []string
	// Observe, if set, is told of every answered request (metrics).
	Observe func(r *http.Request, status int, took time.Duration)
}

// Kit is what every surface shares.
type Kit struct {
	Provider *provider.Provider
	// Log adds each request's id to what it logs (see Handler).
	Log *slog.Logger
	// Base is the issuer's path, "" at the root: every route is under it.
	Base                             string
	SessionTTL, SessionIdle, FlowTTL time.Duration

	opts       Options
	issuer     *url.URL
	proxies    proxies
	ids        *requestIDs
	csp        string
	pages      *pages
	sessions   SessionStore
	firstParty []string
}

// New builds the kit.
func New(opts Options) (*Kit, error) {
	if opts.Provider == nil || opts.Sessions == nil {
		return nil, errors.New("web: provider and sessions are required")
	}
	if len(opts.CookieKey) < 32 {
		return nil, errors.New("web: cookie key must be at least 32 bytes")
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
	issuer, err := url.Parse(opts.Provider.Issuer())
	if err != nil {
		return nil, fmt.Errorf("web: issuer: %w", err)
	}
	k := &Kit{
		Provider:    opts.Provider,
		Log:         slog.New(Handler(opts.Logger.Handler())),
		Base:        strings.TrimSuffix(issuer.Path, "/"),
		SessionTTL:  opts.SessionTTL,
		SessionIdle: opts.SessionIdle,
		FlowTTL:     opts.FlowTTL,
		opts:        opts,
		issuer:      issuer,
		proxies:     proxies(opts.TrustedProxies),
		ids:         newRequestIDs(),
		sessions:    opts.Sessions,
		firstParty:  opts.FirstPartyClients,
	}
	if k.pages, err = loadPages(); err != nil {
		return nil, err
	}
	// Pages may run exactly one inline script: the form_post auto-submit.
	sum := sha256.Sum256([]byte(formPostScript))
	k.csp = "default-src 'self'; script-src 'self' 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; style-src 'self'; img-src 'self' https: data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
	return k, nil
}

// URL returns an absolute URL of one of our paths.
func (k *Kit) URL(path string) string {
	return strings.TrimSuffix(k.Provider.Issuer(), "/") + path
}

// Secure reports whether cookies must be Secure: the issuer is https.
func (k *Kit) Secure() bool { return k.issuer.Scheme == "https" }

// FirstParty reports whether c is one of the operator's own apps, which
// nobody is asked to consent to: marked so by the command line, or listed
// in the configuration.
func (k *Kit) FirstParty(c *storage.Client) bool {
	return c.FirstParty || slices.Contains(k.firstParty, c.ID)
}

// NotFound answers a path nothing is at.
func (k *Kit) NotFound(w http.ResponseWriter, r *http.Request) {
	k.RenderError(w, r, http.StatusNotFound, "Page not found", "There is nothing at this address.", "")
}

// MethodNotAllowed answers a method a route does not take.
func (k *Kit) MethodNotAllowed(w http.ResponseWriter, r *http.Request) {
	// Not behind APIHeaders or PageHeaders (mux answers before either), so
	// it sets its own: a JSON body is never sniffed as something else.
	w.Header().Set("X-Content-Type-Options", "nosniff")
	WriteJSONError(w, http.StatusMethodNotAllowed, "invalid_request", "This endpoint does not accept the HTTP method "+r.Method+".")
}

// InternalError answers a request that failed in a way the client cannot fix.
func (k *Kit) InternalError(w http.ResponseWriter, r *http.Request) {
	if WantsHTML(r) {
		k.RenderError(w, r, http.StatusInternalServerError, "Something went wrong",
			"The server could not complete your request. Please try again.", "")
		return
	}
	WriteJSONError(w, http.StatusInternalServerError, "server_error", "The server could not complete the request.")
}

// WantsHTML reports whether a request asks for a page rather than JSON.
func WantsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// Initial is the letter a page shows as an app's avatar.
func Initial(name string) string {
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(name))
	if r == utf8.RuneError {
		return "?"
	}
	return string(unicode.ToUpper(r))
}
