package main

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// envOf is an environment made of a map.
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestExampleAPIConfigComesFromFlagsOverEnvironment(t *testing.T) {
	t.Parallel()
	secretFile := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretFile, []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want func(config) string // "" when right
	}{
		{"defaults", nil, map[string]string{"AJRLY_API_CLIENT_ID": "cl_1", "AJRLY_API_CLIENT_SECRET": "s"}, func(c config) string {
			if c.addr != "127.0.0.1:8081" || c.opts.Issuer != "http://127.0.0.1:8080" || c.opts.Audience != "https://api.ajrly.com" ||
				c.opts.CacheTTL != 10*time.Second || c.opts.ClientID != "cl_1" || c.opts.ClientSecret != "s" {
				return "defaults wrong"
			}
			return ""
		}},
		{"environment", nil, map[string]string{"AJRLY_API_ADDR": ":9", "AJRLY_ISSUER": "https://auth.example.com",
			"AJRLY_API_CLIENT_ID": "cl_1", "AJRLY_API_CLIENT_SECRET": "s", "AJRLY_API_AUDIENCE": "https://api.example.com",
			"AJRLY_API_CACHE_TTL": "30"}, func(c config) string {
			if c.addr != ":9" || c.opts.Issuer != "https://auth.example.com" || c.opts.Audience != "https://api.example.com" || c.opts.CacheTTL != 30*time.Second {
				return "environment not read"
			}
			return ""
		}},
		{"flags win", []string{"--addr", ":10", "--client-id", "cl_2", "--cache-ttl", "0", "--client-secret-file", secretFile},
			map[string]string{"AJRLY_API_ADDR": ":9", "AJRLY_API_CLIENT_ID": "cl_1", "AJRLY_API_CACHE_TTL": "1m"}, func(c config) string {
				if c.addr != ":10" || c.opts.ClientID != "cl_2" || c.opts.CacheTTL != 0 || c.opts.ClientSecret != "from-file" {
					return "flags did not win"
				}
				return ""
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			c, err := parseConfig(tc.args, envOf(tc.env), &stderr)
			if err != nil {
				t.Fatalf("parse: %v\n%s", err, stderr.String())
			}
			if msg := tc.want(c); msg != "" {
				t.Errorf("%s: %+v", msg, c)
			}
		})
	}
}

func TestExampleAPIWrongArgumentsPrintUsageAndExit2(t *testing.T) {
	t.Parallel()
	ok := map[string]string{"AJRLY_API_CLIENT_ID": "cl_1", "AJRLY_API_CLIENT_SECRET": "s"}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"an unknown flag", []string{"--bogus"}, ok, "flag provided but not defined"},
		{"a stray argument", []string{"serve"}, ok, "unexpected arguments"},
		{"no client", nil, nil, "client id: required"},
		{"a bad duration", []string{"--cache-ttl", "soon"}, ok, "not a duration"},
		{"a bad duration in the environment", nil, map[string]string{"AJRLY_API_CLIENT_ID": "c", "AJRLY_API_CLIENT_SECRET": "s", "AJRLY_API_CACHE_TTL": "x"}, "AJRLY_API_CACHE_TTL"},
		{"a bad issuer", []string{"--issuer", "auth.example.com"}, ok, "issuer:"},
		{"the secret twice", []string{"--client-secret-file", "/dev/null"}, ok, "not both"},
		{"a missing secret file", []string{"--client-secret-file", "/nonexistent/secret"}, map[string]string{"AJRLY_API_CLIENT_ID": "c"}, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			code := run(t.Context(), tc.args, envOf(tc.env), &stderr, nil)
			if code != 2 {
				t.Errorf("exit %d, want 2", code)
			}
			if out := stderr.String(); !strings.Contains(out, tc.want) || !strings.Contains(out, "Usage:") {
				t.Errorf("stderr does not say %q with the usage:\n%s", tc.want, out)
			}
		})
	}
}

func TestExampleAPIRunServesAndShutsDownGracefully(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var stderr bytes.Buffer
	ready := make(chan string, 1)
	done := make(chan int, 1)
	secret := "never-log-this-secret"
	go func() {
		done <- run(ctx, []string{"--addr", "127.0.0.1:0"}, envOf(map[string]string{
			"AJRLY_API_CLIENT_ID": "cl_1", "AJRLY_API_CLIENT_SECRET": secret}), &stderr, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case code := <-done:
		t.Fatalf("exited %d: %s", code, stderr.String())
	}
	resp, err := http.Get("http://" + addr + "/v1/projects")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != `Bearer realm="example-api"` {
		t.Errorf("no credential: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d after shutdown, want 0", code)
	}
	if strings.Contains(stderr.String(), secret) {
		t.Errorf("the client secret is in the log:\n%s", stderr.String())
	}
}
