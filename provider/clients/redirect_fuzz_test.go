package clients_test

import (
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/clients"
)

// FuzzRedirectURIRules: an accepted redirect URI is absolute, has no
// fragment and no wildcard, and is https with a host, http on a loopback
// host (RFC 8252 §7.3), or — for a public client only — a reverse-domain
// private-use scheme (RFC 8252 §7.1). What a confidential client may use,
// a public client may too.
func FuzzRedirectURIRules(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw string, public bool) {
		err := clients.ValidateRedirectURI(raw, public)
		if err != nil {
			if err.Error() == "" {
				t.Fatalf("ValidateRedirectURI(%q, %t) refused it without a reason", raw, public)
			}
			return
		}
		if why := redirectRuleBroken(raw, public); why != "" {
			t.Fatalf("ValidateRedirectURI(%q, %t) accepted it, but %s", raw, public, why)
		}
		if !public {
			if err := clients.ValidateRedirectURI(raw, true); err != nil {
				t.Fatalf("%q is accepted for a confidential client but not for a public one: %v", raw, err)
			}
		}
	})
}

// redirectRuleBroken says which rule an accepted URI breaks, or "".
func redirectRuleBroken(raw string, public bool) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "it does not parse: " + err.Error()
	case !u.IsAbs():
		return "it is not absolute"
	case strings.Contains(raw, "#"):
		return "it has a fragment"
	case strings.Contains(raw, "*"):
		return "it has a wildcard"
	}
	switch u.Scheme {
	case "https":
		if u.Hostname() == "" {
			return "an https URI without a host"
		}
		return ""
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return ""
		}
		if ip, err := netip.ParseAddr(host); err == nil && ip.IsLoopback() {
			return ""
		}
		return "http on " + host + ", which is not loopback"
	}
	if !public {
		return "a confidential client got the scheme " + u.Scheme
	}
	if !strings.Contains(u.Scheme, ".") {
		return "the scheme " + u.Scheme + " is not in reverse-domain form"
	}
	return ""
}
