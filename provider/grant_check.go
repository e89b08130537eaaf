package provider

import (
	"context"
	"errors"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// ClaimOrg is the claim, in ID tokens, sessions, introspection answers and
// UserInfo, with the organization a person acts in.
const ClaimOrg = storage.ClaimOrg

// SessionOrg returns the organization a token's session acts in ("" for
// none: a client acting for itself).
func SessionOrg(sess fosite.Session) string {
	if s, ok := sess.(openid.Session); ok && s.IDTokenClaims() != nil {
		if org, ok := s.IDTokenClaims().Extra[ClaimOrg].(string); ok {
			return org
		}
	}
	return ""
}

// recheckGrant re-checks, when a refresh widens a person's grant in time,
// that the person is still a member of the organization the grant acts in,
// and narrows its scopes to what their role there holds now (DESIGN.md,
// "Tenancy and roles": a lowered role narrows what refreshes can hold from
// then on). A grant that names no organization predates the policy: its
// person signs in again.
func (p *Provider) recheckGrant(ctx context.Context, r fosite.AccessRequester) error {
	subject := r.GetSession().GetSubject()
	if subject == "" {
		return nil // a client's own grant: no person, no organization
	}
	org := SessionOrg(r.GetSession())
	if org == "" {
		return fosite.ErrInvalidGrant.WithHint("The grant names no organization; sign in again.")
	}
	role, err := p.tenancy.Role(ctx, org, subject)
	if errors.Is(err, tenancy.ErrNotMember) {
		return fosite.ErrInvalidGrant.WithHint("The person who granted access is no longer a member of the organization it acts in.")
	} else if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	narrowed := tenancy.Narrow(role, r.GetGrantedScopes())
	if len(narrowed) == len(r.GetGrantedScopes()) {
		return nil
	}
	ar, ok := r.(*fosite.AccessRequest)
	if !ok {
		return fosite.ErrServerError.WithDebugf("cannot narrow the scopes of a %T", r)
	}
	ar.GrantedScope = narrowed
	return nil
}
