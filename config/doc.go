// Package config holds the settings of the ajrly-auth server and loads them
// from, in rising order of precedence, built-in defaults, a YAML file,
// AJRLY_* environment variables and command-line flags.
//
// The file is named by --config or AJRLY_CONFIG and uses the same keys as the
// environment without the prefix, in lower case:
//
//	addr: ":8080"
//	issuer: https://auth.example.com
//	dsn: postgres://ajrly@db.internal/ajrly
//	secret_file: /run/secrets/ajrly
//	access_token_ttl: 15m
//	trusted_proxies: [10.0.0.0/8]
//
// Every setting is described once, in the settings table in settings.go; the
// file key, environment variable and flag all come from that entry.
//
// Only cmd/ajrly-auth imports this package. It hands each other package a
// small Options struct of its own rather than the whole Config.
package config
