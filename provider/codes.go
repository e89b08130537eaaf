package provider

import (
	"context"
	"errors"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
)

var _ fosite.TokenEndpointHandler = (*codeHandler)(nil)

// codeHandler is fosite's authorization code grant (RFC 6749 §4.1.3) with
// a second redemption of a code always refused as one. RFC 6749 §4.1.2 and
// RFC 9700 §4.5: a code used twice is refused, and what the first use got
// is revoked.
//
// fosite sees a second use in three places. Its HandleTokenEndpointRequest
// reads the code inactive and revokes by itself. Of two redemptions that
// both passed that read, the loser sees it in PopulateTokenEndpointResponse,
// either when it reads the code again (fosite then answers server_error
// wrapping fosite.ErrInvalidatedAuthorizeCode) or when its UPDATE … WHERE
// active matches no row (storage.ErrCodeAlreadyUsed, which wraps it too).
// Here both become invalid_grant and revoke the grant.
//
// Neither can run before the winner's transaction has committed: the read
// sees committed rows only (PostgreSQL's READ COMMITTED; SQLite runs one
// transaction at a time), and PostgreSQL makes the UPDATE wait for the
// winner's row lock and re-check the row once the winner commits (were the
// winner to roll back, the loser's UPDATE would match and the loser would
// win). So the revocation always finds the winner's tokens.
type codeHandler struct {
	*oauth2.AuthorizeExplicitGrantHandler
	grantRules
}

// HandleTokenEndpointRequest validates a code redemption (RFC 6749 §4.1.3).
func (h *codeHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if err := h.AuthorizeExplicitGrantHandler.HandleTokenEndpointRequest(ctx, r); err != nil {
		return err
	}
	h.setExpiries(ctx, r, fosite.GrantTypeAuthorizationCode)
	return nil
}

// PopulateTokenEndpointResponse redeems the code and issues the tokens.
func (h *codeHandler) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	err := h.AuthorizeExplicitGrantHandler.PopulateTokenEndpointResponse(ctx, r, resp)
	if err == nil || !errors.Is(err, fosite.ErrInvalidatedAuthorizeCode) {
		return err
	}
	return h.revokeReused(ctx, r.GetID(), "", fosite.ErrInvalidGrant.WithHint("The authorization code has already been used."), err)
}
