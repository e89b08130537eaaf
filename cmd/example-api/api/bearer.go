package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// How a credential was checked, as answers report it.
const (
	CheckedByIntrospection = "introspection"
	CheckedByJWT           = "jwt"
)

// Kinds of credential, as answers report them.
const (
	CredentialAPIKey      = "api_key"
	CredentialAccessToken = "access_token"
)

// Caller is who a credential speaks for; every answer of the API says it.
type Caller struct {
	Subject  string `json:"sub"`
	Org      string `json:"org"`
	ClientID string `json:"client_id"`
	Scope    string `json:"scope"`
	// Credential is CredentialAPIKey or CredentialAccessToken.
	Credential string `json:"credential"`
	// CheckedBy is CheckedByIntrospection or CheckedByJWT.
	CheckedBy string `json:"checked_by"`
	// KeyID is the API key the credential is, or was exchanged for.
	KeyID string `json:"key_id,omitempty"`
	// ExpiresAt is when the credential stops working; zero when it does
	// not expire (an API key without expiry).
	ExpiresAt time.Time `json:"-"`
}

// HasScope reports whether the caller's scopes satisfy needed, with the
// provider's read/write hierarchy.
func (c *Caller) HasScope(needed string) bool {
	return tenancy.Satisfies(strings.Fields(c.Scope), needed)
}

// AuthError is a refused credential: RFC 6750 §3's challenge and the
// JSON body that goes with it.
type AuthError struct {
	// Status is 400 (invalid_request), 401 (no credential or
	// invalid_token) or 403 (insufficient_scope).
	Status int
	// Code is the RFC 6750 §3.1 error code; empty when the request had
	// no bearer credential at all.
	Code        string
	Description string
	// Scope is the scope that was needed (insufficient_scope).
	Scope  string
	cause  error
	caller *Caller
}

func (e *AuthError) Error() string {
	msg := e.Code
	if msg == "" {
		msg = "no bearer credential"
	}
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.cause != nil {
		msg += ": " + e.cause.Error()
	}
	return msg
}

func (e *AuthError) Unwrap() error { return e.cause }

// Challenge is the WWW-Authenticate value of the refusal (RFC 6750 §3):
// `Bearer realm="example-api"` alone when the request had no credential,
// else with error, error_description and, for insufficient_scope, scope.
func (e *AuthError) Challenge() string {
	var b strings.Builder
	b.WriteString(`Bearer realm="` + Realm + `"`)
	if e.Code == "" {
		return b.String()
	}
	b.WriteString(`, error="` + e.Code + `"`)
	if e.Description != "" {
		b.WriteString(`, error_description="` + challengeText(e.Description) + `"`)
	}
	if e.Scope != "" {
		b.WriteString(`, scope="` + challengeText(e.Scope) + `"`)
	}
	return b.String()
}

// challengeText keeps the characters RFC 6750 §3 allows in error_description
// and scope (%x20-21 / %x23-5B / %x5D-7E): no quote, no backslash, ASCII;
// and at most 300 of them, since a description may quote a token's claims.
func challengeText(s string) string {
	if len(s) > 300 {
		s = s[:297] + "..."
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '"':
			return '\''
		case r == '\\':
			return '/'
		case r < 0x20 || r > 0x7e:
			return -1
		}
		return r
	}, s)
}

// Errors of Authenticate other than an *AuthError.
var (
	// ErrUnavailable means the provider could not be asked (down, timing
	// out, or its database away): the credential is neither good nor bad.
	ErrUnavailable = errors.New("the authorization server is unavailable")
	// ErrMisconfigured means the provider refused this API itself (wrong
	// client credentials, another issuer): an operator must act.
	ErrMisconfigured = errors.New("the example API is misconfigured")
)

func noCredential(desc string) *AuthError {
	return &AuthError{Status: http.StatusUnauthorized, Description: desc}
}

func invalidRequest(desc string) *AuthError {
	return &AuthError{Status: http.StatusBadRequest, Code: "invalid_request", Description: desc}
}

func invalidToken(desc string, cause error) *AuthError {
	return &AuthError{Status: http.StatusUnauthorized, Code: "invalid_token", Description: desc, cause: cause}
}

// Authenticate finds the bearer credential of r (RFC 6750 §2.1: the
// Authorization header only) and checks it: sk_live_ keys and at_live_
// tokens by introspection, JWTs against the JWKS. It returns the caller,
// an *AuthError, ErrUnavailable or ErrMisconfigured (wrapped).
func (s *Server) Authenticate(r *http.Request) (*Caller, error) {
	if r.URL.Query().Has("access_token") {
		// RFC 6750 §2.3 is the method we do not support: URLs end up in
		// logs, histories and Referer headers.
		return nil, invalidRequest("Send the credential in the Authorization header (Authorization: Bearer ...), never in the URL.")
	}
	values := r.Header.Values("Authorization")
	switch len(values) {
	case 0:
		return nil, noCredential("This API needs a credential: Authorization: Bearer followed by an sk_live_ API key or an access token.")
	case 1:
	default:
		return nil, invalidRequest("Send one Authorization header.")
	}
	scheme, token, _ := strings.Cut(values[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		// Another scheme is "no bearer credential" (RFC 6750 §3.1).
		return nil, noCredential("This API takes only Bearer credentials.")
	}
	token = strings.TrimLeft(token, " ")
	if token == "" {
		return nil, invalidRequest("The Bearer credential is empty.")
	}
	if !isB64Token(token) {
		return nil, invalidToken("The credential is malformed.", nil)
	}
	ctx := r.Context()
	switch {
	case strings.HasPrefix(token, storage.APIKeyPrefix):
		if apikeys.CheckFormat(token) != nil {
			return nil, invalidToken("The API key is malformed: sk_live_ is followed by 43 letters and digits.", nil)
		}
		return s.intro.check(ctx, token)
	case strings.HasPrefix(token, provider.PrefixAccessToken):
		return s.intro.check(ctx, token)
	case provider.LooksLikeJWT(token):
		return s.verifyJWT(ctx, token)
	case strings.HasPrefix(token, provider.PrefixRefreshToken):
		return nil, invalidToken("A refresh token is not an access token: trade it at the token endpoint.", nil)
	}
	return nil, invalidToken("The credential is not an API key or access token of "+s.opts.Issuer+".", nil)
}

// isB64Token checks RFC 6750 §2.1's b64token syntax.
func isB64Token(s string) bool {
	s = strings.TrimRight(s, "=")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
			c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/') {
			return false
		}
	}
	return true
}

// errorBody is the JSON body of every refusal.
type errorBody struct {
	Error       string  `json:"error"`
	Description string  `json:"error_description,omitempty"`
	Scope       string  `json:"scope,omitempty"`
	Caller      *Caller `json:"caller,omitempty"`
}

// refuse answers a failed authentication or authorization.
func (s *Server) refuse(w http.ResponseWriter, err error) {
	if rec, ok := w.(*recorder); ok {
		rec.cause = err
	}
	var ae *AuthError
	switch {
	case errors.As(err, &ae):
		w.Header().Set("WWW-Authenticate", ae.Challenge())
		code := ae.Code
		if code == "" {
			code = "unauthorized"
		}
		writeJSON(w, ae.Status, errorBody{Error: code, Description: ae.Description, Scope: ae.Scope, Caller: ae.caller})
	case errors.Is(err, ErrUnavailable):
		w.Header().Set("Retry-After", "5")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{Error: "temporarily_unavailable",
			Description: "The authorization server cannot be reached to check the credential; try again shortly."})
	default:
		s.log.Error("cannot check credentials", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{Error: "server_error",
			Description: "The credential could not be checked."})
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	_ = enc.Encode(v)
}
