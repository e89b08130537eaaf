package oauth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/storage"
)

// oauthStore is what the token-side endpoints need from storage.
type oauthStore interface {
	UserByID(ctx context.Context, id string) (*storage.User, error)
}

// OAuth serves the endpoints clients and resource servers call directly:
// /token, /introspect, /revoke and /userinfo.
type OAuth struct {
	kit      *web.Kit
	provider *provider.Provider
	store    oauthStore
}

// Mount registers the routes.
func (o *OAuth) Mount(r *mux.Router) {
	r.HandleFunc("/token", o.token).Methods(http.MethodPost, http.MethodOptions)
	r.HandleFunc("/introspect", o.introspect).Methods(http.MethodPost)
	r.HandleFunc("/revoke", o.revoke).Methods(http.MethodPost, http.MethodOptions)
	r.HandleFunc("/userinfo", o.userinfo).Methods(http.MethodGet, http.MethodPost, http.MethodOptions)
}

// token is the token endpoint (RFC 6749 §3.2). Besides the form body it
// takes the same parameters as a JSON object (DESIGN.md).
func (o *OAuth) token(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	oauth2 := o.provider.OAuth2()
	if err := tokenBody(r); err != nil {
		o.writeTokenError(ctx, w, nil, provider.TokenError(nil, err))
		return
	}
	if err := provider.CheckTokenRequest(r.PostForm); err != nil {
		o.writeTokenError(ctx, w, nil, err)
		return
	}
	ar, err := oauth2.NewAccessRequest(ctx, r, provider.NewSession())
	if err != nil {
		o.writeTokenError(ctx, w, ar, provider.TokenError(ar, err))
		return
	}
	// A second use of a code or refresh token, raced or not, is refused
	// and revokes the grant in the provider (codes.go, refresh.go).
	resp, err := oauth2.NewAccessResponse(ctx, ar)
	if err != nil {
		o.writeTokenError(ctx, w, ar, provider.TokenError(ar, err))
		return
	}
	resp.SetTokenType("Bearer")
	if exp := ar.GetSession().GetExpiresAt(fosite.AccessToken); !exp.IsZero() {
		ttl := o.provider.AccessTokenTTL()
		if ar.GetGrantTypes().ExactOne(provider.GrantTypeTokenExchange) {
			ttl = o.provider.APIKeyJWTTTL()
		}
		resp.SetExpiresIn(expiresIn(ttl, exp.Sub(o.provider.Now())))
	}
	oauth2.WriteAccessResponse(ctx, w, ar, resp)
}

// expiresIn is the expires_in to report for an access token with the
// configured lifetime ttl that has left to live. fosite rounds the expiry
// to the second and truncates what is left, so a one-hour token would read
// 3599 or 3600 by chance; within that slack, report ttl itself.
func expiresIn(ttl, left time.Duration) time.Duration {
	if left > ttl-2*time.Second {
		return ttl
	}
	return left.Truncate(time.Second)
}

// writeTokenError writes an RFC 6749 §5.2 error; invalid_client also gets
// the WWW-Authenticate challenge, a database outage 503.
func (o *OAuth) writeTokenError(ctx context.Context, w http.ResponseWriter, ar fosite.AccessRequester, err error) {
	rfc := o.logOAuthError(ctx, "token request refused", err)
	if errors.Is(err, storage.ErrUnavailable) {
		w.Header().Set("Retry-After", "5")
		web.WriteJSONError(w, http.StatusServiceUnavailable, "temporarily_unavailable", "The service is temporarily unavailable; retry shortly.")
		return
	}
	if rfc.ErrorField == fosite.ErrInvalidClient.ErrorField {
		w.Header().Set("WWW-Authenticate", `Basic realm="`+o.provider.Issuer()+`"`)
	}
	o.provider.OAuth2().WriteAccessError(ctx, w, ar, err)
}

// logOAuthError logs a refused request: server errors with their cause at
// error level, the client's mistakes at debug. Neither carries secrets:
// fosite's errors name parameters, never their values.
func (o *OAuth) logOAuthError(ctx context.Context, msg string, err error) *fosite.RFC6749Error {
	rfc := fosite.ErrorToRFC6749Error(err)
	attrs := []any{"error", rfc.ErrorField, "hint", rfc.HintField}
	if rfc.CodeField >= 500 {
		o.kit.Log.ErrorContext(ctx, msg, append(attrs, "debug", rfc.DebugField, "cause", fmt.Sprint(rfc.Cause()))...)
	} else {
		o.kit.Log.DebugContext(ctx, msg, append(attrs, "debug", rfc.DebugField)...)
	}
	return rfc
}

// tokenBody reads a token request's body, a form (RFC 6749 §3.2) or a
// JSON object (DESIGN.md), into r.PostForm. A multipart body is refused:
// fosite would parse one too, with its parts (files included) buffered.
func tokenBody(r *http.Request) error {
	switch mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt {
	case "multipart/form-data":
		return fosite.ErrInvalidRequest.WithHint("The body must be a form (application/x-www-form-urlencoded) or a JSON object, not multipart/form-data.")
	case "application/json":
		if err := jsonBodyToForm(r); err != nil {
			return err
		}
	}
	if err := r.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fosite.ErrInvalidRequest.WithHint("The request body is larger than 1 MiB.")
		}
		return fosite.ErrInvalidRequest.WithHint("The request body could not be parsed as a form.")
	}
	return nil
}

// jsonBodyToForm turns a JSON object body into the form body fosite reads.
// Values must be strings (numbers and booleans are taken as written).
func jsonBodyToForm(r *http.Request) error {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fosite.ErrInvalidRequest.WithHint("The request body is larger than 1 MiB.")
		}
		return fosite.ErrInvalidRequest.WithHint("The request body could not be read.")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return fosite.ErrInvalidRequest.WithHint("The JSON body must be an object of string values.")
	}
	form := url.Values{}
	for k, v := range raw {
		s, ok := provider.FormValue(v)
		if !ok {
			return fosite.ErrInvalidRequest.WithHintf("The JSON field %q must be a string.", k)
		}
		form.Set(k, s)
	}
	encoded := form.Encode()
	r.Body = io.NopCloser(strings.NewReader(encoded))
	r.ContentLength = int64(len(encoded))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return nil
}

// introspectionResponse is RFC 7662 §2.2's answer.
type introspectionResponse struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Subject   string   `json:"sub,omitempty"`
	Username  string   `json:"username,omitempty"`
	ExpiresAt int64    `json:"exp,omitempty"`
	IssuedAt  int64    `json:"iat,omitempty"`
	NotBefore int64    `json:"nbf,omitempty"`
	Audience  []string `json:"aud,omitempty"`
	Issuer    string   `json:"iss,omitempty"`
	Org       string   `json:"org,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	TokenUse  string   `json:"token_use,omitempty"`
	KeyID     string   `json:"key_id,omitempty"`
}

// inactive is the answer for every token that does not work (RFC 7662 §2.2).
var inactive = introspectionResponse{Active: false}

// introspect is the introspection endpoint (RFC 7662). The caller must be
// a registered confidential client, and it learns about a token only when
// it is the token's own client or a client the operator marked as a
// resource server (RFC 7662 §4); sk_live_ keys and API-key JWTs are for
// resource servers only. Any other token — unknown, expired, revoked, not
// ours, or not the caller's to ask about — is simply inactive.
func (o *OAuth) introspect(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	if err := r.ParseForm(); err != nil {
		web.WriteJSONError(w, http.StatusBadRequest, "invalid_request", "The request body could not be parsed as a form.")
		return
	}
	client, err := o.provider.AuthenticateClient(ctx, r, r.PostForm)
	if err == nil && client.IsPublic() {
		// Anyone can present a public client's id: it proves nothing.
		err = fosite.ErrInvalidClient.WithHint("Introspection needs a confidential client (one with a secret).")
	}
	if err != nil {
		o.writeTokenError(ctx, w, nil, err)
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		web.WriteJSONError(w, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	caller, _ := client.(*storage.Client)
	if caller == nil {
		o.writeTokenError(ctx, w, nil, fosite.ErrServerError.WithDebugf("introspection client is a %T", client))
		return
	}
	resp, err := o.introspectToken(ctx, caller, token)
	if err != nil {
		if errors.Is(err, storage.ErrUnavailable) {
			o.writeTokenError(ctx, w, nil, err)
			return
		}
		o.kit.Log.ErrorContext(ctx, "introspection", "err", err)
		web.WriteJSONError(w, web.StatusOf(err), "server_error", "The token could not be checked.")
		return
	}
	web.WriteJSON(w, http.StatusOK, resp)
}

// introspectToken tells, by its form, which kind of token it is and
// answers caller about it: an sk_live_ key, a JWT access token (an API
// key's, or a JWT client's), or an opaque access or refresh token. An
// error means the token could not be checked, never that it is inactive.
func (o *OAuth) introspectToken(ctx context.Context, caller *storage.Client, token string) (introspectionResponse, error) {
	issuer := o.provider.Issuer()
	switch {
	case strings.HasPrefix(token, storage.APIKeyPrefix):
		if !caller.ResourceServer {
			return inactive, nil // not even looked up: the use is not counted
		}
		key, err := o.provider.IntrospectAPIKey(ctx, token)
		if err != nil || key == nil {
			return inactive, err
		}
		resp := introspectionResponse{
			Active: true, Scope: strings.Join(key.Scopes, " "), ClientID: key.ID, Subject: key.UserID, Org: key.OrgID,
			IssuedAt: key.CreatedAt.Unix(), Issuer: issuer, TokenType: "Bearer", TokenUse: "api_key", KeyID: key.ID,
		}
		if key.ExpiresAt != nil {
			resp.ExpiresAt = key.ExpiresAt.Unix()
		}
		return resp, nil
	case provider.LooksLikeJWT(token):
		if !provider.IsAPIKeyJWT(token) {
			// A JWT client's access token has a row, like an opaque one;
			// the token strategy verifies its signature.
			return o.introspectStored(ctx, caller, token, fosite.AccessToken)
		}
		if !caller.ResourceServer {
			return inactive, nil
		}
		claims, err := o.provider.VerifyAccessJWT(token)
		if err != nil || claims.KeyID == "" {
			return inactive, nil
		}
		if active, err := o.provider.APIKeyActive(ctx, claims.KeyID); err != nil || !active {
			return inactive, err
		}
		return introspectionResponse{
			Active: true, Scope: claims.Scope, ClientID: claims.ClientID, Subject: claims.Subject, Org: claims.Org,
			ExpiresAt: claims.Expiry, IssuedAt: claims.IssuedAt, NotBefore: claims.NotBefore, Audience: claims.Audience,
			Issuer: issuer, TokenType: "Bearer", TokenUse: string(fosite.AccessToken), KeyID: claims.KeyID,
		}, nil
	case strings.HasPrefix(token, provider.PrefixAccessToken):
		return o.introspectStored(ctx, caller, token, fosite.AccessToken)
	case strings.HasPrefix(token, provider.PrefixRefreshToken):
		return o.introspectStored(ctx, caller, token, fosite.RefreshToken)
	}
	return inactive, nil
}

// introspectStored answers caller about a token fosite stored: an access
// or refresh token of a grant, which only its own client and resource
// servers may learn about.
func (o *OAuth) introspectStored(ctx context.Context, caller *storage.Client, token string, use fosite.TokenUse) (introspectionResponse, error) {
	got, ar, err := o.provider.OAuth2().IntrospectToken(ctx, token, use, provider.NewSession())
	if err != nil || got != use {
		if errors.Is(err, storage.ErrUnavailable) {
			return inactive, err
		}
		return inactive, nil
	}
	if ar.GetClient().GetID() != caller.ID && !caller.ResourceServer {
		return inactive, nil
	}
	resp := introspectionResponse{
		Active:    true,
		Scope:     strings.Join(ar.GetGrantedScopes(), " "),
		ClientID:  ar.GetClient().GetID(),
		Subject:   ar.GetSession().GetSubject(),
		IssuedAt:  ar.GetRequestedAt().Unix(),
		NotBefore: ar.GetRequestedAt().Unix(),
		Audience:  ar.GetGrantedAudience(),
		Issuer:    o.provider.Issuer(),
		Org:       provider.SessionOrg(ar.GetSession()),
		TokenType: "Bearer",
		TokenUse:  string(use),
	}
	if use == fosite.RefreshToken {
		resp.TokenType = "refresh_token"
	}
	if exp := ar.GetSession().GetExpiresAt(use); !exp.IsZero() {
		resp.ExpiresAt = exp.Unix()
	}
	return resp, nil
}

// revoke is the revocation endpoint (RFC 7009).
func (o *OAuth) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	oauth2 := o.provider.OAuth2()
	err := oauth2.NewRevocationRequest(ctx, r)
	if err != nil {
		_ = o.logOAuthError(ctx, "revocation refused", err)
		if errors.Is(err, storage.ErrUnavailable) {
			o.writeTokenError(ctx, w, nil, err)
			return
		}
		if fosite.ErrorToRFC6749Error(err).ErrorField == fosite.ErrInvalidClient.ErrorField {
			w.Header().Set("WWW-Authenticate", `Basic realm="`+o.provider.Issuer()+`"`)
		}
	}
	oauth2.WriteRevocationResponse(ctx, w, err)
}

// userinfo is the UserInfo endpoint (OpenID Connect Core §5.3), by GET or
// POST, with the access token in the Authorization header or, for POST, in
// the form body (RFC 6750 §2.2).
func (o *OAuth) userinfo(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	w.Header().Set("Cache-Control", "no-store")
	token := fosite.AccessTokenFromRequest(r)
	if token == "" {
		bearerChallenge(w, http.StatusUnauthorized, "", "")
		return
	}
	session := provider.NewSession()
	use, ar, err := o.provider.OAuth2().IntrospectToken(ctx, token, fosite.AccessToken, session)
	if err != nil || use != fosite.AccessToken {
		if errors.Is(err, storage.ErrUnavailable) {
			o.writeTokenError(ctx, w, nil, err)
			return
		}
		bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "The access token is invalid, expired or revoked.")
		return
	}
	if !ar.GetGrantedScopes().Has("openid") {
		bearerChallenge(w, http.StatusForbidden, "insufficient_scope", "The access token was not granted the openid scope.")
		return
	}
	user, err := o.store.UserByID(ctx, ar.GetSession().GetSubject())
	if errors.Is(err, storage.ErrNotFound) {
		bearerChallenge(w, http.StatusUnauthorized, "invalid_token", "The user of this token no longer exists.")
		return
	} else if err != nil {
		o.kit.Log.ErrorContext(ctx, "userinfo: load user", "err", err)
		web.WriteJSONError(w, web.StatusOf(err), "server_error", "The user could not be loaded.")
		return
	}
	claims := provider.UserinfoClaims(user, ar.GetGrantedScopes(), ar.GetSession())
	c, _ := ar.GetClient().(*storage.Client)
	if c == nil || c.Metadata.UserinfoSignedResponseAlg == "" {
		web.WriteJSON(w, http.StatusOK, claims)
		return
	}
	// The client registered userinfo_signed_response_alg: the answer is a
	// JWT from this issuer to it (OpenID Connect Core §5.3.2).
	claims["iss"] = o.provider.Issuer()
	claims["aud"] = c.ID
	signed, err := o.provider.SignJWT(c.Metadata.UserinfoSignedResponseAlg, claims)
	if err != nil {
		o.kit.Log.ErrorContext(ctx, "userinfo: sign", "err", err)
		web.WriteJSONError(w, http.StatusInternalServerError, "server_error", "The UserInfo answer could not be signed.")
		return
	}
	w.Header().Set("Content-Type", "application/jwt")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, signed) //nolint:gosec // G705: a compact JWS served as application/jwt, not HTML
}

// bearerChallenge answers a resource request with RFC 6750 §3's challenge.
func bearerChallenge(w http.ResponseWriter, status int, code, description string) {
	challenge := `Bearer realm="ajrly"`
	if code != "" {
		challenge += fmt.Sprintf(`, error=%q, error_description=%q`, code, description)
	}
	w.Header().Set("WWW-Authenticate", challenge)
	if code == "" {
		w.WriteHeader(status)
		return
	}
	web.WriteJSONError(w, status, code, description)
}
