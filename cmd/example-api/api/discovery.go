package api

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// providerClient talks to the provider: discovery, the JWKS and
// introspection.
type providerClient struct {
	issuer, clientID, clientSecret string
	http                           *http.Client
	log                            *slog.Logger

	meta   atomic.Pointer[metadata] // set once discovery succeeded
	metaMu sync.Mutex               // one discovery at a time
}

// metadata is what the API needs of the discovery document (OpenID
// Connect Discovery 1.0, RFC 8414).
type metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// metadata returns the discovery document, fetched once.
func (p *providerClient) metadata(ctx context.Context) (*metadata, error) {
	if m := p.meta.Load(); m != nil {
		return m, nil
	}
	p.metaMu.Lock()
	defer p.metaMu.Unlock()
	if m := p.meta.Load(); m != nil {
		return m, nil
	}
	var m metadata
	if err := p.getJSON(ctx, p.issuer+"/.well-known/openid-configuration", &m); err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	// OpenID Connect Discovery §4.3: the document must name the issuer
	// it was fetched for, exactly.
	if m.Issuer != p.issuer {
		return nil, fmt.Errorf("discovery: the document's issuer is %q, not %q: %w", m.Issuer, p.issuer, ErrMisconfigured)
	}
	for name, u := range map[string]string{"jwks_uri": m.JWKSURI, "introspection_endpoint": m.IntrospectionEndpoint} {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "https" && pu.Scheme != "http") || pu.Host == "" {
			return nil, fmt.Errorf("discovery: %s %q is not a URL: %w", name, u, ErrMisconfigured)
		}
	}
	p.meta.Store(&m)
	p.log.Info("discovered the provider", "issuer", m.Issuer, "jwks_uri", m.JWKSURI, "introspection_endpoint", m.IntrospectionEndpoint)
	return &m, nil
}

// getJSON fetches a JSON document from the provider.
func (p *providerClient) getJSON(ctx context.Context, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("get %s: %v: %w", u, err, ErrMisconfigured)
	}
	req.Header.Set("Accept", "application/json")
	return p.do(req, v)
}

// do sends a request to the provider and decodes a 200 answer into v. A
// network failure, a timeout or a 5xx is ErrUnavailable.
func (p *providerClient) do(req *http.Request, v any) error {
	resp, err := p.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %v: %w", req.Method, req.URL.Redacted(), err, ErrUnavailable)
	}
	defer resp.Body.Close()
	body := io.LimitReader(resp.Body, 1<<20)
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests:
		return fmt.Errorf("%s %s: status %d: %w", req.Method, req.URL.Redacted(), resp.StatusCode, ErrUnavailable)
	default:
		var oauthErr struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		_ = json.NewDecoder(body).Decode(&oauthErr)
		return fmt.Errorf("%s %s: status %d %s %s: %w", req.Method, req.URL.Redacted(), resp.StatusCode,
			oauthErr.Error, oauthErr.Description, ErrMisconfigured)
	}
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("%s %s: decode: %v: %w", req.Method, req.URL.Redacted(), err, ErrUnavailable)
	}
	return nil
}

// fetchJWKS fetches the provider's published keys, keeping only public
// signing keys of the algorithms access tokens may use, by kid.
func (p *providerClient) fetchJWKS(ctx context.Context) (map[string]*jose.JSONWebKey, error) {
	m, err := p.metadata(ctx)
	if err != nil {
		return nil, err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := p.getJSON(ctx, m.JWKSURI, &set); err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	keys := map[string]*jose.JSONWebKey{}
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			// A key of a kind we do not know must not hide the others.
			p.log.Warn("jwks: skipping a key", "err", err)
			continue
		}
		if k.KeyID == "" || !k.IsPublic() || !k.Valid() || (k.Use != "" && k.Use != "sig") || keyAlgorithm(&k) == "" {
			continue
		}
		keys[k.KeyID] = &k
	}
	return keys, nil
}

// keyAlgorithm is the one algorithm a published key may verify: its own
// alg (ES256 or RS256), or, when it names none, the one its type implies.
// Anything else is "" and the key is not used.
func keyAlgorithm(k *jose.JSONWebKey) string {
	want := k.Algorithm
	switch pub := k.Key.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve == elliptic.P256() && (want == "" || want == string(jose.ES256)) {
			return string(jose.ES256)
		}
	case *rsa.PublicKey:
		if pub.N.BitLen() >= 2048 && (want == "" || want == string(jose.RS256)) {
			return string(jose.RS256)
		}
	}
	return ""
}

// introspection is RFC 7662 §2.2's answer, with the provider's own
// members (org, token_use, key_id).
type introspection struct {
	Active    bool             `json:"active"`
	Scope     string           `json:"scope"`
	ClientID  string           `json:"client_id"`
	Subject   string           `json:"sub"`
	Org       string           `json:"org"`
	Expiry    *jwt.NumericDate `json:"exp"`
	NotBefore *jwt.NumericDate `json:"nbf"`
	Audience  jwt.Audience     `json:"aud"`
	Issuer    string           `json:"iss"`
	TokenType string           `json:"token_type"`
	TokenUse  string           `json:"token_use"`
	KeyID     string           `json:"key_id"`
}

// introspect asks the provider about a token (RFC 7662 §2.1),
// authenticated with client_secret_basic (RFC 6749 §2.3.1: id and secret
// form-encoded first).
func (p *providerClient) introspect(ctx context.Context, token string) (*introspection, error) {
	m, err := p.metadata(ctx)
	if err != nil {
		return nil, err
	}
	form := url.Values{"token": {token}}
	if strings.HasPrefix(token, "at_live_") {
		form.Set("token_type_hint", "access_token")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.IntrospectionEndpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("introspect: %v: %w", err, ErrMisconfigured)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.SetBasicAuth(url.QueryEscape(p.clientID), url.QueryEscape(p.clientSecret))
	var out introspection
	if err := p.do(req, &out); err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	return &out, nil
}
