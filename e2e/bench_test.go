package e2e

// The benchmarks of DESIGN.md's performance budget: the real server over
// real HTTP, 64 concurrent clients, on SQLite and PostgreSQL. Run them with
//
//	AJRLY_TEST_POSTGRES_DSN=postgres://... go test ./e2e -run '^$' -bench . -benchtime=3s
//
// Each reports req/s, p50-ms and p99-ms, the CPU the test process (server
// and load generator together) spent per request, on PostgreSQL the CPU the
// local PostgreSQL server spent per request, and others-cpu-%, the share of
// the machine that other processes took meanwhile (a run where that is
// more than a few percent measured its neighbours too). Sub-benchmarks
// ending in -reqlog keep the default Info request log (written to memory)
// to price it; the others log at Warn. BenchmarkLoadGenerator prices the
// client, which shares the cores; in a -cpuprofile its samples carry the
// label side=client.

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// introspectionPool is how many access tokens the introspection benchmark
// cycles through.
const introspectionPool = 1000

// benchMode is a way of running the server under load.
type benchMode struct {
	suffix   string
	logLevel slog.Level
}

// benchModes: the budget's setting (Warn: only failures are logged) and
// the default request log at Info, to price it.
var benchModes = []benchMode{{"", slog.LevelWarn}, {"-reqlog", slog.LevelInfo}}

// forEachBenchServer runs bench as one sub-benchmark per backend and log
// mode. The testing package calls a benchmark once per b.N it tries, so
// each call gets a fresh server; setting it up is outside the timed part.
func forEachBenchServer(b *testing.B, bench func(b *testing.B, s *server)) {
	for _, m := range benchModes {
		for _, be := range storagetest.Backends() {
			b.Run(be.Name+m.suffix, func(b *testing.B) {
				s := newServer(b, be, func(o *serverOptions) { o.logLevel = m.logLevel })
				bench(b, s)
			})
		}
	}
}

// BenchmarkTokenClientCredentials is the client credentials grant with
// client_secret_basic: one client authentication and one access token row
// per request.
func BenchmarkTokenClientCredentials(b *testing.B) {
	forEachBenchServer(b, func(b *testing.B, s *server) {
		id, secret := s.serviceClient(b)
		p := newPoster(s.URL+"/token", id, secret)
		load{
			client:   newBenchClient(b),
			next:     func() *http.Request { return p.request("grant_type=client_credentials&scope=read") },
			want:     `"access_token":"at_live_`,
			postgres: s.Store.Dialect() == "postgres",
		}.run(b)
	})
}

// BenchmarkTokenCodeExchange redeems authorization codes (scope "openid
// read", PKCE S256, a confidential client with client_secret_basic): the
// code, PKCE and OpenID Connect rows are read and retired, an access token
// and a refresh token stored and an RS256 ID token signed. The codes are
// minted in-process before the clock starts.
func BenchmarkTokenCodeExchange(b *testing.B) {
	forEachBenchServer(b, func(b *testing.B, s *server) {
		user := s.createUser(b, "bench@example.com", "correct horse battery", "Bench User")
		redirect := "http://" + freePort(b) + "/callback"
		app, secret := s.createClient(b, clients.Spec{
			Name:         "Bench App",
			RedirectURIs: []string{redirect},
			Scopes:       []string{"openid", "read"},
		})
		bodies := mintCodes(b, s, app.ID, redirect, user, benchWarmup+b.N)
		p := newPoster(s.URL+"/token", app.ID, secret)
		var n atomic.Int64
		load{
			client:   newBenchClient(b),
			next:     func() *http.Request { return p.request(bodies[n.Add(1)-1]) },
			want:     `"id_token":"`,
			postgres: s.Store.Dialect() == "postgres",
		}.run(b)
	})
}

// BenchmarkIntrospection is a resource server introspecting at_live_
// access tokens (a pool of client credentials tokens, cycled) with
// client_secret_basic.
func BenchmarkIntrospection(b *testing.B) {
	forEachBenchServer(b, func(b *testing.B, s *server) {
		client := newBenchClient(b)
		id, secret := s.serviceClient(b)
		tokens := mintAccessTokens(b, client, newPoster(s.URL+"/token", id, secret), introspectionPool)
		bodies := make([]string, len(tokens))
		for i, t := range tokens {
			bodies[i] = url.Values{"token": {t}}.Encode()
		}
		rsID, rsSecret := s.resourceServer(b)
		p := newPoster(s.URL+"/introspect", rsID, rsSecret)
		var n atomic.Int64
		load{
			client:   client,
			next:     func() *http.Request { return p.request(bodies[(n.Add(1)-1)%int64(len(bodies))]) },
			want:     `"active":true`,
			postgres: s.Store.Dialect() == "postgres",
		}.run(b)
	})
}

// BenchmarkTokenAPIKeyExchange trades sk_live_ keys (a pool, cycled) for
// ES256 JWTs with no client authentication: one indexed lookup of the key
// by digest, one signature, no write (uses are counted in memory).
func BenchmarkTokenAPIKeyExchange(b *testing.B) {
	forEachBenchServer(b, func(b *testing.B, s *server) {
		bodies := apiKeyPool(b, s, func(secret string) string { return exchangeForm(secret).Encode() })
		p := poster{url: s.URL + "/token"}
		var n atomic.Int64
		load{
			client:   newBenchClient(b),
			next:     func() *http.Request { return p.request(bodies[(n.Add(1)-1)%int64(len(bodies))]) },
			want:     `"issued_token_type"`,
			postgres: s.Store.Dialect() == "postgres",
		}.run(b)
	})
}

// BenchmarkIntrospectionAPIKey is a resource server introspecting sk_live_
// keys (a pool, cycled) with client_secret_basic.
func BenchmarkIntrospectionAPIKey(b *testing.B) {
	forEachBenchServer(b, func(b *testing.B, s *server) {
		bodies := apiKeyPool(b, s, func(secret string) string { return url.Values{"token": {secret}}.Encode() })
		rsID, rsSecret := s.resourceServer(b)
		p := newPoster(s.URL+"/introspect", rsID, rsSecret)
		var n atomic.Int64
		load{
			client:   newBenchClient(b),
			next:     func() *http.Request { return p.request(bodies[(n.Add(1)-1)%int64(len(bodies))]) },
			want:     `"token_use":"api_key"`,
			postgres: s.Store.Dialect() == "postgres",
		}.run(b)
	})
}

// apiKeyPool creates apiKeyPoolSize keys and returns a request body for each.
func apiKeyPool(b *testing.B, s *server, body func(secret string) string) []string {
	b.Helper()
	owner := s.newKeyOwner(b, "bench@example.com")
	bodies := make([]string, apiKeyPoolSize)
	for i := range bodies {
		_, secret := s.newAPIKey(b, owner, "read projects:write", nil)
		bodies[i] = body(secret)
	}
	return bodies
}

// apiKeyPoolSize is how many keys the API-key benchmarks cycle through.
const apiKeyPoolSize = 100

// BenchmarkLoadGenerator prices the load generator: the same clients
// against a bare handler that parses the form and answers a token-sized
// JSON body. Its CPU per request is the floor of net/http on both ends
// plus the client; the other benchmarks' clients take about as much of
// the same 2 cores.
func BenchmarkLoadGenerator(b *testing.B) {
	answer := []byte(`{"access_token":"at_live_` + strings.Repeat("x", 87) + `","expires_in":3600,"scope":"read","token_type":"bearer"}`)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") == "" {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(answer)
	}))
	b.Cleanup(hs.Close)
	p := newPoster(hs.URL+"/token", "cl_bench", "secret")
	load{
		client: newBenchClient(b),
		next:   func() *http.Request { return p.request("grant_type=client_credentials&scope=read") },
		want:   `"access_token":"at_live_`,
	}.run(b)
}

// serviceClient registers a confidential client of the client credentials
// grant with the scope read.
func (s *server) serviceClient(b *testing.B) (string, string) {
	b.Helper()
	c, secret := s.createClient(b, clients.Spec{Name: "Bench Service", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
	return c.ID, secret
}
