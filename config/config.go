package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	smtp "github.com/ajrly/ajrly-auth/internal/mail"
)

// MinSecretLen is the shortest server secret accepted, in bytes.
const MinSecretLen = 32

// Config holds the server settings. Load fills it; Default returns the
// built-in values. The YAML key, environment variable and flag of each field
// are listed in settings.go.
type Config struct {
	// Addr is the listen address, host:port.
	Addr string
	// OpsAddr is the operations listener's address (metrics, health), ""
	// for none; it must not be reachable from the internet.
	OpsAddr string
	// Issuer is the OpenID Connect issuer URL, without a trailing slash.
	Issuer string
	// DSN names the database: sqlite://path or postgres://... (see DSNKind
	// and SQLitePath).
	DSN string

	// Secret is the server secret. After Load it holds the secret whichever
	// way it was given, so callers read only this field. Empty means none was
	// configured: serve then generates one next to a SQLite database and
	// refuses to start with PostgreSQL; the admin commands need none.
	Secret string
	// SecretFile is the file Load read Secret from, if any.
	SecretFile string

	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	AuthCodeTTL     time.Duration
	IDTokenTTL      time.Duration

	// RefreshGrantMaxAge is how long after a person granted access a
	// client can go on refreshing it; then the person signs in again.
	RefreshGrantMaxAge time.Duration
	// SessionTTL is how long a browser sign-in session lasts.
	SessionTTL time.Duration
	// SessionIdleTimeout signs a browser out after this long without a
	// request (ASVS 3.3.2).
	SessionIdleTimeout time.Duration
	// ClientCacheTTL is how long client records are cached; 0 disables the cache.
	ClientCacheTTL time.Duration
	// ShutdownTimeout bounds the graceful shutdown of the HTTP server.
	ShutdownTimeout time.Duration

	// AutoMigrate migrates the database schema at start.
	AutoMigrate bool
	// Demo creates a demo user and client at start.
	Demo bool

	// LogLevel is debug, info, warn or error; it parses with
	// slog.Level.UnmarshalText.
	LogLevel string
	// LogFormat is text or json.
	LogFormat string

	// DBMaxConns caps open database connections; 0 lets the storage choose.
	DBMaxConns int

	// APIAudiences are the APIs JWT access tokens may be issued for; the
	// first is the default audience of API-key JWTs and JWT clients.
	APIAudiences []string
	// APIKeyJWTTTL is the lifetime of a JWT exchanged for an API key.
	APIKeyJWTTTL time.Duration
	// SigningKeyRotation is how long a signing key signs before it is
	// replaced; 0 rotates only by `ajrly-auth keys rotate`.
	SigningKeyRotation time.Duration

	// RegistrationMode is how /register admits clients: open, token (an
	// initial access token is needed) or off.
	RegistrationMode string
	// FirstPartyClients are the client ids the operator makes first-party
	// (no consent page) by configuration, besides those marked in the
	// database by `clients update --first-party`.
	FirstPartyClients []string

	// MailSMTPURL is the SMTP server mail goes through:
	// smtp://user:pass@host:port (STARTTLS when offered),
	// smtps://user:pass@host:port (TLS) or smtp://host:port (a relay
	// without authentication); "" for none. It holds a password: LogValue
	// hides it.
	MailSMTPURL string
	// MailFrom is the sender address of mail, required with MailSMTPURL.
	MailFrom string
	// RequireVerifiedEmail: nobody consents to an app before verifying
	// their email address.
	RequireVerifiedEmail bool

	// TrustedProxies lists, as given, the CIDRs or IPs of the load balancers
	// whose X-Forwarded-For and X-Forwarded-Proto headers are trusted. Use
	// TrustedProxyPrefixes for the parsed form.
	TrustedProxies []string

	// AuditRetention is how long the audit log keeps an event; the janitor
	// removes older ones.
	AuditRetention time.Duration
}

// Default returns the built-in settings: a local development server on
// 127.0.0.1:8080 with a SQLite database in the working directory.
func Default() Config {
	return Config{
		Addr:               "127.0.0.1:8080",
		OpsAddr:            "127.0.0.1:9090",
		Issuer:             "http://127.0.0.1:8080",
		DSN:                "sqlite://ajrly.db",
		AccessTokenTTL:     time.Hour,
		RefreshTokenTTL:    720 * time.Hour,
		RefreshGrantMaxAge: 2160 * time.Hour,
		AuthCodeTTL:        10 * time.Minute,
		IDTokenTTL:         time.Hour,
		SessionTTL:         168 * time.Hour,
		SessionIdleTimeout: 12 * time.Hour,
		APIAudiences:       []string{"https://api.ajrly.com"},
		APIKeyJWTTTL:       15 * time.Minute,
		SigningKeyRotation: 2160 * time.Hour,
		RegistrationMode:   "token",
		ClientCacheTTL:     5 * time.Second,
		ShutdownTimeout:    15 * time.Second,
		AutoMigrate:        true,
		LogLevel:           "info",
		LogFormat:          "text",
		AuditRetention:     9600 * time.Hour,
	}
}

const dsnHelp = "use sqlite://path or postgres://..."

// Validate checks every setting and returns all problems joined with
// errors.Join, each starting with the setting's YAML key. It does not read
// SecretFile; Load does that and puts the content in Secret.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}

	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		bad("addr", "must be host:port like 127.0.0.1:8080 or :8080, got %q", c.Addr)
	} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		bad("addr", "port must be a number from 0 to 65535, got %q", port)
	}

	if c.OpsAddr != "" {
		if _, port, err := net.SplitHostPort(c.OpsAddr); err != nil {
			bad("ops.addr", "must be host:port like 127.0.0.1:9090, or empty for none, got %q", c.OpsAddr)
		} else if _, err := strconv.ParseUint(port, 10, 16); err != nil {
			bad("ops.addr", "port must be a number from 0 to 65535, got %q", port)
		} else if c.OpsAddr == c.Addr && port != "0" {
			bad("ops.addr", "must differ from addr (%s): the metrics must not be on the public listener", c.Addr)
		}
	}

	if u, err := url.Parse(c.Issuer); err != nil || u.Scheme == "" || u.Host == "" {
		bad("issuer", "must be an absolute URL like https://auth.example.com, got %q", c.Issuer)
	} else {
		switch {
		case u.Scheme != "https" && u.Scheme != "http":
			bad("issuer", "scheme must be https, got %q", u.Scheme)
		case u.Scheme == "http" && !isLocalHost(u.Hostname()):
			bad("issuer", "must use https unless the host is localhost or a loopback address, got %q", c.Issuer)
		}
		if u.User != nil {
			bad("issuer", "must not contain a user name or password")
		}
		if u.RawQuery != "" || u.ForceQuery {
			bad("issuer", "must not have a query, got %q", c.Issuer)
		}
		if strings.Contains(c.Issuer, "#") {
			bad("issuer", "must not have a fragment, got %q", c.Issuer)
		}
	}

	// The DSN may hold a password, so messages show at most its scheme.
	scheme, _, found := strings.Cut(c.DSN, "://")
	switch {
	case c.DSN == "":
		bad("dsn", "required (%s)", dsnHelp)
	case !found || !isScheme(scheme):
		bad("dsn", "missing scheme (%s)", dsnHelp)
	case c.DSNKind() == "sqlite":
		if c.SQLitePath() == "" {
			bad("dsn", "empty sqlite path (use sqlite://ajrly.db or sqlite:///var/lib/ajrly/ajrly.db)")
		}
	case c.DSNKind() == "postgres":
		if _, err := url.Parse(c.DSN); err != nil {
			bad("dsn", "not a valid postgres URL (use postgres://user:password@host:5432/dbname)")
		}
	default:
		bad("dsn", "unknown scheme %q (%s)", scheme, dsnHelp)
	}

	// Never show the secret itself, only its length.
	switch {
	case c.SecretFile != "" && c.Secret != "" && len(c.Secret) < MinSecretLen:
		bad("secret_file", "content must be at least %d bytes, got %d", MinSecretLen, len(c.Secret))
	case c.Secret != "" && len(c.Secret) < MinSecretLen:
		bad("secret", "must be at least %d bytes, got %d", MinSecretLen, len(c.Secret))
	}
	// A postgres DSN without a secret is valid here: the admin commands do
	// not need one. serve refuses to start without it.

	for _, r := range []struct {
		key      string
		d        time.Duration
		min, max time.Duration
	}{
		{"access_token_ttl", c.AccessTokenTTL, time.Minute, 24 * time.Hour},
		{"refresh_token_ttl", c.RefreshTokenTTL, time.Hour, 8760 * time.Hour},
		{"auth_code_ttl", c.AuthCodeTTL, 10 * time.Second, 10 * time.Minute},
		{"id_token_ttl", c.IDTokenTTL, time.Minute, 24 * time.Hour},
		{"session_ttl", c.SessionTTL, 5 * time.Minute, 2160 * time.Hour},
		{"session_idle_timeout", c.SessionIdleTimeout, 5 * time.Minute, max(c.SessionTTL, 5*time.Minute)},
		{"client_cache_ttl", c.ClientCacheTTL, 0, 5 * time.Minute},
		{"shutdown_timeout", c.ShutdownTimeout, time.Second, 5 * time.Minute},
		{"audit.retention", c.AuditRetention, 24 * time.Hour, 87600 * time.Hour},
	} {
		if r.d < r.min || r.d > r.max {
			bad(r.key, "must be from %s to %s, got %s", formatDuration(r.min), formatDuration(r.max), formatDuration(r.d))
		}
	}

	// A grant that ends before its first refresh token would is a refresh
	// token lifetime in disguise.
	if c.RefreshGrantMaxAge < c.RefreshTokenTTL || c.RefreshGrantMaxAge > 8760*time.Hour {
		bad("refresh_grant_max_age", "must be from refresh_token_ttl (%s) to 8760h, got %s", formatDuration(c.RefreshTokenTTL), formatDuration(c.RefreshGrantMaxAge))
	}

	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "unknown level %q (use debug, info, warn or error)", c.LogLevel)
	}
	switch c.LogFormat {
	case "text", "json":
	default:
		bad("log_format", "unknown format %q (use text or json)", c.LogFormat)
	}

	if c.DBMaxConns < 0 || c.DBMaxConns > 1000 {
		bad("db_max_conns", "must be from 0 (automatic) to 1000, got %d", c.DBMaxConns)
	}

	if len(c.APIAudiences) == 0 {
		bad("api_audiences", "needs at least one API URL, like https://api.example.com")
	}
	for _, a := range c.APIAudiences {
		if u, err := url.Parse(a); err != nil || u.Scheme == "" || u.Host == "" {
			bad("api_audiences", "%q is not an absolute URL like https://api.example.com", a)
		}
	}
	if c.RegistrationMode != "open" && c.RegistrationMode != "token" && c.RegistrationMode != "off" {
		bad("registration.mode", "must be open, token or off, got %q", c.RegistrationMode)
	}
	if c.SigningKeyRotation != 0 && (c.SigningKeyRotation < time.Hour || c.SigningKeyRotation > 8760*time.Hour) {
		bad("signing_key_rotation", "must be 0 (never) or from 1h to 8760h, got %s", formatDuration(c.SigningKeyRotation))
	}
	if c.APIKeyJWTTTL < time.Minute || c.APIKeyJWTTTL > time.Hour {
		bad("api_key_jwt_ttl", "must be between 1m and 1h, got %s", c.APIKeyJWTTTL)
	}
	// The SMTP URL may hold a password: messages never repeat it.
	if c.MailSMTPURL != "" {
		// internal/mail's own parser: one set of rules for the URL, whose
		// errors name the setting and never repeat the URL.
		if _, err := smtp.ParseURL(c.MailSMTPURL); err != nil {
			errs = append(errs, err)
		}
		if c.MailFrom == "" {
			bad("mail.from", "required when mail.smtp_url is set (e.g. noreply@example.com)")
		}
	}
	if c.MailFrom != "" {
		if _, err := mail.ParseAddress(c.MailFrom); err != nil {
			bad("mail.from", "must be an email address like noreply@example.com or \"Example <noreply@example.com>\", got %q", c.MailFrom)
		}
	}
	for _, p := range c.TrustedProxies {
		if _, err := parseProxy(p); err != nil {
			bad("trusted_proxies", "%q is not an IP address or CIDR (use e.g. 10.0.0.0/8 or 192.0.2.1)", p)
		}
	}

	return errors.Join(errs...)
}

// isLocalHost reports whether host is localhost, a name under .localhost or
// a loopback IP: the hosts where an http issuer is allowed, for development.
// OpenID Connect Discovery 1.0 section 3 requires https otherwise.
func isLocalHost(host string) bool {
	host = strings.ToLower(host)
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// isScheme reports whether s is a URL scheme as RFC 3986 section 3.1 defines it.
func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z':
		case i > 0 && ('0' <= r && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}

// DSNKind returns "sqlite" or "postgres" (for postgres:// and
// postgresql:// DSNs), or "" if the DSN has neither scheme.
func (c Config) DSNKind() string {
	scheme, _, _ := strings.Cut(c.DSN, "://")
	switch strings.ToLower(scheme) {
	case "sqlite":
		return "sqlite"
	case "postgres", "postgresql":
		return "postgres"
	}
	return ""
}

// SQLitePath returns the database file of a SQLite DSN, without any
// ?query: "ajrly.db" for sqlite://ajrly.db, "/var/lib/ajrly/ajrly.db" for
// sqlite:///var/lib/ajrly/ajrly.db. It returns "" for other DSNs.
func (c Config) SQLitePath() string {
	if c.DSNKind() != "sqlite" {
		return ""
	}
	_, rest, _ := strings.Cut(c.DSN, "://")
	path, _, _ := strings.Cut(rest, "?")
	return path
}

// TrustedProxyPrefixes returns TrustedProxies parsed, a bare IP as a
// single-address prefix (/32 or /128). Entries that do not parse are left
// out; Validate reports them.
func (c Config) TrustedProxyPrefixes() []netip.Prefix {
	var prefixes []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := parseProxy(s); err == nil {
			prefixes = append(prefixes, p)
		}
	}
	return prefixes
}

func parseProxy(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return p.Masked(), nil
	}
	ip, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	if ip.Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("address %q has a zone", s)
	}
	ip = ip.Unmap()
	return netip.PrefixFrom(ip, ip.BitLen()), nil
}

// LogValue implements slog.LogValuer: every setting under its YAML key, the
// secret shown only as "(set)" or "(unset)" and any password in the DSN or
// the SMTP URL as "xxxxx".
func (c Config) LogValue() slog.Value {
	attrs := make([]slog.Attr, 0, len(settings))
	for _, s := range settings {
		v := logValue(s.field(&c))
		if s.show != nil {
			v = s.show(&c)
		}
		attrs = append(attrs, slog.Attr{Key: s.key, Value: v})
	}
	return slog.GroupValue(attrs...)
}

// String returns the settings as key=value pairs, hiding the secret and the
// DSN and SMTP passwords as LogValue does, so that printing a Config with %v is safe.
func (c Config) String() string {
	var b strings.Builder
	for i, a := range c.LogValue().Group() {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s=%s", a.Key, a.Value)
	}
	return b.String()
}

// redactDSN returns dsn with any password replaced by "xxxxx". A DSN that
// is neither SQLite nor a URL it can parse is hidden entirely.
func redactDSN(dsn string) string {
	scheme, _, found := strings.Cut(dsn, "://")
	if !found || !isScheme(scheme) {
		return "xxxxx"
	}
	if strings.EqualFold(scheme, "sqlite") {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return scheme + "://xxxxx"
	}
	// libpq also takes the password as a query parameter.
	if q := u.Query(); q.Has("password") || q.Has("sslpassword") {
		for _, k := range []string{"password", "sslpassword"} {
			if q.Has(k) {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// redactSMTPURL returns an SMTP URL with its password replaced by "xxxxx",
// "" for none, and hides a URL it cannot parse entirely.
func redactSMTPURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || !isScheme(u.Scheme) || strings.Contains(raw, "#") {
		return "xxxxx"
	}
	if u.User != nil {
		if _, ok := u.User.Password(); !ok {
			u.User = url.User("xxxxx") // a lone user name may be a misplaced password
		}
	}
	return u.Redacted()
}
