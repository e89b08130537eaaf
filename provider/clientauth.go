package provider

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v3/jwt"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/storage"
)

// secretHasher compares client secrets with their stored SHA-256 digests
// in constant time. Secrets are server-generated with 256 bits of entropy,
// so a slow hash buys nothing and would cap the token endpoint.
type secretHasher struct{}

var _ fosite.Hasher = secretHasher{}

var errSecretMismatch = errors.New("client secret does not match")

func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	return storage.Digest(string(data)), nil
}

func (secretHasher) Compare(_ context.Context, hash, data []byte) error {
	if !storage.DigestEqual(hash, string(data)) {
		return errSecretMismatch
	}
	return nil
}

// authenticateClient is the client authentication of the token,
// introspection and revocation endpoints (RFC 6749 §2.3.1). A client with a
// secret may send it in the Authorization header (client_secret_basic) or in
// the body (client_secret_post): both are equally strong and client
// libraries differ in which they pick. A request must not use both. Public
// clients send only client_id. Client assertions (private_key_jwt) go to
// fosite's own strategy.
func (p *Provider) authenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	if form.Get("client_assertion_type") != "" || form.Get("client_assertion") != "" {
		return p.authenticateAssertion(ctx, r, form)
	}
	id, secret, basic := r.BasicAuth()
	if basic {
		var err error
		if id, err = url.QueryUnescape(id); err != nil {
			return nil, fosite.ErrInvalidRequest.WithHint("The client id in the Authorization header is not form-encoded correctly.")
		}
		if secret, err = url.QueryUnescape(secret); err != nil {
			return nil, fosite.ErrInvalidRequest.WithHint("The client secret in the Authorization header is not form-encoded correctly.")
		}
		if form.Get("client_secret") != "" {
			return nil, fosite.ErrInvalidRequest.WithHint("The client authenticated with both the Authorization header and client_secret in the body; use one method.")
		}
		if fid := form.Get("client_id"); fid != "" && fid != id {
			return nil, fosite.ErrInvalidRequest.WithHint("The client_id in the body differs from the one in the Authorization header.")
		}
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == "" {
		return nil, fosite.ErrInvalidClient.WithHint("Client authentication is required: send client_id (and client_secret) in the Authorization header or the body.")
	}
	client, err := p.store.Client(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrInvalidClient.WithHint("Unknown client or wrong client secret.")
	} else if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	switch client.TokenEndpointAuthMethod {
	case "none":
		if secret != "" {
			return nil, fosite.ErrInvalidClient.WithHint("This client is public and has no secret; send only client_id.")
		}
		return client, nil
	case "private_key_jwt":
		return nil, fosite.ErrInvalidClient.WithHint("This client authenticates with private_key_jwt; send a client_assertion.")
	}
	if secret == "" || !client.SecretMatches(secret, p.Now()) {
		return nil, fosite.ErrInvalidClient.WithHint("Unknown client or wrong client secret.")
	}
	return client, nil
}

// clientAssertionType is the only client_assertion_type (RFC 7523 §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// authenticateAssertion authenticates a client by a JWT assertion
// (private_key_jwt) through fosite. Every way an assertion can be wrong
// (expired, not yet valid, an unknown kid, a replayed jti) is
// invalid_client, which RFC 7523 §3.2 asks for and which answers 401 with a
// challenge; fosite reports some as invalid_request or as a bare error.
func (p *Provider) authenticateAssertion(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	switch {
	case form.Get("client_assertion_type") != clientAssertionType:
		return nil, fosite.ErrInvalidRequest.WithHintf("The client_assertion_type must be %s.", clientAssertionType)
	case form.Get("client_assertion") == "":
		return nil, fosite.ErrInvalidRequest.WithHint("The client_assertion_type was sent without a client_assertion.")
	}
	if err := p.checkAssertionClaims(form.Get("client_assertion")); err != nil {
		return nil, err
	}
	client, err := p.oauth2.DefaultClientAuthenticationStrategy(ctx, r, form)
	if err == nil {
		return client, nil
	}
	if errors.Is(err, storage.ErrUnavailable) {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	rfc := fosite.ErrorToRFC6749Error(err)
	if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
		return nil, err
	}
	debug := rfc.DebugField
	if debug == "" {
		debug = err.Error()
	}
	// Not wrapped: fosite's revocation answer would find the inner
	// invalid_request first.
	return nil, fosite.ErrInvalidClient.WithHint("The client assertion is not valid.").WithDebug(debug)
}

// Client assertion limits. An assertion is made for one request, so five
// minutes is ample; its jti is kept until it expires, so an unbounded exp
// would keep the row forever. The leeway allows for the client's clock.
const (
	maxAssertionLifetime = 5 * time.Minute
	assertionLeeway      = jwt.DefaultLeeway
)

// assertionClaims are the claims of a client assertion our policy reads
// before fosite verifies it.
type assertionClaims struct {
	Audience json.RawMessage  `json:"aud"`
	Expiry   *jwt.NumericDate `json:"exp"`
	IssuedAt *jwt.NumericDate `json:"iat"`
}

// checkAssertionClaims applies the policy fosite does not to a client
// assertion's claims, read before its signature is checked (fosite checks
// it, and the jti, afterwards; nothing here is trusted beyond refusing):
//   - aud is a single string, the issuer or the token endpoint. An array is
//     refused even when it holds ours: the OpenID Foundation's January 2025
//     advisory on private_key_jwt audience injection, where an assertion
//     made for another server that lists ours too is replayed here;
//   - exp is present and at most five minutes away (RFC 7523 §3 lets the
//     server bound it), so a jti need not be kept for long;
//   - iat is present, so the assertion says when it was made.
func (p *Provider) checkAssertionClaims(assertion string) error {
	invalid := func(hint string) error { return fosite.ErrInvalidClient.WithHint(hint) }
	tok, err := jwt.ParseSigned(assertion)
	if err != nil {
		return invalid("The client assertion is not a signed JWT.")
	}
	var c assertionClaims
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return invalid("The client assertion's claims are not valid (aud must be a string, exp and iat numbers).")
	}
	var aud string
	if err := json.Unmarshal(c.Audience, &aud); err != nil || !slices.Contains(p.config.tokenURLs, aud) {
		return invalid("The client assertion's aud must be one string: this server's issuer or its token endpoint.")
	}
	now := p.Now()
	switch {
	case c.Expiry == nil:
		return invalid("The client assertion has no exp.")
	case c.Expiry.Time().After(now.Add(maxAssertionLifetime + assertionLeeway)):
		return invalid("The client assertion's exp is more than 5 minutes away.")
	case c.IssuedAt == nil:
		return invalid("The client assertion has no iat.")
	}
	return nil
}

// AuthenticateClient authenticates the client of a request to one of the
// endpoints that require it (introspection, revocation).
func (p *Provider) AuthenticateClient(ctx context.Context, r *http.Request, form url.Values) (fosite.Client, error) {
	return p.authenticateClient(ctx, r, form)
}
