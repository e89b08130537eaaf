package config_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/config"
)

const (
	secret32  = "0123456789abcdef0123456789abcdef"
	pgDSN     = "postgres://ajrly:hunter2hunter2@db.internal:5432/ajrly?sslmode=require"
	pgDSNShow = "postgres://ajrly:xxxxx@db.internal:5432/ajrly?sslmode=require"
)

// env is a fake environment for Load.
type env map[string]string

func (e env) lookup(name string) (string, bool) {
	v, ok := e[name]
	return v, ok
}

// load parses args into a fresh FlagSet and loads the config with e as the
// environment.
func load(t *testing.T, args []string, e env) (config.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	l := config.NewLoader(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse flags %q: %v", args, err)
	}
	return l.Load(e.lookup)
}

// writeFile writes content to name in a temporary directory and returns the path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDefault(t *testing.T) {
	t.Parallel()
	c := config.Default()
	if err := c.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"addr", c.Addr, "127.0.0.1:8080"},
		{"issuer", c.Issuer, "http://127.0.0.1:8080"},
		{"dsn", c.DSN, "sqlite://ajrly.db"},
		{"secret", c.Secret, ""},
		{"secret_file", c.SecretFile, ""},
		{"access_token_ttl", c.AccessTokenTTL, time.Hour},
		{"refresh_token_ttl", c.RefreshTokenTTL, 720 * time.Hour},
		{"auth_code_ttl", c.AuthCodeTTL, 10 * time.Minute},
		{"id_token_ttl", c.IDTokenTTL, time.Hour},
		{"session_ttl", c.SessionTTL, 168 * time.Hour},
		{"session_idle_timeout", c.SessionIdleTimeout, 12 * time.Hour},
		{"ops.addr", c.OpsAddr, "127.0.0.1:9090"},
		{"client_cache_ttl", c.ClientCacheTTL, 5 * time.Second},
		{"shutdown_timeout", c.ShutdownTimeout, 15 * time.Second},
		{"signing_key_rotation", c.SigningKeyRotation, 2160 * time.Hour},
		{"auto_migrate", c.AutoMigrate, true},
		{"demo", c.Demo, false},
		{"log_level", c.LogLevel, "info"},
		{"log_format", c.LogFormat, "text"},
		{"db_max_conns", c.DBMaxConns, 0},
		{"trusted_proxies", len(c.TrustedProxies), 0},
		{"audit.retention", c.AuditRetention, 9600 * time.Hour},
		{"dsn kind", c.DSNKind(), "sqlite"},
		{"sqlite path", c.SQLitePath(), "ajrly.db"},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("default %s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadWithNothingSetReturnsDefault(t *testing.T) {
	t.Parallel()
	got, err := load(t, nil, env{})
	if err != nil {
		t.Fatal(err)
	}
	if got.String() != config.Default().String() {
		t.Errorf("Load() = %v\nwant %v", got, config.Default())
	}
}

func TestLoadPrecedence(t *testing.T) {
	t.Parallel()
	file := writeFile(t, "ajrly.yaml", `
addr: "127.0.0.1:1001"
log_level: debug
access_token_ttl: 30m
demo: true
`)
	tests := []struct {
		name string
		args []string
		env  env
		want func(c config.Config) []string // problems
	}{
		{
			name: "flag beats env and file",
			args: []string{"--config", file, "--addr", "127.0.0.1:3003", "--log-level=warn"},
			env:  env{"AJRLY_ADDR": "127.0.0.1:2002", "AJRLY_LOG_LEVEL": "error"},
			want: func(c config.Config) []string {
				return diff(c.Addr, "127.0.0.1:3003", c.LogLevel, "warn")
			},
		},
		{
			name: "env beats file",
			args: []string{"--config", file},
			env:  env{"AJRLY_ADDR": "127.0.0.1:2002", "AJRLY_ACCESS_TOKEN_TTL": "2h"},
			want: func(c config.Config) []string {
				return diff(c.Addr, "127.0.0.1:2002", c.AccessTokenTTL, 2*time.Hour, c.LogLevel, "debug")
			},
		},
		{
			name: "file beats default",
			args: []string{"--config", file},
			want: func(c config.Config) []string {
				return diff(c.Addr, "127.0.0.1:1001", c.AccessTokenTTL, 30*time.Minute, c.Demo, true, c.LogFormat, "text")
			},
		},
		{
			name: "flag not given does not override env",
			args: []string{"--config", file, "--log-level", "warn"},
			env:  env{"AJRLY_ADDR": "127.0.0.1:2002"},
			want: func(c config.Config) []string {
				return diff(c.Addr, "127.0.0.1:2002", c.AccessTokenTTL, 30*time.Minute)
			},
		},
		{
			name: "flag set to its default still beats env",
			args: []string{"--addr", "127.0.0.1:8080"},
			env:  env{"AJRLY_ADDR": "127.0.0.1:2002"},
			want: func(c config.Config) []string { return diff(c.Addr, "127.0.0.1:8080") },
		},
		{
			name: "config file is found through AJRLY_CONFIG",
			env:  env{"AJRLY_CONFIG": file},
			want: func(c config.Config) []string { return diff(c.Addr, "127.0.0.1:1001") },
		},
		{
			name: "config flag beats AJRLY_CONFIG",
			args: []string{"--config", file},
			env:  env{"AJRLY_CONFIG": filepath.Join(t.TempDir(), "missing.yaml")},
			want: func(c config.Config) []string { return diff(c.Addr, "127.0.0.1:1001") },
		},
		{
			name: "empty env var counts as unset",
			args: []string{"--config", file},
			env:  env{"AJRLY_ADDR": "", "AJRLY_ACCESS_TOKEN_TTL": ""},
			want: func(c config.Config) []string {
				return diff(c.Addr, "127.0.0.1:1001", c.AccessTokenTTL, 30*time.Minute)
			},
		},
		{
			name: "bool flag without a value beats env false",
			args: []string{"--demo"},
			env:  env{"AJRLY_DEMO": "false"},
			want: func(c config.Config) []string { return diff(c.Demo, true) },
		},
		{
			name: "bool flag set to false beats env",
			args: []string{"--auto-migrate=false"},
			env:  env{"AJRLY_AUTO_MIGRATE": "true"},
			want: func(c config.Config) []string { return diff(c.AutoMigrate, false) },
		},
		{
			name: "trailing slash is removed from the issuer",
			args: []string{"--issuer", "https://auth.example.com/tenant/"},
			want: func(c config.Config) []string { return diff(c.Issuer, "https://auth.example.com/tenant") },
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := load(t, tc.args, tc.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for _, p := range tc.want(c) {
				t.Error(p)
			}
		})
	}
}

// diff takes got, want pairs and describes those that differ.
func diff(pairs ...any) []string {
	var problems []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != pairs[i+1] {
			problems = append(problems, fmt.Sprintf("got %v, want %v", pairs[i], pairs[i+1]))
		}
	}
	return problems
}

func TestValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(c *config.Config)
		want   []string // substrings of the error; none means valid
	}{
		{
			name:   "unknown dsn scheme is named",
			change: func(c *config.Config) { c.DSN = "mysql://root:pw@localhost/ajrly" },
			want:   []string{`dsn: unknown scheme "mysql" (use sqlite://path or postgres://...)`},
		},
		{
			name:   "dsn without scheme is an error",
			change: func(c *config.Config) { c.DSN = "ajrly.db" },
			want:   []string{"dsn: missing scheme"},
		},
		{
			name:   "empty sqlite path is an error",
			change: func(c *config.Config) { c.DSN = "sqlite://" },
			want:   []string{"dsn: empty sqlite path"},
		},
		{
			name:   "absolute sqlite path is valid",
			change: func(c *config.Config) { c.DSN = "sqlite:///var/lib/ajrly/ajrly.db" },
		},
		{
			name: "postgresql scheme with a secret is valid",
			change: func(c *config.Config) {
				c.DSN = "postgresql://ajrly@db/ajrly"
				c.Secret = secret32
			},
		},
		{
			name:   "postgres dsn without secret is valid (serve asks for one, admin commands need none)",
			change: func(c *config.Config) { c.DSN = pgDSN },
		},
		{
			name:   "an api audience that is not a URL is an error",
			change: func(c *config.Config) { c.APIAudiences = []string{"https://api.example.com", "api"} },
			want:   []string{`api_audiences: "api" is not an absolute URL`},
		},
		{
			name:   "an unknown registration mode is an error",
			change: func(c *config.Config) { c.RegistrationMode = "anyone" },
			want:   []string{`registration.mode: must be open, token or off, got "anyone"`},
		},
		{
			name:   "no api audience is an error",
			change: func(c *config.Config) { c.APIAudiences = nil },
			want:   []string{"api_audiences: needs at least one API URL"},
		},
		{
			name:   "an api key jwt lifetime over an hour is an error",
			change: func(c *config.Config) { c.APIKeyJWTTTL = 2 * time.Hour },
			want:   []string{"api_key_jwt_ttl: must be between 1m and 1h, got 2h0m0s"},
		},
		{
			name:   "an audit retention under a day is an error",
			change: func(c *config.Config) { c.AuditRetention = time.Hour },
			want:   []string{"audit.retention: must be from 24h to 87600h, got 1h"},
		},
		{
			name:   "an audit retention of ten years is accepted",
			change: func(c *config.Config) { c.AuditRetention = 87600 * time.Hour },
		},
		{
			name:   "signing keys may rotate only by hand",
			change: func(c *config.Config) { c.SigningKeyRotation = 0 },
		},
		{
			name:   "a signing key rotation under an hour is an error",
			change: func(c *config.Config) { c.SigningKeyRotation = 10 * time.Minute },
			want:   []string{"signing_key_rotation: must be 0 (never) or from 1h to 8760h, got 10m"},
		},
		{
			name:   "issuer without scheme is not absolute",
			change: func(c *config.Config) { c.Issuer = "auth.example.com" },
			want:   []string{`issuer: must be an absolute URL like https://auth.example.com, got "auth.example.com"`},
		},
		{
			name:   "issuer with http on a public host is an error",
			change: func(c *config.Config) { c.Issuer = "http://auth.example.com" },
			want:   []string{"issuer: must use https unless the host is localhost"},
		},
		{
			name:   "issuer with http on localhost is valid",
			change: func(c *config.Config) { c.Issuer = "http://localhost:8080" },
		},
		{
			name:   "issuer with http under .localhost is valid",
			change: func(c *config.Config) { c.Issuer = "http://auth.localhost" },
		},
		{
			name:   "issuer with http on IPv6 loopback is valid",
			change: func(c *config.Config) { c.Issuer = "http://[::1]:8080" },
		},
		{
			name:   "issuer with http on a private address is an error",
			change: func(c *config.Config) { c.Issuer = "http://10.0.0.1" },
			want:   []string{"issuer: must use https"},
		},
		{
			name:   "issuer with a path is valid",
			change: func(c *config.Config) { c.Issuer = "https://example.com/auth" },
		},
		{
			name:   "issuer with a query is an error",
			change: func(c *config.Config) { c.Issuer = "https://auth.example.com?tenant=1" },
			want:   []string{"issuer: must not have a query"},
		},
		{
			name:   "issuer with a fragment is an error",
			change: func(c *config.Config) { c.Issuer = "https://auth.example.com#top" },
			want:   []string{"issuer: must not have a fragment"},
		},
		{
			name:   "issuer with another scheme is an error",
			change: func(c *config.Config) { c.Issuer = "ftp://auth.example.com" },
			want:   []string{`issuer: scheme must be https, got "ftp"`},
		},
		{
			name:   "short secret is an error",
			change: func(c *config.Config) { c.Secret = "tooshort1234" },
			want:   []string{"secret: must be at least 32 bytes, got 12"},
		},
		{
			name:   "ttl below its range is an error",
			change: func(c *config.Config) { c.AccessTokenTTL = 30 * time.Second },
			want:   []string{"access_token_ttl: must be from 1m to 24h, got 30s"},
		},
		{
			name:   "ttl above its range is an error",
			change: func(c *config.Config) { c.AuthCodeTTL = time.Hour },
			want:   []string{"auth_code_ttl: must be from 10s to 10m, got 1h"},
		},
		{
			name:   "zero client cache ttl disables the cache",
			change: func(c *config.Config) { c.ClientCacheTTL = 0 },
		},
		{
			name:   "bad log level is an error",
			change: func(c *config.Config) { c.LogLevel = "verbose" },
			want:   []string{`log_level: unknown level "verbose" (use debug, info, warn or error)`},
		},
		{
			name:   "bad log format is an error",
			change: func(c *config.Config) { c.LogFormat = "xml" },
			want:   []string{`log_format: unknown format "xml"`},
		},
		{
			name:   "db max conns out of range is an error",
			change: func(c *config.Config) { c.DBMaxConns = 1001 },
			want:   []string{"db_max_conns: must be from 0 (automatic) to 1000, got 1001"},
		},
		{
			name:   "bad trusted proxy is an error",
			change: func(c *config.Config) { c.TrustedProxies = []string{"10.0.0.0/8", "lb.internal"} },
			want:   []string{`trusted_proxies: "lb.internal" is not an IP address or CIDR`},
		},
		{
			name:   "addr without port is an error",
			change: func(c *config.Config) { c.Addr = "localhost" },
			want:   []string{`addr: must be host:port like 127.0.0.1:8080 or :8080, got "localhost"`},
		},
		{
			name:   "addr with a port out of range is an error",
			change: func(c *config.Config) { c.Addr = ":70000" },
			want:   []string{`addr: port must be a number from 0 to 65535, got "70000"`},
		},
		{
			name:   "addr with a named port is an error",
			change: func(c *config.Config) { c.Addr = ":http" },
			want:   []string{`addr: port must be a number`},
		},
		{
			name:   "addr with only a port is valid",
			change: func(c *config.Config) { c.Addr = ":8080" },
		},
		{
			name: "several problems are all reported",
			change: func(c *config.Config) {
				c.Addr = "nope"
				c.Issuer = "http://auth.example.com?x=1"
				c.DSN = "mysql://x"
				c.SessionTTL = time.Minute
				c.LogFormat = "xml"
			},
			want: []string{
				"addr: must be host:port",
				"issuer: must use https",
				"issuer: must not have a query",
				`dsn: unknown scheme "mysql"`,
				"session_ttl: must be from 5m to 2160h, got 1m",
				`log_format: unknown format "xml"`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			tc.change(&c)
			err := c.Validate()
			checkErr(t, err, tc.want)
			if err != nil {
				for line := range strings.SplitSeq(err.Error(), "\n") {
					key, _, _ := strings.Cut(line, ": ")
					if strings.ContainsAny(key, " ") {
						t.Errorf("error line %q does not start with a setting key", line)
					}
				}
			}
		})
	}
}

// checkErr fails t unless err contains each of want, or err is nil and want empty.
func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("error = %v, want nil", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("error = nil, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error = %q\nwant it to contain %q", err, w)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	short := writeFile(t, "short", "tooshort1234\n")
	good := writeFile(t, "good", "\n  "+secret32+"\n")
	tests := []struct {
		name string
		args []string
		env  env
		file string // YAML, written to a temporary file named by --config
		want []string
	}{
		{
			name: "unknown yaml key is named",
			file: "addr: \":8080\"\nacess_token_ttl: 1h\n",
			want: []string{`line 2: unknown key "acess_token_ttl"`},
		},
		{
			name: "unknown nested yaml key is named",
			file: "log:\n  level: debug\n",
			want: []string{`unknown key "log"`},
		},
		{
			name: "the removed registration.allow_first_party says what to do instead",
			file: "registration:\n  allow_first_party: true\n",
			want: []string{"registration.allow_first_party was removed", "clients update CLIENT_ID --first-party=true", "first_party_clients"},
		},
		{
			name: "the removed AJRLY_REGISTRATION_ALLOW_FIRST_PARTY says what to do instead",
			env:  env{"AJRLY_REGISTRATION_ALLOW_FIRST_PARTY": "true"},
			want: []string{"AJRLY_REGISTRATION_ALLOW_FIRST_PARTY was removed", "operator's decision"},
		},
		{
			name: "duplicate yaml key is an error",
			file: "addr: \":8080\"\naddr: \":9090\"\n",
			want: []string{`line 2: duplicate key "addr"`},
		},
		{
			name: "bad yaml value names the key",
			file: "session_ttl: forever\n",
			want: []string{`session_ttl: invalid duration "forever"`},
		},
		{
			name: "list for a single value is an error",
			file: "addr: [a, b]\n",
			want: []string{"addr: want a single value, not a list"},
		},
		{
			name: "file that is not a mapping is an error",
			file: "- addr\n",
			want: []string{"want settings as key: value lines"},
		},
		{
			name: "invalid yaml is an error",
			file: "addr: [\n",
			want: []string{"config file"},
		},
		{
			name: "missing config file named by flag is an error",
			args: []string{"--config", filepath.Join(dir, "missing.yaml")},
			want: []string{"read config file", "missing.yaml"},
		},
		{
			name: "missing config file named by env is an error",
			env:  env{"AJRLY_CONFIG": filepath.Join(dir, "missing.yaml")},
			want: []string{"read config file", "missing.yaml"},
		},
		{
			name: "bad env duration names the variable",
			env:  env{"AJRLY_ACCESS_TOKEN_TTL": "abc"},
			want: []string{`AJRLY_ACCESS_TOKEN_TTL: invalid duration "abc"`},
		},
		{
			name: "bad env bool names the variable",
			env:  env{"AJRLY_DEMO": "sure"},
			want: []string{`AJRLY_DEMO: invalid boolean "sure"`},
		},
		{
			name: "bad env number names the variable",
			env:  env{"AJRLY_DB_MAX_CONNS": "lots"},
			want: []string{`AJRLY_DB_MAX_CONNS: invalid number "lots"`},
		},
		{
			name: "env problems are reported with validation problems",
			env:  env{"AJRLY_ACCESS_TOKEN_TTL": "abc", "AJRLY_LOG_LEVEL": "loud"},
			want: []string{"AJRLY_ACCESS_TOKEN_TTL: invalid duration", `log_level: unknown level "loud"`},
		},
		{
			name: "secret and secret file both set is an error",
			args: []string{"--secret-file", good},
			env:  env{"AJRLY_SECRET": secret32},
			want: []string{"secret: set secret or secret_file, not both"},
		},
		{
			name: "unreadable secret file is an error naming the setting",
			args: []string{"--secret-file", filepath.Join(dir, "nope")},
			want: []string{"secret_file: open ", "nope"},
		},
		{
			name: "empty secret file is an error",
			args: []string{"--secret-file", writeFile(t, "empty", "\n")},
			want: []string{"secret_file: ", "is empty"},
		},
		{
			name: "short secret file is an error",
			args: []string{"--secret-file", short},
			want: []string{"secret_file: content must be at least 32 bytes, got 12"},
		},
		{
			name: "short secret from env is an error",
			env:  env{"AJRLY_SECRET": "tooshort1234"},
			want: []string{"secret: must be at least 32 bytes, got 12"},
		},
		{
			name: "invalid trusted proxy flag is an error",
			args: []string{"--trusted-proxies", "10.0.0.0/8,nope"},
			want: []string{`trusted_proxies: "nope" is not an IP address or CIDR`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if tc.file != "" {
				args = append([]string{"--config", writeFile(t, "ajrly.yaml", tc.file)}, args...)
			}
			_, err := load(t, args, tc.env)
			checkErr(t, err, tc.want)
			for _, secret := range []string{"tooshort1234", secret32, "hunter2"} {
				if err != nil && strings.Contains(err.Error(), secret) {
					t.Errorf("error %q shows the secret %q", err, secret)
				}
			}
		})
	}
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	secretFile := writeFile(t, "secret", "\n  "+secret32+"\n")
	tests := []struct {
		name  string
		args  []string
		env   env
		file  string
		check func(c config.Config) []string
	}{
		{
			name:  "env duration in seconds",
			env:   env{"AJRLY_ACCESS_TOKEN_TTL": "3600"},
			check: func(c config.Config) []string { return diff(c.AccessTokenTTL, time.Hour) },
		},
		{
			name:  "env duration in Go form",
			env:   env{"AJRLY_ACCESS_TOKEN_TTL": "1h30m"},
			check: func(c config.Config) []string { return diff(c.AccessTokenTTL, 90*time.Minute) },
		},
		{
			name: "yaml durations in both forms",
			file: "access_token_ttl: 900\nrefresh_token_ttl: \"48h\"\nauth_code_ttl: 90s\n",
			check: func(c config.Config) []string {
				return diff(c.AccessTokenTTL, 15*time.Minute, c.RefreshTokenTTL, 48*time.Hour, c.AuthCodeTTL, 90*time.Second)
			},
		},
		{
			name:  "flag duration in seconds",
			args:  []string{"--shutdown-timeout", "30"},
			check: func(c config.Config) []string { return diff(c.ShutdownTimeout, 30*time.Second) },
		},
		{
			name:  "yaml key with no value keeps the default",
			file:  "log_level:\n",
			check: func(c config.Config) []string { return diff(c.LogLevel, "info") },
		},
		{
			name:  "empty yaml file keeps the defaults",
			file:  "# nothing yet\n",
			check: func(c config.Config) []string { return diff(c.Addr, "127.0.0.1:8080") },
		},
		{
			name: "secret file content is trimmed into secret",
			args: []string{"--secret-file", secretFile},
			env:  env{"AJRLY_DSN": pgDSN},
			check: func(c config.Config) []string {
				return diff(c.Secret, secret32, c.SecretFile, secretFile, c.DSNKind(), "postgres", c.SQLitePath(), "")
			},
		},
		{
			name: "secret from env",
			env:  env{"AJRLY_SECRET": secret32},
			check: func(c config.Config) []string {
				return diff(c.Secret, secret32)
			},
		},
		{
			name: "trusted proxies from a yaml list",
			file: "trusted_proxies:\n  - 10.0.0.0/8\n  - 192.0.2.7\n  - 2001:db8::/32\n  - 2001:db8::1\n",
			check: func(c config.Config) []string {
				return diffPrefixes(c, "10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32", "2001:db8::1/128")
			},
		},
		{
			name: "trusted proxies from comma-separated env",
			env:  env{"AJRLY_TRUSTED_PROXIES": "10.1.2.3/8, 192.0.2.7,"},
			check: func(c config.Config) []string {
				return append(diffPrefixes(c, "10.0.0.0/8", "192.0.2.7/32"),
					diff(strings.Join(c.TrustedProxies, ","), "10.1.2.3/8,192.0.2.7")...)
			},
		},
		{
			name: "trusted proxies flag replaces the env list",
			args: []string{"--trusted-proxies", "172.16.0.0/12"},
			env:  env{"AJRLY_TRUSTED_PROXIES": "10.0.0.0/8"},
			check: func(c config.Config) []string {
				return diffPrefixes(c, "172.16.0.0/12")
			},
		},
		{
			name: "yaml alias takes the anchored value",
			file: "access_token_ttl: &ttl 2h\nid_token_ttl: *ttl\n",
			check: func(c config.Config) []string {
				return diff(c.IDTokenTTL, 2*time.Hour)
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if tc.file != "" {
				args = append([]string{"--config", writeFile(t, "ajrly.yaml", tc.file)}, args...)
			}
			c, err := load(t, args, tc.env)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			for _, p := range tc.check(c) {
				t.Error(p)
			}
		})
	}
}

func diffPrefixes(c config.Config, want ...string) []string {
	var got []string
	for _, p := range c.TrustedProxyPrefixes() {
		got = append(got, p.String())
	}
	if !slices.Equal(got, want) {
		return []string{fmt.Sprintf("TrustedProxyPrefixes() = %v, want %v", got, want)}
	}
	return nil
}

func TestTrustedProxyPrefixesUnmapsIPv4InIPv6(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.TrustedProxies = []string{"::ffff:192.0.2.1"}
	want := []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}
	if got := c.TrustedProxyPrefixes(); !slices.Equal(got, want) {
		t.Errorf("TrustedProxyPrefixes() = %v, want %v", got, want)
	}
}

func TestLoadBeforeParseIsAnError(t *testing.T) {
	t.Parallel()
	l := config.NewLoader(flag.NewFlagSet("test", flag.ContinueOnError))
	if _, err := l.Load(env{}.lookup); err == nil {
		t.Error("Load before Parse succeeded, want an error")
	}
}

func TestLogValueHidesSecrets(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		dsn      string
		secret   string
		wantDSN  string
		wantSecr string
	}{
		{"postgres password is masked", pgDSN, secret32, pgDSNShow, "(set)"},
		{
			"password in a postgres query is masked",
			"postgresql://db/ajrly?password=hunter2hunter2&user=ajrly", secret32,
			"postgresql://db/ajrly?password=xxxxx&user=ajrly", "(set)",
		},
		{"sqlite dsn is shown and missing secret is unset", "sqlite://data/ajrly.db", "", "sqlite://data/ajrly.db", "(unset)"},
		{"dsn without scheme is hidden", "host=db password=hunter2hunter2", "", "xxxxx", "(unset)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := config.Default()
			c.DSN = tc.dsn
			c.Secret = tc.secret

			var text, js bytes.Buffer
			slog.New(slog.NewTextHandler(&text, nil)).Info("start", "config", c)
			slog.New(slog.NewJSONHandler(&js, nil)).Info("start", "config", c)
			outputs := map[string]string{
				"String":       c.String(),
				"%v":           fmt.Sprintf("%v", c),
				"%+v":          fmt.Sprintf("%+v", c),
				"text handler": text.String(),
				"json handler": js.String(),
			}
			for name, out := range outputs {
				for _, leak := range []string{"hunter2", secret32} {
					if strings.Contains(out, leak) {
						t.Errorf("%s output shows %q: %s", name, leak, out)
					}
				}
			}

			var record struct {
				Config map[string]any `json:"config"`
			}
			if err := json.Unmarshal(js.Bytes(), &record); err != nil {
				t.Fatal(err)
			}
			for _, p := range diff(record.Config["dsn"], tc.wantDSN, record.Config["secret"], tc.wantSecr,
				record.Config["access_token_ttl"], "1h", record.Config["auto_migrate"], true) {
				t.Error(p)
			}
		})
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	config.NewLoader(fs)

	if fs.Lookup("secret") != nil {
		t.Error("there is a --secret flag; the secret must not be given on the command line")
	}
	count := 0
	fs.VisitAll(func(f *flag.Flag) {
		count++
		env := "AJRLY_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if !strings.Contains(f.Usage, "(env "+env+")") {
			t.Errorf("usage of --%s = %q, want it to name %s", f.Name, f.Usage, env)
		}
		// Every flag but --config is a setting shown under its YAML key.
		key := strings.ReplaceAll(f.Name, "-", "_")
		nested := strings.Replace(key, "_", ".", 1) // registration-mode is registration.mode
		shown := config.Default().String()
		if f.Name != "config" && !strings.Contains(shown, key+"=") && !strings.Contains(shown, nested+"=") {
			t.Errorf("flag --%s has no %s in Config.String()", f.Name, key)
		}
	})
	if count != 30 {
		t.Errorf("%d flags, want 30 (--config and 29 settings)", count)
	}

	var help bytes.Buffer
	fs.SetOutput(&help)
	fs.PrintDefaults()
	for _, want := range []string{
		"-addr address\n",
		"(env AJRLY_ADDR) (default 127.0.0.1:8080)",
		"-access-token-ttl duration\n",
		"(default 1h)",
		"-demo\n",
		"-auto-migrate\n",
	} {
		if !strings.Contains(help.String(), want) {
			t.Errorf("PrintDefaults output lacks %q:\n%s", want, help.String())
		}
	}
}

func TestValidateErrorsAreJoined(t *testing.T) {
	t.Parallel()
	c := config.Default()
	c.Addr = "x"
	c.LogLevel = "x"
	err := c.Validate()
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Errorf("Validate() = %v, want two joined errors", err)
	}
}
