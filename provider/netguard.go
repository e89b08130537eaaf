package provider

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
)

// errForbiddenAddress is what the fetcher answers for an address it will
// not dial; checkDialAddress wraps it with the reason.
var errForbiddenAddress = errors.New("the address is not a public one")

// specialPrefix is an entry of the IANA IPv4 or IPv6 Special-Purpose
// Address Registry (RFC 6890) that the fetcher does not dial.
type specialPrefix struct {
	prefix netip.Prefix
	what   string
}

// deniedIPv4 are the IPv4 special-purpose blocks (RFC 6890 and the IANA
// registry), the more specific before the block that holds them. 127/8 is
// here too: allowLoopback lets it through before this list is consulted.
var deniedIPv4 = []specialPrefix{
	{netip.MustParsePrefix("0.0.0.0/8"), "this network (RFC 791, RFC 1122 §3.2.1.3)"},
	{netip.MustParsePrefix("10.0.0.0/8"), "private-use (RFC 1918)"},
	{netip.MustParsePrefix("100.64.0.0/10"), "shared address space, carrier-grade NAT and some clouds' metadata services (RFC 6598)"},
	{netip.MustParsePrefix("127.0.0.0/8"), "loopback (RFC 1122 §3.2.1.3)"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local, where cloud metadata services answer (RFC 3927)"},
	{netip.MustParsePrefix("172.16.0.0/12"), "private-use (RFC 1918)"},
	{netip.MustParsePrefix("192.0.0.0/24"), "IETF protocol assignments (RFC 6890 §2.1)"},
	{netip.MustParsePrefix("192.0.2.0/24"), "documentation, TEST-NET-1 (RFC 5737)"},
	{netip.MustParsePrefix("192.88.99.0/24"), "6to4 relay anycast (RFC 7526)"},
	{netip.MustParsePrefix("192.168.0.0/16"), "private-use (RFC 1918)"},
	{netip.MustParsePrefix("198.18.0.0/15"), "benchmarking (RFC 2544)"},
	{netip.MustParsePrefix("198.51.100.0/24"), "documentation, TEST-NET-2 (RFC 5737)"},
	{netip.MustParsePrefix("203.0.113.0/24"), "documentation, TEST-NET-3 (RFC 5737)"},
	{netip.MustParsePrefix("224.0.0.0/4"), "multicast (RFC 5771)"},
	{netip.MustParsePrefix("255.255.255.255/32"), "limited broadcast (RFC 919, RFC 8190)"},
	{netip.MustParsePrefix("240.0.0.0/4"), "reserved (RFC 1112 §4)"},
}

// Prefixes whose addresses carry an IPv4 address, decoded below.
var (
	prefixIPv4Compatible = netip.MustParsePrefix("::/96")
	prefixNAT64          = netip.MustParsePrefix("64:ff9b::/96")
	prefixTeredo         = netip.MustParsePrefix("2001::/32")
	prefix6to4           = netip.MustParsePrefix("2002::/16")
	// globalUnicastIPv6 is the only block IANA allocates global unicast
	// addresses from today (RFC 4291 §2.4 and the IANA IPv6 Address Space
	// registry); anything else is reserved, so it is not dialled either.
	globalUnicastIPv6 = netip.MustParsePrefix("2000::/3")
)

// deniedIPv6 are the IPv6 special-purpose blocks (RFC 6890 and the IANA
// registry), the more specific before the block that holds them. ::1 is
// here too: allowLoopback lets it through before this list is consulted.
// IPv4-mapped addresses (::ffff:0:0/96) never reach it: they are decoded
// and checked as the IPv4 address they are. NAT64's well-known prefix is
// not here: its addresses are the embedded IPv4's, checked as such.
var deniedIPv6 = []specialPrefix{
	{netip.MustParsePrefix("::/128"), "unspecified (RFC 4291 §2.5.2)"},
	{netip.MustParsePrefix("::1/128"), "loopback (RFC 4291 §2.5.3)"},
	{prefixIPv4Compatible, "IPv4-compatible, deprecated (RFC 4291 §2.5.5.1)"},
	{netip.MustParsePrefix("64:ff9b:1::/48"), "local-use IPv4/IPv6 translation, whose layout only the local network knows (RFC 8215)"},
	{netip.MustParsePrefix("100::/64"), "discard-only (RFC 6666)"},
	{netip.MustParsePrefix("2001:2::/48"), "benchmarking (RFC 5180)"},
	{netip.MustParsePrefix("2001:10::/28"), "ORCHID, deprecated (RFC 4843)"},
	{netip.MustParsePrefix("2001:20::/28"), "ORCHIDv2 (RFC 7343)"},
	{netip.MustParsePrefix("2001:db8::/32"), "documentation (RFC 3849)"},
	{prefixTeredo, "Teredo, a tunnel to wherever its relay decides (RFC 4380)"},
	// 6to4 is refused outright, whatever IPv4 it embeds: it is in the
	// registry, deprecated (RFC 7526), and the relay and the 6to4 router
	// that carry the packet — possibly our own network's — are chosen by
	// the network, not by the address we checked.
	{prefix6to4, "6to4, deprecated (RFC 3056, RFC 7526)"},
	{netip.MustParsePrefix("3fff::/20"), "documentation (RFC 9637)"},
	{netip.MustParsePrefix("5f00::/16"), "segment routing (SRv6) SIDs (RFC 9602)"},
	{netip.MustParsePrefix("fc00::/7"), "unique local (RFC 4193)"},
	{netip.MustParsePrefix("fe80::/10"), "link-local (RFC 4291 §2.5.6)"},
	{netip.MustParsePrefix("fec0::/10"), "site-local, deprecated (RFC 3879)"},
	{netip.MustParsePrefix("ff00::/8"), "multicast (RFC 4291 §2.7)"},
}

// checkDialAddress decides whether the fetcher may dial ip (the address
// actually dialled, after DNS): only global unicast addresses outside the
// IANA special-purpose registries, so that a client's jwks_uri or
// request_uri cannot aim the server at its own network (SSRF). Addresses
// that carry an IPv4 address (IPv4-mapped, NAT64) are judged by that IPv4
// address. allowLoopback lets 127/8 and ::1 through, for an issuer that
// itself runs on loopback (development and tests).
func checkDialAddress(ip netip.Addr, allowLoopback bool) error {
	if why := refusal(ip, allowLoopback); why != "" {
		return fmt.Errorf("%s: %w: %s", ip, errForbiddenAddress, why)
	}
	return nil
}

// refusal says why ip is not dialled, or "" when it may be.
func refusal(ip netip.Addr, allowLoopback bool) string {
	switch {
	case !ip.IsValid():
		return "not an IP address"
	case ip.Zone() != "":
		// A zone only means something for link-local and other scoped
		// addresses, none of which are dialled.
		return "a scoped address (with a zone)"
	case ip.Is4In6():
		// ::ffff:a.b.c.d is a.b.c.d on a dual-stack socket (RFC 4291 §2.5.5.2).
		if why := refusal4(ip.Unmap(), allowLoopback); why != "" {
			return fmt.Sprintf("IPv4-mapped %s, which is %s", ip.Unmap(), why)
		}
		return ""
	case ip.Is4():
		return refusal4(ip, allowLoopback)
	}
	if allowLoopback && ip == netip.IPv6Loopback() {
		return ""
	}
	if prefixNAT64.Contains(ip) {
		// 64:ff9b::a.b.c.d is a.b.c.d through the network's NAT64
		// (RFC 6052 §2.1); the translator's own loopback is not ours, so
		// allowLoopback does not apply.
		v4 := last32(ip)
		if why := refusal4(v4, false); why != "" {
			return fmt.Sprintf("NAT64 (64:ff9b::/96, RFC 6052) of %s, which is %s", v4, why)
		}
		return ""
	}
	for _, p := range deniedIPv6 {
		if p.prefix.Contains(ip) {
			why := fmt.Sprintf("%s is %s", p.prefix, p.what)
			if embedded, ok := embeddedIPv4(ip); ok {
				why += fmt.Sprintf("; it carries %s", embedded)
			}
			return why
		}
	}
	if !globalUnicastIPv6.Contains(ip) || !ip.IsGlobalUnicast() {
		return "not a global unicast address (IANA allocates those from 2000::/3)"
	}
	return ""
}

// refusal4 says why the IPv4 address ip is not dialled, or "".
func refusal4(ip netip.Addr, allowLoopback bool) string {
	if allowLoopback && ip.IsLoopback() {
		return ""
	}
	for _, p := range deniedIPv4 {
		if p.prefix.Contains(ip) {
			return fmt.Sprintf("%s is %s", p.prefix, p.what)
		}
	}
	if !ip.IsGlobalUnicast() {
		return "not a global unicast address"
	}
	return ""
}

// embeddedIPv4 decodes the IPv4 address an IPv4-compatible, Teredo or
// 6to4 address carries, for the error message: those are refused
// whatever they carry.
func embeddedIPv4(ip netip.Addr) (netip.Addr, bool) {
	b := ip.As16()
	switch {
	case ip == netip.IPv6Unspecified() || ip == netip.IPv6Loopback():
		return netip.Addr{}, false
	case prefixIPv4Compatible.Contains(ip):
		return last32(ip), true
	case prefixTeredo.Contains(ip):
		// The client's address is the last 32 bits, inverted (RFC 4380 §4).
		v := binary.BigEndian.Uint32(b[12:]) ^ 0xffffffff
		return netip.AddrFrom4([4]byte(binary.BigEndian.AppendUint32(nil, v))), true
	case prefix6to4.Contains(ip):
		// 2002:V4ADDR::/48 (RFC 3056 §2).
		return netip.AddrFrom4([4]byte(b[2:6])), true
	}
	return netip.Addr{}, false
}

// last32 is the IPv4 address in the last 32 bits of an IPv6 address.
func last32(ip netip.Addr) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom4([4]byte(b[12:]))
}
