package provider

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
)

// claimsNotParameters are the request object's own claims, not
// authorization parameters.
var claimsNotParameters = []string{"iss", "aud", "exp", "iat", "nbf", "jti"}

// ResolveRequestObject handles the request and request_uri parameters of
// OpenID Connect Core §6: it fetches a request_uri the client registered
// (through the guarded fetcher), verifies the request object — unsigned
// only when alg is none, which the client's registered
// request_object_signing_alg must allow; otherwise RS256 or ES256 by the
// client's keys — and returns the authorization parameters with the
// object's values in place of the query's. A form without either comes
// back as it is.
func (p *Provider) ResolveRequestObject(ctx context.Context, form url.Values) (url.Values, error) {
	object, location := form.Get("request"), form.Get("request_uri")
	if object == "" && location == "" {
		return form, nil
	}
	if object != "" && location != "" {
		return nil, fosite.ErrInvalidRequest.WithHint("Send request or request_uri, not both.")
	}
	client, err := p.store.Client(ctx, form.Get("client_id"))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, fosite.ErrInvalidClient.WithHint("The client_id is not a registered client.")
	} else if err != nil {
		return nil, fosite.ErrServerError.WithWrap(err)
	}
	if location != "" {
		if object, err = p.fetchRequestObject(ctx, client, location); err != nil {
			return nil, err
		}
	}
	claims, err := p.verifyRequestObject(ctx, client, object)
	if err != nil {
		return nil, err
	}
	out := url.Values{}
	for k, v := range form {
		if k != "request" && k != "request_uri" {
			out[k] = v
		}
	}
	for k, raw := range claims {
		if slices.Contains(claimsNotParameters, k) {
			continue
		}
		v, err := parameterValue(raw)
		if err != nil {
			return nil, fosite.ErrInvalidRequestObject.WithHintf("The request object's %q is not a usable value.", k)
		}
		if (k == "client_id" || k == "response_type") && form.Get(k) != "" && v != form.Get(k) {
			return nil, fosite.ErrInvalidRequestObject.WithHintf("The request object's %s differs from the one in the query.", k)
		}
		out.Set(k, v)
	}
	if !slices.Contains(strings.Fields(out.Get("scope")), "openid") {
		return nil, fosite.ErrInvalidRequestObject.WithHint("Request objects are for OpenID Connect requests: the scope must include openid.")
	}
	return out, nil
}

// fetchRequestObject fetches a request_uri the client registered; the
// fragment, if any, only tells versions apart.
func (p *Provider) fetchRequestObject(ctx context.Context, c *storage.Client, location string) (string, error) {
	registered := slices.Contains(c.Metadata.RequestURIs, location)
	base, _, _ := strings.Cut(location, "#")
	registered = registered || slices.Contains(c.Metadata.RequestURIs, base)
	if !registered {
		return "", fosite.ErrInvalidRequestURI.WithHint("The request_uri is not one the client registered.")
	}
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	body, err := p.fetcher.get(ctx, base)
	if err != nil {
		return "", fosite.ErrInvalidRequestURI.WithHint("The request_uri could not be fetched.").WithWrap(err).WithDebug(err.Error())
	}
	return string(bytes.TrimSpace(body)), nil
}

// verifyRequestObject checks a request object's signature and claims and
// returns its claims.
func (p *Provider) verifyRequestObject(ctx context.Context, c *storage.Client, object string) (map[string]json.RawMessage, error) {
	parts := strings.Split(object, ".")
	if len(parts) != 3 {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object is not a JWT.")
	}
	var header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	rawHeader, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || json.Unmarshal(rawHeader, &header) != nil {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's header cannot be read.")
	}
	if registered := c.Metadata.RequestObjectSigningAlg; registered != "" && header.Alg != registered {
		return nil, fosite.ErrInvalidRequestObject.WithHintf("The client registered request objects signed with %s, not %s.", registered, header.Alg)
	}
	var payload []byte
	switch header.Alg {
	case "none":
		if parts[2] != "" {
			return nil, fosite.ErrInvalidRequestObject.WithHint("An unsigned request object must have an empty signature.")
		}
		if payload, err = base64.RawURLEncoding.DecodeString(parts[1]); err != nil {
			return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's payload cannot be read.")
		}
	case AlgRS256, AlgES256:
		jws, err := jose.ParseSigned(object)
		if err != nil || len(jws.Signatures) != 1 {
			return nil, fosite.ErrInvalidRequestObject.WithHint("The request object is not a signed JWT.")
		}
		key, err := p.clientKey(ctx, c, header.Kid, header.Alg)
		if err != nil {
			return nil, err
		}
		if payload, err = jws.Verify(key); err != nil {
			return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's signature does not verify with the client's keys.")
		}
	default:
		return nil, fosite.ErrInvalidRequestObject.WithHintf("Request objects signed with %q are not supported (use none, RS256 or ES256).", header.Alg)
	}
	var claims map[string]json.RawMessage
	if err := json.Unmarshal(payload, &claims); err != nil {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's claims are not a JSON object.")
	}
	if iss, ok := claims["iss"]; ok && string(iss) != fmt.Sprintf("%q", c.ID) {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's iss must be the client's id.")
	}
	if aud, ok := claims["aud"]; ok && !audienceHas(aud, p.Issuer()) {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's aud must include the issuer.")
	}
	// exp is optional (RFC 9101 §4), but when present it must be a
	// number of seconds (RFC 7519 §4.1.4), never skipped for not being one.
	if raw, ok := claims["exp"]; ok {
		var secs float64
		if err := json.Unmarshal(raw, &secs); err != nil {
			return nil, fosite.ErrInvalidRequestObject.WithHint("The request object's exp must be a number of seconds.")
		}
		if !p.Now().Before(time.Unix(int64(secs), 0)) {
			return nil, fosite.ErrInvalidRequestObject.WithHint("The request object has expired.")
		}
	}
	return claims, nil
}

// clientKey returns the client's public key for kid (any key of the
// algorithm's type when kid is empty), from its JWKS or its jwks_uri,
// fetched again when kid is unknown.
func (p *Provider) clientKey(ctx context.Context, c *storage.Client, kid, alg string) (any, error) {
	find := func(set *jose.JSONWebKeySet) any {
		if set == nil {
			return nil
		}
		for _, k := range set.Keys {
			if (kid == "" || k.KeyID == kid) && (k.Use == "" || k.Use == "sig") && keyFitsAlg(k.Key, alg) && clients.StrongKey(k.Key) {
				return k.Key
			}
		}
		return nil
	}
	if key := find(c.GetJSONWebKeys()); key != nil {
		return key, nil
	}
	if c.JWKSURI == "" {
		return nil, fosite.ErrInvalidRequestObject.WithHint("The client has no key that verifies this request object.")
	}
	fetcher := p.config.JWKSFetcherStrategy
	for _, fresh := range []bool{false, true} {
		set, err := fetcher.Resolve(ctx, c.JWKSURI, fresh)
		if err != nil {
			return nil, fosite.ErrInvalidRequestObject.WithHint("The client's jwks_uri could not be fetched.").WithWrap(err)
		}
		if key := find(set); key != nil {
			return key, nil
		}
	}
	return nil, fosite.ErrInvalidRequestObject.WithHint("The client has no key that verifies this request object.")
}

func keyFitsAlg(key any, alg string) bool {
	switch key.(type) {
	case *rsa.PublicKey:
		return alg == AlgRS256
	case *ecdsa.PublicKey:
		return alg == AlgES256
	}
	return false
}

func audienceHas(raw json.RawMessage, want string) bool {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one == want
	}
	var many []string
	return json.Unmarshal(raw, &many) == nil && slices.Contains(many, want)
}

// parameterValue turns a claim into the authorization parameter it
// stands for: strings, numbers and booleans as FormValue writes them,
// objects (the claims parameter) as compact JSON.
func parameterValue(raw json.RawMessage) (string, error) {
	if v, ok := FormValue(raw); ok {
		return v, nil
	}
	compact := &bytes.Buffer{}
	if err := json.Compact(compact, raw); err != nil {
		return "", err
	}
	return compact.String(), nil
}

// FormValue is a JSON string, number or boolean as a form value: a
// string as it is, a number as written, a boolean as true or false. It
// reports false for anything else.
func FormValue(raw json.RawMessage) (string, bool) {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, true
	}
	var n json.Number
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&n) == nil {
		return n.String(), true
	}
	var b bool
	if json.Unmarshal(raw, &b) == nil {
		return fmt.Sprint(b), true
	}
	return "", false
}
