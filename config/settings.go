package config

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"
)

// A setting ties one Config field to its YAML key, environment variable and
// flag. To add a setting, add a field to Config, an entry to settings, its
// default to Default and, if it has rules, a check to Validate.
type setting struct {
	key   string // YAML key; a dot nests it, so "registration.mode" is mode under registration
	env   string // environment variable
	flag  string // flag name, or "" for none (the secret must not appear in ps)
	usage string // flag help; a `word` in backquotes names the argument, and "(env NAME)" is appended
	// field returns a pointer to the setting's field in c: a *string, *bool,
	// *int, *time.Duration or *[]string.
	field func(c *Config) any
	// show, if set, is how LogValue shows the setting instead of its value.
	show func(c *Config) slog.Value
}

var settings = []setting{
	{
		key: "addr", env: "AJRLY_ADDR", flag: "addr",
		usage: "listen `address` as host:port",
		field: func(c *Config) any { return &c.Addr },
	},
	{
		key: "ops.addr", env: "AJRLY_OPS_ADDR", flag: "ops-addr",
		usage: "listen `address` (host:port) of the operations listener with /metrics and the health checks; keep it off the internet; empty turns it off",
		field: func(c *Config) any { return &c.OpsAddr },
	},
	{
		key: "issuer", env: "AJRLY_ISSUER", flag: "issuer",
		usage: "issuer `URL` clients see; https unless the host is localhost or loopback",
		field: func(c *Config) any { return &c.Issuer },
	},
	{
		key: "dsn", env: "AJRLY_DSN", flag: "dsn",
		usage: "database `DSN`: sqlite://relative.db, sqlite:///absolute.db or postgres://...",
		field: func(c *Config) any { return &c.DSN },
		show:  func(c *Config) slog.Value { return slog.StringValue(redactDSN(c.DSN)) },
	},
	{
		key: "secret", env: "AJRLY_SECRET",
		field: func(c *Config) any { return &c.Secret },
		show: func(c *Config) slog.Value {
			if c.Secret == "" {
				return slog.StringValue("(unset)")
			}
			return slog.StringValue("(set)")
		},
	},
	{
		key: "secret_file", env: "AJRLY_SECRET_FILE", flag: "secret-file",
		usage: "read the server secret (at least 32 bytes) from `file`, or set AJRLY_SECRET; there is no --secret flag because ps would show it",
		field: func(c *Config) any { return &c.SecretFile },
	},
	{
		key: "access_token_ttl", env: "AJRLY_ACCESS_TOKEN_TTL", flag: "access-token-ttl",
		usage: "access token lifetime, 1m to 24h (a `duration` like 90s or 1h30m, or seconds)",
		field: func(c *Config) any { return &c.AccessTokenTTL },
	},
	{
		key: "refresh_token_ttl", env: "AJRLY_REFRESH_TOKEN_TTL", flag: "refresh-token-ttl",
		usage: "refresh token lifetime, 1h to 8760h (`duration`)",
		field: func(c *Config) any { return &c.RefreshTokenTTL },
	},
	{
		key: "refresh_grant_max_age", env: "AJRLY_REFRESH_GRANT_MAX_AGE", flag: "refresh-grant-max-age",
		usage: "how long a grant can be refreshed before the person signs in again, refresh_token_ttl to 8760h (`duration`)",
		field: func(c *Config) any { return &c.RefreshGrantMaxAge },
	},
	{
		key: "auth_code_ttl", env: "AJRLY_AUTH_CODE_TTL", flag: "auth-code-ttl",
		usage: "authorization code lifetime, 10s to 10m (`duration`)",
		field: func(c *Config) any { return &c.AuthCodeTTL },
	},
	{
		key: "id_token_ttl", env: "AJRLY_ID_TOKEN_TTL", flag: "id-token-ttl",
		usage: "ID token lifetime, 1m to 24h (`duration`)",
		field: func(c *Config) any { return &c.IDTokenTTL },
	},
	{
		key: "session_ttl", env: "AJRLY_SESSION_TTL", flag: "session-ttl",
		usage: "browser sign-in session lifetime, 5m to 2160h (`duration`)",
		field: func(c *Config) any { return &c.SessionTTL },
	},
	{
		key: "session_idle_timeout", env: "AJRLY_SESSION_IDLE_TIMEOUT", flag: "session-idle-timeout",
		usage: "sign a browser out after this long without a request, 5m up to session_ttl (`duration`)",
		field: func(c *Config) any { return &c.SessionIdleTimeout },
	},
	{
		key: "client_cache_ttl", env: "AJRLY_CLIENT_CACHE_TTL", flag: "client-cache-ttl",
		usage: "how long client records are cached, 0 (off) to 5m (`duration`)",
		field: func(c *Config) any { return &c.ClientCacheTTL },
	},
	{
		key: "shutdown_timeout", env: "AJRLY_SHUTDOWN_TIMEOUT", flag: "shutdown-timeout",
		usage: "how long to wait for requests to finish on shutdown, 1s to 5m (`duration`)",
		field: func(c *Config) any { return &c.ShutdownTimeout },
	},
	{
		key: "auto_migrate", env: "AJRLY_AUTO_MIGRATE", flag: "auto-migrate",
		usage: "migrate the database schema at start",
		field: func(c *Config) any { return &c.AutoMigrate },
	},
	{
		key: "demo", env: "AJRLY_DEMO", flag: "demo",
		usage: "create a demo user and client at start",
		field: func(c *Config) any { return &c.Demo },
	},
	{
		key: "log_level", env: "AJRLY_LOG_LEVEL", flag: "log-level",
		usage: "log `level`: debug, info, warn or error",
		field: func(c *Config) any { return &c.LogLevel },
	},
	{
		key: "log_format", env: "AJRLY_LOG_FORMAT", flag: "log-format",
		usage: "log `format`: text or json",
		field: func(c *Config) any { return &c.LogFormat },
	},
	{
		key: "db_max_conns", env: "AJRLY_DB_MAX_CONNS", flag: "db-max-conns",
		usage: "maximum open database connections, 0 (automatic) to 1000 (`number`)",
		field: func(c *Config) any { return &c.DBMaxConns },
	},
	{
		key: "api_audiences", env: "AJRLY_API_AUDIENCES", flag: "api-audiences",
		usage: "comma-separated absolute `URLs` of the APIs JWT access tokens may be issued for; the first is the default audience",
		field: func(c *Config) any { return &c.APIAudiences },
	},
	{
		key: "api_key_jwt_ttl", env: "AJRLY_API_KEY_JWT_TTL", flag: "api-key-jwt-ttl",
		usage: "lifetime of a JWT exchanged for an API key, 1m to 1h (`duration`)",
		field: func(c *Config) any { return &c.APIKeyJWTTTL },
	},
	{
		key: "signing_key_rotation", env: "AJRLY_SIGNING_KEY_ROTATION", flag: "signing-key-rotation",
		usage: "how long a signing key signs before a new one replaces it, 0 for only by hand (`duration`)",
		field: func(c *Config) any { return &c.SigningKeyRotation },
	},
	{
		key: "registration.mode", env: "AJRLY_REGISTRATION_MODE", flag: "registration-mode",
		usage: "dynamic client registration at /register: open, token (an initial access token is needed) or off (`mode`)",
		field: func(c *Config) any { return &c.RegistrationMode },
	},
	{
		key: "first_party_clients", env: "AJRLY_FIRST_PARTY_CLIENTS", flag: "first-party-clients",
		usage: "comma-separated client `IDs` of the operator's own apps, which people are not asked to consent to (besides those marked with clients update --first-party)",
		field: func(c *Config) any { return &c.FirstPartyClients },
	},
	{ //nolint:gosec // G101: the usage shows the URL's form, not a credential
		key: "mail.smtp_url", env: "AJRLY_SMTP_URL", flag: "smtp-url",
		usage: "SMTP server `URL` for mail: smtp://user:pass@host:587 (STARTTLS when offered), smtps://user:pass@host:465 or smtp://host:25; empty: no mail outside demo mode; prefer the environment variable, since ps shows flags",
		field: func(c *Config) any { return &c.MailSMTPURL },
		show:  func(c *Config) slog.Value { return slog.StringValue(redactSMTPURL(c.MailSMTPURL)) },
	},
	{
		key: "mail.from", env: "AJRLY_MAIL_FROM", flag: "mail-from",
		usage: "sender `address` of mail, required with mail.smtp_url",
		field: func(c *Config) any { return &c.MailFrom },
	},
	{
		key: "accounts.require_verified_email", env: "AJRLY_REQUIRE_VERIFIED_EMAIL", flag: "require-verified-email",
		usage: "people must verify their email address (the link sign-up mails them) before they consent to an app",
		field: func(c *Config) any { return &c.RequireVerifiedEmail },
	},
	{
		key: "trusted_proxies", env: "AJRLY_TRUSTED_PROXIES", flag: "trusted-proxies",
		usage: "comma-separated `CIDRs` or IPs of load balancers whose X-Forwarded-For and X-Forwarded-Proto are trusted",
		field: func(c *Config) any { return &c.TrustedProxies },
	},
	{
		key: "audit.retention", env: "AJRLY_AUDIT_RETENTION", flag: "audit-retention",
		usage: "how long the audit log keeps an event before the janitor removes it, 24h to 87600h (`duration`)",
		field: func(c *Config) any { return &c.AuditRetention },
	},
}

// removedSettings are settings that no longer exist, by YAML key and by
// environment variable, with what to do instead: setting one is an error
// that says so, never silently ignored.
var removedSettings = []struct{ key, env, instead string }{
	{"registration.allow_first_party", "AJRLY_REGISTRATION_ALLOW_FIRST_PARTY",
		"organization owners can no longer make apps first-party (no consent page for anyone on the server); " +
			"that is the operator's decision: `ajrly-auth clients update CLIENT_ID --first-party=true`, or list the app in first_party_clients"},
}

// settingByKey returns the setting with the YAML key.
func settingByKey(key string) (setting, bool) {
	for _, s := range settings {
		if s.key == key {
			return s, true
		}
	}
	return setting{}, false
}

// isKeyPrefix reports whether some setting's key starts with prefix, that
// is whether a YAML mapping under prefix may hold settings.
func isKeyPrefix(prefix string) bool {
	for _, s := range settings {
		if strings.HasPrefix(s.key, prefix) {
			return true
		}
	}
	return false
}

// A value parses a setting from text and prints it back; flag.Value is the
// same interface, so the flags bind to these directly.
type value interface {
	String() string
	Set(string) error
}

// valueOf wraps p, a pointer returned by a setting's field, as a value.
func valueOf(p any) value {
	switch p := p.(type) {
	case *string:
		return (*stringValue)(p)
	case *bool:
		return (*boolValue)(p)
	case *int:
		return (*intValue)(p)
	case *time.Duration:
		return (*durationValue)(p)
	case *[]string:
		return (*listValue)(p)
	}
	panic(fmt.Sprintf("config: setting field of unsupported type %T", p))
}

// logValue returns p, a pointer returned by a setting's field, as a slog value.
func logValue(p any) slog.Value {
	switch p := p.(type) {
	case *bool:
		return slog.BoolValue(*p)
	case *int:
		return slog.IntValue(*p)
	case *[]string:
		return slog.AnyValue(*p)
	}
	return slog.StringValue(valueOf(p).String())
}

type stringValue string

func (v *stringValue) String() string { return string(*v) }

func (v *stringValue) Set(s string) error {
	*v = stringValue(s)
	return nil
}

type boolValue bool

func (v *boolValue) String() string { return strconv.FormatBool(bool(*v)) }

// IsBoolFlag lets the flag be given as --demo, without "=true".
func (v *boolValue) IsBoolFlag() bool { return true }

func (v *boolValue) Set(s string) error {
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("invalid boolean %q (use true or false)", s)
	}
	*v = boolValue(b)
	return nil
}

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }

func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("invalid number %q", s)
	}
	*v = intValue(n)
	return nil
}

type durationValue time.Duration

func (v *durationValue) String() string { return formatDuration(time.Duration(*v)) }

func (v *durationValue) Set(s string) error {
	d, err := parseDuration(s)
	if err != nil {
		return err
	}
	*v = durationValue(d)
	return nil
}

// parseDuration parses a Go duration ("90s", "1h30m") or a whole number of
// seconds ("3600").
func parseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n > math.MaxInt64/int64(time.Second) || n < math.MinInt64/int64(time.Second) {
			return 0, fmt.Errorf("invalid duration %q (too long)", s)
		}
		return time.Duration(n) * time.Second, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q (use a duration like 90s or 1h30m, or a number of seconds)", s)
	}
	return d, nil
}

// formatDuration prints d without zero minutes and seconds: 1h, not 1h0m0s.
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// listValue is a comma-separated list; setting it replaces the whole list.
type listValue []string

func (v *listValue) String() string { return strings.Join(*v, ",") }

func (v *listValue) Set(s string) error {
	var list []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			list = append(list, item)
		}
	}
	*v = list
	return nil
}
