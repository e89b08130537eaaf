package provider_test

import (
	"context"
	"errors"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// fuzzRequestKey signs the request objects of the seed corpus; it is a
// test key, made for these tests and nothing else. Its public half is the
// registered client's key set.
const fuzzRequestKey = `{"use":"sig","kty":"EC","kid":"fuzz-es256","crv":"P-256","alg":"ES256",` +
	`"x":"DMZ8Y4xJy9dmun3TpJJHU4NyeOsMmeOwgHbrJm2rj1w","y":"MKHsBpn9L50KD5ylX2DHCg9te8emkNvQCGlb4JtkunY",` +
	`"d":"_44KBxOrOgRTPJS7hM4xlpa8QxX-dsxYozF6Gf5MXLA"}`

const (
	fuzzRequestIssuer   = "https://auth.example.com"
	fuzzRequestClientID = "cl_fuzzrequestobject"
)

// fuzzNow is the clock of the request-object fuzz target, so that the
// seeds' exp claims mean the same on every run.
func fuzzNow() time.Time { return time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC) }

// FuzzRequestObject: for a registered client with a key set, any request
// parameter is either resolved into authorization parameters that keep
// the query's client_id and ask for openid, or refused with a 4xx RFC 6749
// error; never a panic, never a server error.
func FuzzRequestObject(f *testing.F) {
	store := storagetest.NewSQLiteAt(f, fuzzNow)
	p, err := provider.New(context.Background(), store, provider.Options{
		Issuer: fuzzRequestIssuer, Secret: []byte("fuzz-request-object-secret-fuzz-request-object"),
		AccessTokenTTL: time.Hour, RefreshTokenTTL: time.Hour, AuthCodeTTL: time.Minute, IDTokenTTL: time.Hour,
		Now: fuzzNow,
	})
	if err != nil {
		f.Fatal(err)
	}
	var key jose.JSONWebKey
	if err := key.UnmarshalJSON([]byte(fuzzRequestKey)); err != nil {
		f.Fatal(err)
	}
	public, err := key.Public().MarshalJSON()
	if err != nil {
		f.Fatal(err)
	}
	c, _, err := clients.New(clients.Spec{Name: "Request objects", RedirectURIs: []string{"https://app.example.com/cb"}})
	if err != nil {
		f.Fatal(err)
	}
	c.ID = fuzzRequestClientID
	if err := c.SetJWKS(`{"keys":[` + string(public) + `]}`); err != nil {
		f.Fatal(err)
	}
	if err := store.CreateClient(context.Background(), c); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, request string) {
		form := url.Values{
			"client_id":     {fuzzRequestClientID},
			"response_type": {"code"},
			"scope":         {"openid"},
			"request":       {request},
		}
		out, err := p.ResolveRequestObject(t.Context(), form)
		if err != nil {
			var rfc *fosite.RFC6749Error
			if !errors.As(err, &rfc) {
				t.Fatalf("ResolveRequestObject: %v (%T), want an RFC 6749 error", err, err)
			}
			if rfc.CodeField < 400 || rfc.CodeField >= 500 || rfc.ErrorField == "" {
				t.Fatalf("ResolveRequestObject: %d %q (%v), want a 4xx RFC 6749 error", rfc.CodeField, rfc.ErrorField, err)
			}
			return
		}
		if request == "" {
			return // no request object: the form comes back as it is
		}
		if got := out.Get("client_id"); got != fuzzRequestClientID {
			t.Fatalf("the request object changed client_id to %q", got)
		}
		if !slices.Contains(strings.Fields(out.Get("scope")), "openid") {
			t.Fatalf("resolved scope %q has no openid", out.Get("scope"))
		}
		for _, k := range []string{"request", "request_uri", "iss", "aud", "exp", "iat", "nbf", "jti"} {
			if out.Has(k) {
				t.Fatalf("the resolved parameters carry %s=%q", k, out.Get(k))
			}
		}
	})
}
