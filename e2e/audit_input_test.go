package e2e

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/go-jose/go-jose/v3"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/handlers/oauth"
	"github.com/ajrly/ajrly-auth/handlers/signin"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Bounded work on bad input: the regression tests of findings 6, 7, 16,
// S2 and one item of 21 of the December 2026 audit.

const (
	aliceEmail    = "alice@example.com"
	alicePassword = "correct horse battery"
)

// flowRows returns how many authorization flows are stored and the
// length of the longest stored form.
func flowRows(t *testing.T, s *server) (rows, longest int64) {
	t.Helper()
	err := s.Store.DB().WithContext(t.Context()).
		Raw("SELECT COUNT(*), COALESCE(MAX(LENGTH(form)), 0) FROM auth_flows").Row().Scan(&rows, &longest)
	if err != nil {
		t.Fatalf("read auth_flows: %v", err)
	}
	return rows, longest
}

// storedFlow returns the form stored for the flow the sign-in page p
// continues.
func storedFlow(t *testing.T, s *server, p page) string {
	t.Helper()
	id := p.url.Query().Get("flow")
	if p.url.Path != "/login" || id == "" {
		t.Fatalf("want the sign-in page of a flow, got %s (status %d):\n%.500s", p.url, p.status, p.body)
	}
	f, err := s.Store.Flow(t.Context(), id)
	if err != nil {
		t.Fatalf("the flow is not stored: %v", err)
	}
	return f.Form
}

// finishFlow signs alice in on the sign-in page p, allows, and redeems
// the code as app: the flow that was stored still works.
func finishFlow(t *testing.T, app *webApp, a *agent, p page, az authorization) {
	t.Helper()
	p = a.signIn(p, aliceEmail, alicePassword)
	p = a.decide(p, "allow")
	loc, err := url.Parse(p.header.Get("Location"))
	if p.status != http.StatusSeeOther || err != nil {
		t.Fatalf("consent answered %d, Location %q", p.status, p.header.Get("Location"))
	}
	if got := loc.Query().Get("state"); got != az.state {
		t.Fatalf("state = %q, want %q", got, az.state)
	}
	tok, err := app.config.Exchange(t.Context(), loc.Query().Get("code"), oauth2.VerifierOption(az.verifier))
	if err != nil {
		t.Fatalf("exchange the code: %v", err)
	}
	verifyIDToken(t, app, tok, az.nonce)
}

// Finding 6: /authorize stored the whole request (a 900 KB padding
// parameter included) in auth_flows for 30 minutes, before anyone signed in.
func TestAuthorizeStoresOnlyTheAuthorizationParametersItKnows(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, aliceEmail, alicePassword, "Alice")
		app := newWebApp(t, s, false)
		wantSmall := func(t *testing.T, form string) {
			t.Helper()
			if len(form) > provider.MaxAuthorizeFormBytes {
				t.Errorf("the stored form has %d bytes, want at most %d", len(form), provider.MaxAuthorizeFormBytes)
			}
			for _, unknown := range []string{"padding", "x_tracking"} {
				if strings.Contains(form, unknown) {
					t.Errorf("the stored form keeps the unknown parameter %s", unknown)
				}
			}
		}

		t.Run("a 900 KB padding parameter in the query is not stored and the flow works", func(t *testing.T) {
			az := app.newAuthorization(t)
			a := s.newAgent(t)
			p := a.get(az.url + "&x_tracking=1&padding=" + strings.Repeat("A", 900_000))
			form := storedFlow(t, s, p)
			wantSmall(t, form)
			if _, longest := flowRows(t, s); longest > provider.MaxAuthorizeFormBytes {
				t.Errorf("the longest stored form has %d bytes", longest)
			}
			for _, want := range []string{"state=" + az.state, "nonce=" + az.nonce, "code_challenge_method=S256"} {
				if !strings.Contains(form, want) {
					t.Errorf("the stored form %q lacks %s", form, want)
				}
			}
			finishFlow(t, app, a, p, az)
		})
		t.Run("a padding parameter in a POST body is not stored and the flow works", func(t *testing.T) {
			az := app.newAuthorization(t)
			u, _ := url.Parse(az.url)
			form := u.Query()
			form.Set("padding", strings.Repeat("A", 60_000))
			a := s.newAgent(t)
			p := a.post(s.URL+"/authorize", form)
			wantSmall(t, storedFlow(t, s, p))
			finishFlow(t, app, a, p, az)
		})
		t.Run("a POST body over 64 KiB is refused and nothing is stored", func(t *testing.T) {
			before, _ := flowRows(t, s)
			az := app.newAuthorization(t)
			u, _ := url.Parse(az.url)
			form := u.Query()
			form.Set("padding", strings.Repeat("A", 900_000))
			p := s.newAgent(t).post(s.URL+"/authorize", form)
			if p.status != http.StatusBadRequest || p.url.Path != "/authorize" {
				t.Fatalf("status %d at %s, want a 400 error page", p.status, p.url)
			}
			if after, _ := flowRows(t, s); after != before {
				t.Errorf("%d flows stored, want none", after-before)
			}
		})
		t.Run("padding inside a request object is not stored and the flow works", func(t *testing.T) {
			az := app.newAuthorization(t)
			u, _ := url.Parse(az.url)
			claims := map[string]any{"padding": strings.Repeat("A", 600_000)}
			for k := range u.Query() {
				claims[k] = u.Query().Get(k)
			}
			q := url.Values{"client_id": {app.id}, "response_type": {"code"}, "request": {unsigned(t, "", claims)}}
			a := s.newAgent(t)
			p := a.get(s.URL + "/authorize?" + q.Encode())
			wantSmall(t, storedFlow(t, s, p))
			finishFlow(t, app, a, p, az)
		})
	})
}

// Finding 6: nothing limited how many flows one address could make the
// server store.
func TestAuthorizeFlowsAreRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		clock := storagetest.NewClock()
		s := newServer(t, b, withClock(clock))
		app := newWebApp(t, s, false)
		for i := range signin.FlowBurst {
			if p := s.newAgent(t).get(app.newAuthorization(t).url); p.url.Path != "/login" {
				t.Fatalf("flow %d: status %d at %s, want the sign-in page", i+1, p.status, p.url)
			}
		}
		az := app.newAuthorization(t)
		q := authorizeRedirect(t, s, app, az.url)
		if q.Get("error") != "temporarily_unavailable" || q.Get("state") != az.state {
			t.Fatalf("one flow over the budget: redirect %v, want temporarily_unavailable with the state", q)
		}
		if rows, _ := flowRows(t, s); rows != signin.FlowBurst {
			t.Errorf("%d flows stored, want %d", rows, signin.FlowBurst)
		}
		clock.Advance(time.Second)
		if p := s.newAgent(t).get(app.newAuthorization(t).url); p.url.Path != "/login" {
			t.Fatalf("a second later: status %d at %s, want the sign-in page", p.status, p.url)
		}
	})
}

// authorizeRedirect follows raw and returns the query of the redirect to
// the app.
func authorizeRedirect(t *testing.T, s *server, app *webApp, raw string) url.Values {
	t.Helper()
	p := s.newAgent(t).get(raw)
	loc, err := url.Parse(p.header.Get("Location"))
	if p.status != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), app.redirect) {
		t.Fatalf("status %d, Location %q; want a redirect to the app:\n%.500s", p.status, p.header.Get("Location"), p.body)
	}
	return loc.Query()
}

// Findings 6 and 7: every kept parameter has a cap, checked before fosite
// parses the request (and before it grants scopes one by one, in O(n²)).
func TestAuthorizeRefusesParametersOverTheirCaps(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	app := newWebApp(t, s, false)
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("s%d", i)
	}
	tests := []struct {
		name   string
		extra  string // appended to a valid request's query
		code   string
		naming string // the description says it
	}{
		{"5000 scopes are invalid_scope naming the cap", "&scope=" + url.QueryEscape(strings.Join(many, " ")), "invalid_scope", "at most 50 scopes"},
		{"a nonce over 2 KiB is invalid_request", "&nonce=" + strings.Repeat("n", 2049), "invalid_request", "nonce"},
		{"a claims parameter over 4 KiB is invalid_request", "&claims=" + url.QueryEscape(`{"userinfo":{"x":"`+strings.Repeat("c", 4096)+`"}}`), "invalid_request", "claims"},
		{"parameters over 8 KiB together are invalid_request", "&login_hint=" + strings.Repeat("h", 2000) + "&acr_values=" + strings.Repeat("a", 2000) +
			"&ui_locales=" + strings.Repeat("u", 2000) + "&claims_locales=" + strings.Repeat("l", 2000) + "&display=" + strings.Repeat("d", 2000), "invalid_request", "8 KiB"},
		{"a prompt sent twice with different values is invalid_request", "&prompt=login&prompt=none", "invalid_request", "more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			az := app.newAuthorization(t)
			q := authorizeRedirect(t, s, app, az.url+tc.extra)
			if q.Get("error") != tc.code || !strings.Contains(q.Get("error_description"), tc.naming) {
				t.Fatalf("redirect %v, want error=%s with a description naming %q", q, tc.code, tc.naming)
			}
			if q.Get("state") != az.state || q.Get("code") != "" {
				t.Errorf("redirect %v, want the request's state and no code", q)
			}
		})
	}
	t.Run("a redirect_uri over 2 KiB gets an error page, not a redirect", func(t *testing.T) {
		t.Parallel()
		az := app.newAuthorization(t)
		p := s.newAgent(t).get(strings.Replace(az.url, "redirect_uri=", "redirect_uri="+url.QueryEscape(app.redirect+"?"+strings.Repeat("r", 2048))+"&x=", 1))
		if p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
			t.Fatalf("status %d, Location %q; want a 400 error page", p.status, p.header.Get("Location"))
		}
	})
	t.Run("a parameter sent twice with the same value is taken once", func(t *testing.T) {
		t.Parallel()
		az := app.newAuthorization(t)
		p := s.newAgent(t).get(az.url + "&state=" + url.QueryEscape(az.state))
		if form := storedFlow(t, s, p); strings.Count(form, "state=") != 1 {
			t.Errorf("stored form %q, want state once", form)
		}
	})
}

// Finding 7: dedupe was quadratic, and /register deduplicated 40k scopes
// before it looked at any of them (3–6 s of CPU per anonymous request).
func TestRegistrationListsAreCappedBeforeAnyWork(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0], withRegistration("open"))
	const redirect = "https://app.example.com/callback"
	list := func(n int, f string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(f, i)
		}
		return out
	}
	tests := []struct {
		name        string
		change      map[string]any
		code        string
		field, word string // the description names the field and the cap
	}{
		{"40000 scopes", map[string]any{"scope": strings.Join(list(40000, "s%d"), " ")}, "invalid_client_metadata", "metadata", "64 KiB"},
		{"10000 scopes", map[string]any{"scope": strings.Join(list(10000, "s%d"), " ")}, "invalid_client_metadata", "scope", "at most 50"},
		{"21 redirect URIs", map[string]any{"redirect_uris": list(21, redirect+"/%d")}, "invalid_redirect_uri", "redirect_uris", "at most 20"},
		{"21 post-logout redirect URIs", map[string]any{"post_logout_redirect_uris": list(21, "https://app.example.com/bye/%d")}, "invalid_client_metadata", "post_logout_redirect_uris", "at most 20"},
		{"11 contacts", map[string]any{"contacts": list(11, "dev%d@app.example.com")}, "invalid_client_metadata", "contacts", "at most 10"},
		{"11 request URIs", map[string]any{"request_uris": list(11, "https://app.example.com/req/%d")}, "invalid_client_metadata", "request_uris", "at most 10"},
		{"11 grant types", map[string]any{"grant_types": list(11, "g%d")}, "invalid_client_metadata", "grant_types", "at most 10"},
		{"11 response types", map[string]any{"response_types": list(11, "r%d")}, "invalid_client_metadata", "response_types", "at most 10"},
		{"metadata over 64 KiB", map[string]any{"software_id": strings.Repeat("x", 65<<10)}, "invalid_client_metadata", "metadata", "64 KiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name+" is "+tc.code+" naming the cap", func(t *testing.T) {
			t.Parallel()
			meta := map[string]any{"client_name": "Capped App", "redirect_uris": []string{redirect}}
			for k, v := range tc.change {
				meta[k] = v
			}
			resp, out := s.registrationCall(t, http.MethodPost, "/register", "", meta)
			desc, _ := out["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || out["error"] != tc.code {
				t.Fatalf("status %d, body %.300v; want 400 %s", resp.StatusCode, out, tc.code)
			}
			if !strings.Contains(desc, tc.field) || !strings.Contains(desc, tc.word) {
				t.Errorf("error_description %q does not name %s and %q", desc, tc.field, tc.word)
			}
		})
	}
	t.Run("20 redirect URIs are accepted", func(t *testing.T) {
		t.Parallel()
		s.register(t, map[string]any{"client_name": "Many Callbacks", "redirect_uris": list(20, redirect+"/%d")})
	})
}

// Finding 7: fosite's GrantScope is O(n²), and /token granted 5k, 10k
// or 20k scopes one by one.
func TestTokenRefusesMoreThan50Scopes(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0])
	worker, secret := s.createClient(t, clients.Spec{Name: "Worker", GrantTypes: []string{clients.GrantClientCredentials}, Scopes: []string{"read"}})
	_, key := s.newAPIKey(t, s.newKeyOwner(t, "owner@example.com"), "read", nil)
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("x%d:read", i)
	}
	scope := strings.Join(many, " ")
	tests := []struct {
		name string
		send func(t *testing.T) (*http.Response, map[string]any)
	}{
		{"client credentials in a form", func(t *testing.T) (*http.Response, map[string]any) {
			return s.postForm(t, "/token", url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}, worker.ID, secret)
		}},
		{"an API-key exchange in a form", func(t *testing.T) (*http.Response, map[string]any) {
			return s.postForm(t, "/token", exchangeForm(key, "scope", scope))
		}},
		{"an API-key exchange as JSON", func(t *testing.T) (*http.Response, map[string]any) {
			return s.postJSON(t, "/token", map[string]string{"grant_type": provider.GrantTypeTokenExchange, "subject_token": key,
				"subject_token_type": provider.TokenTypeAPIKey, "scope": scope})
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name+" with 5000 scopes is invalid_scope naming the cap", func(t *testing.T) {
			t.Parallel()
			resp, out := tc.send(t)
			desc, _ := out["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || out["error"] != "invalid_scope" || !strings.Contains(desc, "at most 50 scopes") {
				t.Fatalf("status %d, body %.300v; want 400 invalid_scope naming the cap of 50", resp.StatusCode, out)
			}
		})
	}
}

// Finding 16: 20 anonymous registrations in a row all returned 201.
func TestRegistrationIsRateLimitedPerAddress(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		meta := map[string]any{"client_name": "Limited App", "redirect_uris": []string{"https://app.example.com/callback"}}
		refused := map[string]any{"client_name": "Refused App", "redirect_uris": []string{"http://app.example.com/callback"}}
		wantLimited := func(t *testing.T, s *server, token string) time.Duration {
			t.Helper()
			resp, out := s.registrationCall(t, http.MethodPost, "/register", token, meta)
			if resp.StatusCode != http.StatusTooManyRequests || out["error"] == nil || out["error_description"] == nil {
				t.Fatalf("status %d, body %v; want 429 with a JSON error", resp.StatusCode, out)
			}
			secs, err := strconv.Atoi(resp.Header.Get("Retry-After"))
			if err != nil || secs <= 0 {
				t.Fatalf("Retry-After %q, want a number of seconds", resp.Header.Get("Retry-After"))
			}
			return time.Duration(secs) * time.Second
		}

		t.Run("open mode", func(t *testing.T) {
			t.Parallel()
			clock := storagetest.NewClock()
			s := newServer(t, b, withRegistration(clients.RegistrationOpen), withClock(clock))
			for i := range oauth.OpenRegistrationBurst {
				s.register(t, meta)
				if i%5 == 0 { // refused registrations cost no budget
					if resp, out := s.registrationCall(t, http.MethodPost, "/register", "", refused); resp.StatusCode != http.StatusBadRequest {
						t.Fatalf("a refused registration: status %d, %v", resp.StatusCode, out)
					}
				}
			}
			wait := wantLimited(t, s, "")
			clock.Advance(wait)
			s.register(t, meta)
			wantLimited(t, s, "")
		})
		t.Run("token mode has a higher budget", func(t *testing.T) {
			t.Parallel()
			clock := storagetest.NewClock()
			s := newServer(t, b, withRegistration(clients.RegistrationToken), withClock(clock))
			token := s.initialAccessToken(t)
			for range oauth.TokenRegistrationBurst {
				s.registerWith(t, token, meta)
			}
			clock.Advance(wantLimited(t, s, token))
			s.registerWith(t, token, meta)
		})
	})
}

// Finding 16: unknown metadata was kept in full (up to 1 MiB).
func TestRegistrationKeepsOnlyBoundedUnknownMetadata(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0], withRegistration("open"))
	meta := map[string]any{"client_name": "Chatty App", "redirect_uris": []string{"https://app.example.com/callback"},
		"a_large_member": strings.Repeat("l", 9<<10)}
	for i := range 30 {
		meta[fmt.Sprintf("x_%02d", i)] = i
	}
	reg := s.register(t, meta)
	resp, read := s.registrationCall(t, http.MethodGet, "/register/"+reg.id, reg.token, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("read: status %d", resp.StatusCode)
	}
	if _, ok := read["a_large_member"]; ok {
		t.Error("an unknown member over 8 KiB is kept")
	}
	kept := 0
	for i := range 30 {
		if _, ok := read[fmt.Sprintf("x_%02d", i)]; ok {
			kept++
		}
	}
	if kept != clients.MaxExtraMembers {
		t.Errorf("%d of 30 unknown members kept, want %d", kept, clients.MaxExtraMembers)
	}
}

// weakKey is an RSA key of 1024 bits, which the server must never trust.
func weakKey(t *testing.T) clientKey {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{kid: "weak-" + randomString(t), alg: jose.RS256, priv: priv}
}

// Finding 16: an RSA JWK with n=AA was accepted at registration.
func TestWeakClientKeysAreRefused(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0], withRegistration("open"))
	s.createUser(t, aliceEmail, alicePassword, "Alice")
	weak := weakKey(t)
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	redirect := "http://" + freePort(t) + "/callback"
	keyed := func(keys ...jose.JSONWebKey) map[string]any {
		return map[string]any{"client_name": "Keyed App", "redirect_uris": []string{redirect},
			"token_endpoint_auth_method": "private_key_jwt", "jwks": jose.JSONWebKeySet{Keys: keys}}
	}

	t.Run("registration refuses weak keys in jwks", func(t *testing.T) {
		t.Parallel()
		for name, key := range map[string]jose.JSONWebKey{
			"an RSA key of 1024 bits": weak.public(),
			"an EC key on P-384":      {Key: &p384.PublicKey, KeyID: "p384", Use: "sig"},
		} {
			resp, out := s.registrationCall(t, http.MethodPost, "/register", "", keyed(newClientKey(t, jose.ES256).public(), key))
			desc, _ := out["error_description"].(string)
			if resp.StatusCode != http.StatusBadRequest || out["error"] != "invalid_client_metadata" || !strings.Contains(desc, "jwks") {
				t.Errorf("%s: status %d, %v; want 400 invalid_client_metadata naming jwks", name, resp.StatusCode, out)
			}
		}
		s.register(t, keyed(newClientKey(t, jose.RS256).public(), newClientKey(t, jose.ES256).public()))
	})

	// A jwks_uri is fetched later, so its weak keys are dropped when it is.
	host := newJWKSHost(t)
	strong := newClientKey(t, jose.RS256)
	host.serve(weak, strong)
	reg := s.register(t, map[string]any{"client_name": "Hosted Keys", "redirect_uris": []string{redirect},
		"grant_types": []string{"authorization_code", "client_credentials"}, "scope": "openid read",
		"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": host.url})
	object := func(k clientKey) string {
		return k.sign(t, map[string]any{"iss": reg.id, "aud": s.URL, "client_id": reg.id, "response_type": "code",
			"redirect_uri": redirect, "scope": "openid", "state": "from-the-object", "exp": time.Now().Add(time.Minute).Unix()})
	}
	authorize := func(k clientKey) page {
		q := url.Values{"client_id": {reg.id}, "response_type": {"code"}, "request": {object(k)}, "state": {"from-the-query"}, "redirect_uri": {redirect}}
		return s.newAgent(t).get(s.URL + "/authorize?" + q.Encode())
	}
	t.Run("a request object signed with a weak key from jwks_uri is refused", func(t *testing.T) {
		p := authorize(weak)
		loc, _ := url.Parse(p.header.Get("Location"))
		if p.status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "invalid_request_object" {
			t.Fatalf("status %d, Location %q; want invalid_request_object", p.status, p.header.Get("Location"))
		}
		if p := authorize(strong); p.url.Path != "/login" {
			t.Fatalf("with the strong key of the same set: status %d at %s, want the sign-in page", p.status, p.url)
		}
	})
	t.Run("a client assertion signed with a weak key from jwks_uri is refused", func(t *testing.T) {
		form := url.Values{"grant_type": {"client_credentials"}}
		resp, out := s.postForm(t, "/token", withAssertion(form, weak.sign(t, assertionClaims(t, reg.id, s.URL+"/token"))))
		if resp.StatusCode != http.StatusUnauthorized || out["error"] != "invalid_client" {
			t.Fatalf("status %d, %v; want 401 invalid_client", resp.StatusCode, out)
		}
		if resp, out := s.postForm(t, "/token", withAssertion(form, strong.sign(t, assertionClaims(t, reg.id, s.URL+"/token")))); resp.StatusCode != http.StatusOK {
			t.Fatalf("with the strong key of the same set: status %d, %v", resp.StatusCode, out)
		}
	})
	t.Run("a request object signed with a weak key stored before the rule is refused", func(t *testing.T) {
		c, _, err := clients.New(clients.Spec{Name: "Old Client", RedirectURIs: []string{redirect}, Scopes: []string{"openid"}})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(keySet(weak))
		if err := c.SetJWKS(string(raw)); err != nil {
			t.Fatal(err)
		}
		if err := s.Store.CreateClient(t.Context(), c); err != nil {
			t.Fatal(err)
		}
		claims := map[string]any{"iss": c.ID, "aud": s.URL, "client_id": c.ID, "response_type": "code",
			"redirect_uri": redirect, "scope": "openid", "state": "from-the-object"}
		q := url.Values{"client_id": {c.ID}, "response_type": {"code"}, "request": {weak.sign(t, claims)}, "redirect_uri": {redirect}}
		p := s.newAgent(t).get(s.URL + "/authorize?" + q.Encode())
		loc, _ := url.Parse(p.header.Get("Location"))
		if p.status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "invalid_request_object" {
			t.Fatalf("status %d, Location %q; want invalid_request_object", p.status, p.header.Get("Location"))
		}
	})
}

// rawRequest sends a request as a browser (an HTML Accept) or an API
// client would; body is form-encoded already.
func rawRequest(t *testing.T, a *agent, method, raw, contentType, body string, header http.Header) page {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, raw, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	return a.do(req)
}

// Finding S2: on PostgreSQL, invalid UTF-8 reached the queries (SQLSTATE
// 22021) and came back as a 500; SQLite let it through.
func TestInvalidUTF8IsA400OnEveryEndpoint(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, aliceEmail, alicePassword, "Alice")
		s.newKeyOwner(t, "owner@example.com")
		rsID, rsSecret := s.resourceServer(t)
		app := newWebApp(t, s, false)
		basic := func(user, pass string) http.Header {
			return http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))}}
		}
		browser := s.newAgent(t)
		loginCSRF := browser.get(s.URL + "/login").csrf(t)
		signupCSRF := browser.get(s.URL + "/signup").csrf(t)
		keys := s.openAPIKeys(t, "owner@example.com")
		multipartBody, multipartType := func() (string, string) {
			var buf bytes.Buffer
			w := multipart.NewWriter(&buf)
			_ = w.WriteField("grant_type", "client_credentials")
			_ = w.WriteField("client_id", "cl_\xff")
			_ = w.WriteField("client_secret", "secret")
			_ = w.Close()
			return buf.String(), w.FormDataContentType()
		}()
		const form = "application/x-www-form-urlencoded"

		tests := []struct {
			name              string
			a                 *agent
			method, path      string
			contentType, body string
			header            http.Header
			page              bool // a browser page rather than an API
		}{
			{name: "sign-in with a raw %FF email", a: browser, method: http.MethodPost, path: "/login", contentType: form,
				body: "csrf_token=" + url.QueryEscape(loginCSRF) + "&email=%FF%40example.com&password=whatever", page: true},
			{name: "sign-in with a NUL in the email", a: browser, method: http.MethodPost, path: "/login", contentType: form,
				body: "csrf_token=" + url.QueryEscape(loginCSRF) + "&email=a%00%40example.com&password=whatever", page: true},
			{name: "the sign-in page with %FF in the query", a: browser, method: http.MethodGet, path: "/login?return_to=%2F%FF", page: true},
			{name: "sign-up with an invalid name", a: browser, method: http.MethodPost, path: "/signup", contentType: form,
				body: "csrf_token=" + url.QueryEscape(signupCSRF) + "&name=%C3&email=new%40example.com&password=a+long+enough+password&organization=New+Org", page: true},
			{name: "an API key with an invalid name", a: keys.a, method: http.MethodPost, path: keysPath, contentType: form,
				body: "csrf_token=" + url.QueryEscape(keys.csrf) + "&name=key%FF&expires=never&scope=read", page: true},
			{name: "an authorization request with an invalid client_id", a: browser, method: http.MethodGet,
				path: "/authorize?response_type=code&scope=openid&client_id=cl_%FF", page: true},
			{name: "a token request with an invalid client_id", a: browser, method: http.MethodPost, path: "/token", contentType: form,
				body: "grant_type=client_credentials&client_id=cl_%FF&client_secret=secret"},
			{name: "a token request with an invalid code", a: browser, method: http.MethodPost, path: "/token", contentType: form,
				body: "grant_type=authorization_code&code=ac_live_%FF&redirect_uri=" + url.QueryEscape(app.redirect), header: basic(app.id, app.secret)},
			{name: "a token request with raw invalid bytes in Basic credentials", a: browser, method: http.MethodPost, path: "/token", contentType: form,
				body: "grant_type=client_credentials", header: basic("cl_\xff", "secret")},
			{name: "a token request with percent-encoded invalid bytes in Basic credentials", a: browser, method: http.MethodPost, path: "/token", contentType: form,
				body: "grant_type=client_credentials", header: basic("cl_%FF", "secret")},
			{name: "a multipart token request with an invalid client_id", a: browser, method: http.MethodPost, path: "/token",
				contentType: multipartType, body: multipartBody},
			{name: "introspection of an invalid token", a: browser, method: http.MethodPost, path: "/introspect", contentType: form,
				body: "token=at_live_%FF", header: basic(rsID, rsSecret)},
			{name: "introspection by an invalid client id", a: browser, method: http.MethodPost, path: "/introspect", contentType: form,
				body: "token=at_live_x", header: basic("cl_%FF", "secret")},
			{name: "revocation of an invalid token", a: browser, method: http.MethodPost, path: "/revoke", contentType: form,
				body: "token=rt_live_%FF", header: basic(app.id, app.secret)},
			{name: "revocation by an invalid client id", a: browser, method: http.MethodPost, path: "/revoke", contentType: form,
				body: "token=rt_live_x&client_id=cl_%FF"},
			{name: "UserInfo with an invalid bearer token", a: browser, method: http.MethodGet, path: "/userinfo",
				header: http.Header{"Authorization": {"Bearer at_live_\xff"}}},
			{name: "UserInfo with an invalid token in the body", a: browser, method: http.MethodPost, path: "/userinfo", contentType: form,
				body: "access_token=at_live_%FF"},
			{name: "reading a registration with an invalid client id", a: browser, method: http.MethodGet, path: "/register/cl_%FF",
				header: http.Header{"Authorization": {"Bearer token"}}},
		}
		for _, tc := range tests {
			t.Run(tc.name+" is a 400", func(t *testing.T) {
				header := http.Header{}
				if tc.page {
					header.Set("Accept", "text/html")
				}
				for k, v := range tc.header {
					header[k] = v
				}
				p := rawRequest(t, tc.a, tc.method, s.URL+tc.path, tc.contentType, tc.body, header)
				if p.status != http.StatusBadRequest {
					t.Fatalf("status %d, want 400:\n%.300s", p.status, p.body)
				}
				if tc.page {
					if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "not valid UTF-8") {
						t.Errorf("want the error page saying what is wrong, got %s:\n%.500s", p.header.Get("Content-Type"), p.body)
					}
					if p.header.Get("Content-Security-Policy") == "" {
						t.Error("the error page has no Content-Security-Policy")
					}
					return
				}
				var out map[string]any
				if err := json.Unmarshal([]byte(p.body), &out); err != nil || out["error"] != "invalid_request" {
					t.Errorf("body %q, want an RFC 6749 invalid_request", p.body)
				}
			})
		}
		t.Run("invalid UTF-8 inside a JSON body is never a 5xx", func(t *testing.T) {
			p := rawRequest(t, browser, http.MethodPost, s.URL+"/token", "application/json",
				`{"grant_type":"client_credentials","client_id":"cl_`+"\xff"+`","client_secret":"x"}`, nil)
			if p.status < 400 || p.status >= 500 {
				t.Fatalf("status %d, want 4xx: %s", p.status, p.body)
			}
		})
		t.Run("the server still signs people in", func(t *testing.T) {
			a := s.newAgent(t)
			if p := a.signIn(a.get(s.URL+"/login"), aliceEmail, alicePassword); p.status != http.StatusOK || p.url.Path == "/login" {
				t.Fatalf("sign-in: status %d at %s", p.status, p.url)
			}
		})
	})
}

// Finding S2: truncate() cut the User-Agent at byte 256, mid-rune, and
// PostgreSQL refused the session row: that browser could not sign in.
func TestSignInWithAUserAgentCutMidRune(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, aliceEmail, alicePassword, "Alice")
		for name, ua := range map[string]string{
			"300 bytes cut mid-rune":     strings.Repeat("a", 255) + strings.Repeat("é", 23),
			"invalid bytes in the value": "Mozilla/5.0 \xff\xfe (X11)",
		} {
			t.Run(name, func(t *testing.T) {
				a := s.newAgent(t)
				login := a.get(s.URL + "/login")
				form := url.Values{"csrf_token": {login.csrf(t)}, "email": {aliceEmail}, "password": {alicePassword}}
				p := rawRequest(t, a, http.MethodPost, s.URL+"/login", "application/x-www-form-urlencoded", form.Encode(),
					http.Header{"User-Agent": {ua}, "Accept": {"text/html"}})
				if p.status != http.StatusOK || p.url.Path == "/login" {
					t.Fatalf("sign-in with that User-Agent: status %d at %s:\n%.500s", p.status, p.url, p.body)
				}
			})
		}
		var agents []string
		if err := s.Store.DB().WithContext(t.Context()).Raw("SELECT user_agent FROM login_sessions").Scan(&agents).Error; err != nil {
			t.Fatal(err)
		}
		for _, ua := range agents {
			if !utf8.ValidString(ua) || utf8.RuneCountInString(ua) > 256 {
				t.Errorf("stored User-Agent %q: want valid UTF-8 of at most 256 characters", ua)
			}
		}
	})
}

// Finding 21: client_name and organization names were shown as sent,
// right-to-left overrides included.
func TestBidiControlsAreStrippedFromClientAndOrganizationNames(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b, withRegistration("open"))
		const bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"

		reg := s.register(t, map[string]any{"client_name": "Pay" + bidi + "pal", "redirect_uris": []string{"https://app.example.com/callback"}})
		if got := reg.body["client_name"]; got != "Paypal" {
			t.Errorf("registered client_name %q, want %q", got, "Paypal")
		}
		if c, err := s.Store.FindClient(t.Context(), reg.id); err != nil || c.Name != "Paypal" {
			t.Errorf("stored client name %q (%v), want %q", c.Name, err, "Paypal")
		}

		signUp := func(email, org string) page {
			a := s.newAgent(t)
			csrf := a.get(s.URL + "/signup").csrf(t)
			return a.post(s.URL+"/signup", url.Values{"csrf_token": {csrf}, "name": {"Someone"}, "email": {email},
				"password": {"a long enough password"}, "organization": {org}})
		}
		if p := signUp("first@example.com", "Ev\u202eil Corp\u2069"); p.status != http.StatusOK {
			t.Fatalf("sign-up: status %d at %s:\n%.500s", p.status, p.url, p.body)
		}
		org, err := s.Store.OrganizationByName(t.Context(), "Evil Corp")
		if err != nil || org.Name != "Evil Corp" {
			t.Fatalf("stored organization %+v (%v), want the name Evil Corp", org, err)
		}
		if p := signUp("second@example.com", "Evil Corp"); p.status != http.StatusConflict {
			t.Errorf("a second Evil Corp: status %d, want 409 (the names are the same once cleaned)", p.status)
		}
		if p := signUp("third@example.com", "\u202e\u2066"); p.status != http.StatusBadRequest {
			t.Errorf("a name of bidirectional controls only: status %d, want 400", p.status)
		}
	})
}

// initialAccessToken makes an initial access token for token-mode
// registration.
func (s *server) initialAccessToken(t *testing.T) string {
	t.Helper()
	o := s.newKeyOwner(t, "iat-"+strings.ToLower(randomString(t))+"@example.com")
	secret := storage.NewSecret()
	iat := &storage.InitialAccessToken{ID: storage.NewID("iat"), Digest: storage.DigestHex(secret), OrgID: o.org.ID, CreatedAt: s.Provider.Now()}
	if err := s.Store.CreateInitialAccessToken(t.Context(), iat); err != nil {
		t.Fatal(err)
	}
	return secret
}
