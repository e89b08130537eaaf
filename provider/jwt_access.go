package provider

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
)

// typeAccessJWT is the typ header of RFC 9068 access tokens; ID tokens
// carry "JWT", so one can never pass for the other.
const typeAccessJWT = "at+jwt"

// AccessClaims are the claims of an RFC 9068 JWT access token: those of
// API-key exchanges and of clients set to JWT access tokens.
type AccessClaims struct {
	Issuer    string   `json:"iss"`
	Subject   string   `json:"sub,omitempty"`
	Audience  []string `json:"aud"`
	Org       string   `json:"org,omitempty"`
	Expiry    int64    `json:"exp"`
	IssuedAt  int64    `json:"iat"`
	NotBefore int64    `json:"nbf"`
	ID        string   `json:"jti"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id"`
	// KeyID names the API key a token was exchanged for; introspection
	// reports the token inactive once that key is revoked.
	KeyID string `json:"key_id,omitempty"`
}

// signAccessJWT signs claims with the current ES256 key, typ at+jwt, and
// returns the token and its signature (the third segment).
func (p *Provider) signAccessJWT(c AccessClaims) (string, string, error) {
	token, err := p.signJWT(AlgES256, typeAccessJWT, c)
	if err != nil {
		return "", "", err
	}
	return token, token[strings.LastIndexByte(token, '.')+1:], nil
}

// signJWT signs claims as a compact JWS with the current key of alg and
// the typ header typ.
func (p *Provider) signJWT(alg, typ string, claims any) (string, error) {
	key, err := p.keys.SigningKey(alg)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(alg), Key: key},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		return "", fmt.Errorf("%s signer: %w", typ, err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode %s claims: %w", typ, err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", typ, err)
	}
	return jws.CompactSerialize()
}

// Errors of VerifyAccessJWT.
var (
	ErrNotAccessJWT   = errors.New("not a JWT access token of this issuer")
	ErrAccessJWTStale = errors.New("the JWT access token has expired")
)

// VerifyAccessJWT checks a JWT access token we issued: one signature by a
// published key (by kid) with that key's algorithm, typ at+jwt (so an ID
// token never passes), our issuer, and an unexpired lifetime.
func (p *Provider) VerifyAccessJWT(token string) (*AccessClaims, error) {
	jws, err := jose.ParseSigned(token)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, ErrNotAccessJWT
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, typeAccessJWT) && !strings.EqualFold(typ, "application/"+typeAccessJWT) {
		return nil, fmt.Errorf("%w: typ %q", ErrNotAccessJWT, typ)
	}
	key, ok := p.keys.PublicKey(h.KeyID)
	if !ok || h.Algorithm != key.Algorithm || (key.Algorithm != AlgES256 && key.Algorithm != AlgRS256) {
		return nil, fmt.Errorf("%w: key %q, alg %q", ErrNotAccessJWT, h.KeyID, h.Algorithm)
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotAccessJWT, err)
	}
	var c AccessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, fmt.Errorf("%w: claims: %v", ErrNotAccessJWT, err)
	}
	if c.Issuer != p.opts.Issuer {
		return nil, fmt.Errorf("%w: issuer %q", ErrNotAccessJWT, c.Issuer)
	}
	now := p.opts.Now()
	if c.Expiry == 0 || !now.Before(time.Unix(c.Expiry, 0)) {
		return &c, ErrAccessJWTStale
	}
	if c.NotBefore > now.Add(time.Minute).Unix() {
		return &c, fmt.Errorf("%w: not valid yet", ErrNotAccessJWT)
	}
	return &c, nil
}

// IsAPIKeyJWT reports whether a JWT access token names an API key
// (key_id), reading its payload without verifying it: only to choose how
// to check it. Both ways verify the signature, once.
func IsAPIKeyJWT(token string) bool {
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	if first < 0 || last <= first {
		return false
	}
	payload, err := base64.RawURLEncoding.DecodeString(token[first+1 : last])
	if err != nil {
		return false
	}
	var c struct {
		KeyID string `json:"key_id"`
	}
	return json.Unmarshal(payload, &c) == nil && c.KeyID != ""
}

// LooksLikeJWT tells a compact JWS from our other tokens by its shape.
func LooksLikeJWT(token string) bool {
	return strings.HasPrefix(token, "eyJ") && strings.Count(token, ".") == 2
}

// accessJWTSignature is the signature segment of a JWT, the key its row is
// stored under when it has one.
func accessJWTSignature(token string) string {
	return token[strings.LastIndexByte(token, '.')+1:]
}
