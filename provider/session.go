package provider

import (
	"time"

	"github.com/mohae/deepcopy"
	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/openid"
)

var _ openid.Session = (*Session)(nil)

// Session is the fosite session of every grant: OpenID Connect's (the ID
// token's claims and headers, the subject, expiries) and what UserInfo
// must answer. Its JSON is DefaultSession's plus its own fields, so rows
// written before a field existed still read.
type Session struct {
	openid.DefaultSession
	// UserinfoClaims are the claims the authorization's claims parameter
	// asked UserInfo for (OpenID Connect Core §5.5), beyond the scopes'.
	UserinfoClaims []string `json:"userinfo_claims,omitempty"`
	// GrantedAt is when the person made the grant (the authorization
	// began). Refreshes keep it, so that the grant can end a fixed time
	// after it (refresh_grant_max_age) however often it is refreshed.
	GrantedAt time.Time `json:"granted_at,omitzero"`
}

// grantStart is when the grant began: GrantedAt, or for sessions stored
// before it existed the time of the authorization request or of the
// sign-in the ID token records. Zero when none is known.
func (s *Session) grantStart() time.Time {
	switch {
	case !s.GrantedAt.IsZero():
		return s.GrantedAt
	case s.Claims == nil:
		return time.Time{}
	case !s.Claims.RequestedAt.IsZero():
		return s.Claims.RequestedAt
	}
	return s.Claims.AuthTime
}

// NewSession returns an empty session.
func NewSession() *Session {
	return &Session{DefaultSession: *openid.NewDefaultSession()}
}

// Clone returns a deep copy; fosite clones the session of a refresh.
func (s *Session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	return deepcopy.Copy(s).(*Session)
}
