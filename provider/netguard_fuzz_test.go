package provider

import (
	"errors"
	"net/netip"
	"testing"
)

// The denied prefixes once more, written out apart from netguard.go so
// that a mistake there is not copied here.
var (
	fuzzDeniedIPv4 = prefixes("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
		"172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
		"198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4", "255.255.255.255/32")
	fuzzDeniedIPv6 = prefixes("::/128", "::1/128", "::/96", "64:ff9b:1::/48", "100::/64", "2001::/32",
		"2001:db8::/32", "2001:2::/48", "2001:10::/28", "2001:20::/28", "2002::/16", "fc00::/7", "fe80::/10",
		"fec0::/10", "ff00::/8")
	fuzzNAT64 = netip.MustParsePrefix("64:ff9b::/96")
)

func prefixes(ss ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParsePrefix(s)
	}
	return out
}

// FuzzDialAddress: an address checkDialAddress allows is global unicast
// and in none of the denied prefixes, and so is any IPv4 address it
// carries (IPv4-mapped, NAT64); a refusal is errForbiddenAddress; an IPv4
// address, its IPv4-mapped form and (but for loopback) its NAT64 form
// get the same answer.
func FuzzDialAddress(f *testing.F) {
	f.Fuzz(func(t *testing.T, raw []byte, allowLoopback bool) {
		var candidates []netip.Addr
		if ip, err := netip.ParseAddr(string(raw)); err == nil {
			candidates = append(candidates, ip)
		}
		if ip, ok := netip.AddrFromSlice(raw); ok {
			candidates = append(candidates, ip)
		}
		for _, ip := range candidates {
			err := checkDialAddress(ip, allowLoopback)
			if err != nil {
				if !errors.Is(err, errForbiddenAddress) {
					t.Fatalf("checkDialAddress(%s) = %v, want %v", ip, err, errForbiddenAddress)
				}
			} else if why := dialRuleBroken(ip, allowLoopback); why != "" {
				t.Fatalf("checkDialAddress(%s, %t) allowed it, but %s", ip, allowLoopback, why)
			}
			if !ip.Is4() {
				continue
			}
			mapped := netip.AddrFrom16(ip.As16())
			if got := checkDialAddress(mapped, allowLoopback); (got == nil) != (err == nil) {
				t.Fatalf("%s: %v, but its IPv4-mapped %s: %v", ip, err, mapped, got)
			}
			if !ip.IsLoopback() {
				b := ip.As4()
				nat64 := netip.AddrFrom16([16]byte{0, 0x64, 0xff, 0x9b, 12: b[0], b[1], b[2], b[3]})
				if got := checkDialAddress(nat64, allowLoopback); (got == nil) != (err == nil) {
					t.Fatalf("%s: %v, but its NAT64 %s: %v", ip, err, nat64, got)
				}
			}
		}
	})
}

// dialRuleBroken says why an allowed address should not have been, or "".
func dialRuleBroken(ip netip.Addr, allowLoopback bool) string {
	if ip.Zone() != "" {
		return "it has a zone"
	}
	if ip.Is4In6() {
		return dialRuleBroken(ip.Unmap(), allowLoopback)
	}
	if fuzzNAT64.Contains(ip) {
		b := ip.As16()
		v4 := netip.AddrFrom4([4]byte(b[12:]))
		if why := dialRuleBroken(v4, false); why != "" {
			return "the IPv4 address it carries, " + v4.String() + ": " + why
		}
		return ""
	}
	if allowLoopback && ip.IsLoopback() {
		return ""
	}
	if !ip.IsGlobalUnicast() {
		return "it is not global unicast"
	}
	denied := fuzzDeniedIPv6
	if ip.Is4() {
		denied = fuzzDeniedIPv4
	}
	for _, p := range denied {
		if p.Contains(ip) {
			return "it is in " + p.String()
		}
	}
	return ""
}
