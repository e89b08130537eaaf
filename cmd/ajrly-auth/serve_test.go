package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// startDeadline bounds how long a process test waits for the server; it is
// a guard against hanging, not an assertion on speed.
const startDeadline = 2 * time.Minute

var (
	buildOnce sync.Once
	binDir    string // removed by TestMain
	binPath   string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// binary builds ajrly-auth once per test run, as a release is built (with
// its version set by -ldflags, see TestVersionFromLdflags), and returns
// its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		gobin, err := exec.LookPath("go")
		if err != nil {
			buildErr = fmt.Errorf("find the go command: %w", err)
			return
		}
		if binDir, buildErr = os.MkdirTemp("", "ajrly-auth-test-"); buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "ajrly-auth")
		out, err := exec.Command(gobin, "build", "-ldflags", "-X main.version="+testBuildVersion, "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// process is a running `ajrly-auth serve`.
type process struct {
	cmd    *exec.Cmd
	stdout *output
	stderr *output
	done   chan struct{} // closed when the process has exited
	code   int           // the exit code, once done is closed
}

// startServe starts `ajrly-auth serve args...` with env as its whole
// environment. The process is killed when the test ends, and its output
// logged if the test failed.
func startServe(t *testing.T, env map[string]string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"serve"}, args...)...)
	cmd.Env = []string{} // nothing from the test's environment, AJRLY_* least of all
	if _, ok := env["AJRLY_OPS_ADDR"]; !ok {
		// Servers of parallel tests must not share the default 127.0.0.1:9090.
		cmd.Env = append(cmd.Env, "AJRLY_OPS_ADDR=127.0.0.1:0")
	}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := &process{cmd: cmd, stdout: newOutput(), stderr: newOutput(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start serve: %v", err)
	}
	go func() {
		_ = cmd.Wait() // the exit code is in ProcessState
		p.code = cmd.ProcessState.ExitCode()
		p.stdout.end()
		p.stderr.end()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("serve %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), p.stdout, p.stderr)
		}
	})
	return p
}

// waitListening waits for the "listening" log line and fails the test if
// the process exits or ctx ends first.
func (p *process) waitListening(ctx context.Context, t *testing.T) {
	t.Helper()
	if _, err := p.stderr.waitFor(ctx, "msg=listening"); err != nil {
		t.Fatalf("serve did not start: %v", err)
	}
}

// stop sends sig and returns the exit code.
func (p *process) stop(ctx context.Context, t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
		return p.code
	case <-ctx.Done():
		t.Fatalf("serve did not exit after %v: %v", sig, ctx.Err())
		return 0
	}
}

// freeAddr returns a loopback address with a port that was free a moment
// ago, so that the issuer can name the port before the server starts.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// noRedirects is an HTTP client that returns redirects instead of
// following them.
var noRedirects = &http.Client{
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// do sends a request and returns the response, its body read.
func do(ctx context.Context, t *testing.T, method, target string, body url.Values, user, password string) (*http.Response, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		r = strings.NewReader(body.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := noRedirects.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp, b
}

func TestServeAnswersAndStopsOnSignal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		backend string
		sig     os.Signal
	}{
		{"SIGTERM stops a sqlite server cleanly", "sqlite", syscall.SIGTERM},
		{"SIGINT stops a sqlite server cleanly", "sqlite", syscall.SIGINT},
		{"SIGTERM stops a postgres server cleanly", "postgres", syscall.SIGTERM},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var db database
			for _, b := range backends() {
				if b.name == tc.backend {
					db = b.open(t)
				}
			}
			ctx, cancel := context.WithTimeout(t.Context(), startDeadline)
			defer cancel()
			addr := freeAddr(t)
			issuer := "http://" + addr
			env := db.envWithout()
			env["AJRLY_SECRET"] = testSecret
			opsAddr := freeAddr(t)
			env["AJRLY_OPS_ADDR"] = opsAddr
			p := startServe(t, env, "--addr", addr, "--issuer", issuer)
			p.waitListening(ctx, t)
			if _, err := p.stderr.waitFor(ctx, "operations listener"); err != nil {
				t.Fatalf("no operations listener: %v", err)
			}
			// The metrics are on the operations listener, never the public one.
			do(ctx, t, http.MethodGet, issuer+"/health/alive", nil, "", "")
			if resp, body := do(ctx, t, http.MethodGet, "http://"+opsAddr+"/metrics", nil, "", ""); resp.StatusCode != http.StatusOK ||
				!strings.Contains(string(body), "ajrly_http_requests_total") ||
				!strings.Contains(string(body), "ajrly_mail_queue_depth") || !strings.Contains(string(body), `ajrly_mail_failed_total{reason="attempts_exhausted"}`) {
				t.Errorf("GET /metrics on ops.addr: %d, without the request or mail metrics:\n%s", resp.StatusCode, body)
			}
			if resp, _ := do(ctx, t, http.MethodGet, issuer+"/metrics", nil, "", ""); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET /metrics on the public listener: %d, want 404", resp.StatusCode)
			}

			for _, path := range []string{"/health/alive", "/health/ready", "/.well-known/openid-configuration"} {
				resp, body := do(ctx, t, http.MethodGet, issuer+path, nil, "", "")
				if resp.StatusCode != http.StatusOK {
					t.Errorf("GET %s: status %d, want 200: %s", path, resp.StatusCode, body)
				}
				if path != "/.well-known/openid-configuration" {
					continue
				}
				var discovery struct {
					Issuer        string `json:"issuer"`
					TokenEndpoint string `json:"token_endpoint"`
				}
				if err := json.Unmarshal(body, &discovery); err != nil {
					t.Fatalf("discovery: %v\n%s", err, body)
				}
				if discovery.Issuer != issuer || discovery.TokenEndpoint != issuer+"/token" {
					t.Errorf("discovery has issuer %q and token_endpoint %q, want %q and %q",
						discovery.Issuer, discovery.TokenEndpoint, issuer, issuer+"/token")
				}
			}

			if code := p.stop(ctx, t, tc.sig); code != 0 {
				t.Errorf("serve exited with %d after %v, want 0", code, tc.sig)
			}
			stderr := p.stderr.String()
			wantContains(t, "stderr", stderr, `msg="shutting down"`, "msg=stopped", "config.secret=(set)")
			if strings.Contains(stderr+p.stdout.String(), testSecret) {
				t.Errorf("serve printed AJRLY_SECRET")
			}
			if path := strings.TrimPrefix(db.dsn, "sqlite://"); tc.backend == "sqlite" && fileExists(t, path+".secret") {
				t.Errorf("serve wrote %s.secret although AJRLY_SECRET is set", path)
			}
		})
	}
}

var (
	demoUserLine   = regexp.MustCompile(`Demo user:\s+(\S+) / (\S+)`)
	demoClientLine = regexp.MustCompile(`Demo client:\s+(\S+)`)
	demoSecretLine = regexp.MustCompile(`Its secret:\s+(\S+)`)
	demoAuthorize  = regexp.MustCompile(`(http://\S+/authorize\?\S+)`)
)

func TestServeDemo(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), startDeadline)
	defer cancel()
	db := newSQLite(t)

	// start runs a demo server on the database and returns the printed
	// client secret once a client_credentials request with it succeeded.
	start := func(t *testing.T) (secret string, stderr string) {
		t.Helper()
		addr := freeAddr(t)
		issuer := "http://" + addr
		p := startServe(t, nil, "--addr", addr, "--issuer", issuer, "--dsn", db.dsn, "--demo")
		p.waitListening(ctx, t)
		lastLine := fmt.Sprintf("-d grant_type=client_credentials -d scope=read %s/token\n", issuer)
		out, err := p.stdout.waitFor(ctx, lastLine)
		if err != nil {
			t.Fatalf("the demo instructions are incomplete: %v", err)
		}

		if m := demoUserLine.FindStringSubmatch(out); m == nil || m[1] != "demo@example.com" || m[2] == "" {
			t.Errorf("stdout does not show the demo user and password:\n%s", out)
		}
		m := demoClientLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("stdout does not show the demo client:\n%s", out)
		}
		clientID := m[1]
		if m = demoSecretLine.FindStringSubmatch(out); m == nil {
			t.Fatalf("stdout does not show the demo client's secret:\n%s", out)
		}
		secret = m[1]
		wantContains(t, "stdout", out, "curl -s -u "+clientID+":", "AJRLY_DEMO_SECRET="+secret)

		m = demoAuthorize.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("stdout does not show an /authorize URL:\n%s", out)
		}
		authorize, err := url.Parse(m[1])
		if err != nil {
			t.Fatalf("the /authorize URL does not parse: %v", err)
		}
		q := authorize.Query()
		if authorize.Scheme+"://"+authorize.Host != issuer || q.Get("client_id") != clientID ||
			q.Get("response_type") != "code" || q.Get("redirect_uri") != issuer+"/demo/callback" ||
			!strings.Contains(q.Get("scope"), "openid") {
			t.Errorf("the /authorize URL does not fit issuer %s and client %s: %s", issuer, clientID, authorize)
		}
		resp, body := do(ctx, t, http.MethodGet, authorize.String(), nil, "", "")
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 != 3 || !strings.Contains(loc, "/login") {
			t.Errorf("GET the printed /authorize URL: status %d, Location %q, want a redirect to /login: %s", resp.StatusCode, loc, body)
		}

		resp, body = do(ctx, t, http.MethodPost, issuer+"/token",
			url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}, clientID, secret)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("client_credentials with the printed secret: status %d: %s", resp.StatusCode, body)
		}
		var token struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
		}
		if err := json.Unmarshal(body, &token); err != nil || token.AccessToken == "" || !strings.EqualFold(token.TokenType, "bearer") {
			t.Errorf("client_credentials response is not a bearer token (%v): %s", err, body)
		}

		if code := p.stop(ctx, t, syscall.SIGTERM); code != 0 {
			t.Fatalf("serve --demo exited with %d, want 0", code)
		}
		return secret, p.stderr.String()
	}

	first, _ := start(t)
	second, stderr := start(t)
	if second != first {
		t.Errorf("the second start printed the secret %q, the first %q", second, first)
	}
	if strings.Contains(stderr, "generated a system secret") {
		t.Errorf("the second start generated a new system secret")
	}
}

func TestServeGeneratesSQLiteSecret(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(t.Context(), startDeadline)
	defer cancel()
	db := newSQLite(t)
	path := strings.TrimPrefix(db.dsn, "sqlite://") + ".secret"
	addr := freeAddr(t)
	p := startServe(t, nil, "--addr", addr, "--issuer", "http://"+addr, "--dsn", db.dsn)
	p.waitListening(ctx, t)

	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("serve did not write the secret file: %v", err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, perm)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(b))
	if len(secret) < 32 {
		t.Errorf("the generated secret has %d bytes, want at least 32", len(secret))
	}
	if code := p.stop(ctx, t, syscall.SIGTERM); code != 0 {
		t.Errorf("serve exited with %d, want 0", code)
	}
	stderr := p.stderr.String()
	wantContains(t, "stderr", stderr, "level=WARN", "generated a system secret", "AJRLY_SECRET", path)
	if secret != "" && strings.Contains(stderr+p.stdout.String(), secret) {
		t.Errorf("serve printed the generated secret")
	}
}

func TestServeFailsToStart(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = busy.Close() })
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string
	}{
		{
			name: "a postgres dsn without a secret",
			env:  map[string]string{"AJRLY_DSN": "postgres://ajrly@127.0.0.1:1/ajrly"},
			args: []string{"serve", "--addr", "127.0.0.1:0"},
			want: []string{"secret: required with a postgres dsn", "AJRLY_SECRET"},
		},
		{
			name: "an address in use",
			args: []string{"serve", "--addr", busy.Addr().String(), "--issuer", "http://" + busy.Addr().String()},
			want: []string{"listen on " + busy.Addr().String(), "address already in use"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			env := newSQLite(t).env
			for k, v := range tc.env {
				env[k] = v
			}
			r := runCLI(t, env, "", tc.args...)
			wantCode(t, r, 1)
			wantContains(t, "stderr", r.stderr, tc.want...)
		})
	}
}

// TestStartWaitsForTheDatabase checks that serve and migrate keep trying a
// database that does not answer yet (one starting with the server, say),
// as openStore promises, rather than giving up at the first attempt.
func TestStartWaitsForTheDatabase(t *testing.T) {
	t.Parallel()
	for _, cmd := range []string{"serve", "migrate"} {
		t.Run(cmd+" retries an unreachable database", func(t *testing.T) {
			t.Parallel()
			addr := freeAddr(t) // nothing listens there
			env := map[string]string{
				"AJRLY_DSN":    "postgres://ajrly@" + addr + "/ajrly?sslmode=disable&connect_timeout=5",
				"AJRLY_SECRET": testSecret,
			}
			ctx, cancel := context.WithTimeout(t.Context(), startDeadline)
			defer cancel()
			stdout, stderr := newOutput(), newOutput()
			c := &cli{stdin: strings.NewReader(""), stdout: stdout, stderr: stderr, getenv: func(name string) (string, bool) {
				v, ok := env[name]
				return v, ok
			}}
			runCtx, stop := context.WithCancel(ctx)
			defer stop()
			codes := make(chan int, 1)
			go func() {
				codes <- c.run(runCtx, []string{cmd, "--addr", "127.0.0.1:0"})
				stderr.end()
			}()
			if _, err := stderr.waitFor(ctx, "database unreachable; retrying"); err != nil {
				code := <-codes
				t.Fatalf("%s gave up on an unreachable database without retrying (%v): exit %d\nstderr:\n%s", cmd, err, code, stderr)
			}
			stop() // give up waiting
			if code := <-codes; code != 1 {
				t.Errorf("%s exited with %d once stopped, want 1\nstderr:\n%s", cmd, code, stderr)
			}
		})
	}
}

// Uses of API keys are counted in memory and written every 30 seconds;
// stopping the server writes what it counted, so nothing is lost.
func TestServeWritesKeyUsageWhenItStops(t *testing.T) {
	t.Parallel()
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			db.migrate(t)
			wantCode(t, db.run(t, "users", "create", "--email", "owner@example.com", "--password", "owner-password-1", "--org", "Acme"), 0)
			r := db.run(t, "keys", "create", "--user", "owner@example.com", "--name", "CI", "--scope", "read", "--json")
			wantCode(t, r, 0)
			var key struct{ ID, Key string }
			if err := json.Unmarshal([]byte(r.stdout), &key); err != nil {
				t.Fatal(err)
			}
			r = db.run(t, "clients", "create", "--name", "API", "--grant-type", "client_credentials", "--scope", "read", "--resource-server", "--json")
			wantCode(t, r, 0)
			var rs struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &rs); err != nil {
				t.Fatal(err)
			}

			ctx, cancel := context.WithTimeout(t.Context(), startDeadline)
			defer cancel()
			addr := freeAddr(t)
			env := db.envWithout()
			env["AJRLY_SECRET"] = testSecret
			p := startServe(t, env, "--addr", addr, "--issuer", "http://"+addr)
			p.waitListening(ctx, t)
			const uses = 3
			for range uses {
				resp, body := do(ctx, t, http.MethodPost, "http://"+addr+"/introspect", url.Values{"token": {key.Key}}, rs.ClientID, rs.ClientSecret)
				if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"active":true`) {
					t.Fatalf("introspect the key: %d %s", resp.StatusCode, body)
				}
			}
			if code := p.stop(ctx, t, syscall.SIGTERM); code != 0 {
				t.Fatalf("serve exited with %d", code)
			}
			db.withStore(t, func(s *storage.Store) {
				usage, err := s.APIKeyUsage(t.Context(), []string{key.ID}, time.Now().Add(-24*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				var total int64
				for _, n := range usage[key.ID] {
					total += n
				}
				if total != uses {
					t.Errorf("%d uses written at shutdown, want %d", total, uses)
				}
				k, _ := s.APIKeyByID(t.Context(), key.ID)
				if k == nil || k.LastUsedAt == nil {
					t.Error("the key's last use was not written")
				}
			})
		})
	}
}
