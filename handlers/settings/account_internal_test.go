package settings

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
)

// accountEnv is the settings surface on a fresh store, whose accounts send
// no mail, and a signed-in person's browser.
func accountEnv(t *testing.T) (*webtest.Env, *webtest.Browser) {
	t.Helper()
	env := webtest.New(t)
	Mount(env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store, RevealKey: make([]byte, 32),
		Accounts: accounts.New(env.Store, accounts.Config{})})
	return env, env.SignIn(t, "alice@example.com")
}

func postForm(b *webtest.Browser, path string, form url.Values) (int, string, http.Header) {
	form.Set(web.CSRFField, b.CSRF())
	rec := b.Do(http.MethodPost, path, form)
	return rec.Code, rec.Body.String(), rec.Header()
}

// The account forms answer each refusal with a readable page and the
// right status, and change nothing.
func TestAccountFormsRefuseReadably(t *testing.T) {
	t.Parallel()
	const password = "a long enough password" // webtest.Env.SignIn's
	t.Run("a new name is saved and the page says so", func(t *testing.T) {
		t.Parallel()
		env, b := accountEnv(t)
		status, _, header := postForm(b, profilePath+"/name", url.Values{"name": {"  Alice  "}})
		if status != http.StatusSeeOther || header.Get("Location") != profilePath+"?saved=name" {
			t.Fatalf("status %d to %q", status, header.Get("Location"))
		}
		if u, _ := env.Store.UserByEmail(context.Background(), "alice@example.com"); u.Name != "Alice" {
			t.Errorf("stored name %q", u.Name)
		}
		if body := b.Do(http.MethodGet, profilePath+"?saved=name", nil).Body.String(); !strings.Contains(body, "Your name was saved.") {
			t.Errorf("the page does not say the name was saved")
		}
	})
	t.Run("without mail the email form is not offered and refused", func(t *testing.T) {
		t.Parallel()
		_, b := accountEnv(t)
		if body := b.Do(http.MethodGet, profilePath, nil).Body.String(); strings.Contains(body, `id="email-form"`) || !strings.Contains(body, `id="no-mail"`) {
			t.Errorf("the profile offers an email change on a server that sends no mail")
		}
		status, body, _ := postForm(b, profilePath+"/email", url.Values{"email": {"new@example.com"}, "current_password": {password}})
		if status != http.StatusServiceUnavailable || !strings.Contains(body, "This server sends no mail") {
			t.Errorf("status %d; body: %.400s", status, body)
		}
	})
	t.Run("this device is signed out with the header's button, not the list's", func(t *testing.T) {
		t.Parallel()
		env, b := accountEnv(t)
		u, _ := env.Store.UserByEmail(context.Background(), "alice@example.com")
		sessions, err := env.Store.UserLoginSessions(context.Background(), u.ID)
		if err != nil || len(sessions) != 1 {
			t.Fatalf("sessions %v, %v", sessions, err)
		}
		status, body, _ := postForm(b, securityPath+"/sessions/sign-out", url.Values{"session": {sessions[0].Handle()}})
		if status != http.StatusBadRequest || !strings.Contains(body, "This is the device you are using") {
			t.Errorf("status %d; body: %.400s", status, body)
		}
		if rec := b.Do(http.MethodGet, securityPath, nil); rec.Code != http.StatusOK {
			t.Errorf("the browser was signed out: %d", rec.Code)
		}
	})
	t.Run("wrong current passwords wait, then are not checked", func(t *testing.T) {
		t.Parallel()
		env, b := accountEnv(t)
		change := url.Values{"current_password": {"not the password"}, "password": {"a brand new passphrase"}, "confirm": {"a brand new passphrase"}}
		for i := 1; i <= 5; i++ {
			status, body, _ := postForm(b, securityPath+"/password", change)
			if status != http.StatusUnauthorized || !strings.Contains(body, "That is not your current password.") || strings.Contains(body, "Wait") {
				t.Fatalf("failure %d: status %d; body: %.400s", i, status, body)
			}
		}
		if status, body, _ := postForm(b, securityPath+"/password", change); status != http.StatusUnauthorized || !strings.Contains(body, "Too many wrong passwords. Wait a second, then try again.") {
			t.Fatalf("the sixth failure: status %d; body: %.400s", status, body)
		}
		if _, err := accounts.New(env.Store, accounts.Config{}).Authenticate(context.Background(), "alice@example.com", password); err != nil {
			t.Errorf("a refused change changed the password: %v", err)
		}
	})
}

// While wrong current passwords block the check, the form says how long
// to wait, and the answer says when to retry.
func TestBlockedCurrentPasswordSaysHowLong(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	s := &site{kit: env.Kit}
	now := env.Provider.Now()
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		retryAfter string
		message    string
	}{
		{"wrong, with a wait from now on", &accounts.AttemptError{Checked: true, Until: now.Add(30 * time.Second)}, http.StatusUnauthorized, "",
			"That is not your current password. Too many wrong passwords. Wait 30 seconds, then try again."},
		{"not checked for a few minutes", &accounts.AttemptError{Until: now.Add(150 * time.Second)}, http.StatusTooManyRequests, "150",
			"Too many wrong passwords. Wait 3 minutes, then try again."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			status, problems, handled := s.passwordCheckFailed(rec, httptest.NewRequest(http.MethodPost, securityPath+"/password", nil), tc.err)
			if handled || status != tc.status || problems["current_password"] != tc.message || rec.Header().Get("Retry-After") != tc.retryAfter {
				t.Errorf("status %d, problems %v, Retry-After %q, handled %v", status, problems, rec.Header().Get("Retry-After"), handled)
			}
		})
	}
}

// The answer to an email change names the address typed and nothing else
// about it: for an address with an account it is the answer for a free
// one, byte for byte once the address and the request id are set aside.
func TestEmailChangeAnswersAlikeForATakenAddress(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	srv := mailtest.Start(t)
	people := accounts.New(env.Store, accounts.Config{Mailer: srv.Mailer(t, webtest.Issuer, nil), Issuer: webtest.Issuer})
	Mount(env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store, RevealKey: make([]byte, 32), Accounts: people})
	b := env.SignIn(t, "alice@example.com")
	env.SignIn(t, "bob@example.com")
	requestID := regexp.MustCompile(`request <span class="code">[^<]*</span>`)
	answer := func(to string) string {
		t.Helper()
		status, body, _ := postForm(b, profilePath+"/email", url.Values{"email": {to}, "current_password": {"a long enough password"}})
		if status != http.StatusOK {
			t.Fatalf("asking to move to %s: status %d; body: %.400s", to, status, body)
		}
		return requestID.ReplaceAllString(strings.ReplaceAll(body, to, "NEW ADDRESS"), "")
	}
	free, taken := answer("free@example.com"), answer("bob@example.com")
	if free != taken {
		t.Errorf("the answers differ:\nfree:  %s\ntaken: %s", free, taken)
	}
	if !strings.Contains(free, "We sent a link to <strong>NEW ADDRESS</strong>.") {
		t.Errorf("the answer does not say where the link went: %.600s", free)
	}
	srv.Next(t, "free@example.com").Link(t, accounts.PathVerifyEmail)
	if note := srv.Next(t, "bob@example.com"); strings.Contains(note.Text, "token=") {
		t.Errorf("the owner of the taken address got a link: %s", note.Text)
	}
	// A third request goes through and the next waits.
	answer("third@example.com")
	status, body, header := postForm(b, profilePath+"/email", url.Values{"email": {"fourth@example.com"}, "current_password": {"a long enough password"}})
	if status != http.StatusTooManyRequests || header.Get("Retry-After") == "" ||
		!strings.Contains(body, "You asked to change your address several times already. Wait ") || !strings.Contains(body, `value="fourth@example.com"`) {
		t.Errorf("the fourth request: status %d, Retry-After %q; body: %.600s", status, header.Get("Retry-After"), body)
	}
}
