// Package e2e drives the whole server from outside, over real HTTP, with
// real OAuth 2.0 and OpenID Connect client libraries and, for the pages, a
// real browser; against SQLite and, when AJRLY_TEST_POSTGRES_DSN is set,
// PostgreSQL.
package e2e
