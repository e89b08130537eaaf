package mail

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// urlHelp is how a bad mail.smtp_url is explained.
const urlHelp = "use smtp://user:password@host:587 (STARTTLS when the server offers it), " +
	"smtps://user:password@host:465 (TLS) or smtp://host:25 (a relay without authentication); " +
	"percent-encode special characters in the password"

// Server is a parsed mail.smtp_url.
type Server struct {
	// Host is the server's name or IP address, without brackets.
	Host string
	// Port defaults to 587 for smtp:// and 465 for smtps://.
	Port int
	// ImplicitTLS is true for smtps://: TLS from the first byte. Otherwise
	// the connection upgrades with STARTTLS when the server offers it.
	ImplicitTLS bool
	// Username and Password authenticate with SMTP AUTH; both empty means
	// no authentication.
	Username, Password string
}

// String returns the server as a URL without the user name and password,
// safe for logs: smtp://host:587.
func (s Server) String() string {
	scheme := "smtp"
	if s.ImplicitTLS {
		scheme = "smtps"
	}
	return scheme + "://" + net.JoinHostPort(s.Host, strconv.Itoa(s.Port))
}

// ParseURL parses mail.smtp_url. Its errors start with the setting's name
// and never repeat the URL, which may hold a password.
func ParseURL(raw string) (Server, error) {
	bad := func(format string, args ...any) (Server, error) {
		return Server{}, fmt.Errorf("mail.smtp_url: %s (%s)", fmt.Sprintf(format, args...), urlHelp)
	}
	if strings.TrimSpace(raw) == "" {
		return bad("empty")
	}
	scheme, _, found := strings.Cut(raw, "://")
	if !found {
		return bad("not a URL")
	}
	var s Server
	switch strings.ToLower(scheme) {
	case "smtp":
		s.Port = 587
	case "smtps":
		s.ImplicitTLS, s.Port = true, 465
	default:
		if !isScheme(scheme) {
			return bad("not a URL")
		}
		return bad("unknown scheme %q", scheme)
	}
	if strings.Contains(raw, "#") {
		return bad("must not have a fragment (a # in the password must be written %%23)")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error quotes the whole URL: say only what kind of problem it is.
		var ee url.EscapeError
		var he url.InvalidHostError
		switch {
		case errors.As(err, &ee):
			return bad("bad percent-encoding")
		case errors.As(err, &he):
			return bad("invalid character in the host")
		}
		return bad("not a valid URL")
	}
	if u.Opaque != "" {
		return bad("not a valid URL")
	}
	s.Host = u.Hostname()
	if s.Host == "" {
		return bad("missing host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return bad("port must be a number from 1 to 65535")
		}
		s.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return bad("empty port")
	}
	if u.Path != "" && u.Path != "/" {
		return bad("must not have a path")
	}
	if u.RawQuery != "" || u.ForceQuery {
		return bad("must not have a query")
	}
	if u.User != nil {
		s.Username = u.User.Username()
		s.Password, _ = u.User.Password()
		switch {
		case s.Username == "":
			return bad("a password without a user name")
		case s.Password == "":
			return bad("a user name without a password")
		}
	}
	return s, nil
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
