package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ory/fosite/token/jwt"
)

var _ jwt.Signer = (*keySigner)(nil)

// keySigner is fosite's jwt.Signer over our KeySet: it signs with the
// current key of its algorithm and verifies against any published key, by
// kid, so that tokens signed before a rotation (an id_token_hint, say) still
// verify.
type keySigner struct {
	jwt.DefaultSigner
	keys *KeySet
	alg  string
}

func newKeySigner(keys *KeySet, alg string) *keySigner {
	s := &keySigner{keys: keys, alg: alg}
	s.GetPrivateKey = func(context.Context) (any, error) { return keys.SigningKey(alg) }
	return s
}

// Decode parses and verifies an ID token signed by one of our published
// keys. As fosite expects, an expired token is returned with a validation
// error. Decode is what reads an id_token_hint (ours and fosite's
// checks), so only an ID token passes: our other JWTs, the RFC 9068
// access tokens (typ at+jwt) and signed UserInfo answers (no exp or iat),
// are refused, with an error fosite does not take for mere expiry.
func (s *keySigner) Decode(_ context.Context, token string) (*jwt.Token, error) {
	t, err := jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		key, ok := s.keys.PublicKey(kid)
		if !ok {
			return nil, fmt.Errorf("unknown signing key %q", kid)
		}
		if string(t.Method) != key.Algorithm || (key.Algorithm != AlgRS256 && key.Algorithm != AlgES256) {
			return nil, fmt.Errorf("algorithm %q does not match key %q", t.Method, kid)
		}
		return key.Key, nil
	})
	var ve *jwt.ValidationError
	if err != nil && !(errors.As(err, &ve) && ve.Has(jwt.ValidationErrorExpired)) {
		return t, err // not verified: nothing more to check
	}
	if shapeErr := idTokenShape(t); shapeErr != nil {
		return nil, shapeErr
	}
	return t, err
}

// idTokenShape checks that a verified token of ours is an ID token: typ
// absent or JWT (OpenID Connect Core §2 sets none; RFC 9068 §2.1 makes
// access tokens at+jwt), and exp and iat present (§2 requires both;
// signed UserInfo has neither).
func idTokenShape(t *jwt.Token) error {
	if typ, ok := t.Header["typ"]; ok {
		if s, _ := typ.(string); !strings.EqualFold(s, "JWT") {
			return fmt.Errorf("%w: typ %v", ErrNotIDToken, typ)
		}
	}
	for _, c := range []string{"exp", "iat"} {
		if !isNumber(t.Claims[c]) {
			return fmt.Errorf("%w: no %s", ErrNotIDToken, c)
		}
	}
	return nil
}

func isNumber(v any) bool {
	switch v.(type) {
	case float64, int64, json.Number:
		return true
	}
	return false
}

// Validate verifies a token and returns its signature.
func (s *keySigner) Validate(ctx context.Context, token string) (string, error) {
	if _, err := s.Decode(ctx, token); err != nil {
		return "", err
	}
	return s.GetSignature(ctx, token)
}

// isExpiredOnly reports whether a token failed validation only because it
// has expired.
func isExpiredOnly(err error) bool {
	var ve *jwt.ValidationError
	return errors.As(err, &ve) && ve.Errors == jwt.ValidationErrorExpired
}
