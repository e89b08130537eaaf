package clients

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Grant types a client may be registered for.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
	// GrantTokenExchange is RFC 8693 token exchange, of which the server
	// serves the API-key grant.
	GrantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange" //nolint:gosec // G101: a grant type's name, not a credential
)

// Access token formats of a client.
const (
	// AccessTokenOpaque is at_live_ tokens, checked by introspection.
	AccessTokenOpaque = "opaque"
	// AccessTokenJWT is RFC 9068 JWTs, which apps verify themselves.
	AccessTokenJWT = "jwt"
)

// ValidateRedirectURI applies the redirect URI rules: absolute, no
// fragment, no wildcard; https, or http only on a loopback host (any port,
// RFC 8252 §7.3). Public (native) clients may also use a private-use scheme
// in reverse-domain form (RFC 8252 §7.1), such as com.example.app:/callback.
func ValidateRedirectURI(raw string, public bool) error {
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return fmt.Errorf("%q is not an absolute URI", raw)
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return fmt.Errorf("%q must not have a fragment", raw)
	}
	if strings.Contains(raw, "*") {
		return fmt.Errorf("%q must not contain a wildcard", raw)
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" {
			return fmt.Errorf("%q has no host", raw)
		}
		return nil
	case "http":
		if IsLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q uses http on a host that is not loopback (use https, or http://127.0.0.1, http://[::1] or http://localhost)", raw)
	}
	if public && strings.Contains(u.Scheme, ".") {
		return nil
	}
	return fmt.Errorf("%q uses the scheme %q (use https; native apps may use a reverse-domain scheme such as com.example.app)", raw, u.Scheme)
}

func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dedupe returns the non-empty trimmed values of in, each once, in the
// order they first appear. It keeps a set of what it has seen: a linear
// search per value made it quadratic (audit finding 7).
// dedupe trims each value and drops empty and repeated ones, keeping the
// first of each, in linear time.
func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	seen := make(map[string]struct{}, len(in))
	for _, v := range in {
		v = strings.TrimSpace(v)
		if _, dup := seen[v]; v == "" || dup {
			continue
		}
		seen[v] = struct{}{}
		out = append(out, v)
	}
	return out
}
