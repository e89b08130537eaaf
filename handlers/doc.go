// Package handlers wires Ajrly Auth's HTTP surfaces into the two handlers
// a server runs: the public one (the issuer's listener) and the operations
// one (metrics and health, on its own listener).
//
// Each surface is its own package and never imports another:
//
//	handlers/web       the shared kit: request ids and the request-scoped
//	                   logger, headers, CSRF middleware, cookies and
//	                   sessions, rendering, errors
//	handlers/oauth     the protocol endpoints (JSON)
//	handlers/signin    /authorize, sign-in, sign-up, consent, sign-out
//	handlers/settings  the account page and the /settings dashboards
//	handlers/ops       health checks and metrics
//
// The rules all of them apply live in provider and its domain packages.
package handlers
