package provider

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

// DefaultRefreshGrantMaxAge is how long a grant can be refreshed when the
// options say nothing: after it the person signs in again.
const DefaultRefreshGrantMaxAge = 90 * 24 * time.Hour

// grantRevoker revokes every token of a grant: the store's
// RevokeRefreshToken takes the refresh tokens and then the access tokens.
type grantRevoker interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	DeleteRefreshTokenSession(ctx context.Context, signature string) error
	RevokeRefreshToken(ctx context.Context, requestID string) error
}

// grantRules are what the code and refresh wrappers share: the clock, the
// grant's maximum age, the configured lifetimes and the revocation of a
// reused grant.
type grantRules struct {
	grants    grantRevoker
	lifespans interface {
		fosite.AccessTokenLifespanProvider
		fosite.RefreshTokenLifespanProvider
	}
	now    func() time.Time
	maxAge time.Duration
	log    *slog.Logger
}

// grantEnd is when the grant of sess stops being refreshable; ok is false
// when the session records no start (never for sessions we build).
func (g grantRules) grantEnd(sess *Session) (end time.Time, ok bool) {
	start := sess.grantStart()
	if start.IsZero() {
		return time.Time{}, false
	}
	return start.UTC().Add(g.maxAge), true
}

// setExpiries sets the expiry of the tokens about to be issued for r: the
// configured lifetimes from now, and no refresh token past the grant's end,
// so a grant cannot slide on forever (audit finding 13). fosite computed
// them already, but on the wall clock, while the store decides expiry on
// the provider's clock (the same in production, not in tests that move the
// clock). The grant's end is known only once fosite has read the stored
// session inside HandleTokenEndpointRequest, so it is applied here, after
// it, rather than through a lifespan fosite asks for before.
func (g grantRules) setExpiries(ctx context.Context, r fosite.AccessRequester, gt fosite.GrantType) {
	sess, ok := r.GetSession().(*Session)
	if !ok {
		return
	}
	now := g.now().UTC()
	at := fosite.GetEffectiveLifespan(r.GetClient(), gt, fosite.AccessToken, g.lifespans.GetAccessTokenLifespan(ctx))
	sess.SetExpiresAt(fosite.AccessToken, now.Add(at).Round(time.Second))
	rt := fosite.GetEffectiveLifespan(r.GetClient(), gt, fosite.RefreshToken, g.lifespans.GetRefreshTokenLifespan(ctx))
	if rt <= -1 {
		return
	}
	exp := now.Add(rt).Round(time.Second)
	if end, ok := g.grantEnd(sess); ok && exp.After(end) {
		exp = end
	}
	sess.SetExpiresAt(fosite.RefreshToken, exp)
}

// revokeReused revokes every token of grant requestID, whose code or
// refresh token (usedRefresh, the signature of the one presented, when it
// is a refresh) has just been used a second time, and returns refusal
// (invalid_grant) for the second use. Callers make sure the first use has
// committed before they get here, or its tokens would be missed.
//
// It takes the presented refresh token first, in one transaction with the
// rest, as fosite's own reuse handling does, so that two revocations of
// one family lock its rows in the same order and do not deadlock. A failed
// revocation is tried once more and then logged; the answer is the
// refusal either way, since the client did nothing that a server error
// would describe.
func (g grantRules) revokeReused(ctx context.Context, requestID, usedRefresh string, refusal *fosite.RFC6749Error, cause error) error {
	revoke := func() error {
		return g.grants.InTx(ctx, func(ctx context.Context) error {
			if usedRefresh != "" {
				if err := g.grants.DeleteRefreshTokenSession(ctx, usedRefresh); err != nil {
					return err
				}
			}
			return g.grants.RevokeRefreshToken(ctx, requestID)
		})
	}
	err := revoke()
	if err != nil {
		err = revoke()
	}
	if err != nil {
		g.log.ErrorContext(ctx, "revoke the tokens of a reused grant", "err", err, "grant", requestID)
		return refusal.WithDebugf("%s; revoking the grant failed: %s", cause, err)
	}
	return refusal.WithDebug(cause.Error())
}

var _ fosite.TokenEndpointHandler = (*refreshHandler)(nil)

// refreshHandler is fosite's refresh-token grant (RFC 6749 §6) with what
// fosite leaves to us:
//
//   - the grant ends refresh_grant_max_age after it was made: a refresh
//     after that is invalid_grant, and no refresh token outlives it;
//   - a grant without offline_access cannot be refreshed (OpenID Connect
//     Core §11), answered invalid_grant rather than fosite's 403
//     scope_not_granted, which RFC 6749 §5.2 does not know;
//   - of two refreshes with one token, the loser is reuse, not a reason to
//     retry: it is invalid_grant and revokes the whole family, the
//     winner's new tokens included (RFC 9700 §4.14.2), so racing cannot
//     get around reuse detection.
type refreshHandler struct {
	*oauth2.RefreshTokenGrantHandler
	grantRules
	// recheck is the tenancy policy's re-check of the grant
	// (Provider.recheckGrant).
	recheck func(ctx context.Context, r fosite.AccessRequester) error
}

// HandleTokenEndpointRequest validates a refresh (RFC 6749 §6).
func (h *refreshHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if err := h.RefreshTokenGrantHandler.HandleTokenEndpointRequest(ctx, r); err != nil {
		if errors.Is(err, fosite.ErrScopeNotGranted) {
			return fosite.ErrInvalidGrant.WithHint("The grant does not include offline_access, so it cannot be refreshed; sign in again.").WithWrap(err)
		}
		return err
	}
	sess, ok := r.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithDebugf("refresh: the stored session is a %T, not a provider.Session", r.GetSession())
	}
	if end, ok := h.grantEnd(sess); ok && !h.now().Before(end) {
		return fosite.ErrInvalidGrant.WithHint("The grant has reached its maximum age; sign in again.")
	}
	h.setExpiries(ctx, r, fosite.GrantTypeRefreshToken)

	// fosite has now read the grant: r holds its session (subject, the org
	// claim) and its granted scopes. The person must still be a member of
	// the grant's organization, and the scopes narrow to what their role
	// there holds now, before anything is issued (DESIGN.md, "Tenancy and
	// roles").
	if err := h.recheck(ctx, r); err != nil {
		return err
	}

	return nil
}

// PopulateTokenEndpointResponse rotates the refresh token and issues the
// new tokens (RFC 6749 §6).
func (h *refreshHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	err := h.RefreshTokenGrantHandler.PopulateTokenEndpointResponse(ctx, r, resp)
	if err == nil || !lostRotation(err) {
		return err
	}
	// Another request rotated this refresh token after we read it: two
	// uses of one token. Ours found the token inactive only once the other
	// request's transaction had committed (on PostgreSQL the UPDATE … WHERE
	// active waits for that transaction's row lock and re-checks the row
	// after its commit; SQLite runs one transaction at a time), and ours has
	// been rolled back, so the revocation sees what the winner issued.
	used := h.RefreshTokenStrategy.RefreshTokenSignature(ctx, r.GetRequestForm().Get("refresh_token"))
	return h.revokeReused(ctx, r.GetID(), used, fosite.ErrInvalidGrant.WithHint("The refresh token was already used."), err)
}

// lostRotation reports whether fosite's rotation of a refresh token failed
// because the token was rotated or revoked meanwhile; fosite answers those
// "please retry" (invalid_request).
func lostRotation(err error) bool {
	return errors.Is(err, fosite.ErrInactiveToken) || errors.Is(err, fosite.ErrNotFound) || errors.Is(err, fosite.ErrSerializationFailure)
}
