// Package api is the example resource server of Ajrly Auth: a small
// "Ajrly API" with projects, team and billing routes that accepts an
// sk_live_ API key, an opaque at_live_ access token or an RFC 9068 JWT
// access token as its bearer credential (RFC 6750 §2.1).
//
// Keys and opaque tokens are checked by introspection (RFC 7662), with a
// short cache of positive answers keyed by the SHA-256 of the token; JWTs
// are verified locally against the provider's JWKS. Scopes follow the
// provider's hierarchy (tenancy.Satisfies), and refusals carry the
// WWW-Authenticate challenges of RFC 6750 §3.
//
// It lives in its own package so that tests can start it in-process;
// cmd/example-api wires flags and environment variables to Options.
package api
