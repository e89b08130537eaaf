// cmd/example-api running in-process against a test server: its clock,
// its log, its answers and what they must say, and a person with an
// organization whose keys call it.

package e2e

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/cmd/example-api/api"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/storage"
)

// exampleAPI is cmd/example-api running in-process against a provider,
// introspecting as a confidential client of it, on a clock the test moves.
type exampleAPI struct {
	URL   string
	clock *exampleClock
}

// exampleClock is the example API's clock: moving it expires cached
// introspection answers without sleeping.
type exampleClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *exampleClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *exampleClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// startExampleAPI starts the example API against s with a one-minute
// introspection cache (adjust changes the options).
func startExampleAPI(t *testing.T, s *server, adjust ...func(*api.Options)) *exampleAPI {
	t.Helper()
	id, secret := s.resourceServer(t)
	clock := &exampleClock{now: time.Now()}
	opts := api.Options{
		Issuer:       s.URL,
		ClientID:     id,
		ClientSecret: secret,
		Audience:     provider.DefaultAPIAudience,
		CacheTTL:     time.Minute,
		Now:          clock.Now,
		Logger:       slog.New(slog.NewTextHandler(exampleLog{t}, nil)),
	}
	for _, a := range adjust {
		a(&opts)
	}
	h, err := api.New(opts)
	if err != nil {
		t.Fatalf("example api: %v", err)
	}
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	return &exampleAPI{URL: hs.URL, clock: clock}
}

// exampleLog sends the example API's log to the test's output.
type exampleLog struct{ t *testing.T }

func (w exampleLog) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// exampleAnswer is one answer of the example API.
type exampleAnswer struct {
	status    int
	challenge string
	body      map[string]any
}

// caller is who the answer says called.
func (a exampleAnswer) caller() map[string]any {
	c, _ := a.body["caller"].(map[string]any)
	return c
}

// call sends a request with bearer ("" for none) and, for a non-empty
// body, a JSON body.
func (e *exampleAPI) call(t *testing.T, method, path, bearer, body string) exampleAnswer {
	t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := exampleAnswer{status: resp.StatusCode, challenge: resp.Header.Get("WWW-Authenticate")}
	if err := json.Unmarshal(raw, &a.body); err != nil {
		t.Fatalf("%s %s: status %d, body is not JSON: %s", method, path, resp.StatusCode, raw)
	}
	return a
}

// want fails the test unless the answer has status.
func (a exampleAnswer) want(t *testing.T, what string, status int) exampleAnswer {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s: status %d, want %d: %v (WWW-Authenticate %s)", what, a.status, status, a.body, a.challenge)
	}
	return a
}

// wantInsufficientScope fails the test unless the answer is RFC 6750's
// 403 for the scope needed.
func (a exampleAnswer) wantInsufficientScope(t *testing.T, what, needed, has string) {
	t.Helper()
	a.want(t, what, http.StatusForbidden)
	want := `Bearer realm="example-api", error="insufficient_scope", error_description="This request needs the scope ` +
		needed + `; the credential has: ` + has + `.", scope="` + needed + `"`
	if a.challenge != want {
		t.Errorf("%s: WWW-Authenticate\n got %s\nwant %s", what, a.challenge, want)
	}
	if a.body["error"] != "insufficient_scope" || a.body["scope"] != needed {
		t.Errorf("%s: body %v", what, a.body)
	}
}

// wantInvalidToken fails the test unless the answer is RFC 6750's 401
// invalid_token.
func (a exampleAnswer) wantInvalidToken(t *testing.T, what string) {
	t.Helper()
	a.want(t, what, http.StatusUnauthorized)
	if !strings.HasPrefix(a.challenge, `Bearer realm="example-api", error="invalid_token", error_description="`) || a.body["error"] != "invalid_token" {
		t.Errorf("%s: WWW-Authenticate %s, body %v", what, a.challenge, a.body)
	}
}

// exampleOrg is a person who owns an organization.
type exampleOrg struct {
	user *storage.User
	org  *storage.Organization
}

func newExampleOrg(t *testing.T, s *server, email string) exampleOrg {
	t.Helper()
	u := s.createInvitee(t, email, "correct horse battery", "Owner of "+email)
	org, err := s.Store.CreateOrganization(t.Context(), "Org of "+email, u.ID)
	if err != nil {
		t.Fatalf("create organization: %v", err)
	}
	return exampleOrg{user: u, org: org}
}

// key creates an API key with scopes and returns it with its secret.
func (o exampleOrg) key(t *testing.T, s *server, name, scopes string) (*storage.APIKey, string) {
	t.Helper()
	k, secret, err := apikeys.New(apikeys.Spec{OrgID: o.org.ID, UserID: o.user.ID, Role: storage.RoleOwner,
		Name: name, Scopes: strings.Fields(scopes)}, time.Now())
	if err != nil {
		t.Fatalf("new api key: %v", err)
	}
	if err := s.Store.CreateAPIKey(t.Context(), k); err != nil {
		t.Fatalf("create api key: %v", err)
	}
	return k, secret
}
