package provider

import (
	"context"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// Token prefixes. They make a leaked token recognisable (secret scanners
// match them) and let introspection tell token kinds apart without a lookup.
const (
	PrefixAuthorizeCode = "ac_live_"
	PrefixAccessToken   = "at_live_"
	PrefixRefreshToken  = "rt_live_"
)

var _ oauth2.CoreStrategy = (*prefixedStrategy)(nil)

// prefixedStrategy wraps fosite's unprefixed HMAC strategy with our
// prefixes; fosite's own prefixed strategy hard-codes "ory_".
type prefixedStrategy struct {
	*oauth2.HMACSHAStrategyUnPrefixed
}

func withPrefix(prefix, token string, sig string, err error) (string, string, error) {
	if err != nil {
		return "", "", err
	}
	return prefix + token, sig, nil
}

// trimPrefix removes the expected prefix; a token without it is invalid.
func trimPrefix(prefix, token string) (string, error) {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok {
		return "", fosite.ErrTokenSignatureMismatch.WithHint("The token does not have the expected format.")
	}
	return rest, nil
}

func (s *prefixedStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	return s.HMACSHAStrategyUnPrefixed.AccessTokenSignature(ctx, strings.TrimPrefix(token, PrefixAccessToken))
}

func (s *prefixedStrategy) RefreshTokenSignature(ctx context.Context, token string) string {
	return s.HMACSHAStrategyUnPrefixed.RefreshTokenSignature(ctx, strings.TrimPrefix(token, PrefixRefreshToken))
}

func (s *prefixedStrategy) AuthorizeCodeSignature(ctx context.Context, token string) string {
	return s.HMACSHAStrategyUnPrefixed.AuthorizeCodeSignature(ctx, strings.TrimPrefix(token, PrefixAuthorizeCode))
}

func (s *prefixedStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	token, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateAccessToken(ctx, r)
	return withPrefix(PrefixAccessToken, token, sig, err)
}

func (s *prefixedStrategy) GenerateRefreshToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	token, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateRefreshToken(ctx, r)
	return withPrefix(PrefixRefreshToken, token, sig, err)
}

func (s *prefixedStrategy) GenerateAuthorizeCode(ctx context.Context, r fosite.Requester) (string, string, error) {
	token, sig, err := s.HMACSHAStrategyUnPrefixed.GenerateAuthorizeCode(ctx, r)
	return withPrefix(PrefixAuthorizeCode, token, sig, err)
}

func (s *prefixedStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	rest, err := trimPrefix(PrefixAccessToken, token)
	if err != nil {
		return err
	}
	return s.HMACSHAStrategyUnPrefixed.ValidateAccessToken(ctx, r, rest)
}

func (s *prefixedStrategy) ValidateRefreshToken(ctx context.Context, r fosite.Requester, token string) error {
	rest, err := trimPrefix(PrefixRefreshToken, token)
	if err != nil {
		return err
	}
	return s.HMACSHAStrategyUnPrefixed.ValidateRefreshToken(ctx, r, rest)
}

func (s *prefixedStrategy) ValidateAuthorizeCode(ctx context.Context, r fosite.Requester, token string) error {
	rest, err := trimPrefix(PrefixAuthorizeCode, token)
	if err != nil {
		return err
	}
	return s.HMACSHAStrategyUnPrefixed.ValidateAuthorizeCode(ctx, r, rest)
}
