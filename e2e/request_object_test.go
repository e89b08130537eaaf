package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Request objects (OpenID Connect Core §6) that must be refused, and where
// the refusal goes. The conformance modules show the ones that work.

func TestRequestObjectRefusals(t *testing.T) {
	t.Parallel()
	s := newServer(t, storagetest.Backends()[0], withRegistration(clients.RegistrationOpen))
	host := newObjectHost(t)
	key, stranger := newClientKey(t, jose.RS256), newClientKey(t, jose.RS256)
	redirect := "http://" + freePort(t) + "/callback"
	registered := host.url + "/registered.jwt"
	missing := host.url + "/missing.jwt"
	signedOnly := s.register(t, map[string]any{
		"client_name": "Signed Objects", "redirect_uris": []string{redirect},
		"jwks": keySet(key), "request_object_signing_alg": "RS256",
		"request_uris": []string{registered, missing},
	})
	anyAlg := s.register(t, map[string]any{
		"client_name": "Any Objects", "redirect_uris": []string{redirect}, "jwks": keySet(key),
	})

	// object returns the claims of a valid request object of client id,
	// changed by edit.
	object := func(id string, edit func(map[string]any)) map[string]any {
		c := map[string]any{
			"iss": id, "aud": s.URL, "client_id": id, "response_type": "code",
			"redirect_uri": redirect, "scope": "openid", "state": "from-the-object",
			// Long enough for a parallel subtest that waits its turn on a
			// loaded machine: the objects are made before the subtests run.
			"exp": time.Now().Add(time.Hour).Unix(),
		}
		if edit != nil {
			edit(c)
		}
		return c
	}
	query := func(id string, extra url.Values) string {
		q := url.Values{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {redirect},
			"scope": {"openid"}, "state": {"from-the-query"}}
		for k, v := range extra {
			q[k] = v
		}
		return s.URL + "/authorize?" + q.Encode()
	}

	tests := []struct {
		name string
		url  string
		// wantError is the error sent back to the redirect URI; "" means
		// an error page without a redirect.
		wantError string
	}{
		{"signed with a key the client does not have",
			query(signedOnly.id, url.Values{"request": {stranger.sign(t, object(signedOnly.id, nil))}}), "invalid_request_object"},
		{"expired", query(signedOnly.id, url.Values{"request": {key.sign(t, object(signedOnly.id, func(c map[string]any) {
			c["exp"] = time.Now().Add(-time.Minute).Unix()
		}))}}), "invalid_request_object"},
		{"with an exp that is not a number", query(signedOnly.id, url.Values{"request": {key.sign(t, object(signedOnly.id, func(c map[string]any) {
			c["exp"] = "soon"
		}))}}), "invalid_request_object"},
		{"for another server", query(signedOnly.id, url.Values{"request": {key.sign(t, object(signedOnly.id, func(c map[string]any) {
			c["aud"] = "https://other.example.com"
		}))}}), "invalid_request_object"},
		{"issued by another client", query(signedOnly.id, url.Values{"request": {key.sign(t, object(signedOnly.id, func(c map[string]any) {
			c["iss"] = anyAlg.id
		}))}}), "invalid_request_object"},
		{"unsigned though the client registered RS256",
			query(signedOnly.id, url.Values{"request": {unsigned(t, "", object(signedOnly.id, nil))}}), "invalid_request_object"},
		{"HS256 keyed with the client's public key",
			query(anyAlg.id, url.Values{"request": {hmacWithPublicKey(t, key, object(anyAlg.id, nil))}}), "invalid_request_object"},
		{"PS256, which is not offered",
			query(anyAlg.id, url.Values{"request": {key.signAs(t, jose.PS256, object(anyAlg.id, nil))}}), "invalid_request_object"},
		{"not a JWT", query(anyAlg.id, url.Values{"request": {"not-a-jwt"}}), "invalid_request_object"},
		{"a client_id other than the query's", query(anyAlg.id, url.Values{"request": {key.sign(t, object(anyAlg.id, func(c map[string]any) {
			c["client_id"] = signedOnly.id
		}))}}), "invalid_request_object"},
		{"without the openid scope", query(anyAlg.id, url.Values{"request": {key.sign(t, object(anyAlg.id, func(c map[string]any) {
			c["scope"] = "read"
		}))}}), "invalid_request_object"},
		{"both request and request_uri", query(signedOnly.id, url.Values{
			"request":     {key.sign(t, object(signedOnly.id, nil))},
			"request_uri": {host.put("/registered.jwt", key.sign(t, object(signedOnly.id, nil)))},
		}), "invalid_request"},
		{"a request_uri the client did not register", query(signedOnly.id, url.Values{
			"request_uri": {host.put("/other.jwt", key.sign(t, object(signedOnly.id, nil)))},
		}), "invalid_request_uri"},
		{"a request_uri that cannot be fetched", query(signedOnly.id, url.Values{"request_uri": {missing}}), "invalid_request_uri"},
		{"a redirect_uri in the object the client did not register",
			query(anyAlg.id, url.Values{"request": {key.sign(t, object(anyAlg.id, func(c map[string]any) {
				c["redirect_uri"] = "https://evil.example.com/callback"
			}))}}), ""},
		{"an unknown client", query("cl_unknown", url.Values{"request": {key.sign(t, object("cl_unknown", nil))}}), ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := s.newAgent(t).get(tc.url)
			if tc.wantError == "" {
				if p.status != http.StatusBadRequest || p.header.Get("Location") != "" {
					t.Fatalf("status %d, Location %q; want a 400 error page without a redirect", p.status, p.header.Get("Location"))
				}
				if !strings.Contains(p.body, "This sign-in link is not valid") {
					t.Fatalf("the error page does not say what went wrong:\n%s", p.body)
				}
				return
			}
			if p.status != http.StatusSeeOther {
				t.Fatalf("status %d, want a redirect to the app with the error:\n%s", p.status, p.body)
			}
			loc, err := url.Parse(p.header.Get("Location"))
			if err != nil || !strings.HasPrefix(loc.String(), redirect) {
				t.Fatalf("redirected to %q, want %s", p.header.Get("Location"), redirect)
			}
			q := loc.Query()
			if q.Get("error") != tc.wantError || q.Get("error_description") == "" || q.Get("code") != "" {
				t.Fatalf("redirect query %v, want error=%s with a description", q, tc.wantError)
			}
			// An object that failed is not trusted: the refusal carries the
			// query's state.
			if q.Get("state") != "from-the-query" || q.Get("iss") != s.URL {
				t.Fatalf("redirect state %q, iss %q; want the query's state and the issuer", q.Get("state"), q.Get("iss"))
			}
		})
	}

	// An object that verified is the request: a bad parameter inside it is
	// refused like one in a query, with the object's state.
	t.Run("a verified object with a claims parameter that is not JSON", func(t *testing.T) {
		t.Parallel()
		p := s.newAgent(t).get(query(anyAlg.id, url.Values{"request": {key.sign(t, object(anyAlg.id, func(c map[string]any) {
			c["claims"] = "{not json"
		}))}}))
		loc, _ := url.Parse(p.header.Get("Location"))
		if p.status != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "invalid_request" ||
			loc.Query().Get("state") != "from-the-object" {
			t.Fatalf("status %d, redirect %q; want error=invalid_request with the object's state", p.status, p.header.Get("Location"))
		}
	})

	// The valid object is taken, and its state wins over the query's.
	t.Run("a valid object", func(t *testing.T) {
		t.Parallel()
		s.createUser(t, "alice@example.com", "correct horse battery", "Alice")
		loc := s.newAgent(t).authorize(query(signedOnly.id, url.Values{
			"request_uri": {host.put("/registered.jwt", key.sign(t, object(signedOnly.id, nil)))},
		}), "alice@example.com", "correct horse battery", "allow")
		if q := loc.Query(); q.Get("code") == "" || q.Get("state") != "from-the-object" {
			t.Fatalf("redirect %s: want a code and the object's state", loc)
		}
	})
}
