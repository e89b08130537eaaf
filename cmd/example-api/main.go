// Command example-api is the example resource server of Ajrly Auth: the
// "Ajrly API" routes /v1/projects, /v1/team and /v1/billing, protected by
// sk_live_ API keys, opaque access tokens and JWT access tokens. The API
// itself is package api; this command wires flags and AJRLY_API_*
// environment variables to it and runs an HTTP server.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ajrly/ajrly-auth/cmd/example-api/api"
)

const usageText = `example-api: the example resource server of Ajrly Auth

Usage:
  example-api [flags]

It serves GET /v1/projects (projects:read), POST /v1/projects
(projects:write), GET /v1/team (team:manage) and GET /v1/billing
(billing:read) to callers with an sk_live_ API key, an access token or a
JWT access token in "Authorization: Bearer ...". Keys and opaque tokens
are checked by introspection as a confidential client; JWTs against the
issuer's JWKS.

Flags (each also read from its environment variable; a flag wins):
  --addr ADDR                  AJRLY_API_ADDR            listen address (default 127.0.0.1:8081)
  --issuer URL                 AJRLY_ISSUER              the provider's issuer (default http://127.0.0.1:8080)
  --client-id ID               AJRLY_API_CLIENT_ID       the confidential client to introspect with (required)
                               AJRLY_API_CLIENT_SECRET   its secret (required; not a flag: it would show in ps)
  --client-secret-file FILE    AJRLY_API_CLIENT_SECRET_FILE  or read the secret from a file
  --audience AUD               AJRLY_API_AUDIENCE        this API's identifier, required in JWTs' aud (default https://api.ajrly.com)
  --cache-ttl DURATION         AJRLY_API_CACHE_TTL       how long positive introspection answers are reused, 0 for never (default 10s)
  --log-format text|json       AJRLY_API_LOG_FORMAT      log format (default text)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.LookupEnv, os.Stderr, nil))
}

// config is a parsed command line.
type config struct {
	addr      string
	logFormat string
	opts      api.Options
}

// errBadFlag is a flag the flag package refused (and explained).
var errBadFlag = errors.New("bad flag")

// parseConfig reads the flags over the environment.
func parseConfig(args []string, getenv func(string) (string, bool), stderr io.Writer) (config, error) {
	env := func(name, def string) string {
		if v, ok := getenv(name); ok && v != "" {
			return v
		}
		return def
	}
	var problems []error
	ttl := seconds(api.DefaultCacheTTL)
	if v := env("AJRLY_API_CACHE_TTL", ""); v != "" {
		if err := ttl.Set(v); err != nil {
			problems = append(problems, fmt.Errorf("AJRLY_API_CACHE_TTL: %w", err))
		}
	}

	fs := flag.NewFlagSet("example-api", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usageText) }
	c := config{}
	fs.StringVar(&c.addr, "addr", env("AJRLY_API_ADDR", "127.0.0.1:8081"), "listen address")
	fs.StringVar(&c.opts.Issuer, "issuer", env("AJRLY_ISSUER", api.DefaultIssuer), "the provider's issuer")
	fs.StringVar(&c.opts.ClientID, "client-id", env("AJRLY_API_CLIENT_ID", ""), "the confidential client to introspect with")
	secretFile := fs.String("client-secret-file", env("AJRLY_API_CLIENT_SECRET_FILE", ""), "a file holding the client's secret")
	fs.StringVar(&c.opts.Audience, "audience", env("AJRLY_API_AUDIENCE", api.DefaultAudience), "this API's identifier")
	fs.Var(&ttl, "cache-ttl", "how long positive introspection answers are reused")
	fs.StringVar(&c.logFormat, "log-format", env("AJRLY_API_LOG_FORMAT", "text"), "text or json")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, errBadFlag // the flag package has printed what is wrong, and the usage
	}
	if fs.NArg() > 0 {
		problems = append(problems, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " ")))
	}
	c.opts.CacheTTL = time.Duration(ttl)

	secret := env("AJRLY_API_CLIENT_SECRET", "")
	switch {
	case *secretFile != "" && secret != "":
		problems = append(problems, errors.New("client secret: set AJRLY_API_CLIENT_SECRET or --client-secret-file, not both"))
	case *secretFile != "":
		b, err := os.ReadFile(*secretFile)
		if err != nil {
			problems = append(problems, fmt.Errorf("client secret: %w", err))
		}
		secret = strings.TrimSpace(string(b))
	}
	c.opts.ClientSecret = secret
	if c.logFormat != "text" && c.logFormat != "json" {
		problems = append(problems, fmt.Errorf("log format: %q is neither text nor json", c.logFormat))
	}
	if c.addr == "" {
		problems = append(problems, errors.New("addr: required"))
	}
	// api.New checks the rest (issuer, client, audience, ttl).
	if _, err := api.New(c.opts); err != nil {
		problems = append(problems, err)
	}
	if len(problems) > 0 {
		return c, errors.Join(problems...)
	}
	return c, nil
}

// seconds is a duration flag that takes Go syntax (10s, 1m30s) or plain
// seconds, like the provider's settings.
type seconds time.Duration

func (d *seconds) String() string { return time.Duration(*d).String() }

func (d *seconds) Set(v string) error {
	if n, err := strconv.Atoi(v); err == nil {
		*d = seconds(time.Duration(n) * time.Second)
		return nil
	}
	t, err := time.ParseDuration(v)
	if err != nil {
		return fmt.Errorf("%q is not a duration (10s, 1m, or plain seconds)", v)
	}
	*d = seconds(t)
	return nil
}

// run runs the API until ctx ends and returns the exit code: 0 after a
// graceful shutdown, 1 when the server failed, 2 on a wrong command line.
// ready, when not nil, receives the listening address.
func run(ctx context.Context, args []string, getenv func(string) (string, bool), stderr io.Writer, ready chan<- string) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errBadFlag) {
		return 2
	}
	if err != nil {
		fmt.Fprintf(stderr, "example-api: %v\n\n%s", err, usageText)
		return 2
	}
	var handler slog.Handler = slog.NewTextHandler(stderr, nil)
	if cfg.logFormat == "json" {
		handler = slog.NewJSONHandler(stderr, nil)
	}
	log := slog.New(handler)
	cfg.opts.Logger = log
	srv, err := api.New(cfg.opts)
	if err != nil {
		fmt.Fprintf(stderr, "example-api: %v\n", err)
		return 2
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		log.Error("listen", "addr", cfg.addr, "err", err)
		return 1
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(handler, slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	// Never the secret: only where it came from.
	log.Info("example API listening", "addr", ln.Addr().String(), "issuer", cfg.opts.Issuer,
		"client_id", cfg.opts.ClientID, "audience", cfg.opts.Audience, "cache_ttl", cfg.opts.CacheTTL.String())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-served:
		log.Error("serve", "err", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}
