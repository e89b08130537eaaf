package provider

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
)

// dialAddressCases are the rows of TestDialAddressRefusesSpecialPurposePrefixes:
// at least one sample of every denied prefix (a test below says so), and
// global addresses just outside them.
var dialAddressCases = []struct {
	name          string
	addr          string
	allowLoopback bool
	allowed       bool
	mention       string // part of the refusal: the prefix, or the IPv4 address decoded
}{
	// IPv4 special-purpose registry.
	{"0.0.0.0 is this network", "0.0.0.0", false, false, "0.0.0.0/8"},
	{"0.1.2.3 is this network", "0.1.2.3", false, false, "0.0.0.0/8"},
	{"10/8 is private", "10.1.2.3", false, false, "10.0.0.0/8"},
	{"Alibaba's metadata service in 100.64/10 is shared address space", "100.100.100.200", false, false, "100.64.0.0/10"},
	{"the top of 100.64/10 is shared address space", "100.127.255.255", false, false, "100.64.0.0/10"},
	{"127.0.0.1 is loopback", "127.0.0.1", false, false, "127.0.0.0/8"},
	{"127.1.2.3 is loopback", "127.1.2.3", false, false, "127.0.0.0/8"},
	{"the cloud metadata address is link-local", "169.254.169.254", false, false, "169.254.0.0/16"},
	{"172.16/12 is private", "172.16.0.1", false, false, "172.16.0.0/12"},
	{"the top of 172.16/12 is private", "172.31.255.255", false, false, "172.16.0.0/12"},
	{"192.0.0/24 is IETF protocol assignments", "192.0.0.8", false, false, "192.0.0.0/24"},
	{"192.0.2/24 is documentation", "192.0.2.1", false, false, "192.0.2.0/24"},
	{"192.88.99/24 is 6to4 relay anycast", "192.88.99.1", false, false, "192.88.99.0/24"},
	{"192.168/16 is private", "192.168.1.1", false, false, "192.168.0.0/16"},
	{"198.18/15 is benchmarking", "198.18.0.1", false, false, "198.18.0.0/15"},
	{"the top of 198.18/15 is benchmarking", "198.19.255.255", false, false, "198.18.0.0/15"},
	{"198.51.100/24 is documentation", "198.51.100.7", false, false, "198.51.100.0/24"},
	{"203.0.113/24 is documentation", "203.0.113.9", false, false, "203.0.113.0/24"},
	{"224/4 is multicast", "224.0.0.1", false, false, "224.0.0.0/4"},
	{"SSDP's 239.255.255.250 is multicast", "239.255.255.250", false, false, "224.0.0.0/4"},
	{"240/4 is reserved", "240.0.0.1", false, false, "240.0.0.0/4"},
	{"255.255.255.255 is the limited broadcast", "255.255.255.255", false, false, "255.255.255.255/32"},

	// IPv6 special-purpose registry.
	{":: is unspecified", "::", false, false, "::/128"},
	{"::1 is loopback", "::1", false, false, "::1/128"},
	{"IPv4-compatible loopback is refused and decoded", "::127.0.0.1", false, false, "carries 127.0.0.1"},
	{"IPv4-compatible of a public IPv4 is refused too", "::8.8.8.8", false, false, "::/96"},
	{"IPv4-mapped metadata address is decoded and refused", "::ffff:169.254.169.254", false, false, "IPv4-mapped 169.254.169.254"},
	{"IPv4-mapped private address is decoded and refused", "::ffff:10.0.0.1", false, false, "10.0.0.0/8"},
	{"IPv4-mapped loopback is refused", "::ffff:127.0.0.1", false, false, "127.0.0.0/8"},
	{"NAT64 of the metadata address is decoded and refused", "64:ff9b::a9fe:a9fe", false, false, "NAT64 (64:ff9b::/96, RFC 6052) of 169.254.169.254"},
	{"NAT64 of a private address is decoded and refused", "64:ff9b::10.0.0.1", false, false, "10.0.0.0/8"},
	{"NAT64 of shared address space is decoded and refused", "64:ff9b::100.100.100.200", false, false, "100.64.0.0/10"},
	{"local-use NAT64 is refused", "64:ff9b:1::a9fe:a9fe", false, false, "64:ff9b:1::/48"},
	{"local-use NAT64 of a public IPv4 is refused too", "64:ff9b:1::808:808", false, false, "64:ff9b:1::/48"},
	{"100::/64 is discard-only", "100::1", false, false, "100::/64"},
	{"Teredo is refused and its client decoded", "2001:0:4136:e378:8000:63bf:3fff:fdd2", false, false, "carries 192.0.2.45"},
	{"2001:2::/48 is benchmarking", "2001:2::1", false, false, "2001:2::/48"},
	{"2001:10::/28 is ORCHID", "2001:10::1", false, false, "2001:10::/28"},
	{"2001:20::/28 is ORCHIDv2", "2001:2f::1", false, false, "2001:20::/28"},
	{"2001:db8::/32 is documentation", "2001:db8::1", false, false, "2001:db8::/32"},
	{"6to4 of the metadata address is refused and decoded", "2002:a9fe:a9fe::1", false, false, "carries 169.254.169.254"},
	{"6to4 of a public IPv4 is refused too", "2002:808:808::1", false, false, "2002::/16"},
	{"3fff::/20 is documentation", "3fff::1", false, false, "3fff::/20"},
	{"5f00::/16 is SRv6 SIDs", "5f00::1", false, false, "5f00::/16"},
	{"fc00::/7 is unique local", "fc00::1", false, false, "fc00::/7"},
	{"fd00::/8 is unique local", "fd12:3456::1", false, false, "fc00::/7"},
	{"fe80::/10 is link-local", "fe80::1", false, false, "fe80::/10"},
	{"a zoned link-local address is refused", "fe80::1%eth0", false, false, "zone"},
	{"fec0::/10 is site-local", "fec0::1", false, false, "fec0::/10"},
	{"ff00::/8 is multicast", "ff02::1", false, false, "ff00::/8"},
	{"an address outside 2000::/3 is not global unicast", "4000::1", false, false, "2000::/3"},

	// Loopback, allowed for a loopback issuer: only the server's own.
	{"127.0.0.1 is allowed for a loopback issuer", "127.0.0.1", true, true, ""},
	{"::1 is allowed for a loopback issuer", "::1", true, true, ""},
	{"IPv4-mapped loopback is allowed for a loopback issuer", "::ffff:127.0.0.1", true, true, ""},
	{"NAT64 of loopback is the translator's, refused even for a loopback issuer", "64:ff9b::127.0.0.1", true, false, "127.0.0.0/8"},
	{"IPv4-compatible loopback is refused even for a loopback issuer", "::127.0.0.1", true, false, "::/96"},
	{"a private address is refused even for a loopback issuer", "10.0.0.1", true, false, "10.0.0.0/8"},
	{"the metadata address is refused even for a loopback issuer", "169.254.169.254", true, false, "169.254.0.0/16"},

	// Global unicast.
	{"8.8.8.8 is allowed", "8.8.8.8", false, true, ""},
	{"1.1.1.1 is allowed", "1.1.1.1", false, true, ""},
	{"just below 100.64/10 is allowed", "100.63.255.255", false, true, ""},
	{"just above 100.64/10 is allowed", "100.128.0.0", false, true, ""},
	{"just above 172.16/12 is allowed", "172.32.0.1", false, true, ""},
	{"just above 198.18/15 is allowed", "198.20.0.1", false, true, ""},
	{"the top of the unicast space is allowed", "223.255.255.255", false, true, ""},
	{"2606:4700::1 is allowed", "2606:4700::1", false, true, ""},
	{"Google's public DNS over IPv6 is allowed", "2001:4860:4860::8888", false, true, ""},
	{"IPv4-mapped public address is allowed", "::ffff:8.8.8.8", false, true, ""},
	{"NAT64 of a public IPv4 is allowed (IPv6-only networks reach IPv4 that way)", "64:ff9b::808:808", false, true, ""},
}

func TestDialAddressRefusesSpecialPurposePrefixes(t *testing.T) {
	t.Parallel()
	for _, tc := range dialAddressCases {
		t.Run(tc.name, func(t *testing.T) {
			err := checkDialAddress(netip.MustParseAddr(tc.addr), tc.allowLoopback)
			if tc.allowed {
				if err != nil {
					t.Fatalf("checkDialAddress(%s, %t) = %v, want allowed", tc.addr, tc.allowLoopback, err)
				}
				return
			}
			if !errors.Is(err, errForbiddenAddress) {
				t.Fatalf("checkDialAddress(%s, %t) = %v, want %v", tc.addr, tc.allowLoopback, err, errForbiddenAddress)
			}
			if !strings.Contains(err.Error(), tc.mention) {
				t.Errorf("checkDialAddress(%s) = %q, want it to mention %q", tc.addr, err, tc.mention)
			}
		})
	}
}

// A prefix added to the deny lists without a row above fails here.
func TestDialAddressCasesCoverEveryDeniedPrefix(t *testing.T) {
	t.Parallel()
	denied := append(append([]specialPrefix{}, deniedIPv4...), deniedIPv6...)
	denied = append(denied,
		specialPrefix{netip.MustParsePrefix("::ffff:0:0/96"), "IPv4-mapped"},
		specialPrefix{prefixNAT64, "NAT64"},
	)
	for _, p := range denied {
		covered := false
		for _, tc := range dialAddressCases {
			if !tc.allowed && !tc.allowLoopback && p.prefix.Contains(netip.MustParseAddr(tc.addr).WithZone("")) {
				covered = true
			}
		}
		if !covered {
			t.Errorf("no refused address in %s (%s) among the cases", p.prefix, p.what)
		}
	}
}

// The fetcher refuses these before connect(2): the error is the address
// filter's, not a connection error, so nothing was sent. A client's
// jwks_uri or request_uri could otherwise reach a cloud metadata service.
func TestFetcherRefusesSpecialPurposeAddresses(t *testing.T) {
	t.Parallel()
	f := newRemoteFetcher(false)
	for _, location := range []string{
		"https://100.100.100.200/latest/meta-data/",
		"https://[64:ff9b::a9fe:a9fe]/latest/meta-data/",
		"https://[::127.0.0.1]/",
		"https://[2002:a9fe:a9fe::1]/",
		"https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
		"https://[fec0::1]/",
		"https://198.18.0.1/",
		"https://240.0.0.1/",
		"https://192.0.0.8/",
		"https://0.1.2.3/",
	} {
		t.Run(location, func(t *testing.T) {
			t.Parallel()
			_, err := f.get(t.Context(), location)
			if !errors.Is(err, errForbiddenAddress) {
				t.Fatalf("get(%s) = %v, want the address refused before connecting (%v)", location, err, errForbiddenAddress)
			}
		})
	}
}

// The address check runs in the dialer's Control, between socket(2) and
// connect(2): a refused address sees no connection at all. A loopback
// listener tells: the first connection it accepts is either the
// fetcher's (a TLS ClientHello, 0x16) or our marker's ("M").
func TestFetcherRefusesBeforeConnecting(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		allowLoopback bool
		wantFirst     byte
	}{
		{"a refused address is never connected to", false, 'M'},
		{"an allowed address is connected to", true, 0x16},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			first := make(chan byte, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					close(first)
					return
				}
				defer c.Close()
				b := make([]byte, 1)
				if _, err := io.ReadFull(c, b); err != nil {
					close(first)
					return
				}
				first <- b[0]
			}()

			_, err = newRemoteFetcher(tc.allowLoopback).get(t.Context(), "https://"+ln.Addr().String()+"/")
			if err == nil {
				t.Fatal("get succeeded against a listener that speaks no TLS")
			}
			if refused := errors.Is(err, errForbiddenAddress); refused == tc.allowLoopback {
				t.Fatalf("get = %v; refused by the address filter: %t, want %t", err, refused, !tc.allowLoopback)
			}
			marker, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer marker.Close()
			if _, err := marker.Write([]byte("M")); err != nil {
				t.Fatal(err)
			}
			if got := <-first; got != tc.wantFirst {
				t.Errorf("first byte the listener read = %q, want %q", got, tc.wantFirst)
			}
		})
	}
}
