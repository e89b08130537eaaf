// Package provider composes fosite into Ajrly Auth's OAuth 2.0 and OpenID
// Connect engine: the grants it offers, token formats with their ac_live_,
// at_live_ and rt_live_ prefixes, client authentication against SHA-256
// secret digests, the scope hierarchy, and the signing keys (go-jose v3)
// that sign ID tokens and are published as JWKS.
package provider
