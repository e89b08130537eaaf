// The benchmarks' load generator (clients, requests, timing and
// percentiles), the CPU meters of this process, PostgreSQL and the
// machine, and the tokens and codes minted for a benchmark to spend.

package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

// benchClients is how many HTTP clients drive the server at once, as in
// the performance budget.
const benchClients = 64

// benchWarmup requests, sent before the clock starts, open the keep-alive
// and database connections and prepare their statements.
const benchWarmup = 2 * benchClients

// newBenchClient is the load generator's one HTTP client, with a
// keep-alive connection for every concurrent client so that no request
// pays for a TCP handshake.
func newBenchClient(b *testing.B) *http.Client {
	tr := &http.Transport{
		MaxIdleConns:        2 * benchClients,
		MaxIdleConnsPerHost: 2 * benchClients,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	b.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: time.Minute}
}

// poster builds form POSTs to one endpoint with client_secret_basic
// credentials (RFC 6749 §2.3.1: form-encoded, then Basic).
type poster struct {
	url  string
	auth string
}

func newPoster(endpoint, clientID, secret string) poster {
	creds := url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)
	return poster{url: endpoint, auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(creds))}
}

func (p poster) request(body string) *http.Request {
	req, _ := http.NewRequest(http.MethodPost, p.url, strings.NewReader(body))
	req.Header = http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	if p.auth != "" {
		req.Header["Authorization"] = []string{p.auth}
	}
	return req
}

// send sends req and checks that the answer is 200 and contains want; buf
// is reused between calls.
func send(client *http.Client, req *http.Request, buf *bytes.Buffer, want string) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	buf.Reset()
	_, err = buf.ReadFrom(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", req.URL.Path, err)
	}
	if resp.StatusCode != http.StatusOK || !bytes.Contains(buf.Bytes(), []byte(want)) {
		return fmt.Errorf("%s: status %d, want 200 with %s: %s", req.URL.Path, resp.StatusCode, want, buf.Bytes())
	}
	return nil
}

// load is the traffic of one benchmark.
type load struct {
	client *http.Client
	// next returns the next request to send; it is called concurrently.
	next func() *http.Request
	// want is in every answer, which is also 200.
	want string
	// postgres also reports the local PostgreSQL server's CPU.
	postgres bool
}

// run sends benchWarmup untimed requests, then b.N timed ones from
// benchClients goroutines, and reports throughput, latency percentiles and
// CPU per request.
func (l load) run(b *testing.B) {
	b.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, benchClients)
	for range benchClients {
		wg.Go(func() {
			clientSide()
			var buf bytes.Buffer
			for range benchWarmup / benchClients {
				if err := send(l.client, l.next(), &buf, l.want); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		b.Fatalf("warm-up: %v", err)
	}

	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchClients + procs - 1) / procs)
	b.ReportAllocs()
	var (
		mu        sync.Mutex
		latencies [][]time.Duration
		failures  atomic.Int64
		firstErr  atomic.Pointer[error]
	)
	runtime.GC()
	procBefore, procOK := processCPU()
	pgBefore, pgOK := postgresCPU()
	busyBefore, busyOK := machineCPU()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		clientSide()
		lat := make([]time.Duration, 0, b.N/benchClients+1)
		var buf bytes.Buffer
		for pb.Next() {
			req := l.next()
			start := time.Now()
			err := send(l.client, req, &buf, l.want)
			lat = append(lat, time.Since(start))
			if err != nil && failures.Add(1) == 1 {
				firstErr.Store(&err)
			}
		}
		mu.Lock()
		latencies = append(latencies, lat)
		mu.Unlock()
	})
	b.StopTimer()
	procAfter, _ := processCPU()
	pgAfter, _ := postgresCPU()
	busyAfter, _ := machineCPU()
	if n := failures.Load(); n > 0 {
		b.Fatalf("%d of %d requests failed, the first: %v", n, b.N, *firstErr.Load())
	}

	all := slices.Concat(latencies...)
	slices.Sort(all)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
	b.ReportMetric(percentile(all, 0.50).Seconds()*1e3, "p50-ms")
	b.ReportMetric(percentile(all, 0.99).Seconds()*1e3, "p99-ms")
	if procOK {
		b.ReportMetric(float64((procAfter-procBefore).Microseconds())/float64(b.N), "proc-cpu-us/req")
	}
	if l.postgres && pgOK {
		b.ReportMetric(float64((pgAfter-pgBefore).Microseconds())/float64(b.N), "pg-cpu-us/req")
	}
	if procOK && pgOK && busyOK {
		// Everything else on the machine (other tests, compilers) competes
		// for the same cores: a run where this is more than a few percent
		// measured the neighbours too.
		others := (busyAfter - busyBefore) - (procAfter - procBefore) - (pgAfter - pgBefore)
		b.ReportMetric(100*others.Seconds()/(b.Elapsed().Seconds()*float64(runtime.NumCPU())), "others-cpu-%")
	}
}

// clientSide labels the calling goroutine, and the connection goroutines
// net/http starts from it, as the load generator's, so that a CPU profile
// can be split: go tool pprof -tagfocus side=client (or -tagignore).
func clientSide() {
	pprof.SetGoroutineLabels(pprof.WithLabels(context.Background(), pprof.Labels("side", "client")))
}

// percentile is the nearest-rank percentile q of sorted durations.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// inParallel runs fn on n goroutines and joins their errors.
func inParallel(n int, fn func() error) error {
	errs := make(chan error, n)
	for range n {
		go func() { errs <- fn() }()
	}
	var err error
	for range n {
		err = errors.Join(err, <-errs)
	}
	return err
}

// mintCodes issues n authorization codes for user in-process, the way the
// consent page does (fosite's authorize request and response with the
// session newSession builds), without the sign-in pages, whose argon2 check
// would dominate. It returns the token request bodies that redeem them,
// each with its own PKCE verifier.
func mintCodes(b *testing.B, s *server, clientID, redirect string, user *storage.User, n int) []string {
	b.Helper()
	ctx := context.Background()
	oauth := s.Provider.OAuth2()
	bodies := make([]string, n)
	var next atomic.Int64
	mint := func() error {
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return nil
			}
			verifier := oauth2.GenerateVerifier()
			q := url.Values{
				"client_id":             {clientID},
				"response_type":         {"code"},
				"redirect_uri":          {redirect},
				"scope":                 {"openid read"},
				"state":                 {"bench-state-" + strconv.Itoa(i)},
				"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
				"code_challenge_method": {"S256"},
			}
			r := httptest.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/authorize?"+q.Encode(), nil)
			ar, err := oauth.NewAuthorizeRequest(ctx, r)
			if err != nil {
				return fmt.Errorf("authorize request: %w (%s)", err, fosite.ErrorToRFC6749Error(err).HintField)
			}
			for _, scope := range ar.GetRequestedScopes() {
				ar.GrantScope(scope)
			}
			resp, err := oauth.NewAuthorizeResponse(ctx, ar, benchSession(s.URL, user, ar.GetGrantedScopes()))
			if err != nil {
				return fmt.Errorf("authorize response: %w (%s)", err, fosite.ErrorToRFC6749Error(err).HintField)
			}
			bodies[i] = url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {resp.GetCode()},
				"redirect_uri":  {redirect},
				"code_verifier": {verifier},
			}.Encode()
		}
	}
	if err := inParallel(8, mint); err != nil {
		b.Fatalf("mint codes: %v", err)
	}
	return bodies
}

// benchSession is the session provider.NewAuthSession builds for a person who
// signed in with a password just now.
func benchSession(issuer string, u *storage.User, scopes fosite.Arguments) *openid.DefaultSession {
	now := time.Now().UTC().Truncate(time.Second)
	extra := provider.UserClaims(u, scopes)
	delete(extra, "sub")
	return &openid.DefaultSession{
		Subject:  u.ID,
		Username: u.Email,
		Claims: &jwt.IDTokenClaims{
			Issuer:                          issuer,
			Subject:                         u.ID,
			AuthTime:                        now,
			RequestedAt:                     now,
			AuthenticationMethodsReferences: []string{"pwd"},
			Extra:                           extra,
		},
		Headers: &jwt.Headers{},
	}
}

// mintAccessTokens gets n access tokens from the client credentials grant
// over HTTP.
func mintAccessTokens(b *testing.B, client *http.Client, p poster, n int) []string {
	b.Helper()
	tokens := make([]string, n)
	var next atomic.Int64
	mint := func() error {
		var buf bytes.Buffer
		for {
			i := int(next.Add(1)) - 1
			if i >= n {
				return nil
			}
			if err := send(client, p.request("grant_type=client_credentials&scope=read"), &buf, `"access_token":"at_live_`); err != nil {
				return err
			}
			var tok struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(buf.Bytes(), &tok); err != nil {
				return fmt.Errorf("token answer: %w", err)
			}
			tokens[i] = tok.AccessToken
		}
	}
	if err := inParallel(16, mint); err != nil {
		b.Fatalf("mint access tokens: %v", err)
	}
	return tokens
}

// clockTicks is USER_HZ, the unit of CPU times in /proc: 100 on Linux.
const clockTicks = 100

// processCPU is the CPU time (user and system) this process has used, from
// /proc; false where there is no /proc.
func processCPU() (time.Duration, bool) {
	return procCPU("/proc/self/stat")
}

// postgresCPU is the CPU time used by the processes named postgres on this
// machine (the server and its backends), from /proc; false when there are
// none, as with a remote server. Backends that exit during a benchmark are
// not counted; the pool keeps them open.
func postgresCPU() (time.Duration, bool) {
	paths, _ := filepath.Glob("/proc/[0-9]*/stat")
	var total time.Duration
	found := false
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(raw, []byte("(postgres)")) {
			continue
		}
		if d, ok := parseStatCPU(raw); ok {
			total += d
			found = true
		}
	}
	return total, found
}

// machineCPU is the CPU time all cores have spent busy (neither idle nor
// waiting for I/O), from /proc/stat.
func machineCPU() (time.Duration, bool) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, false
	}
	var ticks int64
	for i, f := range fields[1:9] {
		if i == 3 || i == 4 { // idle, iowait
			continue
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, false
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / clockTicks, true
}

func procCPU(path string) (time.Duration, bool) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	return parseStatCPU(raw)
}

// parseStatCPU reads utime and stime, fields 14 and 15 of proc(5)'s stat
// file; the command name (field 2) may contain spaces, so count from the
// last parenthesis.
func parseStatCPU(raw []byte) (time.Duration, bool) {
	i := bytes.LastIndexByte(raw, ')')
	if i < 0 {
		return 0, false
	}
	fields := strings.Fields(string(raw[i+1:]))
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, true
}
