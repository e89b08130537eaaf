package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/handlers"
	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

// janitorInterval is how often serve removes expired rows.
const janitorInterval = 10 * time.Minute

// usageFlushInterval is how often counted API key uses are written.
const usageFlushInterval = 30 * time.Second

// serveCmd is serve, which also runs when the command line names no
// command.
func (c *cli) serveCmd() *cobra.Command {
	cmd := c.command("serve [flags]", "run the server (migrates the database first unless --auto-migrate=false)", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.serve(ctx, cfg) })
	cmd.Annotations = map[string]string{annDefault: "true"}
	return cmd
}

func (c *cli) serve(ctx context.Context, cfg config.Config) error {
	log := newLogger(cfg, c.stderr)
	slog.SetDefault(log)
	log.Info("starting ajrly-auth", "config", cfg)

	secret, err := systemSecret(cfg, log)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg, log, 30*time.Second)
	if err != nil {
		return err
	}
	defer store.Close()
	if cfg.AutoMigrate {
		applied, err := store.Migrate(ctx)
		if err != nil {
			return fmt.Errorf("migrate: %w", err)
		}
		if len(applied) > 0 {
			log.Info("migrated database", "applied", applied, "version", storage.SchemaVersion())
		}
	} else if err := store.CheckVersion(ctx); err != nil {
		return err
	}

	usage := store.NewUsageCounter()
	prov, err := provider.New(ctx, store, provider.Options{
		Issuer:          cfg.Issuer,
		Secret:          secret,
		AccessTokenTTL:  cfg.AccessTokenTTL,
		RefreshTokenTTL: cfg.RefreshTokenTTL,
		AuthCodeTTL:     cfg.AuthCodeTTL,
		IDTokenTTL:      cfg.IDTokenTTL,
		APIAudiences:    cfg.APIAudiences,
		APIKeyJWTTTL:    cfg.APIKeyJWTTTL,
		KeyRotation:     cfg.SigningKeyRotation,
		Usage:           usage,
		Logger:          log,

		RefreshGrantMaxAge: cfg.RefreshGrantMaxAge,
	})
	if err != nil {
		return err
	}
	cookieKey, err := provider.DeriveKey(secret, provider.PurposeCookies)
	if err != nil {
		return err
	}
	// The mailer of the account flows (email verification, password
	// reset), which the account pages will use; its counters are on /metrics.
	mailer, err := mail.New(mail.Options{
		SMTPURL: cfg.MailSMTPURL, From: cfg.MailFrom, Name: "Ajrly", Issuer: cfg.Issuer, Demo: cfg.Demo, Logger: log,
	})
	if err != nil {
		return err
	}
	closeMailer := func(ctx context.Context) {
		if err := mailer.Close(ctx); err != nil {
			log.Error("close mailer", "err", err)
		}
	}
	defer func() { // on an early return; a second Close is a no-op
		ctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		closeMailer(ctx)
	}()
	if mailer.Enabled() {
		log.Info(mailer.Status())
	} else {
		log.Warn(mailer.Status())
	}
	var demo *demoInfo
	if cfg.Demo {
		if demo, err = seedDemo(ctx, store, secret, cfg.Issuer); err != nil {
			return fmt.Errorf("create demo user and client: %w", err)
		}
	}
	hs, err := handlers.NewHandlers(handlers.Options{
		Provider:       prov,
		Store:          store,
		CookieKey:      cookieKey,
		SessionTTL:     cfg.SessionTTL,
		SessionIdle:    cfg.SessionIdleTimeout,
		TrustedProxies: cfg.TrustedProxyPrefixes(),
		Logger:         log,
		Usage:          usage,
		DemoClientID:   demoClientIDIf(cfg.Demo),
		DemoOutbox:     demoOutbox(mailer),
		Mailer:         mailer,

		RequireVerifiedEmail: cfg.RequireVerifiedEmail,
		Collectors:           []prometheus.Collector{mailer},

		RegistrationMode:  cfg.RegistrationMode,
		FirstPartyClients: cfg.FirstPartyClients,
	})
	if err != nil {
		return err
	}

	srv := newHTTPServer(ctx, hs.Public, log)
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	log.Info("listening", "addr", ln.Addr().String(), "issuer", cfg.Issuer)
	var ops *http.Server
	if cfg.OpsAddr != "" {
		opsLn, err := net.Listen("tcp", cfg.OpsAddr)
		if err != nil {
			_ = ln.Close() // the ops.addr error is the one to report
			return fmt.Errorf("listen on %s (ops.addr): %w", cfg.OpsAddr, err)
		}
		ops = newHTTPServer(ctx, hs.Ops, log)
		log.Info("operations listener (metrics, health) up; keep it off the internet", "addr", opsLn.Addr().String())
		go func() {
			if err := ops.Serve(opsLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("operations listener stopped", "err", err)
			}
		}()
	}
	if demo != nil {
		demo.print(c.stdout)
	}

	bg, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	defer stopBackground()
	go prov.Keys().Run(bg, time.Minute)
	go runJanitor(bg, store, log, janitorInterval, cfg.AuditRetention)
	go usage.Run(bg, usageFlushInterval, log)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	shutdownErr := srv.Shutdown(shutdownCtx)
	if ops != nil {
		_ = ops.Shutdown(shutdownCtx)
	}
	// No request sends mail any more: deliver what is queued.
	closeMailer(shutdownCtx)
	// No request counts a key use any more: write what was counted.
	stopBackground()
	if err := usage.Flush(shutdownCtx); err != nil {
		log.Error("flush api key usage at shutdown", "err", err, "lost", usage.Pending())
	}
	if shutdownErr != nil {
		return fmt.Errorf("shutdown: %w", shutdownErr)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// newHTTPServer bounds every phase of a connection, so that slow or idle
// clients cannot hold the server's connections and memory.
func newHTTPServer(ctx context.Context, h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
}

// runJanitor removes expired rows and audit events older than retention
// every interval until ctx ends.
func runJanitor(ctx context.Context, store *storage.Store, log *slog.Logger, interval, retention time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, events, err := sweep(ctx, store, retention, time.Now())
			if err != nil && !errors.Is(err, context.Canceled) {
				log.Warn("janitor", "err", err)
				continue
			}
			if n > 0 || events > 0 {
				log.Info("janitor removed expired rows", "rows", n, "audit_events", events)
			}
		}
	}
}

// sweep is one round of the janitor: it removes the expired rows, then the
// audit events older than retention before now. Both run even if the first
// fails; the first error is returned.
func sweep(ctx context.Context, store *storage.Store, retention time.Duration, now time.Time) (expired, events int64, err error) {
	expired, err = store.DeleteExpired(ctx, 1000)
	var auditErr error
	if retention > 0 {
		events, auditErr = store.DeleteAuditEventsBefore(ctx, now.Add(-retention), 1000)
	}
	return expired, events, errors.Join(err, auditErr)
}

// demoOutbox is what /demo/outbox lists: the mail a mailer that only logs
// (demo mode with no SMTP server) keeps; otherwise there is no such page.
func demoOutbox(m *mail.Mailer) func() []mail.Sent {
	if !m.LogsOnly() {
		return nil
	}
	return m.Outbox
}
