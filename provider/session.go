package provider

import (
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
