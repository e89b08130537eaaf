package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/storage"
)

// settings adds the settings flags to a subcommand's own, parses them and
// loads the configuration. synopsis is what follows the command's name in
// its usage line.
func (c *cli) settings(fs *flag.FlagSet, synopsis string, args []string) (config.Config, error) {
	own := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { own[f.Name] = true })
	loader := config.NewLoader(fs)
	fs.Usage = func() {
		out := fs.Output()
		fmt.Fprintf(out, "Usage: %s %s\n", fs.Name(), synopsis)
		if len(own) == 0 {
			fmt.Fprintln(out, "\nSettings (each also an AJRLY_* variable or a key of the --config file):")
			fs.PrintDefaults()
			return
		}
		mine := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		mine.SetOutput(out)
		fs.VisitAll(func(f *flag.Flag) {
			if own[f.Name] {
				mine.Var(f.Value, f.Name, f.Usage)
			}
		})
		fmt.Fprintln(out, "\nFlags:")
		mine.PrintDefaults()
		fmt.Fprintln(out, "\nIt also takes the settings flags (--dsn, --config, ...): run \"ajrly-auth serve -h\" to list them.")
	}
	if err := parse(fs, args); err != nil {
		return config.Config{}, err
	}
	cfg, err := loader.Load(c.getenv)
	if err != nil {
		return config.Config{}, fmt.Errorf("invalid configuration:\n%w", err)
	}
	return cfg, nil
}

// newLogger builds the process logger from the configuration.
func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel)) // Validate checked it
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openStore connects to the database, retrying for up to wait while it is
// unreachable (a database that starts with the server, say).
func openStore(ctx context.Context, cfg config.Config, log *slog.Logger, wait time.Duration) (*storage.Store, error) {
	opts := storage.Options{
		DSN:            cfg.DSN,
		MaxConns:       cfg.DBMaxConns,
		ClientCacheTTL: cfg.ClientCacheTTL,
		Logger:         log,
	}
	deadline := time.Now().Add(wait)
	delay := 250 * time.Millisecond
	for {
		s, err := storage.Open(ctx, opts)
		if err == nil || !errors.Is(err, storage.ErrUnavailable) || time.Now().After(deadline) {
			return s, err
		}
		log.WarnContext(ctx, "database unreachable; retrying", "err", err, "retry_in", delay)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay = min(delay*2, 5*time.Second)
	}
}

// systemSecret returns the configured secret or, for the embedded SQLite
// default only, one generated once and kept next to the database file.
func systemSecret(cfg config.Config, log *slog.Logger) ([]byte, error) {
	if cfg.Secret != "" {
		return []byte(cfg.Secret), nil
	}
	path := cfg.SQLitePath()
	if path == "" {
		return nil, errors.New("secret: required with a postgres dsn; set AJRLY_SECRET (at least 32 bytes, e.g. openssl rand -base64 48) or secret_file, the same on every instance")
	}
	secretPath := path + ".secret"
	if f, err := os.Open(secretPath); err == nil {
		// The secret unseals the signing keys: a file others can read
		// gives them away. The mode is read from the open file, so it is
		// the mode of what is read.
		info, err := f.Stat()
		var b []byte
		if err == nil {
			b, err = io.ReadAll(f)
		}
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read secret file: %w", err)
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
			return nil, fmt.Errorf("secret file %s: mode %04o lets group or others read or change it; run chmod 600 %s", secretPath, perm, secretPath)
		}
		secret := strings.TrimSpace(string(b))
		if len(secret) < config.MinSecretLen {
			return nil, fmt.Errorf("secret file %s: shorter than %d bytes", secretPath, config.MinSecretLen)
		}
		return []byte(secret), nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read secret file: %w", err)
	}
	raw := make([]byte, 48)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate secret: %w", err)
	}
	secret := base64.RawURLEncoding.EncodeToString(raw)
	if dir := filepath.Dir(secretPath); dir != "." {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
	}
	f, err := os.OpenFile(secretPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, os.ErrExist) {
		return systemSecret(cfg, log) // another process wrote it first
	} else if err != nil {
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	defer f.Close()
	if _, err := f.WriteString(secret + "\n"); err != nil {
		return nil, fmt.Errorf("write secret file: %w", err)
	}
	log.Warn("generated a system secret for the embedded database; set AJRLY_SECRET in production", "file", secretPath)
	return []byte(secret), nil
}
