package provider

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/token/jwt"

	"github.com/ajrly/ajrly-auth/storage"
)

// ClaimsRequest is the claims request parameter of OpenID Connect Core
// §5.5: the claims wanted in the ID token and from UserInfo, each null or
// {"essential": bool, "value": ..., "values": [...]}.
type ClaimsRequest struct {
	IDToken  map[string]json.RawMessage `json:"id_token"`
	Userinfo map[string]json.RawMessage `json:"userinfo"`
}

// ParseClaimsRequest reads the claims parameter ("" is none).
func ParseClaimsRequest(raw string) (*ClaimsRequest, error) {
	if strings.TrimSpace(raw) == "" {
		return &ClaimsRequest{}, nil
	}
	var c ClaimsRequest
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, fosite.ErrInvalidRequest.WithHint("The claims parameter must be a JSON object with id_token and userinfo members (OpenID Connect Core 5.5).")
	}
	for _, m := range []map[string]json.RawMessage{c.IDToken, c.Userinfo} {
		for name, v := range m {
			if string(v) == "null" {
				continue
			}
			var spec struct {
				Essential *bool `json:"essential"`
			}
			if err := json.Unmarshal(v, &spec); err != nil {
				return nil, fosite.ErrInvalidRequest.WithHintf("The claims parameter asks for %q with a value that is neither null nor an object.", name)
			}
		}
	}
	return &c, nil
}

// names returns the claim names asked for in one member, sorted.
func names(m map[string]json.RawMessage) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// claimScope is, for each claim the claims parameter can ask for by name,
// the scope whose consent releases it.
var claimScope = map[string]string{"name": "profile", "email": "email", "email_verified": "email"}

// ConsentScopes returns the scopes a person consents to for an
// authorization request: those it asks for, and those whose claims its
// claims parameter names (asking for the email claim is asking to see the
// email address, with or without the email scope).
func ConsentScopes(ar fosite.AuthorizeRequester) []string {
	scopes := slices.Clone([]string(ar.GetRequestedScopes()))
	req, err := ParseClaimsRequest(ar.GetRequestForm().Get("claims"))
	if err != nil {
		return scopes
	}
	for _, name := range append(req.IDTokenClaims(), req.UserinfoClaims()...) {
		if s, ok := claimScope[name]; ok && !slices.Contains(scopes, s) {
			scopes = append(scopes, s)
		}
	}
	return scopes
}

// SubjectValue returns the sub the claims parameter demands for the ID
// token ("" when it demands none): the authorization may only succeed for
// that person (OpenID Connect Core §5.5.1).
func (c *ClaimsRequest) SubjectValue() string {
	var spec struct {
		Value string `json:"value"`
	}
	if raw, ok := c.IDToken["sub"]; ok && json.Unmarshal(raw, &spec) == nil {
		return spec.Value
	}
	return ""
}

// IDTokenClaims returns the names asked for in the ID token.
func (c *ClaimsRequest) IDTokenClaims() []string { return names(c.IDToken) }

// UserinfoClaims returns the names asked for from UserInfo.
func (c *ClaimsRequest) UserinfoClaims() []string { return names(c.Userinfo) }

// SignJWT signs claims as a JWT (typ JWT) with the current key of alg; it
// signs UserInfo answers for clients that registered an algorithm.
func (p *Provider) SignJWT(alg string, claims map[string]any) (string, error) {
	return p.signJWT(alg, "JWT", claims)
}

// UserClaims returns the standard claims of a person that the granted
// scopes release (OpenID Connect Core §5.4), and those named (by the claims
// parameter, §5.5, which the person consented to), always with sub.
func UserClaims(u *storage.User, scopes fosite.Arguments, named ...string) map[string]any {
	claims := map[string]any{"sub": u.ID}
	want := func(scope, claim string) bool { return scopes.Has(scope) || slices.Contains(named, claim) }
	if want("profile", "name") && u.Name != "" {
		claims["name"] = u.Name
	}
	if want("email", "email") {
		claims["email"] = u.Email
	}
	if want("email", "email_verified") {
		claims["email_verified"] = u.EmailVerified
	}
	return claims
}

// Authorization is who allowed an authorization: the person, the
// organization they act in, when they signed in and when the app asked.
type Authorization struct {
	User                  *storage.User
	OrgID                 string
	AuthTime, RequestedAt time.Time
}

// NewAuthSession builds the fosite session of an authorization: the ID
// token's claims (the standard claims the granted scopes release, those
// the claims parameter asked for in it, and the organization), the
// subject, the claims UserInfo must add, and when the grant began.
// Introspection and UserInfo read the org claim back from it.
func NewAuthSession(a Authorization, scopes fosite.Arguments, claims *ClaimsRequest, issuer string) *Session {
	extra := UserClaims(a.User, scopes, claims.IDTokenClaims()...)
	delete(extra, "sub")
	extra[ClaimOrg] = a.OrgID
	return &Session{DefaultSession: openid.DefaultSession{
		Subject:  a.User.ID,
		Username: a.User.Email,
		Claims: &jwt.IDTokenClaims{
			Issuer:                          issuer,
			Subject:                         a.User.ID,
			AuthTime:                        a.AuthTime.UTC().Truncate(time.Second),
			RequestedAt:                     a.RequestedAt.UTC().Truncate(time.Second),
			AuthenticationMethodsReferences: []string{"pwd"},
			Extra:                           extra,
		},
		Headers: &jwt.Headers{},
	}, UserinfoClaims: claims.UserinfoClaims(), GrantedAt: a.RequestedAt.UTC()}
}

// UserinfoClaims are the UserInfo answer (OpenID Connect Core §5.3.2) for
// the person u of a token granted scopes with session sess: the claims
// the scopes release, those the claims parameter asked UserInfo for, and
// the organization.
func UserinfoClaims(u *storage.User, scopes fosite.Arguments, sess fosite.Session) map[string]any {
	var named []string
	if s, ok := sess.(*Session); ok {
		named = s.UserinfoClaims
	}
	claims := UserClaims(u, scopes, named...)
	if org := SessionOrg(sess); org != "" {
		claims[ClaimOrg] = org
	}
	return claims
}
