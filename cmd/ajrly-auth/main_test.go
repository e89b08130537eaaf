package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// testSecret is the system secret the tests give where one is needed (a
// PostgreSQL DSN requires it).
const testSecret = "cli-test-secret-cli-test-secret-cli-test-secret"

// usageHead starts the usage text that comes with every usage error.
const usageHead = "Usage:\n  ajrly-auth [serve] [flags]"

// output collects what a command writes and lets a test wait for a string
// to appear in it. It is safe for concurrent use.
type output struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{} // closed and replaced at every write and at the end
	ended   bool
}

func newOutput() *output { return &output{changed: make(chan struct{})} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n, err := o.buf.Write(p)
	close(o.changed)
	o.changed = make(chan struct{})
	return n, err
}

// end marks the output complete: waitFor stops waiting for more.
func (o *output) end() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ended = true
	close(o.changed)
	o.changed = make(chan struct{})
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// errEnded is waitFor's error when the output ended without the string.
var errEnded = errors.New("output ended")

// waitFor returns the output once it contains s. It fails when the output
// ends without s or ctx ends first.
func (o *output) waitFor(ctx context.Context, s string) (string, error) {
	for {
		o.mu.Lock()
		text, changed, ended := o.buf.String(), o.changed, o.ended
		o.mu.Unlock()
		switch {
		case strings.Contains(text, s):
			return text, nil
		case ended:
			return text, fmt.Errorf("wait for %q: %w", s, errEnded)
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return text, fmt.Errorf("wait for %q: %w", s, ctx.Err())
		}
	}
}

// result is what one command line did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// all is everything the command printed.
func (r result) all() string { return r.stdout + r.stderr }

// runCLI runs a command line in process with env as the whole environment
// and stdin as standard input. A serve that should have failed but starts
// listening is stopped at once, so a broken test fails instead of hanging.
func runCLI(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	stdout, stderr := newOutput(), newOutput()
	go func() {
		if _, err := stderr.waitFor(ctx, "msg=listening"); err == nil {
			cancel()
		}
	}()
	c := &cli{
		stdin:  strings.NewReader(stdin),
		stdout: stdout,
		stderr: stderr,
		getenv: func(name string) (string, bool) {
			v, ok := env[name]
			return v, ok
		},
	}
	code := c.run(ctx, args)
	return result{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// wantCode fails the test unless r exited with code.
func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("want exit %d, got %s", code, r)
	}
}

// wantContains fails the test unless s contains every one of wants.
func wantContains(t *testing.T, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

// database is an empty database of one backend and the environment that
// points the commands at it.
type database struct {
	dsn string
	env map[string]string // AJRLY_DSN and, for PostgreSQL, AJRLY_SECRET
}

// run runs a command line against the database, named by AJRLY_DSN.
func (d database) run(t *testing.T, args ...string) result {
	t.Helper()
	return runCLI(t, d.env, "", args...)
}

// envWithout returns the database's environment without the variables
// named.
func (d database) envWithout(names ...string) map[string]string {
	env := map[string]string{}
	for k, v := range d.env {
		env[k] = v
	}
	for _, n := range names {
		delete(env, n)
	}
	return env
}

// migrate brings the database to this binary's schema version.
func (d database) migrate(t *testing.T) {
	t.Helper()
	wantCode(t, d.run(t, "migrate"), 0)
}

// withStore opens the database directly for the length of f, to check
// what the commands stored.
func (d database) withStore(t *testing.T, f func(s *storage.Store)) {
	t.Helper()
	s, err := storage.Open(t.Context(), storage.Options{DSN: d.dsn})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer s.Close()
	f(s)
}

// backend makes empty databases of one kind.
type backend struct {
	name string
	open func(t *testing.T) database
}

// backends lists SQLite, always, and PostgreSQL, which is skipped without
// AJRLY_TEST_POSTGRES_DSN (and fails in CI).
func backends() []backend {
	return []backend{
		{name: "sqlite", open: newSQLite},
		{name: "postgres", open: func(t *testing.T) database {
			t.Helper()
			dsn := storagetest.FreshPostgresSchema(t, storagetest.PostgresDSN(t))
			return database{dsn: dsn, env: map[string]string{"AJRLY_DSN": dsn, "AJRLY_SECRET": testSecret}}
		}},
	}
}

// newSQLite returns a database in a file of a fresh directory; the file
// does not exist yet.
func newSQLite(t *testing.T) database {
	t.Helper()
	dsn := "sqlite://" + filepath.Join(t.TempDir(), "ajrly.db")
	return database{dsn: dsn, env: map[string]string{"AJRLY_DSN": dsn}}
}

// forEachBackend runs f in a parallel subtest per backend, each with an
// empty database.
func forEachBackend(t *testing.T, f func(t *testing.T, db database)) {
	t.Helper()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b.open(t))
		})
	}
}

// fileExists reports whether path exists.
func fileExists(t *testing.T, path string) bool {
	t.Helper()
	_, err := os.Stat(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return err == nil
}

func TestWrongArgumentsAreUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		args  []string
		want  string // in stderr, before the usage
		usage string // the usage shown; the whole tool's unless set
	}{
		{"an unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`, ""},
		{"users without a subcommand", []string{"users"}, "users needs a subcommand", ""},
		{"an unknown users subcommand", []string{"users", "frobnicate"}, `unknown users subcommand "frobnicate"`, ""},
		{"clients without a subcommand", []string{"clients"}, "clients needs a subcommand", ""},
		{"an unknown clients subcommand", []string{"clients", "show"}, `unknown clients subcommand "show"`, ""},
		{"an unknown flag", []string{"users", "list", "--bogus"}, "unknown flag: --bogus", "Usage: ajrly-auth "},
		{"an unknown flag after an argument", []string{"clients", "delete", "cl_x", "--bogus"}, "unknown flag: --bogus", "Usage: ajrly-auth "},
		{"an unknown flag with no command is a serve flag", []string{"--bogus"}, "unknown flag: --bogus", "Usage: ajrly-auth "},
		{"an unknown flag on migrate", []string{"migrate", "--force"}, "unknown flag: --force", "Usage: ajrly-auth "},
		{"a flag without its value", []string{"users", "create", "--email"}, "flag needs an argument: --email", "Usage: ajrly-auth "},
		{"a flag value that does not parse", []string{"migrate", "--access-token-ttl", "soon"}, `invalid duration "soon"`, "Usage: ajrly-auth "},
		{"an argument to migrate", []string{"migrate", "now"}, `migrate takes no arguments, got ["now"]`, ""},
		{"an argument to janitor", []string{"janitor", "now"}, "takes no arguments", ""},
		{"an argument to serve", []string{"serve", "now"}, `serve takes no arguments, got ["now"]`, ""},
		{"an argument to users list", []string{"users", "list", "all"}, "takes no arguments", ""},
		{"an argument to users create", []string{"users", "create", "alice", "--email", "alice@example.com", "--password", "long-enough-password"}, "takes no arguments", ""},
		{"an argument to clients list", []string{"clients", "list", "all"}, "takes no arguments", ""},
		{"an argument to clients create", []string{"clients", "create", "app", "--name", "App", "--redirect-uri", "https://app.example.com/cb"}, "takes no arguments", ""},
		{"clients delete without an id", []string{"clients", "delete"}, "usage: ajrly-auth clients delete CLIENT_ID", ""},
		{"clients delete with two ids", []string{"clients", "delete", "cl_a", "cl_b"}, "usage: ajrly-auth clients delete CLIENT_ID", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := newSQLite(t)
			r := db.run(t, tc.args...)
			wantCode(t, r, 2)
			usage := tc.usage
			if usage == "" {
				usage = usageHead
			}
			wantContains(t, "stderr", r.stderr, tc.want, usage)
			if r.stdout != "" {
				t.Errorf("stdout is not empty:\n%s", r.stdout)
			}
			if path := strings.TrimPrefix(db.dsn, "sqlite://"); fileExists(t, path) {
				t.Errorf("a wrong command line created the database %s", path)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		wantStdout string
		wantStderr string
	}{
		{name: "help prints the usage", args: []string{"help"}, wantStdout: usageHead},
		{name: "-h prints the usage", args: []string{"-h"}, wantStdout: usageHead},
		{name: "--help prints the usage", args: []string{"--help"}, wantStdout: usageHead},
		{name: "serve -h lists the settings flags", args: []string{"serve", "-h"}, wantStderr: "(env AJRLY_DSN)"},
		{name: "users create -h lists its flags", args: []string{"users", "create", "-h"}, wantStderr: "-password"},
		{name: "clients delete -h lists the flags", args: []string{"clients", "delete", "-h"}, wantStderr: "-dsn"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := runCLI(t, nil, "", tc.args...)
			wantCode(t, r, 0)
			wantContains(t, "stdout", r.stdout, tc.wantStdout)
			wantContains(t, "stderr", r.stderr, tc.wantStderr)
		})
	}
}

func TestConfigurationErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{
			name: "an unknown dsn scheme from the environment stops users list",
			env:  map[string]string{"AJRLY_DSN": "mysql://x"},
			args: []string{"users", "list"},
			want: []string{"invalid configuration", `dsn: unknown scheme "mysql"`},
		},
		{
			name: "an unknown dsn scheme from the environment stops migrate",
			env:  map[string]string{"AJRLY_DSN": "mysql://x"},
			args: []string{"migrate"},
			want: []string{"invalid configuration", `dsn: unknown scheme "mysql"`},
		},
		{
			name: "an unknown dsn scheme from the environment stops serve",
			env:  map[string]string{"AJRLY_DSN": "mysql://x"},
			args: []string{"serve", "--addr", "127.0.0.1:0"},
			want: []string{"invalid configuration", `dsn: unknown scheme "mysql"`},
		},
		{
			name: "a dsn flag without a scheme names dsn",
			args: []string{"clients", "list", "--dsn", "ajrly.db"},
			want: []string{"dsn: missing scheme"},
		},
		{
			name: "an environment value that does not parse names the variable",
			env:  map[string]string{"AJRLY_ACCESS_TOKEN_TTL": "soon"},
			args: []string{"janitor"},
			want: []string{`AJRLY_ACCESS_TOKEN_TTL: invalid duration "soon"`},
		},
		{
			name: "every problem is reported at once",
			env:  map[string]string{"AJRLY_DSN": "mysql://x", "AJRLY_LOG_LEVEL": "loud"},
			args: []string{"users", "list"},
			want: []string{"dsn: unknown scheme", `log_level: unknown level "loud"`},
		},
		{
			name: "a short secret is refused without showing it",
			env:  map[string]string{"AJRLY_SECRET": "too-short-secret"},
			args: []string{"clients", "list"},
			want: []string{"secret: must be at least 32 bytes, got 16"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newSQLite(t).env // a default the row may override
			for k, v := range tc.env {
				env[k] = v
			}
			r := runCLI(t, env, "", tc.args...)
			wantCode(t, r, 1)
			wantContains(t, "stderr", r.stderr, tc.want...)
			if strings.Contains(r.stderr, "Usage:") {
				t.Errorf("a configuration error comes with the usage text:\n%s", r.stderr)
			}
			if s := tc.env["AJRLY_SECRET"]; s != "" && strings.Contains(r.all(), s) {
				t.Errorf("the output shows the secret:\n%s", r)
			}
		})
	}
}

func TestDSNFlagBeatsEnvironment(t *testing.T) {
	t.Parallel()
	t.Run("an invalid AJRLY_DSN is ignored when --dsn is given", func(t *testing.T) {
		t.Parallel()
		db := newSQLite(t)
		r := runCLI(t, map[string]string{"AJRLY_DSN": "mysql://x"}, "", "migrate", "--dsn", db.dsn)
		wantCode(t, r, 0)
	})
	t.Run("the command uses the database --dsn names", func(t *testing.T) {
		t.Parallel()
		fromEnv, fromFlag := newSQLite(t), newSQLite(t)
		r := runCLI(t, fromEnv.env, "", "migrate", "--dsn", fromFlag.dsn)
		wantCode(t, r, 0)
		if !fileExists(t, strings.TrimPrefix(fromFlag.dsn, "sqlite://")) {
			t.Errorf("the database of --dsn was not created")
		}
		if fileExists(t, strings.TrimPrefix(fromEnv.dsn, "sqlite://")) {
			t.Errorf("the database of AJRLY_DSN was created")
		}
	})
}
