package clients

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/go-jose/go-jose/v3"

	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// metadata records an invalid_client_metadata problem of field.
func metadata(bad *fields.Errors, field, format string, args ...any) {
	bad.AddCode(ErrCodeInvalidClientMetadata, field, format, args...)
}

// RFC 7591 §3.2.2 error codes.
const (
	ErrCodeInvalidRedirectURI    = "invalid_redirect_uri"
	ErrCodeInvalidClientMetadata = "invalid_client_metadata"
)

func badMetadata(format string, args ...any) error {
	return fields.Errors{{Code: ErrCodeInvalidClientMetadata, Message: fmt.Sprintf(format, args...)}}
}

// Token endpoint authentication methods (RFC 7591 §2).
const (
	AuthSecretBasic   = "client_secret_basic"
	AuthSecretPost    = "client_secret_post"
	AuthNone          = "none"
	AuthPrivateKeyJWT = "private_key_jwt"
)

// AssertionAlgorithms are the algorithms private_key_jwt assertions may use.
var AssertionAlgorithms = []string{"RS256", "ES256"}

// Registration is the client metadata of RFC 7591 §2 (and the parts of
// OpenID Connect Dynamic Client Registration 1.0 this server acts on).
// Metadata it does not know is kept in Extra and returned as sent.
type Registration struct {
	RedirectURIs                []string        `json:"redirect_uris,omitempty"`
	TokenEndpointAuthMethod     string          `json:"token_endpoint_auth_method,omitempty"`
	TokenEndpointAuthSigningAlg string          `json:"token_endpoint_auth_signing_alg,omitempty"`
	GrantTypes                  []string        `json:"grant_types,omitempty"`
	ResponseTypes               []string        `json:"response_types,omitempty"`
	ClientName                  string          `json:"client_name,omitempty"`
	ClientURI                   string          `json:"client_uri,omitempty"`
	LogoURI                     string          `json:"logo_uri,omitempty"`
	Scope                       string          `json:"scope,omitempty"`
	Contacts                    []string        `json:"contacts,omitempty"`
	TOSURI                      string          `json:"tos_uri,omitempty"`
	PolicyURI                   string          `json:"policy_uri,omitempty"`
	JWKSURI                     string          `json:"jwks_uri,omitempty"`
	JWKS                        json.RawMessage `json:"jwks,omitempty"`
	SoftwareID                  string          `json:"software_id,omitempty"`
	SoftwareVersion             string          `json:"software_version,omitempty"`
	PostLogoutRedirectURIs      []string        `json:"post_logout_redirect_uris,omitempty"`
	ApplicationType             string          `json:"application_type,omitempty"`
	RequestURIs                 []string        `json:"request_uris,omitempty"`
	IDTokenSignedResponseAlg    string          `json:"id_token_signed_response_alg,omitempty"`
	UserinfoSignedResponseAlg   string          `json:"userinfo_signed_response_alg,omitempty"`
	RequestObjectSigningAlg     string          `json:"request_object_signing_alg,omitempty"`
	SectorIdentifierURI         string          `json:"sector_identifier_uri,omitempty"`
	SubjectType                 string          `json:"subject_type,omitempty"`
	Extra                       map[string]any  `json:"-"`
}

// Algorithms clients may choose for what the server signs for them, and
// for the request objects they send.
var (
	IDTokenAlgorithms       = []string{string(jose.RS256), string(jose.ES256)}
	UserinfoAlgorithms      = []string{string(jose.RS256), string(jose.ES256)}
	RequestObjectAlgorithms = []string{"none", string(jose.RS256), string(jose.ES256)}
)

// registrationFields are the members Registration reads itself.
var registrationFields = []string{"redirect_uris", "token_endpoint_auth_method", "token_endpoint_auth_signing_alg",
	"grant_types", "response_types", "client_name", "client_uri", "logo_uri", "scope", "contacts", "tos_uri",
	"policy_uri", "jwks_uri", "jwks", "software_id", "software_version", "post_logout_redirect_uris",
	"application_type", "request_uris", "id_token_signed_response_alg", "userinfo_signed_response_alg",
	"request_object_signing_alg", "sector_identifier_uri", "subject_type"}

// readOnlyFields are what the server sets; a client may send them back on
// an update (RFC 7592 §2.2), and they are ignored.
var readOnlyFields = []string{"client_id", "client_secret", "client_id_issued_at", "client_secret_expires_at",
	"registration_access_token", "registration_client_uri"}

// Parse decodes a registration request body; a member of the
// wrong type is invalid_client_metadata naming it, and so is a body over
// MaxRegistrationBytes. Unknown members are kept in Extra, at most
// MaxExtraMembers of them in name order while their JSON stays within
// MaxExtraBytes; the rest are ignored, as RFC 7591 §2 allows.
func Parse(body []byte) (*Registration, error) {
	if len(body) > MaxRegistrationBytes {
		return nil, badMetadata("the client metadata is larger than %d KiB", MaxRegistrationBytes>>10)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil || raw == nil {
		return nil, badMetadata("the request body must be a JSON object of client metadata")
	}
	var reg Registration
	for _, field := range registrationFields {
		v, ok := raw[field]
		if !ok || string(v) == "null" {
			continue
		}
		one, _ := json.Marshal(map[string]json.RawMessage{field: v})
		if err := json.Unmarshal(one, &reg); err != nil {
			return nil, badMetadata("%s has the wrong type", field)
		}
	}
	unknown := make([]string, 0, len(raw))
	for k := range raw {
		if !slices.Contains(registrationFields, k) && !slices.Contains(readOnlyFields, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	size := 0
	for _, k := range unknown {
		if len(reg.Extra) == MaxExtraMembers {
			break
		}
		v := raw[k]
		if size+len(k)+len(v) > MaxExtraBytes {
			continue
		}
		var x any
		if err := json.Unmarshal(v, &x); err == nil {
			if reg.Extra == nil {
				reg.Extra = map[string]any{}
			}
			reg.Extra[k] = x
			size += len(k) + len(v)
		}
	}
	return &reg, nil
}

// checkListLengths refuses lists longer than real clients need, before
// anything else looks at them (finding 7 of the December 2026 audit: 40k
// scope names cost seconds of CPU).
func checkListLengths(reg *Registration) fields.Errors {
	var bad fields.Errors
	for _, l := range []struct {
		field  string
		n, max int
	}{
		{"redirect_uris", len(reg.RedirectURIs), MaxRedirectURIs},
		{"post_logout_redirect_uris", len(reg.PostLogoutRedirectURIs), MaxPostLogoutRedirectURIs},
		{"grant_types", len(reg.GrantTypes), MaxGrantTypes},
		{"response_types", len(reg.ResponseTypes), MaxResponseTypes},
		{"contacts", len(reg.Contacts), MaxContacts},
		{"request_uris", len(reg.RequestURIs), MaxRequestURIs},
	} {
		if l.n <= l.max {
			continue
		}
		code := ErrCodeInvalidClientMetadata
		if l.field == "redirect_uris" {
			code = ErrCodeInvalidRedirectURI
		}
		bad.AddCode(code, l.field, "at most %d are allowed", l.max)
	}
	scopes := 0
	for range strings.FieldsSeq(reg.Scope) {
		if scopes++; scopes > MaxScopes {
			metadata(&bad, "scope", "at most %d scopes are allowed", MaxScopes)
			break
		}
	}
	return bad
}

// Apply validates reg and sets the client's fields from it, on
// registration and on a full update alike (RFC 7592 §2.2). It fills the
// defaults of RFC 7591 §2: client_secret_basic, the authorization code
// grant and the code response type. It finds every problem, one per
// field, and returns them as fields.Errors (the first is the one an
// RFC 7591 answer carries); c is changed only when there is none. A list
// over its cap (MaxRedirectURIs, MaxScopes and the others) is refused
// before anything else is looked at, with only those problems.
func Apply(reg *Registration, c *storage.Client, opts Options) error {
	if bad := checkListLengths(reg); len(bad) > 0 {
		return bad
	}
	var bad fields.Errors
	if opts.RequireName && strings.TrimSpace(storage.StripBidiControls(reg.ClientName)) == "" {
		metadata(&bad, "client_name", "enter your app's name, as people will see it when they sign in")
	}
	if opts.RequireScope && len(strings.Fields(reg.Scope)) == 0 {
		metadata(&bad, "scope", "choose at least one scope")
	}
	method := reg.TokenEndpointAuthMethod
	if method == "" {
		method = AuthSecretBasic
	}
	if !slices.Contains([]string{AuthSecretBasic, AuthSecretPost, AuthNone, AuthPrivateKeyJWT}, method) {
		metadata(&bad, "token_endpoint_auth_method", "%q is not supported (use client_secret_basic, client_secret_post, none or private_key_jwt)", method)
	}
	grants := dedupe(reg.GrantTypes)
	if len(grants) == 0 {
		grants = []string{GrantAuthorizationCode}
	}
	for _, g := range grants {
		if !slices.Contains([]string{GrantAuthorizationCode, GrantRefreshToken, GrantClientCredentials, GrantTokenExchange}, g) {
			metadata(&bad, "grant_types", "%q is not supported (use authorization_code, refresh_token, client_credentials or %s)", g, GrantTokenExchange)
			break
		}
	}
	responses := dedupe(reg.ResponseTypes)
	if len(responses) == 0 && slices.Contains(grants, GrantAuthorizationCode) {
		responses = []string{"code"}
	}
	for _, r := range responses {
		if r != "code" {
			metadata(&bad, "response_types", "%q is not supported; only code is offered", r)
			break
		}
	}
	switch {
	case slices.Contains(responses, "code") && !slices.Contains(grants, GrantAuthorizationCode):
		metadata(&bad, "response_types", "code needs authorization_code among the grant_types")
	case slices.Contains(grants, GrantAuthorizationCode) && !slices.Contains(responses, "code"):
		metadata(&bad, "grant_types", "authorization_code needs code among the response_types")
	case slices.Contains(grants, GrantRefreshToken) && !slices.Contains(grants, GrantAuthorizationCode):
		metadata(&bad, "grant_types", "refresh_token needs authorization_code")
	case method == AuthNone && slices.Contains(grants, GrantClientCredentials):
		metadata(&bad, "grant_types", "client_credentials needs a client that authenticates (token_endpoint_auth_method is none)")
	}

	public := method == AuthNone
	native := reg.ApplicationType == "native"
	if reg.ApplicationType != "" && reg.ApplicationType != "web" && !native {
		metadata(&bad, "application_type", "must be web or native, got %q", reg.ApplicationType)
	}
	redirects := dedupe(reg.RedirectURIs)
	if slices.Contains(grants, GrantAuthorizationCode) && len(redirects) == 0 {
		bad.AddCode(ErrCodeInvalidRedirectURI, "redirect_uris", "at least one is required for the authorization code grant")
	}
	for _, u := range redirects {
		if err := ValidateRedirectURI(u, public || native); err != nil {
			bad.AddCode(ErrCodeInvalidRedirectURI, "redirect_uris", "%v", err)
			break
		}
	}
	logouts := dedupe(reg.PostLogoutRedirectURIs)
	for _, u := range logouts {
		if err := ValidateRedirectURI(u, public || native); err != nil {
			metadata(&bad, "post_logout_redirect_uris", "%v", err)
			break
		}
	}

	scopes := strings.Fields(reg.Scope)
	if len(scopes) == 0 {
		scopes = DefaultScopes
	}
	scopes = dedupe(scopes)
	for _, s := range scopes {
		if !slices.Contains(tenancy.Names(), s) {
			metadata(&bad, "scope", "%q is not supported (supported: %s)", s, strings.Join(tenancy.Names(), " "))
			break
		}
	}

	for _, f := range []struct{ field, url string }{{"client_uri", reg.ClientURI}, {"logo_uri", reg.LogoURI},
		{"tos_uri", reg.TOSURI}, {"policy_uri", reg.PolicyURI}, {"jwks_uri", reg.JWKSURI}} {
		if err := validateWebURL(f.url); err != nil {
			metadata(&bad, f.field, "%v", err)
		}
	}
	for _, u := range reg.RequestURIs {
		if err := validateWebURL(u); err != nil || u == "" {
			metadata(&bad, "request_uris", "%q is not an https URL", u)
			break
		}
	}
	for _, contact := range reg.Contacts {
		if strings.TrimSpace(contact) == "" || len(contact) > 254 {
			metadata(&bad, "contacts", "each contact must be a non-empty address")
			break
		}
	}
	// Pairwise subject identifiers are not offered: every client sees the
	// same sub for a person (discovery says subject_types_supported public).
	if reg.SubjectType != "" && reg.SubjectType != "public" {
		metadata(&bad, "subject_type", "%q is not supported; only public subject identifiers are offered", reg.SubjectType)
	}
	if reg.SectorIdentifierURI != "" {
		metadata(&bad, "sector_identifier_uri", "is only for pairwise subject identifiers, which are not offered")
	}
	for _, check := range []struct {
		field, alg string
		allowed    []string
	}{
		{"id_token_signed_response_alg", reg.IDTokenSignedResponseAlg, IDTokenAlgorithms},
		{"userinfo_signed_response_alg", reg.UserinfoSignedResponseAlg, UserinfoAlgorithms},
		{"request_object_signing_alg", reg.RequestObjectSigningAlg, RequestObjectAlgorithms},
	} {
		if check.alg != "" && !slices.Contains(check.allowed, check.alg) {
			metadata(&bad, check.field, "%q is not supported (use %s)", check.alg, strings.Join(check.allowed, ", "))
		}
	}
	// The name is shown on the consent page: no bidirectional controls,
	// which can make it read as another app's (audit finding 21).
	name := strings.TrimSpace(storage.StripBidiControls(reg.ClientName))
	if len([]rune(name)) > 100 {
		metadata(&bad, "client_name", "at most 100 characters")
	}

	jwks := checkJWKS(reg, &bad)
	alg := reg.TokenEndpointAuthSigningAlg
	if method == AuthPrivateKeyJWT {
		if jwks == "" && reg.JWKSURI == "" {
			metadata(&bad, "token_endpoint_auth_method", "private_key_jwt needs jwks or jwks_uri")
		}
		if alg == "" {
			alg = "RS256"
		}
		if !slices.Contains(AssertionAlgorithms, alg) {
			metadata(&bad, "token_endpoint_auth_signing_alg", "%q is not supported (use %s)", alg, strings.Join(AssertionAlgorithms, " or "))
		}
	} else if alg != "" {
		metadata(&bad, "token_endpoint_auth_signing_alg", "is only for private_key_jwt")
	}
	if len(bad) > 0 {
		return bad
	}

	c.Name = name
	if c.Name == "" {
		c.Name = "Unnamed app"
	}
	c.RedirectURIs = redirects
	c.GrantTypes = grants
	c.ResponseTypes = storage.Strings(responses)
	if c.ResponseTypes == nil {
		c.ResponseTypes = storage.Strings{}
	}
	c.Scopes = scopes
	if c.Audience == nil {
		c.Audience = storage.Strings{}
	}
	c.Public = public
	c.TokenEndpointAuthMethod = method
	c.TokenEndpointAuthSigningAlg = alg
	c.JWKSURI = reg.JWKSURI
	if err := c.SetJWKS(jwks); err != nil {
		return fields.Errors{{Code: ErrCodeInvalidClientMetadata, Field: "jwks", Message: err.Error()}}
	}
	c.PostLogoutRedirectURIs = logouts
	if c.AccessTokenFormat == "" {
		c.AccessTokenFormat = AccessTokenOpaque
	}
	c.Metadata = storage.ClientMetadata{
		LogoURI: reg.LogoURI, ClientURI: reg.ClientURI, PolicyURI: reg.PolicyURI, TOSURI: reg.TOSURI,
		Contacts: reg.Contacts, SoftwareID: reg.SoftwareID, SoftwareVersion: reg.SoftwareVersion,
		RequestURIs: reg.RequestURIs, ApplicationType: reg.ApplicationType, Extra: reg.Extra,
		IDTokenSignedResponseAlg:  reg.IDTokenSignedResponseAlg,
		UserinfoSignedResponseAlg: reg.UserinfoSignedResponseAlg,
		RequestObjectSigningAlg:   reg.RequestObjectSigningAlg,
	}
	return nil
}

// checkJWKS checks the jwks member and returns it ("" when there is
// none or it is refused).
func checkJWKS(reg *Registration, bad *fields.Errors) string {
	if len(reg.JWKS) == 0 {
		return ""
	}
	if reg.JWKSURI != "" {
		metadata(bad, "jwks", "cannot be sent with jwks_uri (RFC 7591 §2)")
		return ""
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(reg.JWKS, &set); err != nil || len(set.Keys) == 0 {
		metadata(bad, "jwks", "must be a JSON Web Key Set with at least one key")
		return ""
	}
	signs := false
	for _, k := range set.Keys {
		if !k.IsPublic() || !k.Valid() {
			metadata(bad, "jwks", "every key must be a valid public key (key %q is not)", k.KeyID)
			return ""
		}
		if !StrongKey(k.Key) {
			metadata(bad, "jwks", "RSA keys must have at least 2048 bits and EC keys must use P-256")
			return ""
		}
		signs = signs || k.Use == "" || k.Use == "sig"
	}
	if !signs {
		metadata(bad, "jwks", `no key is for signatures (each has a "use" other than "sig")`)
		return ""
	}
	return string(reg.JWKS)
}

// validateWebURL accepts "" or an absolute https URL (http only on a
// loopback host, for development).
func validateWebURL(raw string) error {
	if raw == "" {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Hostname() == "" {
		return fmt.Errorf("%q is not an absolute URL", raw)
	}
	if u.Scheme == "https" || (u.Scheme == "http" && IsLoopback(u.Hostname())) {
		return nil
	}
	return fmt.Errorf("%q must use https", raw)
}

// Response is the client information response of RFC 7591
// §3.2.1 and RFC 7592 §3: the metadata as stored, with the client's id,
// and the secret and registration access token when they were just made.
func Response(c *storage.Client, secret, registrationToken, registrationURI string) map[string]any {
	out := map[string]any{}
	for k, v := range c.Metadata.Extra {
		out[k] = v
	}
	out["client_id"] = c.ID
	out["client_id_issued_at"] = c.CreatedAt.Unix()
	out["client_name"] = c.Name
	out["redirect_uris"] = nonNil(c.RedirectURIs)
	out["grant_types"] = nonNil(c.GrantTypes)
	out["response_types"] = nonNil(c.ResponseTypes)
	out["token_endpoint_auth_method"] = c.TokenEndpointAuthMethod
	out["scope"] = strings.Join(c.Scopes, " ")
	set := func(key, v string) {
		if v != "" {
			out[key] = v
		}
	}
	set("client_uri", c.Metadata.ClientURI)
	set("logo_uri", c.Metadata.LogoURI)
	set("tos_uri", c.Metadata.TOSURI)
	set("policy_uri", c.Metadata.PolicyURI)
	set("jwks_uri", c.JWKSURI)
	set("software_id", c.Metadata.SoftwareID)
	set("software_version", c.Metadata.SoftwareVersion)
	set("application_type", c.Metadata.ApplicationType)
	set("token_endpoint_auth_signing_alg", c.TokenEndpointAuthSigningAlg)
	set("id_token_signed_response_alg", c.Metadata.IDTokenSignedResponseAlg)
	set("userinfo_signed_response_alg", c.Metadata.UserinfoSignedResponseAlg)
	set("request_object_signing_alg", c.Metadata.RequestObjectSigningAlg)
	if len(c.Metadata.Contacts) > 0 {
		out["contacts"] = c.Metadata.Contacts
	}
	if len(c.PostLogoutRedirectURIs) > 0 {
		out["post_logout_redirect_uris"] = []string(c.PostLogoutRedirectURIs)
	}
	if len(c.Metadata.RequestURIs) > 0 {
		out["request_uris"] = c.Metadata.RequestURIs
	}
	if c.JWKS != "" {
		out["jwks"] = json.RawMessage(c.JWKS)
	}
	if UsesSecret(c) {
		out["client_secret_expires_at"] = 0 // secrets do not expire; rotate them
	}
	if secret != "" {
		out["client_secret"] = secret
	}
	if registrationToken != "" {
		out["registration_access_token"] = registrationToken
	}
	if registrationURI != "" {
		out["registration_client_uri"] = registrationURI
	}
	return out
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// Identity is what an update says about which client it is.
type Identity struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// ParseIdentity reads client_id and client_secret of an update.
func ParseIdentity(body []byte) (*Identity, error) {
	var id Identity
	if err := json.Unmarshal(body, &id); err != nil {
		return nil, badMetadata("client_id and client_secret must be strings")
	}
	return &id, nil
}

// UsesSecret reports whether a client authenticates with a client secret:
// confidential clients other than private_key_jwt ones, which are given
// none.
func UsesSecret(c *storage.Client) bool {
	return !c.Public && c.TokenEndpointAuthMethod != AuthPrivateKeyJWT
}
