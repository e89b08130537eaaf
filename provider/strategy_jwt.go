package provider

import (
	"context"
	"errors"
	"strings"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
)

var _ oauth2.CoreStrategy = (*tokenStrategy)(nil)

// tokenStrategy issues opaque at_live_ access tokens, or RFC 9068 JWTs to
// clients set to JWT access tokens; either way fosite stores the token's
// row (by the JWT's signature), so a JWT can be revoked and introspected
// like an opaque token. Codes and refresh tokens are always opaque.
type tokenStrategy struct {
	*prefixedStrategy
	provider *Provider
}

func wantsJWT(r fosite.Requester) bool {
	c, ok := r.GetClient().(*storage.Client)
	return ok && c.AccessTokenFormat == clients.AccessTokenJWT
}

func (s *tokenStrategy) AccessTokenSignature(ctx context.Context, token string) string {
	if LooksLikeJWT(token) {
		return accessJWTSignature(token)
	}
	return s.prefixedStrategy.AccessTokenSignature(ctx, token)
}

func (s *tokenStrategy) GenerateAccessToken(ctx context.Context, r fosite.Requester) (string, string, error) {
	if !wantsJWT(r) {
		return s.prefixedStrategy.GenerateAccessToken(ctx, r)
	}
	p := s.provider
	now := p.Now().UTC()
	exp := r.GetSession().GetExpiresAt(fosite.AccessToken)
	if exp.IsZero() {
		exp = now.Add(p.opts.AccessTokenTTL)
	}
	aud := r.GetGrantedAudience()
	if len(aud) == 0 {
		aud = p.opts.APIAudiences[:1]
	}
	claims := AccessClaims{
		Issuer:    p.Issuer(),
		Subject:   r.GetSession().GetSubject(),
		Audience:  aud,
		Expiry:    exp.Unix(),
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		ID:        storage.RandomBase62(22),
		Scope:     strings.Join(r.GetGrantedScopes(), " "),
		ClientID:  r.GetClient().GetID(),
		Org:       SessionOrg(r.GetSession()),
	}
	return p.signAccessJWT(claims)
}

func (s *tokenStrategy) ValidateAccessToken(ctx context.Context, r fosite.Requester, token string) error {
	if !LooksLikeJWT(token) {
		return s.prefixedStrategy.ValidateAccessToken(ctx, r, token)
	}
	_, err := s.provider.VerifyAccessJWT(token)
	if errors.Is(err, ErrAccessJWTStale) {
		return fosite.ErrTokenExpired.WithHint("The access token expired.")
	}
	if err != nil {
		return fosite.ErrTokenSignatureMismatch.WithHint("The access token is not valid.")
	}
	return nil
}
