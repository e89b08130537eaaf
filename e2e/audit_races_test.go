package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The regression tests of the December 2026 audit's races (findings 4, 5
// and 10), refresh-token lifetime (13), soft lockout (18) and argon2
// memory (S1). A race test runs its race many rounds, on both databases.

// raceRounds is how many times each race is run.
const raceRounds = 30

// answer is what one HTTP call got back. It is filled in goroutines, which
// must not call t.Fatal, so failures are kept for the test to report.
type answer struct {
	status int
	body   map[string]any
	err    error
}

// tokenCall posts form to /token with client_secret_basic.
func (s *server) tokenCall(ctx context.Context, form url.Values, clientID, secret string) answer {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/token", strings.NewReader(form.Encode()))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		a.err = fmt.Errorf("status %d, body is not JSON: %s", resp.StatusCode, raw)
	}
	return a
}

// atOnce calls f n times concurrently, releasing the calls together, and
// returns what each returned.
func atOnce[T any](n int, f func(i int) T) []T {
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		out   = make([]T, n)
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = f(i)
		}()
	}
	close(start)
	wg.Wait()
	return out
}

// atMostOneWinner checks the answers to several uses of one single-use
// credential: at most one 200; every other a 400 invalid_grant, never a 5xx
// and never an invitation to retry. It returns the winner's body, or nil.
func atMostOneWinner(t *testing.T, round int, answers []answer) map[string]any {
	t.Helper()
	var winner map[string]any
	for _, a := range answers {
		switch {
		case a.err != nil:
			t.Errorf("round %d: %v", round, a.err)
		case a.status == http.StatusOK:
			if winner != nil {
				t.Errorf("round %d: two requests succeeded with one single-use credential", round)
			}
			winner = a.body
		case a.status == http.StatusBadRequest && a.body["error"] == "invalid_grant":
			if desc, _ := a.body["error_description"].(string); strings.Contains(strings.ToLower(desc), "retry") {
				t.Errorf("round %d: the loser is told to retry: %q", round, desc)
			}
		default:
			t.Errorf("round %d: status %d %v; want 200 for at most one request and 400 invalid_grant for the others", round, a.status, a.body)
		}
	}
	return winner
}

// wantInactive checks, asking as the tokens' own client, that none of
// tokens is active any more.
func (w *webApp) wantInactive(t *testing.T, what string, tokens ...string) {
	t.Helper()
	for _, tok := range tokens {
		if tok == "" {
			continue
		}
		if intro := w.s.introspect(t, w.id, w.secret, tok); intro["active"] != false {
			t.Errorf("%s: a token is still active: %v", what, intro)
		}
	}
}

// codeForm is the token request that redeems code of authorization az.
func (w *webApp) codeForm(code string, az authorization) url.Values {
	return url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {w.redirect}, "code_verifier": {az.verifier}}
}

func refreshForm(refreshToken string) url.Values {
	return url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}}
}

func str(v any) string { s, _ := v.(string); return s }

// Finding 4: of two redemptions of one code, the loser could get a 500, and
// the winner's tokens stayed valid. RFC 6749 §4.1.2 and RFC 9700 §4.5: a
// second use is refused and revokes what the first one got.
func TestConcurrentRedemptionsOfOneCodeAreInvalidGrantAndRevokeTheCodesTokens(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		app := newWebApp(t, s, false)
		a := s.newAgent(t)
		for round := range raceRounds {
			az := app.newAuthorization(t)
			code := a.authorize(az.url, "alice@example.com", "correct horse battery", "allow").Query().Get("code")
			answers := atOnce(4, func(int) answer {
				return s.tokenCall(context.Background(), app.codeForm(code, az), app.id, app.secret)
			})
			if winner := atMostOneWinner(t, round, answers); winner != nil {
				app.wantInactive(t, fmt.Sprintf("round %d: the winner's tokens after a second redemption", round),
					str(winner["access_token"]), str(winner["refresh_token"]))
			}
			if t.Failed() {
				return
			}
		}
	})
}

// Finding 10: of two refreshes with one refresh token, the loser was told
// to retry and the family lived on. RFC 9700 §4.14.2: a second use of a
// refresh token is reuse, and revokes every token of the grant.
func TestConcurrentRefreshesWithOneTokenAreInvalidGrantAndRevokeTheFamily(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		app := newWebApp(t, s, false)
		a := s.newAgent(t)
		grant := func() map[string]any {
			t.Helper()
			az := app.newAuthorization(t)
			code := a.authorize(az.url, "alice@example.com", "correct horse battery", "allow").Query().Get("code")
			got := s.tokenCall(t.Context(), app.codeForm(code, az), app.id, app.secret)
			if got.status != http.StatusOK || str(got.body["refresh_token"]) == "" {
				t.Fatalf("code exchange: status %d %v %v, want tokens with a refresh token", got.status, got.body, got.err)
			}
			return got.body
		}
		for round := range raceRounds {
			first := grant()
			answers := atOnce(4, func(int) answer {
				return s.tokenCall(context.Background(), refreshForm(str(first["refresh_token"])), app.id, app.secret)
			})
			tokens := []string{str(first["access_token"]), str(first["refresh_token"])}
			if winner := atMostOneWinner(t, round, answers); winner != nil {
				tokens = append(tokens, str(winner["access_token"]), str(winner["refresh_token"]))
			}
			app.wantInactive(t, fmt.Sprintf("round %d: the family after two refreshes with one token", round), tokens...)
			if got := s.tokenCall(t.Context(), refreshForm(str(first["refresh_token"])), app.id, app.secret); got.status != http.StatusBadRequest || got.body["error"] != "invalid_grant" {
				t.Errorf("round %d: a later use of the raced token: status %d %v, want 400 invalid_grant", round, got.status, got.body)
			}
			if t.Failed() {
				return
			}
		}

		// Without a race: a refresh, then the old token again.
		first := grant()
		second := s.tokenCall(t.Context(), refreshForm(str(first["refresh_token"])), app.id, app.secret)
		if second.status != http.StatusOK {
			t.Fatalf("refresh: status %d %v", second.status, second.body)
		}
		reuse := s.tokenCall(t.Context(), refreshForm(str(first["refresh_token"])), app.id, app.secret)
		if reuse.status != http.StatusBadRequest || reuse.body["error"] != "invalid_grant" {
			t.Fatalf("reuse of a rotated refresh token: status %d %v, want 400 invalid_grant", reuse.status, reuse.body)
		}
		app.wantInactive(t, "the family after a sequential reuse", str(second.body["access_token"]), str(second.body["refresh_token"]))
	})
}

// Finding 13: refresh tokens went to every grant, whether or not it asked
// for offline_access (OpenID Connect Core §11).
func TestRefreshTokensOnlyForGrantsWithOfflineAccess(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		app := newWebApp(t, s, false)
		a := s.newAgent(t)

		t.Run("without offline_access there is no refresh token", func(t *testing.T) {
			cfg := app.config
			cfg.Scopes = []string{"openid", "read"}
			az := authorization{state: randomString(t), verifier: oauth2.GenerateVerifier()}
			az.url = cfg.AuthCodeURL(az.state, oauth2.S256ChallengeOption(az.verifier))
			code := a.authorize(az.url, "alice@example.com", "correct horse battery", "allow").Query().Get("code")
			got := s.tokenCall(t.Context(), app.codeForm(code, az), app.id, app.secret)
			if got.status != http.StatusOK {
				t.Fatalf("code exchange: status %d %v", got.status, got.body)
			}
			if rt, ok := got.body["refresh_token"]; ok {
				t.Errorf("a grant of %q got a refresh token %q", got.body["scope"], rt)
			}
			if got := s.tokenCall(t.Context(), refreshForm(str(got.body["access_token"])), app.id, app.secret); got.status != http.StatusBadRequest || got.body["error"] != "invalid_grant" {
				t.Errorf("refresh_token grant with the access token: status %d %v, want 400 invalid_grant", got.status, got.body)
			}
		})

		t.Run("the consent page says what offline_access means", func(t *testing.T) {
			p := a.get(app.newAuthorization(t).url)
			if p.url.Path != "/consent" || !strings.Contains(p.body, `data-scope="offline_access"`) || !strings.Contains(p.body, "Stay connected") {
				t.Fatalf("consent page for offline_access (%s, status %d) does not list it:\n%s", p.url, p.status, p.body)
			}
		})

		t.Run("a refresh token of a grant without offline_access is refused", func(t *testing.T) {
			// A refresh token issued before offline_access was required:
			// made here by taking the scope out of a grant's stored rows.
			az := app.newAuthorization(t)
			code := a.authorize(az.url, "alice@example.com", "correct horse battery", "allow").Query().Get("code")
			got := s.tokenCall(t.Context(), app.codeForm(code, az), app.id, app.secret)
			if got.status != http.StatusOK || str(got.body["refresh_token"]) == "" {
				t.Fatalf("code exchange: status %d %v", got.status, got.body)
			}
			if err := s.Store.DB().Exec("UPDATE oauth_refresh_tokens SET granted_scopes = ?", "openid profile email read").Error; err != nil {
				t.Fatal(err)
			}
			refreshed := s.tokenCall(t.Context(), refreshForm(str(got.body["refresh_token"])), app.id, app.secret)
			if refreshed.status != http.StatusBadRequest || refreshed.body["error"] != "invalid_grant" {
				t.Fatalf("refresh of a grant without offline_access: status %d %v, want 400 invalid_grant", refreshed.status, refreshed.body)
			}
		})
	})
}

// Finding 13: each refresh slid the refresh token's expiry forward, so a
// grant never ended. Now a grant ends refresh_grant_max_age (90 days by
// default) after it was made: no refresh token outlives it, and a refresh
// after it is refused.
func TestRefreshGrantEndsAtItsMaximumAge(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock))
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		app := newWebApp(t, s, false)
		a := s.newAgent(t)
		const maxAge = 90 * 24 * time.Hour

		// A grant older than the maximum age, whose refresh token has not
		// expired (as rows written before the cap may), is refused: made
		// here by backdating a new grant in its stored session.
		az := app.newAuthorization(t)
		code := a.authorize(az.url, "alice@example.com", "correct horse battery", "allow").Query().Get("code")
		got := s.tokenCall(t.Context(), app.codeForm(code, az), app.id, app.secret)
		if got.status != http.StatusOK {
			t.Fatalf("code exchange: status %d %v", got.status, got.body)
		}
		was, _ := json.Marshal(clock.Now())
		long, _ := json.Marshal(clock.Now().Add(-maxAge))
		res := s.Store.DB().Exec("UPDATE oauth_refresh_tokens SET session = REPLACE(session, ?, ?)",
			`"granted_at":`+string(was), `"granted_at":`+string(long))
		if res.Error != nil || res.RowsAffected != 1 {
			t.Fatalf("backdating the grant: %v, %d rows", res.Error, res.RowsAffected)
		}
		old := s.tokenCall(t.Context(), refreshForm(str(got.body["refresh_token"])), app.id, app.secret)
		if old.status != http.StatusBadRequest || old.body["error"] != "invalid_grant" || !strings.Contains(str(old.body["error_description"]), "sign in again") {
			t.Fatalf("refresh of a grant older than the maximum age: status %d %v, want 400 invalid_grant asking to sign in again", old.status, old.body)
		}

		grantedAt := clock.Now()
		az = app.newAuthorization(t)
		code = a.authorize(az.url, "alice@example.com", "correct horse battery", "allow").Query().Get("code")
		got = s.tokenCall(t.Context(), app.codeForm(code, az), app.id, app.secret)
		if got.status != http.StatusOK {
			t.Fatalf("code exchange: status %d %v", got.status, got.body)
		}
		end := grantedAt.Add(maxAge)
		rt := str(got.body["refresh_token"])
		// The test server's refresh tokens last 24 hours: refresh a little
		// more often than that, as an app in daily use does.
		refreshes := 0
		for clock.Now().Add(23 * time.Hour).Before(end) {
			clock.Advance(23 * time.Hour)
			got := s.tokenCall(t.Context(), refreshForm(rt), app.id, app.secret)
			if got.status != http.StatusOK {
				t.Fatalf("refresh %d, %s after the grant: status %d %v", refreshes+1, clock.Now().Sub(grantedAt), got.status, got.body)
			}
			rt = str(got.body["refresh_token"])
			refreshes++
		}
		intro := app.s.introspect(t, app.id, app.secret, rt)
		if exp, _ := intro["exp"].(float64); int64(exp) != end.Unix() {
			t.Errorf("the last refresh token expires at %v, want the grant's end %v (its own lifetime would reach past it)",
				time.Unix(int64(exp), 0).UTC(), end.UTC())
		}
		clock.Advance(end.Sub(clock.Now()) + time.Second)
		if got := s.tokenCall(t.Context(), refreshForm(rt), app.id, app.secret); got.status != http.StatusBadRequest || got.body["error"] != "invalid_grant" {
			t.Fatalf("refresh after the grant's end: status %d %v, want 400 invalid_grant", got.status, got.body)
		}
	})
}

// signInClient is a browser without redirects that connects from ip, so
// that concurrent tests do not share the per-address throttle.
func (s *server) signInClient(t *testing.T, ip string) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	dialer := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{
		Jar:           jar,
		Transport:     &http.Transport{DialContext: dialer.DialContext},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// accountBudget is how many wrong passwords on one account reach the
// password hash in a burst: the 5 free failures, and the one that starts
// the first wait.
const accountBudget = 6

// Finding 5: the throttle was read before the password hash and written
// after it, so every guess in flight got through: 16 of 16 concurrent wrong
// passwords reached the hash. Now an attempt is reserved before hashing.
//
// Not parallel: it counts the process's password verifications, which no
// other test may add to meanwhile (tests marked parallel do not run beside
// one that is not).
func TestConcurrentWrongPasswordsReachTheHashOnlyAsOftenAsTheThrottleAllows(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			s := newServer(t, b)
			// Fewer rounds than the token races: each one hashes a new
			// person's password and up to six guesses.
			for round := range 20 {
				email := fmt.Sprintf("person%d@example.com", round)
				s.createUser(t, email, "correct horse battery", "Person")
				c := s.signInClient(t, fmt.Sprintf("127.0.1.%d", round+2))
				csrf := csrfOf(t, c, s.URL+"/login")
				before := accounts.PasswordVerifications()
				statuses := atOnce(16, func(int) int {
					form := url.Values{"csrf_token": {csrf}, "email": {email}, "password": {"wrong password!"}}
					resp, err := c.PostForm(s.URL+"/login", form)
					if err != nil {
						return 0
					}
					resp.Body.Close()
					return resp.StatusCode
				})
				hashes := accounts.PasswordVerifications() - before
				refused := 0
				for _, st := range statuses {
					switch st {
					case http.StatusUnauthorized:
					case http.StatusTooManyRequests:
						refused++
					default:
						t.Errorf("round %d: a wrong password got status %d, want 401 or 429", round, st)
					}
				}
				if hashes > accountBudget {
					t.Fatalf("round %d: 16 concurrent wrong passwords reached the password hash %d times, want at most %d (statuses %v)",
						round, hashes, accountBudget, statuses)
				}
				if int(hashes) != len(statuses)-refused {
					t.Errorf("round %d: %d hashes for %d answers that were not refused", round, hashes, len(statuses)-refused)
				}
			}
		})
	}
}

// csrfOf opens a page with c and returns its CSRF token.
func csrfOf(t *testing.T, c *http.Client, page string) string {
	t.Helper()
	resp, err := c.Get(page)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := csrfPattern.FindStringSubmatch(string(body))
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d)", page, resp.StatusCode)
	}
	return m[1]
}

// The throttle still behaves as it did for one person at a time: 5 free
// failures, then a wait that doubles with each further one.
func TestSequentialSignInFailuresGetFiveFreeThenDoublingWaits(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock))
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		a := s.newAgent(t)
		fail := func() page {
			t.Helper()
			return a.signIn(a.get(s.URL+"/login"), "alice@example.com", "wrong password!")
		}
		for i := range 5 {
			if p := fail(); p.status != http.StatusUnauthorized || strings.Contains(p.body, "Wait") {
				t.Fatalf("free failure %d: status %d, or it asks to wait:\n%s", i+1, p.status, p.body)
			}
		}
		for _, wait := range []int{1, 2, 4, 8, 16} {
			if p := fail(); p.status != http.StatusUnauthorized || !strings.Contains(p.body, fmt.Sprintf("Wait %d seconds", wait)) {
				t.Fatalf("a failure that should start a %ds wait: status %d:\n%s", wait, p.status, p.body)
			}
			if p := fail(); p.status != http.StatusTooManyRequests {
				t.Fatalf("an attempt during the %ds wait: status %d, want 429", wait, p.status)
			}
			clock.Advance(time.Duration(wait) * time.Second)
		}
	})
}

// Finding 18: failing on purpose about once a minute kept an account
// blocked for its owner too. A browser that signed in to the account before
// is now throttled on its own, so the owner gets in with the right password.
func TestKnownBrowserSignsInWhileAnAttackerKeepsTheAccountBlocked(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock() // held: no wait ever runs out
		s := newServer(t, b, withClock(clock))
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		s.createUser(t, "mallory@example.com", "mallory's own password", "Mallory")
		signIn := func(a *agent, email, password string) page {
			t.Helper()
			return a.signIn(a.get(s.URL+"/login"), email, password)
		}
		signOut := func(a *agent, home page) {
			t.Helper()
			if out := a.post(s.URL+"/logout", url.Values{"csrf_token": {home.csrf(t)}}); out.status >= 400 {
				t.Fatalf("sign out: status %d", out.status)
			}
		}

		owner := s.newAgent(t)
		home := signIn(owner, "alice@example.com", "correct horse battery")
		if home.url.Path != "/" {
			t.Fatalf("the owner's first sign-in: status %d at %s", home.status, home.url)
		}
		signOut(owner, home)

		// Mallory signs in to her own account (so her browser is known to
		// it), then fails on alice's until alice's account is blocked.
		attacker := s.newAgent(t)
		signOut(attacker, signIn(attacker, "mallory@example.com", "mallory's own password"))
		blocked := 0
		for range 12 {
			if p := signIn(attacker, "alice@example.com", "wrong password!"); p.status == http.StatusTooManyRequests {
				blocked++
			}
		}
		if blocked == 0 {
			t.Fatal("12 failures never blocked the account")
		}
		if p := signIn(attacker, "alice@example.com", "correct horse battery"); p.status != http.StatusTooManyRequests {
			t.Errorf("the right password from the attacker's browser: status %d, want 429", p.status)
		}
		if p := signIn(s.newAgent(t), "alice@example.com", "correct horse battery"); p.status != http.StatusTooManyRequests {
			t.Errorf("the right password from a new browser: status %d, want 429", p.status)
		}

		if p := signIn(owner, "alice@example.com", "correct horse battery"); p.url.Path != "/" {
			t.Fatalf("the owner's known browser with the right password: status %d at %s, want signed in:\n%s", p.status, p.url, p.body)
		} else {
			signOut(owner, p)
		}
		// The known browser has a budget of its own, not none.
		statuses := []int{}
		for range 7 {
			statuses = append(statuses, signIn(owner, "alice@example.com", "wrong password!").status)
		}
		if statuses[6] != http.StatusTooManyRequests {
			t.Errorf("wrong passwords from the known browser: %v, want a 429 after 6 failures", statuses)
		}
	})
}

// Finding S1: each argon2id computation takes 19 MiB and nothing bounded
// how many ran at once. When every slot stays taken, sign-in and sign-up
// answer 503 with Retry-After instead of queueing without bound.
//
// Not parallel: it holds every password-hashing slot of the process.
func TestSignInAndSignUpAnswer503WhilePasswordHashingIsSaturated(t *testing.T) {
	s := newServer(t, storagetest.Backends()[0])
	s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
	a := s.newAgent(t)
	login, signup := a.get(s.URL+"/login"), a.get(s.URL+"/signup")

	var releases []func()
	for range accounts.PasswordSlots() {
		release, err := accounts.AcquirePasswordSlot(t.Context())
		if err != nil {
			t.Fatalf("take a password-hashing slot: %v", err)
		}
		releases = append(releases, release)
	}
	for name, p := range map[string]page{
		"sign-in": a.signIn(login, "alice@example.com", "correct horse battery"),
		"sign-up": a.signUp(signup, "Carol", "carol@example.com", "a long enough password", "Initech"),
	} {
		if p.status != http.StatusServiceUnavailable || p.header.Get("Retry-After") == "" {
			t.Errorf("%s while hashing is saturated: status %d, Retry-After %q; want 503 with Retry-After", name, p.status, p.header.Get("Retry-After"))
		}
		if !strings.Contains(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "try again") {
			t.Errorf("%s while hashing is saturated: not a readable page:\n%s", name, p.body)
		}
	}
	for _, release := range releases {
		release()
	}
	if p := a.signIn(a.get(s.URL+"/login"), "alice@example.com", "correct horse battery"); p.url.Path != "/" {
		t.Fatalf("sign-in once hashing is free again: status %d at %s", p.status, p.url)
	}
}
