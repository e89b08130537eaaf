package provider

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"

	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// The API-key grant is RFC 8693 token exchange with our own subject token
// type. (Token type names, not credentials.)
//
//nolint:gosec // G101: names
const (
	GrantTypeTokenExchange = clients.GrantTokenExchange
	TokenTypeAPIKey        = "urn:ajrly:params:oauth:token-type:api-key"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
)

// ErrInvalidTarget is RFC 8693 §2.2.2's error for an audience or resource
// the token cannot be issued for.
var ErrInvalidTarget = &fosite.RFC6749Error{
	ErrorField:       "invalid_target",
	DescriptionField: "The requested audience or resource is not one this token can be issued for.",
	CodeField:        http.StatusBadRequest,
}

// extraKeyID is the session claim with which the exchange passes the key
// from Handle to Populate (with ClaimOrg).
const extraKeyID = "key_id"

// apiKeyFinder finds keys by the digest of their secret, or by id, each
// with its creator's current role in the key's organization.
type apiKeyFinder interface {
	APIKeyWithRole(ctx context.Context, digest string) (*storage.APIKey, string, error)
	APIKeyByIDWithRole(ctx context.Context, id string) (*storage.APIKey, string, error)
}

// UsageRecorder counts uses of API keys.
type UsageRecorder interface {
	Record(keyID string)
}

var _ fosite.TokenEndpointHandler = (*APIKeyExchange)(nil)

// APIKeyExchange is the API-key grant: an sk_live_ key traded for a
// short-lived RFC 9068 JWT with the key's permissions or fewer
// (DESIGN.md). The key is the credential, so a client need not
// authenticate; one that does must be allowed the grant. Nothing of the
// request is stored: the key lives only in memory for the request.
type APIKeyExchange struct {
	provider *Provider
	keys     apiKeyFinder
	usage    UsageRecorder
}

// CanHandleTokenEndpointRequest matches token exchange of an API key;
// other token exchanges fall through (RFC 8693 §2.1).
func (h *APIKeyExchange) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	return r.GetGrantTypes().ExactOne(GrantTypeTokenExchange) &&
		r.GetRequestForm().Get("subject_token_type") == TokenTypeAPIKey
}

// CanSkipClientAuth is true: the API key is the credential.
func (h *APIKeyExchange) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return true }

// HandleTokenEndpointRequest validates the exchange (RFC 8693 §2.1): the
// key (a missing, malformed, unknown, revoked or expired subject_token, or
// one whose creator left its organization, is invalid_request, §2.2.2),
// the scopes (never beyond the key's, and only those its creator's role
// holds now: tenancy.Covers), and the audience.
func (h *APIKeyExchange) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	client := authenticatedClient(r)
	if client == nil && triedClientAuth(ctx, r) {
		return fosite.ErrInvalidClient.WithHint("Client authentication failed; send no client credentials at all to use the API key alone.")
	}
	if client != nil && !client.GetGrantTypes().Has(GrantTypeTokenExchange) {
		return fosite.ErrUnauthorizedClient.WithHint("The client is not allowed the token-exchange grant.")
	}
	form := r.GetRequestForm()
	if form.Get("actor_token") != "" {
		return fosite.ErrInvalidRequest.WithHint("actor_token is not supported.")
	}
	if rt := form.Get("requested_token_type"); rt != "" && rt != TokenTypeAccessToken {
		return fosite.ErrInvalidRequest.WithHintf("requested_token_type must be %s.", TokenTypeAccessToken)
	}
	key, role, err := h.provider.lookupAPIKey(ctx, form.Get("subject_token"))
	if err != nil {
		return err
	}

	held := key.ScopeList()
	requested := r.GetRequestedScopes()
	if len(requested) == 0 {
		// The key's own scopes, as far as its creator's role holds them now.
		requested = tenancy.Narrow(role, held)
	}
	for _, s := range tenancy.Parse(strings.Join(requested, " ")) {
		switch {
		case !tenancy.Known(s):
			return fosite.ErrInvalidScope.WithHintf("%q is not a scope this server knows.", s)
		case !tenancy.Covers(role, held, s) && tenancy.Covers(storage.RoleOwner, held, s):
			return fosite.ErrInvalidScope.WithHintf("The API key's creator is %s of its organization, who cannot hold the scope %q.", tenancy.RoleWithArticle(role), s)
		case !tenancy.Covers(role, held, s):
			return fosite.ErrInvalidScope.WithHintf("The API key does not grant the scope %q.", s)
		case client != nil && !tenancy.Satisfies(client.GetScopes(), s):
			return fosite.ErrInvalidScope.WithHintf("The client may not request the scope %q.", s)
		}
		r.GrantScope(s)
	}
	if len(r.GetGrantedScopes()) == 0 {
		return fosite.ErrInvalidScope.WithHint("None of the API key's scopes is one its creator's role holds now.")
	}

	audiences := append(slices.Clone(r.GetRequestedAudience()), form["resource"]...)
	if len(audiences) == 0 {
		audiences = h.provider.opts.APIAudiences[:1]
	}
	for _, a := range audiences {
		if !slices.Contains(h.provider.opts.APIAudiences, a) {
			return ErrInvalidTarget.WithHintf("An API key cannot be exchanged for the audience %q.", a)
		}
		r.GrantAudience(a)
	}

	sess, ok := r.GetSession().(*Session)
	if !ok {
		return fosite.ErrServerError.WithDebug("the token endpoint's session is not a *provider.Session")
	}
	now := h.provider.Now()
	exp := now.Add(h.provider.opts.APIKeyJWTTTL)
	if key.ExpiresAt != nil && key.ExpiresAt.Before(exp) {
		exp = *key.ExpiresAt
	}
	sess.SetSubject(key.UserID)
	sess.SetExpiresAt(fosite.AccessToken, exp.UTC().Truncate(time.Second))
	claims := sess.IDTokenClaims()
	if claims.Extra == nil {
		claims.Extra = map[string]any{}
	}
	claims.Extra[ClaimOrg] = key.OrgID
	claims.Extra[extraKeyID] = key.ID
	if h.usage != nil {
		h.usage.Record(key.ID)
	}
	return nil
}

// authenticatedClient returns the client that authenticated, or nil: fosite
// leaves an empty client in a request no client authenticated.
func authenticatedClient(r fosite.AccessRequester) fosite.Client {
	if c := r.GetClient(); c != nil && c.GetID() != "" {
		return c
	}
	return nil
}

// triedClientAuth reports whether the request carried client credentials,
// so that a failed client authentication is not taken for none at all.
func triedClientAuth(ctx context.Context, r fosite.AccessRequester) bool {
	if hr, ok := ctx.Value(fosite.RequestContextKey).(*http.Request); ok {
		if _, _, basic := hr.BasicAuth(); basic {
			return true
		}
	}
	f := r.GetRequestForm()
	return f.Get("client_id") != "" || f.Get("client_secret") != "" || f.Get("client_assertion") != ""
}

// PopulateTokenEndpointResponse issues the RFC 9068 JWT (RFC 8693 §2.2.1).
func (h *APIKeyExchange) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	sess := r.GetSession().(openid.Session)
	keyID, _ := sess.IDTokenClaims().Extra[extraKeyID].(string)
	org := SessionOrg(sess)
	clientID := keyID // RFC 9068 wants a client_id; with no client, the key is the client
	if c := authenticatedClient(r); c != nil {
		clientID = c.GetID()
	}
	now := h.provider.Now().UTC().Truncate(time.Second)
	exp := sess.GetExpiresAt(fosite.AccessToken)
	token, _, err := h.provider.signAccessJWT(AccessClaims{
		Issuer:    h.provider.Issuer(),
		Subject:   sess.GetSubject(),
		Audience:  r.GetGrantedAudience(),
		Org:       org,
		Expiry:    exp.Unix(),
		IssuedAt:  now.Unix(),
		NotBefore: now.Unix(),
		ID:        storage.RandomBase62(22),
		Scope:     strings.Join(r.GetGrantedScopes(), " "),
		ClientID:  clientID,
		KeyID:     keyID,
	})
	if err != nil {
		return fosite.ErrServerError.WithWrap(err)
	}
	resp.SetAccessToken(token)
	resp.SetTokenType("Bearer")
	resp.SetExpiresIn(exp.Sub(now))
	resp.SetScopes(r.GetGrantedScopes())
	resp.SetExtra("issued_token_type", TokenTypeAccessToken)
	return nil
}

// lookupAPIKey finds the key a secret names, with its creator's role in
// the key's organization now, and checks it works, with an RFC 8693
// invalid_request that says what is wrong when it does not.
func (p *Provider) lookupAPIKey(ctx context.Context, secret string) (*storage.APIKey, string, error) {
	if secret == "" {
		return nil, "", fosite.ErrInvalidRequest.WithHint("The subject_token (an sk_live_ API key) is missing.")
	}
	if apikeys.CheckFormat(secret) != nil {
		return nil, "", fosite.ErrInvalidRequest.WithHint("The subject_token is not a well-formed API key (sk_live_ followed by 43 letters and digits).")
	}
	key, role, err := p.apiKeys.APIKeyWithRole(ctx, storage.DigestHex(secret))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, "", fosite.ErrInvalidRequest.WithHint("The API key is unknown.")
	} else if err != nil {
		return nil, "", fosite.ErrServerError.WithWrap(err)
	}
	switch key.State(p.Now()) {
	case storage.KeyRevoked:
		return nil, "", fosite.ErrInvalidRequest.WithHint("The API key has been revoked.")
	case storage.KeyExpired:
		return nil, "", fosite.ErrInvalidRequest.WithHint("The API key has expired.")
	}
	if role == "" {
		return nil, "", fosite.ErrInvalidRequest.WithHint("The API key's creator is no longer a member of its organization.")
	}
	return key, role, nil
}

// IntrospectedKey is an sk_live_ key as introspection sees it: the scopes
// are the key's, narrowed to what its creator's role holds now.
type IntrospectedKey struct {
	*storage.APIKey
	Scopes []string
}

// IntrospectAPIKey returns the key a presented sk_live_ secret names if it
// works now — not revoked or expired, and its creator still a member of
// its organization — and counts the use. Anything else is simply inactive
// (nil).
func (p *Provider) IntrospectAPIKey(ctx context.Context, secret string) (*IntrospectedKey, error) {
	if apikeys.CheckFormat(secret) != nil {
		return nil, nil
	}
	key, role, err := p.apiKeys.APIKeyWithRole(ctx, storage.DigestHex(secret))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	scopes := tenancy.Narrow(role, key.ScopeList())
	if key.State(p.Now()) != storage.KeyActive || role == "" || len(scopes) == 0 {
		return nil, nil
	}
	if p.opts.Usage != nil {
		p.opts.Usage.Record(key.ID)
	}
	return &IntrospectedKey{APIKey: key, Scopes: scopes}, nil
}

// APIKeyActive reports whether the key a JWT was exchanged for still
// works: revoking a key, or its creator leaving the organization, ends its
// JWTs too.
func (p *Provider) APIKeyActive(ctx context.Context, keyID string) (bool, error) {
	key, role, err := p.apiKeys.APIKeyByIDWithRole(ctx, keyID)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	return key.State(p.Now()) == storage.KeyActive && role != "", nil
}
