package signin

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
)

// recoveryEnv is the sign-in surface with accounts that mail a real SMTP
// server, and alice.
type recoveryEnv struct {
	*webtest.Env
	mail *mailtest.Server
}

func newRecoveryEnv(t *testing.T, withMail bool) *recoveryEnv {
	t.Helper()
	e := &recoveryEnv{Env: webtest.New(t), mail: mailtest.Start(t)}
	cfg := accounts.Config{Issuer: webtest.Issuer}
	if withMail {
		cfg.Mailer = e.mail.Mailer(t, webtest.Issuer, nil)
	}
	people := accounts.New(e.Store, cfg)
	Mount(e.Routes.Protocol, e.Routes.Forms, Options{Kit: e.Kit, Provider: e.Provider, Store: e.Store, CookieKey: e.CookieKey, Accounts: people})
	if _, err := people.Create(context.Background(), accounts.Person{Email: "alice@example.com", Password: "correct horse battery"}, accounts.Options{}); err != nil {
		t.Fatal(err)
	}
	return e
}

// askFor posts the forgot-password form for email from browser b.
func askFor(b *webtest.Browser, email string) (int, string) {
	rec := b.Do(http.MethodPost, "/password/forgot", url.Values{"csrf_token": {b.CSRF()}, "email": {email}})
	return rec.Code, requestIDs.ReplaceAllString(rec.Body.String(), "")
}

// requestIDs match the footer's request id, the one part of a page that
// differs from one request to the next.
var requestIDs = regexp.MustCompile(`request <span class="code">[^<]*</span>`)

// The answer is the same for an address with an account and one without,
// and so is being limited: the limit counts the address asked about.
func TestForgotAnswersAlikeAndLimitsPerAddress(t *testing.T) {
	t.Parallel()
	e := newRecoveryEnv(t, true)
	b := e.Browser(t)
	for i := range 3 {
		known, knownBody := askFor(b, "alice@example.com")
		unknown, unknownBody := askFor(b, "nobody@example.com")
		if known != http.StatusOK || unknown != known || knownBody != unknownBody {
			t.Fatalf("request %d: a known address %d, an unknown one %d; the pages differ: %v", i+1, known, unknown, knownBody != unknownBody)
		}
		if !strings.Contains(knownBody, "If an account uses this address, we sent a link") {
			t.Fatalf("the answer does not say a link may be on its way:\n%s", knownBody)
		}
		e.mail.Next(t, "alice@example.com")
	}
	// The limited page has the form again, with the address typed.
	known, knownBody := askFor(b, "alice@example.com")
	unknown, unknownBody := askFor(b, "nobody@example.com")
	unknownBody = strings.ReplaceAll(unknownBody, "nobody@example.com", "alice@example.com")
	if known != http.StatusTooManyRequests || unknown != known || knownBody != unknownBody {
		t.Fatalf("the fourth request: a known address %d, an unknown one %d, want 429 both, alike: %v", known, unknown, knownBody != unknownBody)
	}
	if !strings.Contains(knownBody, "Try again in 60 seconds.") {
		t.Errorf("a limited request does not say how long to wait:\n%s", knownBody)
	}
	// Another address from the same client is not limited by these two.
	if code, _ := askFor(b, "carol@example.com"); code != http.StatusOK {
		t.Errorf("another address: %d, want 200", code)
	}
	if e.mail.Count("nobody@example.com") != 0 || e.mail.Count("carol@example.com") != 0 {
		t.Error("an address without an account received mail")
	}
}

// One client asking about many addresses is limited too.
func TestForgotLimitsPerClient(t *testing.T) {
	t.Parallel()
	e := newRecoveryEnv(t, true)
	b := e.Browser(t)
	for i := range resetClientThrottle.Free + 1 {
		if code, _ := askFor(b, "person"+string(rune('a'+i))+"@example.com"); code != http.StatusOK {
			t.Fatalf("request %d: %d, want 200", i+1, code)
		}
	}
	code, body := askFor(b, "alice@example.com")
	if code != http.StatusTooManyRequests || !strings.Contains(body, "You asked for too many links.") {
		t.Fatalf("past the client's budget: %d, want 429 saying so:\n%s", code, body)
	}
	e.mail.None(t, "alice@example.com", 0)
}

func TestForgotRefusesWhatIsNoAddress(t *testing.T) {
	t.Parallel()
	b := newRecoveryEnv(t, true).Browser(t)
	for email, sentence := range map[string]string{"": "Enter your email address.", "alice.example.com": "Enter a valid email address"} {
		if code, body := askFor(b, email); code != http.StatusBadRequest || !strings.Contains(body, sentence) {
			t.Errorf("%q: %d, want 400 with %q:\n%s", email, code, sentence, body)
		}
	}
}

// A server without mail says so on the page and sends nothing.
func TestForgotWithoutMail(t *testing.T) {
	t.Parallel()
	e := newRecoveryEnv(t, false)
	b := e.Browser(t)
	if rec := b.Do(http.MethodGet, "/password/forgot", nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="mail-off"`) {
		t.Errorf("GET without mail: %d:\n%s", rec.Code, rec.Body)
	}
	if code, body := askFor(b, "alice@example.com"); code != http.StatusServiceUnavailable || !strings.Contains(body, "This server sends no mail") {
		t.Errorf("POST without mail: %d, want 503:\n%s", code, body)
	}
}

// The form of the link, its refusals, and the end: signed in, the page
// saying what happened, the link used up.
func TestResetPage(t *testing.T) {
	t.Parallel()
	e := newRecoveryEnv(t, true)
	b := e.Browser(t)
	askFor(b, "alice@example.com")
	link, _ := url.Parse(e.mail.Next(t, "alice@example.com").Link(t, "/password/reset"))
	token := link.Query().Get("token")
	path := "/password/reset?" + link.RawQuery

	rec := b.Do(http.MethodGet, path, nil)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `id="reset-email">alice@example.com<`) {
		t.Fatalf("the form: %d:\n%s", rec.Code, rec.Body)
	}
	post := func(password, confirm string) *http.Response {
		rec := b.Do(http.MethodPost, "/password/reset", url.Values{"csrf_token": {b.CSRF()}, "token": {token}, "password": {password}, "confirm": {confirm}})
		return rec.Result()
	}
	for _, tc := range []struct{ password, confirm, sentence string }{
		{"a brand new passphrase", "a brand new passphrasE", "The two passwords differ."},
		{"password123", "password123", "That password is one of the most common ones"},
		{"short", "short", "Use at least 10 characters"},
	} {
		resp := post(tc.password, tc.confirm)
		body := readBody(t, resp)
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, tc.sentence) || !strings.Contains(body, `name="token" value="`+token+`"`) {
			t.Errorf("%q/%q: %d, want 400 with %q and the form again:\n%s", tc.password, tc.confirm, resp.StatusCode, tc.sentence, body)
		}
	}
	resp := post("a brand new passphrase", "a brand new passphrase")
	body := readBody(t, resp)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "Your password was changed") || !strings.Contains(body, `id="signed-in-as">alice@example.com<`) {
		t.Fatalf("the reset: %d, want 200, signed in:\n%s", resp.StatusCode, body)
	}
	if _, user, err := e.Kit.CurrentUser(sessionRequest(b)); err != nil || user == nil || user.Email != "alice@example.com" {
		t.Errorf("after the reset the browser is signed in as %v (%v), want alice", user, err)
	}
	for _, p := range []string{path, "/password/reset", "/password/reset?token=" + token[:len(token)-2]} {
		rec := b.Do(http.MethodGet, p, nil)
		if rec.Code < 400 || rec.Code >= 500 || !strings.Contains(rec.Body.String(), `href="/password/forgot"`) {
			t.Errorf("GET %.30s… after the reset: %d, want a readable 4xx page with the way to a new link:\n%s", p, rec.Code, rec.Body)
		}
	}
	if rec := b.Do(http.MethodGet, path, nil); rec.Code != http.StatusGone || !strings.Contains(rec.Body.String(), "This link was already used") {
		t.Errorf("the used link: %d:\n%s", rec.Code, rec.Body)
	}
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return requestIDs.ReplaceAllString(sb.String(), "")
}

// sessionRequest is a request carrying the browser's cookies.
func sessionRequest(b *webtest.Browser) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, webtest.Issuer+"/", nil)
	for _, c := range b.Cookies {
		req.AddCookie(c)
	}
	return req
}
