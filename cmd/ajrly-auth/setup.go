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
	"reflect"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/storage"
)

// settingAnnotation marks the flags of the settings, which the help lists
// apart from a command's own.
const settingAnnotation = "ajrly-auth/setting"

// withSettings gives cmd the settings flags and makes it run body with the
// configuration they, the environment and the --config file make.
//
// config.NewLoader binds the settings to a standard FlagSet and tells from
// it which flags were given, since a flag beats the environment and the
// environment beats the file. Each setting becomes a pflag whose Set goes
// through that FlagSet's Set, which records the flag as given. (pflag's
// AddGoFlagSet sets the values without recording that, so the environment
// would win over the command line.)
func (c *cli) withSettings(cmd *cobra.Command, body func(ctx context.Context, cfg config.Config, args []string) error) {
	std := flag.NewFlagSet(cmd.CommandPath(), flag.ContinueOnError)
	std.SetOutput(io.Discard)
	loader := config.NewLoader(std)
	std.VisitAll(func(f *flag.Flag) { cmd.Flags().AddFlag(bridgeFlag(std, f)) })
	_ = cmd.MarkFlagFilename("config", "yaml", "yml")
	completeWords(cmd, "log-level", "debug", "info", "warn", "error")
	completeWords(cmd, "log-format", "text", "json")
	completeWords(cmd, "registration-mode", "open", "token", "off")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		// pflag has parsed the line, setting each flag given through std.Set;
		// parsing nothing marks std parsed, which Load requires.
		if err := std.Parse(nil); err != nil {
			return err
		}
		cfg, err := loader.Load(c.getenv)
		if err != nil {
			return fmt.Errorf("invalid configuration:\n%w", err)
		}
		return body(cmd.Context(), cfg, args)
	}
}

// isSetting reports whether f is one of the settings flags.
func isSetting(f *pflag.Flag) bool {
	_, ok := f.Annotations[settingAnnotation]
	return ok
}

// bridgeFlag returns a pflag for the flag f of std.
func bridgeFlag(std *flag.FlagSet, f *flag.Flag) *pflag.Flag {
	v := bridgedValue{std: std, f: f}
	pf := &pflag.Flag{
		Name:        f.Name,
		Usage:       f.Usage,
		Value:       v,
		DefValue:    f.Value.String(),
		Annotations: map[string][]string{settingAnnotation: {"true"}},
	}
	if v.Type() == "bool" {
		pf.NoOptDefVal = "true" // --demo means --demo=true
	}
	return pf
}

// bridgedValue is a setting's value as pflag sees it.
type bridgedValue struct {
	std *flag.FlagSet
	f   *flag.Flag
}

func (v bridgedValue) String() string { return v.f.Value.String() }

// Set sets the flag through its FlagSet, which records it as given.
func (v bridgedValue) Set(s string) error { return v.std.Set(v.f.Name, s) }

// Type names the kind of value, which pflag uses to show the default and to
// know the flags that need no value.
func (v bridgedValue) Type() string {
	if b, ok := v.f.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
		return "bool"
	}
	t := reflect.TypeOf(v.f.Value)
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.String:
		return "string"
	case t.Kind() == reflect.Int:
		return "int"
	case t.Kind() == reflect.Int64: // the settings of 64 bits are durations
		return "duration"
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String:
		return "strings"
	}
	return "value"
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
	if f, err := os.Open(secretPath); err == nil { //nolint:gosec // G304: the operator's own database path
		// The secret unseals the signing keys: a file others can read
		// gives them away. The mode is read from the open file, so it is
		// the mode of what is read.
		info, err := f.Stat()
		var b []byte
		if err == nil {
			b, err = io.ReadAll(f)
		}
		_ = f.Close() // read-only: nothing to flush
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
	f, err := os.OpenFile(secretPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // G304: the operator's own database path
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
