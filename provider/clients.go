package provider

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"

	"github.com/ajrly/ajrly-auth/storage"
)

// Grant types a client may be registered for.
const (
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantClientCredentials = "client_credentials"
)

// ClientSpec is what a person or a tool asks for when registering a client.
type ClientSpec struct {
	Name         string
	RedirectURIs []string
	Scopes       []string
	GrantTypes   []string
	// Public clients (native and browser apps) have no secret and must use PKCE.
	Public bool
	// FirstParty clients are our own apps: people are not asked to consent.
	// Only the operator's command line sets it.
	FirstParty bool
	// ResourceServer clients may introspect every token (RFC 7662 §4);
	// only the operator's command line sets it.
	ResourceServer bool
	// PostLogoutRedirectURIs are where RP-initiated logout may send people
	// back to; the same rules as redirect URIs apply.
	PostLogoutRedirectURIs []string
	// AccessTokenFormat is "opaque" (the default) or "jwt" (RFC 9068).
	AccessTokenFormat string
}

// DefaultClientScopes are the scopes a client gets when none are asked for.
var DefaultClientScopes = []string{"openid", "profile", "email", "offline_access", "read", "write"}

// NewClient validates a spec and returns the client to store and, for a
// confidential client, its secret, which is shown once and never stored.
// Every problem is reported, each naming the field.
func NewClient(spec ClientSpec) (*storage.Client, string, error) {
	var problems []error
	name := strings.TrimSpace(spec.Name)
	if name == "" {
		problems = append(problems, errors.New("name: required"))
	} else if len(name) > 100 {
		problems = append(problems, errors.New("name: at most 100 characters"))
	}
	grants := spec.GrantTypes
	if len(grants) == 0 {
		grants = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	grants = dedupe(grants)
	for _, g := range grants {
		if g != GrantAuthorizationCode && g != GrantRefreshToken && g != GrantClientCredentials && g != GrantTypeTokenExchange {
			problems = append(problems, fmt.Errorf("grant_type: %q is not supported (use authorization_code, refresh_token, client_credentials or %s)", g, GrantTypeTokenExchange))
		}
	}
	if slices.Contains(grants, GrantRefreshToken) && !slices.Contains(grants, GrantAuthorizationCode) {
		problems = append(problems, errors.New("grant_type: refresh_token needs authorization_code"))
	}
	if spec.Public && slices.Contains(grants, GrantClientCredentials) {
		problems = append(problems, errors.New("grant_type: a public client cannot use client_credentials (it has no secret)"))
	}
	scopes := spec.Scopes
	if len(scopes) == 0 {
		scopes = DefaultClientScopes
	}
	scopes = dedupe(scopes)
	known := ScopeNames()
	for _, s := range scopes {
		if !slices.Contains(known, s) {
			problems = append(problems, fmt.Errorf("scope: %q is not a known scope (known: %s)", s, strings.Join(known, " ")))
		}
	}
	redirects := dedupe(spec.RedirectURIs)
	if slices.Contains(grants, GrantAuthorizationCode) && len(redirects) == 0 {
		problems = append(problems, errors.New("redirect_uri: at least one is required for authorization_code"))
	}
	for _, u := range redirects {
		if err := ValidateRedirectURI(u, spec.Public); err != nil {
			problems = append(problems, fmt.Errorf("redirect_uri: %w", err))
		}
	}
	format := spec.AccessTokenFormat
	if format == "" {
		format = AccessTokenOpaque
	}
	if format != AccessTokenOpaque && format != AccessTokenJWT {
		problems = append(problems, fmt.Errorf("access_token_format: %q is not supported (use opaque or jwt)", format))
	}
	logouts := dedupe(spec.PostLogoutRedirectURIs)
	for _, u := range logouts {
		if err := ValidateRedirectURI(u, spec.Public); err != nil {
			problems = append(problems, fmt.Errorf("post_logout_redirect_uri: %w", err))
		}
	}
	if len(problems) > 0 {
		return nil, "", errors.Join(problems...)
	}
	c := &storage.Client{
		ID:           storage.NewID("cl"),
		Name:         name,
		RedirectURIs: redirects,
		GrantTypes:   grants,
		Scopes:       scopes,
		Audience:     storage.Strings{},
		Public:       spec.Public,
		FirstParty:   spec.FirstParty,

		ResourceServer: spec.ResourceServer,

		AccessTokenFormat:      format,
		PostLogoutRedirectURIs: logouts,
	}
	if slices.Contains(grants, GrantAuthorizationCode) {
		c.ResponseTypes = storage.Strings{"code"}
	} else {
		c.ResponseTypes = storage.Strings{}
	}
	if spec.Public {
		c.TokenEndpointAuthMethod = "none"
		return c, "", nil
	}
	secret, digest := NewClientSecret()
	c.SecretDigest = digest
	c.TokenEndpointAuthMethod = "client_secret_basic"
	return c, secret, nil
}

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
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%q uses http on a host that is not loopback (use https, or http://127.0.0.1, http://[::1] or http://localhost)", raw)
	}
	if public && strings.Contains(u.Scheme, ".") {
		return nil
	}
	return fmt.Errorf("%q uses the scheme %q (use https; native apps may use a reverse-domain scheme such as com.example.app)", raw, u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dedupe returns the non-empty trimmed values of in, each once, in the
// order they first appear. It keeps a set of what it has seen: a linear
// search per value made it quadratic (audit finding 7).
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
