// Package clients is the one client rulebook: the command line
// (`clients create`), dynamic registration (/register, RFC 7591 and 7592)
// and the developer dashboard all validate a client's metadata with Apply,
// with the same rules and the same messages, as typed field problems
// (fields.Errors); it also makes client secrets, rotates them, and makes
// registration and initial access tokens. What only the operator decides —
// first-party apps, resource servers, the access token format — is set
// only through Spec, which only the command line (and tests) use.
package clients

import (
	"encoding/hex"
	"errors"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// How /register admits clients (RFC 7591 §3): anyone, with an initial
// access token, or not at all.
const (
	RegistrationOpen  = "open"
	RegistrationToken = "token"
	RegistrationOff   = "off"
)

// DefaultScopes are the scopes a client gets when it asks for none.
var DefaultScopes = []string{"openid", "profile", "email", "offline_access", "read", "write"}

// Options are what a surface asks of Apply beyond RFC 7591, whose
// client_name and scope are optional: a person registering an app by hand
// names it and picks its scopes.
type Options struct {
	RequireName, RequireScope bool
}

// Spec is a client as the operator asks for it on the command line: the
// metadata in short, plus what only the operator decides.
type Spec struct {
	Name         string
	RedirectURIs []string
	Scopes       []string
	// GrantTypes default to authorization_code and refresh_token.
	GrantTypes []string
	// Public clients (native and browser apps) have no secret and must use
	// PKCE.
	Public bool
	// PostLogoutRedirectURIs are where RP-initiated logout may send people
	// back to; the same rules as redirect URIs apply.
	PostLogoutRedirectURIs []string
	// FirstParty clients are the operator's own apps: nobody is asked to
	// consent to them.
	FirstParty bool
	// ResourceServer clients may introspect every token (RFC 7662 §4).
	ResourceServer bool
	// AccessTokenFormat is AccessTokenOpaque (the default) or
	// AccessTokenJWT (RFC 9068).
	AccessTokenFormat string
}

// Registration is the spec as client metadata.
func (s Spec) Registration() *Registration {
	reg := &Registration{
		ClientName:             s.Name,
		RedirectURIs:           s.RedirectURIs,
		Scope:                  strings.Join(s.Scopes, " "),
		GrantTypes:             s.GrantTypes,
		PostLogoutRedirectURIs: s.PostLogoutRedirectURIs,
		TokenEndpointAuthMethod: func() string {
			if s.Public {
				return AuthNone
			}
			return AuthSecretBasic
		}(),
	}
	if len(reg.GrantTypes) == 0 {
		reg.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
	}
	return reg
}

// New validates a spec with the rules every surface uses, and returns the
// client to store and, for a client that uses one, its secret, which is
// shown once and never stored. Every problem is reported, as fields.Errors.
func New(s Spec) (*storage.Client, string, error) {
	var bad fields.Errors
	format := s.AccessTokenFormat
	if format == "" {
		format = AccessTokenOpaque
	}
	if format != AccessTokenOpaque && format != AccessTokenJWT {
		bad.Add("access_token_format", "%q is not supported (use opaque or jwt)", format)
	}
	c, secret, err := Create(s.Registration(), Options{RequireName: true}, "")
	var problems fields.Errors
	if errors.As(err, &problems) {
		bad = append(problems, bad...)
	} else if err != nil {
		return nil, "", err
	}
	if len(bad) > 0 {
		return nil, "", bad
	}
	c.FirstParty, c.ResourceServer, c.AccessTokenFormat = s.FirstParty, s.ResourceServer, format
	return c, secret, nil
}

// Create validates reg under opts and returns a new client of the
// organization orgID ("" for none) with its id and, when it authenticates
// with one, its secret (shown once, stored as a digest).
func Create(reg *Registration, opts Options, orgID string) (*storage.Client, string, error) {
	c := &storage.Client{ID: storage.NewID("cl"), OrgID: orgID}
	if err := Apply(reg, c, opts); err != nil {
		return nil, "", err
	}
	secret := ""
	if UsesSecret(c) {
		secret, c.SecretDigest = NewSecret()
	}
	return c, secret, nil
}

// NewSecret returns a fresh client secret (256 bits) and the digest to
// store. The secret is shown once and never kept.
func NewSecret() (secret string, digest []byte) {
	secret = storage.NewSecret()
	return secret, storage.Digest(secret)
}

// IssueRegistrationToken gives c a new registration access token (RFC 7592
// §1), returned once; only its digest is kept.
func IssueRegistrationToken(c *storage.Client) string {
	token := storage.NewSecret()
	c.RegistrationTokenDigest = storage.DigestHex(token)
	return token
}

// ErrNoSecret is a client that has no secret to rotate: public clients,
// and those that authenticate with private_key_jwt.
var ErrNoSecret = errors.New("the client has no secret")

// RotateSecret returns c with a new secret, and the secret. Former secrets
// still inside their grace period are kept; the current one joins them for
// grace, so deployments can move over; a grace of 0 stops every former
// secret at once (a leak).
func RotateSecret(c *storage.Client, grace time.Duration, now time.Time) (*storage.Client, string, error) {
	if !UsesSecret(c) {
		return nil, "", ErrNoSecret
	}
	var kept storage.RotatedSecrets
	if grace > 0 {
		for _, s := range c.RotatedSecrets {
			if now.Before(s.ExpiresAt) {
				kept = append(kept, s)
			}
		}
		if len(c.SecretDigest) > 0 {
			kept = append(kept, storage.RotatedSecret{Digest: hex.EncodeToString(c.SecretDigest), ExpiresAt: now.Add(grace).UTC()})
		}
	}
	secret, digest := NewSecret()
	updated := *c
	updated.SecretDigest, updated.RotatedSecrets = digest, kept
	return &updated, secret, nil
}

// NewInitialAccessToken makes an initial access token (RFC 7591 §3) that
// registers clients for orgID ("" for none), made by createdBy, working
// for lifetime (0: until revoked). It returns the token to store and the
// secret, shown once.
func NewInitialAccessToken(orgID, createdBy string, lifetime time.Duration, now time.Time) (*storage.InitialAccessToken, string) {
	secret := storage.NewSecret()
	t := &storage.InitialAccessToken{ID: storage.NewID("iat"), Digest: storage.DigestHex(secret), OrgID: orgID,
		CreatedBy: createdBy, CreatedAt: now.UTC()}
	if lifetime > 0 {
		at := now.Add(lifetime).UTC().Truncate(time.Second)
		t.ExpiresAt = &at
	}
	return t, secret
}

// RegistrationOf is c's stored metadata as a registration: what an edit
// starts from, so that what a form does not show is kept.
func RegistrationOf(c *storage.Client) *Registration {
	reg := &Registration{
		RedirectURIs:                c.RedirectURIs,
		TokenEndpointAuthMethod:     c.TokenEndpointAuthMethod,
		TokenEndpointAuthSigningAlg: c.TokenEndpointAuthSigningAlg,
		GrantTypes:                  c.GrantTypes,
		ResponseTypes:               c.ResponseTypes,
		ClientName:                  c.Name,
		ClientURI:                   c.Metadata.ClientURI,
		LogoURI:                     c.Metadata.LogoURI,
		Scope:                       strings.Join(c.Scopes, " "),
		Contacts:                    c.Metadata.Contacts,
		TOSURI:                      c.Metadata.TOSURI,
		PolicyURI:                   c.Metadata.PolicyURI,
		JWKSURI:                     c.JWKSURI,
		SoftwareID:                  c.Metadata.SoftwareID,
		SoftwareVersion:             c.Metadata.SoftwareVersion,
		PostLogoutRedirectURIs:      c.PostLogoutRedirectURIs,
		ApplicationType:             c.Metadata.ApplicationType,
		RequestURIs:                 c.Metadata.RequestURIs,
		IDTokenSignedResponseAlg:    c.Metadata.IDTokenSignedResponseAlg,
		UserinfoSignedResponseAlg:   c.Metadata.UserinfoSignedResponseAlg,
		RequestObjectSigningAlg:     c.Metadata.RequestObjectSigningAlg,
		Extra:                       c.Metadata.Extra,
	}
	if c.JWKS != "" {
		reg.JWKS = []byte(c.JWKS)
	}
	return reg
}
