// People and their browser without a browser: creating users and
// members of organizations, and the agent that signs up, signs in and
// consents through the provider's pages over plain HTTP.

package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
)

// createUser adds a person who can sign in, with a personal organization
// they own, as sign-up and the command line give everyone.
func (s *server) createUser(t testing.TB, email, password, name string) *storage.User {
	t.Helper()
	made, err := accounts.New(s.Store, accounts.Config{}).Create(context.Background(), accounts.Person{Email: email, Name: name, Password: password}, accounts.Options{})
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return made.User
}

// createInvitee adds a person who belongs to no organization yet, for a
// test to put into organizations as an accepted invitation would: nobody
// stays without one.
func (s *server) createInvitee(t testing.TB, email, password, name string) *storage.User {
	t.Helper()
	hash, err := accounts.HashPassword(context.Background(), password)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Store.CreateUser(context.Background(), email, name, hash)
	if err != nil {
		t.Fatalf("create user: %v", err)
	}
	return u
}

// signUp adds a person who owns a new organization named org, as the
// sign-up page makes them.
func (s *server) signUp(t testing.TB, email, name, password, org string) (*storage.User, *storage.Organization) {
	t.Helper()
	made, err := accounts.New(s.Store, accounts.Config{}).Create(context.Background(), accounts.Person{Email: email, Name: name,
		Password: password, Organization: org}, accounts.Options{})
	if err != nil {
		t.Fatalf("sign up: %v", err)
	}
	return made.User, &made.Org.Organization
}

// addMember puts a new person into an organization with a role.
func (s *server) addMember(t testing.TB, org *storage.Organization, email, name, role string) *storage.User {
	t.Helper()
	u := s.createInvitee(t, email, keyPassword, name)
	if err := s.Store.AddMember(context.Background(), org.ID, u.ID, role); err != nil {
		t.Fatal(err)
	}
	return u
}

// agent is a browser without a browser: a cookie jar that follows the
// server's own redirects and fills in its forms.
type agent struct {
	t      testing.TB
	s      *server
	client *http.Client
}

func (s *server) newAgent(t testing.TB) *agent {
	jar, _ := cookiejar.New(nil)
	a := &agent{t: t, s: s}
	a.client = &http.Client{
		Jar: jar,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			// Follow redirects within the provider; stop at the app.
			if req.URL.Host != hostOf(s.URL) || strings.HasPrefix(req.URL.Path, "/callback") {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
	return a
}

var csrfPattern = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

var flowPattern = regexp.MustCompile(`name="flow" value="([^"]+)"`)

// page is an HTML answer.
type page struct {
	status int
	url    *url.URL
	body   string
	header http.Header
}

func (p page) csrf(t testing.TB) string {
	t.Helper()
	m := csrfPattern.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no CSRF token on %s (status %d):\n%s", p.url, p.status, p.body)
	}
	return m[1]
}

func (p page) flow() string {
	m := flowPattern.FindStringSubmatch(p.body)
	if m == nil {
		return ""
	}
	return m[1]
}

var inputValue = func(name string) *regexp.Regexp {
	return regexp.MustCompile(`name="` + name + `"[^>]*value="([^"]*)"`)
}

// redirectOf returns where a response sends the browser, if anywhere.
func redirectOf(p page) *url.URL {
	loc, err := url.Parse(p.header.Get("Location"))
	if err != nil || p.header.Get("Location") == "" {
		return nil
	}
	return loc
}

func (a *agent) do(req *http.Request) page {
	a.t.Helper()
	resp, err := a.client.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL, body: string(b), header: resp.Header}
}

func (a *agent) get(raw string) page {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, raw, nil)
	req.Header.Set("Accept", "text/html")
	return a.do(req)
}

func (a *agent) post(raw string, form url.Values) page {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, raw, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "text/html")
	return a.do(req)
}

// signIn fills in the sign-in page p.
func (a *agent) signIn(p page, email, password string) page {
	a.t.Helper()
	if p.url.Path != "/login" {
		a.t.Fatalf("expected the sign-in page, got %s (status %d):\n%s", p.url, p.status, p.body)
	}
	form := url.Values{"csrf_token": {p.csrf(a.t)}, "email": {email}, "password": {password}}
	if f := p.flow(); f != "" {
		form.Set("flow", f)
	}
	return a.post(a.s.URL+"/login", form)
}

// signUp fills in the sign-up page p.
func (a *agent) signUp(p page, name, email, password, org string) page {
	a.t.Helper()
	form := url.Values{"csrf_token": {p.csrf(a.t)}, "name": {name}, "email": {email}, "password": {password}, "organization": {org}}
	if f := p.flow(); f != "" {
		form.Set("flow", f)
	}
	return a.post(a.s.URL+"/signup", form)
}

// decide answers the consent page p with "allow" or "deny".
func (a *agent) decide(p page, decision string) page {
	a.t.Helper()
	if p.url.Path != "/consent" {
		a.t.Fatalf("expected the consent page, got %s (status %d):\n%s", p.url, p.status, p.body)
	}
	return a.post(a.s.URL+"/consent", url.Values{"csrf_token": {p.csrf(a.t)}, "flow": {p.flow()}, "decision": {decision}})
}

// authorize runs an authorization from start to the app's redirect: sign in
// if asked, then decide. It returns the redirect to the app.
func (a *agent) authorize(authURL, email, password, decision string) *url.URL {
	a.t.Helper()
	p := a.get(authURL)
	if p.url.Path == "/login" {
		p = a.signIn(p, email, password)
	}
	p = a.decide(p, decision)
	if p.status != http.StatusSeeOther {
		a.t.Fatalf("consent answered %d, want a redirect to the app:\n%s", p.status, p.body)
	}
	loc, err := url.Parse(p.header.Get("Location"))
	if err != nil {
		a.t.Fatalf("bad redirect %q: %v", p.header.Get("Location"), err)
	}
	return loc
}
