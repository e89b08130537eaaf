package clients

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
)

// MaxScopes is the most scopes a client registers (and a request names,
// provider.CheckScopeCount): ten are known, so 50 leaves room and stops
// 40k-name lists before any work (audit finding 7).
const MaxScopes = 50

// Caps on client registration (RFC 7591 §2), checked before any other
// work: a list longer than real clients need is refused, naming the field.
const (
	MaxRegistrationBytes      = 64 << 10
	MaxRedirectURIs           = 20
	MaxPostLogoutRedirectURIs = 20
	MaxContacts               = 10
	MaxRequestURIs            = 10
	MaxGrantTypes             = 10
	MaxResponseTypes          = 10
	// MaxExtraMembers and MaxExtraBytes bound the metadata a registration
	// sends that the server does not know: RFC 7591 §2 lets the server
	// ignore it, so only that much is kept and echoed back.
	MaxExtraMembers = 20
	MaxExtraBytes   = 8 << 10
)

// StrongKey reports whether a public key is strong enough to trust a
// client's signature with: RSA of at least 2048 bits (NIST SP 800-131A,
// RFC 7518 §3.3), EC only on P-256, the curve of ES256 (RFC 7518 §3.4).
// Other kinds (symmetric and private keys, which registration refuses,
// and kinds no offered algorithm uses) are not judged here.
func StrongKey(key any) bool {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return k.N.BitLen() >= 2048
	case *rsa.PrivateKey:
		return k.N.BitLen() >= 2048
	case *ecdsa.PublicKey:
		return k.Curve == elliptic.P256()
	case *ecdsa.PrivateKey:
		return k.Curve == elliptic.P256()
	}
	return true
}
