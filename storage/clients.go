package storage

import (
	"context"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"
	"gorm.io/gorm"
)

var (
	_ fosite.Client              = (*Client)(nil)
	_ fosite.OpenIDConnectClient = (*Client)(nil)
)

// Client is a registered OAuth 2.0 client. Its secret is kept only as a
// SHA-256 digest: secrets are server-generated with 256 bits of entropy, so a
// slow hash would add nothing but latency to every token request.
type Client struct {
	ID                      string `gorm:"primaryKey"`
	Name                    string
	SecretDigest            []byte
	RedirectURIs            Strings
	GrantTypes              Strings
	ResponseTypes           Strings
	Scopes                  Strings
	Audience                Strings
	Public                  bool
	TokenEndpointAuthMethod string
	// FirstParty clients are our own apps: people are not asked to consent.
	// Only the operator sets it (the command line or the configuration).
	FirstParty bool
	// ResourceServer clients may introspect any token (RFC 7662 §4): the
	// operator marks the APIs that check tokens. Other clients learn only
	// about their own tokens.
	ResourceServer bool
	// PostLogoutRedirectURIs are where RP-initiated logout may send people.
	PostLogoutRedirectURIs Strings
	// AccessTokenFormat is "opaque" (at_live_ tokens, checked by
	// introspection) or "jwt" (RFC 9068 JWTs apps verify themselves).
	AccessTokenFormat string
	// OrgID is the organization that registered the client in the
	// developer dashboard ("" for clients of the command line and of open
	// registration).
	OrgID string
	// Metadata is the rest of the registration (RFC 7591 §2): links,
	// logo, contacts.
	Metadata ClientMetadata
	// JWKS (a JSON Web Key Set) or JWKSURI hold the client's public keys
	// for private_key_jwt; TokenEndpointAuthSigningAlg is the algorithm its
	// assertions must use.
	JWKS                        string `gorm:"column:jwks"`
	JWKSURI                     string `gorm:"column:jwks_uri"`
	TokenEndpointAuthSigningAlg string
	// RegistrationTokenDigest is the SHA-256 (hex) of the registration
	// access token of RFC 7592; empty for clients not registered by API.
	RegistrationTokenDigest string
	// RotatedSecrets are former secrets still accepted until they expire.
	RotatedSecrets RotatedSecrets
	CreatedAt      time.Time
	UpdatedAt      time.Time

	jwks *jose.JSONWebKeySet // JWKS parsed, by AfterFind or SetJWKS
}

// TableName is the clients table.
func (Client) TableName() string { return "clients" }

// GetID returns the client id.
func (c *Client) GetID() string { return c.ID }

// GetHashedSecret returns the SHA-256 digest of the secret.
func (c *Client) GetHashedSecret() []byte { return c.SecretDigest }

// GetRedirectURIs returns the registered redirect URIs.
func (c *Client) GetRedirectURIs() []string { return c.RedirectURIs }

// GetGrantTypes returns the grant types the client may use.
func (c *Client) GetGrantTypes() fosite.Arguments { return fosite.Arguments(c.GrantTypes) }

// GetResponseTypes returns the response types the client may use.
func (c *Client) GetResponseTypes() fosite.Arguments { return fosite.Arguments(c.ResponseTypes) }

// GetScopes returns the scopes the client may request.
func (c *Client) GetScopes() fosite.Arguments { return fosite.Arguments(c.Scopes) }

// IsPublic reports whether the client has no secret (native and browser apps).
func (c *Client) IsPublic() bool { return c.Public }

// GetAudience returns the audiences the client may request.
func (c *Client) GetAudience() fosite.Arguments { return fosite.Arguments(c.Audience) }

// GetRequestURIs returns the pre-registered request_uri values.
func (c *Client) GetRequestURIs() []string { return c.Metadata.RequestURIs }

// GetJSONWebKeys returns the client's registered keys, or nil.
func (c *Client) GetJSONWebKeys() *jose.JSONWebKeySet { return c.jwks }

// GetJSONWebKeysURI returns where the client publishes its keys, or "".
func (c *Client) GetJSONWebKeysURI() string { return c.JWKSURI }

// SetJWKS sets the client's key set from its JSON, which must parse.
func (c *Client) SetJWKS(raw string) error {
	if raw == "" {
		c.JWKS, c.jwks = "", nil
		return nil
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(raw), &set); err != nil {
		return fmt.Errorf("jwks: %w", err)
	}
	SignatureKeys(&set)
	c.JWKS, c.jwks = raw, &set
	return nil
}

// SignatureKeys marks the keys of a set that leave out "use" as signature
// keys: the member is optional (RFC 7517 §4.2) and many sets omit it,
// while fosite looks up assertion keys by use "sig".
func SignatureKeys(set *jose.JSONWebKeySet) {
	for i := range set.Keys {
		if set.Keys[i].Use == "" {
			set.Keys[i].Use = "sig"
		}
	}
}

// AfterFind parses the stored key set once, when the row is read, so that
// authenticating with private_key_jwt does not parse it again.
func (c *Client) AfterFind(*gorm.DB) error {
	return c.SetJWKS(c.JWKS)
}

// GetRequestObjectSigningAlgorithm returns the algorithm the client's
// request objects must use ("" for any supported one).
func (c *Client) GetRequestObjectSigningAlgorithm() string { return c.Metadata.RequestObjectSigningAlg }

// GetTokenEndpointAuthMethod returns how the client authenticates.
func (c *Client) GetTokenEndpointAuthMethod() string { return c.TokenEndpointAuthMethod }

// GetTokenEndpointAuthSigningAlgorithm returns the algorithm client
// assertions must use (RS256 unless registered otherwise).
func (c *Client) GetTokenEndpointAuthSigningAlgorithm() string {
	if c.TokenEndpointAuthSigningAlg == "" {
		return "RS256"
	}
	return c.TokenEndpointAuthSigningAlg
}

// SecretMatches reports whether secret is the client's secret, or a former
// one still inside its grace period at now; it compares in constant time.
func (c *Client) SecretMatches(secret string, now time.Time) bool {
	ok := DigestEqual(c.SecretDigest, secret)
	for _, r := range c.RotatedSecrets {
		if now.Before(r.ExpiresAt) && r.Matches(secret) {
			ok = true
		}
	}
	return ok
}

// ClientMetadata is the part of a client's registration (RFC 7591 §2,
// OpenID Connect Dynamic Registration) kept as one JSON document.
type ClientMetadata struct {
	LogoURI    string   `json:"logo_uri,omitempty"`
	ClientURI  string   `json:"client_uri,omitempty"`
	PolicyURI  string   `json:"policy_uri,omitempty"`
	TOSURI     string   `json:"tos_uri,omitempty"`
	Contacts   []string `json:"contacts,omitempty"`
	SoftwareID string   `json:"software_id,omitempty"`
	// SoftwareVersion is the version of the client software.
	SoftwareVersion string `json:"software_version,omitempty"`
	// RequestURIs are the request_uri values the client pre-registered.
	RequestURIs []string `json:"request_uris,omitempty"`
	// ApplicationType is web or native (OpenID Connect Registration).
	ApplicationType string `json:"application_type,omitempty"`
	// IDTokenSignedResponseAlg, UserinfoSignedResponseAlg and
	// RequestObjectSigningAlg are the client's algorithms for ID tokens,
	// signed UserInfo answers ("" for plain JSON) and request objects ("":
	// any supported one).
	IDTokenSignedResponseAlg  string `json:"id_token_signed_response_alg,omitempty"`
	UserinfoSignedResponseAlg string `json:"userinfo_signed_response_alg,omitempty"`
	RequestObjectSigningAlg   string `json:"request_object_signing_alg,omitempty"`
	// Extra keeps registered metadata the server does not act on, so a
	// client reading its registration back gets what it sent.
	Extra map[string]any `json:"extra,omitempty"`
}

// Value encodes the metadata as JSON.
func (m ClientMetadata) Value() (driver.Value, error) {
	b, err := json.Marshal(m)
	return string(b), err
}

// Scan decodes the JSON metadata.
func (m *ClientMetadata) Scan(src any) error {
	b, err := scanBytes(src)
	if err != nil || len(b) == 0 {
		*m = ClientMetadata{}
		return err
	}
	return json.Unmarshal(b, m)
}

// RotatedSecret is a former client secret, accepted until ExpiresAt.
type RotatedSecret struct {
	Digest    string    `json:"digest"` // hex SHA-256
	ExpiresAt time.Time `json:"expires_at"`
}

// Matches reports whether secret is this former secret.
func (r RotatedSecret) Matches(secret string) bool {
	raw, err := hex.DecodeString(r.Digest)
	return err == nil && DigestEqual(raw, secret)
}

// RotatedSecrets is a client's former secrets, stored as JSON.
type RotatedSecrets []RotatedSecret

// Value encodes the list as JSON.
func (l RotatedSecrets) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]RotatedSecret(l))
	return string(b), err
}

// Scan decodes the JSON list.
func (l *RotatedSecrets) Scan(src any) error {
	b, err := scanBytes(src)
	if err != nil || len(b) == 0 {
		*l = nil
		return err
	}
	return json.Unmarshal(b, (*[]RotatedSecret)(l))
}

func scanBytes(src any) ([]byte, error) {
	switch v := src.(type) {
	case nil:
		return nil, nil
	case string:
		return []byte(v), nil
	case []byte:
		return v, nil
	}
	return nil, fmt.Errorf("scan: unsupported type %T", src)
}

// Strings is a list of strings stored as a JSON array, the same on SQLite
// and PostgreSQL.
type Strings []string

// Value encodes the list as JSON.
func (l Strings) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	return string(b), err
}

// Scan decodes a JSON array.
func (l *Strings) Scan(src any) error {
	b, err := scanBytes(src)
	if err != nil || b == nil {
		*l = nil
		return err
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("scan Strings: %w", err)
	}
	*l = out
	return nil
}

// CreateClient stores a new client. The caller sets the secret digest.
func (s *Store) CreateClient(ctx context.Context, c *Client) error {
	if err := s.conn(ctx).Create(c).Error; err != nil {
		return fmt.Errorf("create client %s: %w", c.ID, s.translate(err, ErrNotFound))
	}
	s.clients.forget(c.ID)
	return nil
}

// UpdateClient replaces a client's stored fields.
func (s *Store) UpdateClient(ctx context.Context, c *Client) error {
	res := s.conn(ctx).Model(&Client{}).Where("id = ?", c.ID).Select("*").Omit("created_at").Updates(c)
	if res.Error != nil {
		return fmt.Errorf("update client %s: %w", c.ID, s.translate(res.Error, ErrNotFound))
	}
	s.clients.forget(c.ID)
	if res.RowsAffected == 0 {
		return fmt.Errorf("update client %s: %w", c.ID, ErrNotFound)
	}
	return nil
}

// DeleteClient removes a client and, in the same transaction, every code
// and token issued to it; its consents and pending sign-ins go by ON DELETE
// CASCADE.
func (s *Store) DeleteClient(ctx context.Context, id string) error {
	err := s.InTx(ctx, func(ctx context.Context) error {
		res := s.conn(ctx).Where("id = ?", id).Delete(&Client{})
		if res.Error != nil {
			return s.translate(res.Error, ErrNotFound)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		for _, table := range []string{tableCodes, tableAccess, tableRefresh, tablePKCE, tableOIDC} {
			if err := s.deleteToken(ctx, table, "client_id", id); err != nil {
				return err
			}
		}
		return nil
	})
	s.clients.forget(id)
	if err != nil {
		return fmt.Errorf("delete client %s: %w", id, err)
	}
	return nil
}

// ListClients returns every client, oldest first.
func (s *Store) ListClients(ctx context.Context) ([]Client, error) {
	var out []Client
	if err := s.conn(ctx).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list clients: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// FindClient returns a client straight from the database, or ErrNotFound.
func (s *Store) FindClient(ctx context.Context, id string) (*Client, error) {
	var c Client
	if err := s.conn(ctx).Where("id = ?", id).Take(&c).Error; err != nil {
		return nil, fmt.Errorf("find client %s: %w", id, s.translate(err, ErrNotFound))
	}
	return &c, nil
}

// GetClient returns a client for fosite (fosite.ErrNotFound when unknown),
// from the in-memory cache when it is fresh.
func (s *Store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.Client(ctx, id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, fosite.ErrNotFound
		}
		return nil, err
	}
	return c, nil
}

// Client returns a client through the cache. The value is shared: callers
// must not modify it.
func (s *Store) Client(ctx context.Context, id string) (*Client, error) {
	if c, ok := s.clients.get(id); ok {
		return c, nil
	}
	c, err := s.FindClient(ctx, id)
	if err != nil {
		return nil, err
	}
	s.clients.put(c)
	return c, nil
}

// clientCache keeps clients in memory for a short time: every token and
// introspection request authenticates a client, and that read is the one the
// hot paths can skip.
type clientCache struct {
	ttl time.Duration
	now func() time.Time
	mu  sync.RWMutex
	m   map[string]cachedClient
}

type cachedClient struct {
	client  *Client
	expires time.Time
}

func newClientCache(ttl time.Duration, now func() time.Time) *clientCache {
	return &clientCache{ttl: ttl, now: now, m: map[string]cachedClient{}}
}

func (c *clientCache) get(id string) (*Client, bool) {
	if c.ttl <= 0 {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.m[id]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) {
		return nil, false
	}
	return e.client, true
}

func (c *clientCache) put(client *Client) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 10000 {
		// Bounded: drop everything rather than track recency.
		c.m = map[string]cachedClient{}
	}
	c.m[client.ID] = cachedClient{client: client, expires: c.now().Add(c.ttl)}
}

func (c *clientCache) forget(id string) {
	c.mu.Lock()
	delete(c.m, id)
	c.mu.Unlock()
}
