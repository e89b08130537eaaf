// Package tenancy is the one policy for organizations and roles. Every
// token Ajrly issues for a person asserts an organization (org) and scopes,
// and resource servers act on exactly those; so whatever path issues or
// widens them — consent, remembered consent, prompt=none, refresh, the
// API-key dashboard and exchange, client credentials, the CLI — asks this
// package which organization the person acts in (one they are a member of
// now), which scopes their role there may hold, and what the umbrella
// scopes read and write cover (DESIGN.md, "Tenancy and roles").
package tenancy
