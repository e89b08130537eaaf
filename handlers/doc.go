// Package handlers serves Ajrly Auth over HTTP: the OAuth 2.0 and OpenID
// Connect endpoints, discovery, the sign-in, consent and account pages, and
// health checks, on a gorilla/mux router with request ids, structured
// request logs, panic recovery and security headers.
package handlers
