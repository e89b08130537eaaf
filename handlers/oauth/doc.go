// Package oauth is the protocol surface: discovery and the JWKS, the token,
// introspection, revocation and UserInfo endpoints, and dynamic client
// registration (RFC 7591 and 7592). Its answers are JSON; fosite does the
// protocol, provider and its domain packages decide.
package oauth
