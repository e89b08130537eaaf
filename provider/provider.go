package provider

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	"github.com/ory/fosite/token/hmac"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// Defaults for the API-key grant.
const (
	DefaultAPIAudience  = "https://api.ajrly.com"
	DefaultAPIKeyJWTTTL = 15 * time.Minute
)

// Options configures the provider.
type Options struct {
	// Issuer is the OpenID Connect issuer URL, without a trailing slash.
	Issuer string
	// Secret is the system secret (at least 32 bytes); token HMACs and the
	// encryption of signing keys are derived from it.
	Secret          []byte
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	AuthCodeTTL     time.Duration
	IDTokenTTL      time.Duration
	// RefreshGrantMaxAge is how long after it was made a grant can be
	// refreshed; 0 means DefaultRefreshGrantMaxAge.
	RefreshGrantMaxAge time.Duration
	// APIAudiences are the audiences JWT access tokens may be issued for;
	// the first is the default (the API's base URL).
	APIAudiences []string
	// APIKeyJWTTTL is the lifetime of a JWT exchanged for an API key.
	APIKeyJWTTTL time.Duration
	// Usage counts uses of API keys; nil counts nothing.
	Usage  UsageRecorder
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// KeyRotation is how long a signing key signs before Keys().Run
	// replaces it; 0 never.
	KeyRotation time.Duration
}

// Provider is the composed OAuth 2.0 and OpenID Connect engine.
type Provider struct {
	oauth2  *fosite.Fosite
	config  *fositeConfig
	store   *storage.Store
	apiKeys apiKeyFinder
	keys    *KeySet
	tenancy *tenancy.Policy
	fetcher *remoteFetcher
	opts    Options
	// IDTokens signs ID tokens (RS256).
	idSigner *keySigner
}

// fositeConfig is fosite's configuration with the methods we answer
// differently.
type fositeConfig struct {
	*fosite.Config
	tokenURLs []string
}

// GetTokenURLs lists the audiences a client assertion may carry: the token
// endpoint and the issuer (RFC 7523 §3 allows either).
func (c *fositeConfig) GetTokenURLs(context.Context) []string { return c.tokenURLs }

// New composes the provider over store. It loads the signing keys,
// creating them on first start.
func New(ctx context.Context, store *storage.Store, opts Options) (*Provider, error) {
	if opts.Issuer == "" {
		return nil, errors.New("provider: issuer is required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if len(opts.APIAudiences) == 0 {
		opts.APIAudiences = []string{DefaultAPIAudience}
	}
	if opts.RefreshGrantMaxAge <= 0 {
		opts.RefreshGrantMaxAge = DefaultRefreshGrantMaxAge
	}
	if opts.APIKeyJWTTTL <= 0 || opts.APIKeyJWTTTL > time.Hour {
		opts.APIKeyJWTTTL = DefaultAPIKeyJWTTTL
	}
	hmacKey, err := DeriveKey(opts.Secret, PurposeTokenHMAC)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	sealKey, err := DeriveKey(opts.Secret, PurposeSigningKeys)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	keys, err := LoadKeys(ctx, store, sealKey, opts.Now, opts.Logger)
	if err != nil {
		return nil, fmt.Errorf("provider: %w", err)
	}
	keys.SetRotation(KeyRotation{Every: opts.KeyRotation, Lifetime: max(opts.AccessTokenTTL, opts.IDTokenTTL, opts.APIKeyJWTTTL)})

	tokenURL := opts.Issuer + "/token"
	cfg := &fositeConfig{
		Config: &fosite.Config{
			AccessTokenLifespan:            opts.AccessTokenTTL,
			RefreshTokenLifespan:           opts.RefreshTokenTTL,
			AuthorizeCodeLifespan:          opts.AuthCodeTTL,
			IDTokenLifespan:                opts.IDTokenTTL,
			IDTokenIssuer:                  opts.Issuer,
			AccessTokenIssuer:              opts.Issuer,
			TokenURL:                       tokenURL,
			GlobalSecret:                   hmacKey,
			ScopeStrategy:                  tenancy.Satisfies,
			AudienceMatchingStrategy:       fosite.DefaultAudienceMatchingStrategy,
			EnforcePKCEForPublicClients:    true,
			EnablePKCEPlainChallengeMethod: false,
			// Refresh tokens only for grants that include offline_access,
			// which the consent page names (OpenID Connect Core §11).
			RefreshTokenScopes:  []string{"offline_access"},
			ClientSecretsHasher: secretHasher{},
		},
		tokenURLs: []string{tokenURL, opts.Issuer},
	}
	p := &Provider{config: cfg, store: store, apiKeys: store, keys: keys, tenancy: tenancy.New(store), opts: opts}
	// Fetching what clients host is allowed to reach loopback only when the
	// issuer itself is on loopback: development and tests.
	issuerURL, err := url.Parse(opts.Issuer)
	if err != nil {
		return nil, fmt.Errorf("provider: issuer: %w", err)
	}
	p.fetcher = newRemoteFetcher(clients.IsLoopback(issuerURL.Hostname()))
	cfg.JWKSFetcherStrategy = newJWKSFetcher(p.fetcher, opts.Now)
	p.oauth2 = fosite.NewOAuth2Provider(store, cfg)
	cfg.ClientAuthenticationStrategy = p.authenticateClient

	strategy := &tokenStrategy{
		prefixedStrategy: &prefixedStrategy{oauth2.NewHMACSHAStrategyUnPrefixed(&hmac.HMACStrategy{Config: cfg}, cfg)},
		provider:         p,
	}
	p.idSigner = newKeySigner(keys, AlgRS256)
	idHelper := &openid.IDTokenHandleHelper{IDTokenStrategy: idTokenStrategy{
		AlgRS256: &openid.DefaultStrategy{Signer: p.idSigner, Config: cfg},
		AlgES256: &openid.DefaultStrategy{Signer: newKeySigner(keys, AlgES256), Config: cfg},
	}}
	validator := openid.NewOpenIDConnectRequestValidator(p.idSigner, cfg)

	rules := grantRules{grants: store, lifespans: cfg, now: opts.Now, maxAge: opts.RefreshGrantMaxAge, log: opts.Logger}
	codes := &codeHandler{AuthorizeExplicitGrantHandler: &oauth2.AuthorizeExplicitGrantHandler{
		AccessTokenStrategy:    strategy,
		RefreshTokenStrategy:   strategy,
		AuthorizeCodeStrategy:  strategy,
		CoreStorage:            store,
		TokenRevocationStorage: store,
		Config:                 cfg,
	}, grantRules: rules}
	// The order matters: the code handler issues the access token before the
	// OpenID Connect handler computes at_hash from it.
	handlers := []any{
		codes,
		&clientCredentialsHandler{&oauth2.ClientCredentialsGrantHandler{
			HandleHelper: &oauth2.HandleHelper{AccessTokenStrategy: strategy, AccessTokenStorage: store, Config: cfg},
			Config:       cfg,
		}},
		&refreshHandler{RefreshTokenGrantHandler: &oauth2.RefreshTokenGrantHandler{
			AccessTokenStrategy:    strategy,
			RefreshTokenStrategy:   strategy,
			TokenRevocationStorage: store,
			Config:                 cfg,
		}, grantRules: rules, recheck: p.recheckGrant},
		&openid.OpenIDConnectExplicitHandler{
			OpenIDConnectRequestStorage:   store,
			OpenIDConnectRequestValidator: validator,
			IDTokenHandleHelper:           idHelper,
			Config:                        cfg,
		},
		&openid.OpenIDConnectRefreshHandler{IDTokenHandleHelper: idHelper, Config: cfg},
		&pkceHandler{
			Handler: &pkce.Handler{AuthorizeCodeStrategy: strategy, Storage: store, Config: cfg},
			codes:   strategy,
			storage: store,
		},
		&oauth2.CoreValidator{CoreStrategy: strategy, CoreStorage: store, Config: cfg},
		&oauth2.TokenRevocationHandler{TokenRevocationStorage: store, AccessTokenStrategy: strategy, RefreshTokenStrategy: strategy},
		&APIKeyExchange{provider: p, keys: store, usage: opts.Usage},
	}
	for _, h := range handlers {
		if ah, ok := h.(fosite.AuthorizeEndpointHandler); ok {
			cfg.AuthorizeEndpointHandlers.Append(ah)
		}
		if th, ok := h.(fosite.TokenEndpointHandler); ok {
			// Not Append: it drops a handler whose type is already listed,
			// and every wrapper has the same type.
			cfg.TokenEndpointHandlers = append(cfg.TokenEndpointHandlers, onlyWhenApplicable{th})
		}
		if ti, ok := h.(fosite.TokenIntrospector); ok {
			cfg.TokenIntrospectionHandlers.Append(ti)
		}
		if rh, ok := h.(fosite.RevocationHandler); ok {
			cfg.RevocationHandlers.Append(rh)
		}
	}
	return p, nil
}

// idTokenStrategy signs each client's ID tokens with the algorithm it
// registered (id_token_signed_response_alg), RS256 unless it chose ES256.
type idTokenStrategy map[string]openid.OpenIDConnectTokenStrategy

func (s idTokenStrategy) GenerateIDToken(ctx context.Context, lifespan time.Duration, r fosite.Requester) (string, error) {
	alg := AlgRS256
	if c, ok := r.GetClient().(*storage.Client); ok && c.Metadata.IDTokenSignedResponseAlg != "" {
		alg = c.Metadata.IDTokenSignedResponseAlg
	}
	strategy, ok := s[alg]
	if !ok {
		return "", fosite.ErrServerError.WithDebugf("no ID token signer for %s", alg)
	}
	return strategy.GenerateIDToken(ctx, lifespan, r)
}

// onlyWhenApplicable answers fosite's calls to a token handler that does
// not apply to the request with a plain ErrUnknownRequest. fosite asks every
// handler to populate every response, and the handlers that do not apply
// answer with errorsx.WithStack, which captures a stack trace each time:
// 5% of the token endpoint's CPU, measured.
type onlyWhenApplicable struct {
	fosite.TokenEndpointHandler
}

func (h onlyWhenApplicable) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	return h.TokenEndpointHandler.HandleTokenEndpointRequest(ctx, r)
}

func (h onlyWhenApplicable) PopulateTokenEndpointResponse(ctx context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if !h.CanHandleTokenEndpointRequest(ctx, r) {
		return fosite.ErrUnknownRequest
	}
	return h.TokenEndpointHandler.PopulateTokenEndpointResponse(ctx, r, resp)
}

// OAuth2 returns fosite's provider for the endpoint handlers.
func (p *Provider) OAuth2() fosite.OAuth2Provider { return p.oauth2 }

// Tenancy returns the organizations-and-roles policy.
func (p *Provider) Tenancy() *tenancy.Policy { return p.tenancy }

// Keys returns the signing keys.
func (p *Provider) Keys() *KeySet { return p.keys }

// Issuer returns the issuer URL.
func (p *Provider) Issuer() string { return p.opts.Issuer }

// AccessTokenTTL returns the configured access token lifetime.
func (p *Provider) AccessTokenTTL() time.Duration { return p.opts.AccessTokenTTL }

// APIKeyJWTTTL returns the lifetime of JWTs exchanged for API keys.
func (p *Provider) APIKeyJWTTTL() time.Duration { return p.opts.APIKeyJWTTTL }

// Now returns the provider's clock.
func (p *Provider) Now() time.Time { return p.opts.Now() }

// ErrNotIDToken is DecodeIDToken's answer for a token that is not an ID
// token this issuer gave a registered client.
var ErrNotIDToken = errors.New("not an ID token of this issuer")

// DecodeIDToken verifies an ID token we issued (an id_token_hint, say),
// accepting an expired one, and returns its claims. It must be an ID
// token (see keySigner.Decode), of our issuer, to a registered client: its
// first aud (OpenID Connect Core §2: the client_id is in it). Any other
// error is the store's.
func (p *Provider) DecodeIDToken(ctx context.Context, token string) (map[string]any, error) {
	t, err := p.idSigner.Decode(ctx, token)
	if t == nil || (err != nil && !isExpiredOnly(err)) {
		if err == nil {
			err = errors.New("invalid token")
		}
		return nil, fmt.Errorf("%w: %w", ErrNotIDToken, err)
	}
	if iss, _ := t.Claims["iss"].(string); iss != p.opts.Issuer {
		return nil, fmt.Errorf("%w: issued by %q", ErrNotIDToken, iss)
	}
	var client string
	switch aud := t.Claims["aud"].(type) {
	case string:
		client = aud
	case []any:
		if len(aud) > 0 {
			client, _ = aud[0].(string)
		}
	}
	if client == "" {
		return nil, fmt.Errorf("%w: no aud", ErrNotIDToken)
	}
	if _, err := p.store.Client(ctx, client); errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("%w: aud %q is not a client", ErrNotIDToken, client)
	} else if err != nil {
		return nil, fmt.Errorf("look up the id token's client: %w", err)
	}
	return t.Claims, nil
}
