package provider

import (
	"context"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"

	"github.com/ajrly/ajrly-auth/provider/tenancy"
)

// clientCredentialsHandler is fosite's client credentials grant (RFC 6749
// §4.4) with the grant decided here: fosite checks that the client may ask
// for each scope (our scope strategy, tenancy.Satisfies) and audience but
// grants nothing; a client acting for itself needs nobody's consent, so it
// gets what it asked for — never a scope outside the scope table. The
// token names no organization and no person, so no role widens it.
type clientCredentialsHandler struct {
	*oauth2.ClientCredentialsGrantHandler
}

// HandleTokenEndpointRequest implements RFC 6749 §4.4.2.
func (h *clientCredentialsHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if err := h.ClientCredentialsGrantHandler.HandleTokenEndpointRequest(ctx, r); err != nil {
		return err
	}
	for _, s := range r.GetRequestedScopes() {
		if !tenancy.Satisfies(r.GetClient().GetScopes(), s) {
			return fosite.ErrInvalidScope.WithHintf("The client may not request the scope %q.", s)
		}
		r.GrantScope(s)
	}
	for _, a := range r.GetRequestedAudience() {
		r.GrantAudience(a)
	}
	return nil
}
