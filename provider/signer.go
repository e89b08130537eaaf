package provider

import (
	"context"
	"errors"
	"fmt"

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

// Decode parses and verifies a token signed by one of our published keys.
// As fosite expects, an expired token is returned with a validation error.
func (s *keySigner) Decode(_ context.Context, token string) (*jwt.Token, error) {
	return jwt.ParseWithClaims(token, jwt.MapClaims{}, func(t *jwt.Token) (any, error) {
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
