// Package storage keeps everything Ajrly Auth persists: OAuth 2.0 clients,
// fosite's authorization codes, tokens, PKCE and OpenID Connect sessions,
// users, browser sign-in sessions, consents and signing keys.
//
// One Store over a *gorm.DB serves both drivers: PostgreSQL for production
// and an embedded SQLite file (no cgo, no server) for `make run`. The DSN
// picks the driver. Hot paths (token rows, client lookups) use hand-written
// SQL through the connection pool so that a token costs one statement and
// no reflection; everything else goes through GORM.
package storage
