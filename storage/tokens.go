package storage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"
)

var (
	_ fosite.ClientManager               = (*Store)(nil)
	_ fosite.Storage                     = (*Store)(nil)
	_ oauth2.CoreStorage                 = (*Store)(nil)
	_ oauth2.AuthorizeCodeStorage        = (*Store)(nil)
	_ oauth2.AccessTokenStorage          = (*Store)(nil)
	_ oauth2.RefreshTokenStorage         = (*Store)(nil)
	_ oauth2.TokenRevocationStorage      = (*Store)(nil)
	_ pkce.PKCERequestStorage            = (*Store)(nil)
	_ openid.OpenIDConnectRequestStorage = (*Store)(nil)
	_ fositestorage.Transactional        = (*Store)(nil)
)

// The fosite request tables. They share one shape (see tokenTable).
const (
	tableCodes   = "oauth_authorize_codes"
	tableAccess  = "oauth_access_tokens"
	tableRefresh = "oauth_refresh_tokens"
	tablePKCE    = "oauth_pkce"
	tableOIDC    = "oauth_oidc_sessions"
)

// secretFormKeys never reach storage, whatever a handler's sanitisation
// allow-list says: fosite persists request forms.
var secretFormKeys = []string{
	"client_secret", "client_assertion", "code", "code_verifier", "refresh_token",
	"password", "subject_token", "actor_token", "token", "assertion",
}

// tokenRow is a fosite request as stored.
type tokenRow struct {
	signature       string
	requestID       string
	clientID        string
	subject         string
	requestedAt     time.Time
	expiresAt       time.Time
	scopes          string
	grantedScopes   string
	audience        string
	grantedAudience string
	form            string
	session         []byte
	active          bool
	accessSignature string
	orgID           string // the organization a person's grant acts in ("" for none)
}

// ClaimOrg is the claim of a person's session (and of their ID tokens)
// naming the organization the grant acts in. It is stored beside codes
// and tokens so that removing a member revokes their grants there alone.
const ClaimOrg = "org"

// sessionOrg returns the organization a session's grant acts in.
func sessionOrg(sess fosite.Session) string {
	if s, ok := sess.(openid.Session); ok && s.IDTokenClaims() != nil {
		if org, ok := s.IDTokenClaims().Extra[ClaimOrg].(string); ok {
			return org
		}
	}
	return ""
}

// hasOrgColumn reports whether a request table records the organization.
func hasOrgColumn(table string) bool {
	return table == tableCodes || table == tableAccess || table == tableRefresh
}

// rowFromRequest flattens a fosite request; expiry is the session's expiry
// for the token type the table holds.
func rowFromRequest(signature string, r fosite.Requester, expiryOf fosite.TokenType, now time.Time) (tokenRow, error) {
	row := tokenRow{
		signature:       signature,
		requestID:       r.GetID(),
		requestedAt:     utc(r.GetRequestedAt()),
		scopes:          strings.Join(r.GetRequestedScopes(), " "),
		grantedScopes:   strings.Join(r.GetGrantedScopes(), " "),
		audience:        strings.Join(r.GetRequestedAudience(), " "),
		grantedAudience: strings.Join(r.GetGrantedAudience(), " "),
		active:          true,
	}
	if c := r.GetClient(); c != nil {
		row.clientID = c.GetID()
	}
	if row.clientID == "" {
		return row, errors.New("request has no client")
	}
	form := url.Values{}
	for k, v := range r.GetRequestForm() {
		form[k] = v
	}
	for _, k := range secretFormKeys {
		form.Del(k)
	}
	row.form = form.Encode()
	if sess := r.GetSession(); sess != nil {
		row.subject = sess.GetSubject()
		row.orgID = sessionOrg(sess)
		row.expiresAt = sess.GetExpiresAt(expiryOf)
		b, err := json.Marshal(sess)
		if err != nil {
			return row, fmt.Errorf("encode session: %w", err)
		}
		row.session = b
	}
	if row.expiresAt.IsZero() {
		// A session without an expiry for this token type: fosite then falls
		// back to its configured lifespan; keep the row no longer than a day
		// past the request.
		row.expiresAt = row.requestedAt.Add(24 * time.Hour)
	}
	row.expiresAt = utc(row.expiresAt)
	if row.requestedAt.IsZero() {
		row.requestedAt = utc(now)
	}
	return row, nil
}

func (s *Store) insertToken(ctx context.Context, table string, row tokenRow) error {
	query := "INSERT INTO " + table + ` (signature, request_id, client_id, subject, requested_at, expires_at,
		scopes, granted_scopes, audience, granted_audience, form, session, active`
	args := []any{row.signature, row.requestID, row.clientID, row.subject, row.requestedAt, row.expiresAt,
		row.scopes, row.grantedScopes, row.audience, row.grantedAudience, row.form, string(row.session), row.active}
	switch {
	case table == tableRefresh:
		query += ", org_id, access_signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		args = append(args, row.orgID, row.accessSignature)
	case hasOrgColumn(table):
		query += ", org_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
		args = append(args, row.orgID)
	default:
		query += ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
	}
	if _, err := s.pool(ctx).ExecContext(ctx, s.q(query), args...); err != nil {
		return fmt.Errorf("insert into %s: %w", table, s.translate(err, fosite.ErrNotFound))
	}
	return nil
}

func (s *Store) createToken(ctx context.Context, table, signature string, r fosite.Requester, expiryOf fosite.TokenType) error {
	row, err := rowFromRequest(signature, r, expiryOf, s.now())
	if err != nil {
		return fmt.Errorf("insert into %s: %w", table, err)
	}
	return s.insertToken(ctx, table, row)
}

// getToken reads a row that has not expired and rebuilds the fosite request,
// unmarshalling the stored session into session (which may be nil). It
// returns fosite.ErrNotFound for missing and expired rows; an inactive row
// comes back with its request so callers can return it with their error.
func (s *Store) getToken(ctx context.Context, table, signature string, session fosite.Session) (*fosite.Request, bool, error) {
	query := `SELECT request_id, client_id, requested_at, scopes, granted_scopes, audience, granted_audience,
		form, session, active FROM ` + table + ` WHERE signature = ? AND expires_at > ?`
	var (
		row     tokenRow
		sessRaw string
	)
	err := s.pool(ctx).QueryRowContext(ctx, s.q(query), signature, utc(s.now())).Scan(
		&row.requestID, &row.clientID, &row.requestedAt, &row.scopes, &row.grantedScopes,
		&row.audience, &row.grantedAudience, &row.form, &sessRaw, &row.active)
	if err != nil {
		return nil, false, s.translate(err, fosite.ErrNotFound)
	}
	client, err := s.GetClient(ctx, row.clientID)
	if err != nil {
		return nil, false, err
	}
	form, err := url.ParseQuery(row.form)
	if err != nil {
		return nil, false, fmt.Errorf("decode stored form of %s row: %w", table, err)
	}
	if session != nil && sessRaw != "" {
		if err := json.Unmarshal([]byte(sessRaw), session); err != nil {
			return nil, false, fmt.Errorf("decode stored session of %s row: %w", table, err)
		}
	}
	req := &fosite.Request{
		ID:                row.requestID,
		RequestedAt:       row.requestedAt.UTC(),
		Client:            client,
		RequestedScope:    splitList(row.scopes),
		GrantedScope:      splitList(row.grantedScopes),
		RequestedAudience: splitList(row.audience),
		GrantedAudience:   splitList(row.grantedAudience),
		Form:              form,
		Session:           session,
	}
	return req, row.active, nil
}

func (s *Store) deleteToken(ctx context.Context, table, column, value string) error {
	if _, err := s.pool(ctx).ExecContext(ctx, s.q("DELETE FROM "+table+" WHERE "+column+" = ?"), value); err != nil {
		return fmt.Errorf("delete from %s: %w", table, s.translate(err, fosite.ErrNotFound))
	}
	return nil
}

func splitList(s string) fosite.Arguments {
	if s == "" {
		return fosite.Arguments{}
	}
	return strings.Split(s, " ")
}

// CreateAuthorizeCodeSession stores an authorization code's request.
func (s *Store) CreateAuthorizeCodeSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.createToken(ctx, tableCodes, signature, r, fosite.AuthorizeCode)
}

// GetAuthorizeCodeSession returns the request of a code; for a used code it
// returns the request and fosite.ErrInvalidatedAuthorizeCode, so that fosite
// can revoke what the first redemption issued.
func (s *Store) GetAuthorizeCodeSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.getToken(ctx, tableCodes, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	return req, nil
}

// ErrCodeAlreadyUsed is returned by InvalidateAuthorizeCodeSession to the
// loser of two concurrent redemptions of one code. It wraps
// fosite.ErrInvalidatedAuthorizeCode.
var ErrCodeAlreadyUsed = fmt.Errorf("authorization code redeemed concurrently: %w", fosite.ErrInvalidatedAuthorizeCode)

// InvalidateAuthorizeCodeSession marks a code used. The UPDATE only matches
// an active row, so of two concurrent redemptions exactly one succeeds.
func (s *Store) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	res, err := s.pool(ctx).ExecContext(ctx, s.q("UPDATE "+tableCodes+" SET active = FALSE WHERE signature = ? AND active"), signature)
	if err != nil {
		return fmt.Errorf("invalidate authorization code: %w", s.translate(err, fosite.ErrNotFound))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("invalidate authorization code: %w", err)
	} else if n == 0 {
		return ErrCodeAlreadyUsed
	}
	return nil
}

// CreateAccessTokenSession stores an access token's request.
func (s *Store) CreateAccessTokenSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.createToken(ctx, tableAccess, signature, r, fosite.AccessToken)
}

// GetAccessTokenSession returns the request of an unexpired access token.
func (s *Store) GetAccessTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.getToken(ctx, tableAccess, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return nil, fosite.ErrNotFound
	}
	return req, nil
}

// DeleteAccessTokenSession removes an access token.
func (s *Store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	return s.deleteToken(ctx, tableAccess, "signature", signature)
}

// CreateRefreshTokenSession stores a refresh token's request together with
// the signature of the access token issued beside it.
func (s *Store) CreateRefreshTokenSession(ctx context.Context, signature, accessSignature string, r fosite.Requester) error {
	row, err := rowFromRequest(signature, r, fosite.RefreshToken, s.now())
	if err != nil {
		return fmt.Errorf("insert into %s: %w", tableRefresh, err)
	}
	row.accessSignature = accessSignature
	return s.insertToken(ctx, tableRefresh, row)
}

// GetRefreshTokenSession returns the request of a refresh token; for a
// rotated (used) one it returns the request and fosite.ErrInactiveToken, which
// fosite treats as reuse and answers by revoking the whole grant.
func (s *Store) GetRefreshTokenSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, active, err := s.getToken(ctx, tableRefresh, signature, session)
	if err != nil {
		return nil, err
	}
	if !active {
		return req, fosite.ErrInactiveToken
	}
	return req, nil
}

// DeleteRefreshTokenSession removes a refresh token.
func (s *Store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	return s.deleteToken(ctx, tableRefresh, "signature", signature)
}

// RotateRefreshToken marks a refresh token used and removes the access token
// issued with it. Only an active row matches, so of two concurrent refreshes
// with one token exactly one proceeds; the other gets fosite.ErrInactiveToken.
func (s *Store) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	var accessSignature string
	err := s.pool(ctx).QueryRowContext(ctx,
		s.q("UPDATE "+tableRefresh+" SET active = FALSE WHERE signature = ? AND request_id = ? AND active RETURNING access_signature"),
		signature, requestID).Scan(&accessSignature)
	if err != nil {
		err = s.translate(err, fosite.ErrInactiveToken)
		if errors.Is(err, fosite.ErrInactiveToken) {
			return fosite.ErrInactiveToken
		}
		return fmt.Errorf("rotate refresh token: %w", err)
	}
	if accessSignature == "" {
		return nil
	}
	return s.DeleteAccessTokenSession(ctx, accessSignature)
}

// revokeRounds bounds RevokeRefreshToken's repeated deletes. Each round
// can only find tokens that refreshes running during the previous one
// issued, so two or three rounds suffice.
const revokeRounds = 8

// RevokeRefreshToken removes every refresh token of a grant, and then its
// access tokens (RFC 7009 §2.1: revoking a refresh token should revoke the
// access tokens of the same grant; revoking a family after reuse, RFC 9700
// §4.14.2, needs both).
//
// A refresh running at the same moment can outlive a single DELETE on
// PostgreSQL: in READ COMMITTED the DELETE waits for the rotating
// transaction's lock on the old token's row and then deletes that row, but
// the new token that transaction inserted is not in the DELETE's snapshot
// and survives. So the refresh tokens are deleted until a statement finds
// none. That statement proves no rotation is under way: a rotation locks a
// committed, active token of the grant, which that statement would have
// found and waited for. Only then are the access tokens deleted, when no
// refresh can add one any more. SQLite runs one transaction at a time, so
// one DELETE sees everything there.
//
// It runs in a transaction (the caller's, if any), as every other use of
// these statements does: on SQLite, with one connection and prepared
// statements, preparing a statement outside a transaction while a
// transaction on the connection waits for that same statement deadlocks.
func (s *Store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		for round := 0; ; round++ {
			if round == revokeRounds {
				return fmt.Errorf("revoke refresh tokens of grant %s: still finding new ones after %d rounds", requestID, revokeRounds)
			}
			res, err := s.pool(ctx).ExecContext(ctx, s.q("DELETE FROM "+tableRefresh+" WHERE request_id = ?"), requestID)
			if err != nil {
				return fmt.Errorf("delete from %s: %w", tableRefresh, s.translate(err, fosite.ErrNotFound))
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("delete from %s: %w", tableRefresh, err)
			}
			if n == 0 || s.dialect == "sqlite" {
				break
			}
		}
		return s.RevokeAccessToken(ctx, requestID)
	})
}

// RevokeAccessToken removes every access token of a grant (RFC 7009 §2.1),
// in a transaction for the reason RevokeRefreshToken gives.
func (s *Store) RevokeAccessToken(ctx context.Context, requestID string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		return s.deleteToken(ctx, tableAccess, "request_id", requestID)
	})
}

// CreatePKCERequestSession stores the code challenge of a code.
func (s *Store) CreatePKCERequestSession(ctx context.Context, signature string, r fosite.Requester) error {
	return s.createToken(ctx, tablePKCE, signature, r, fosite.AuthorizeCode)
}

// GetPKCERequestSession returns the code challenge's request of a code.
func (s *Store) GetPKCERequestSession(ctx context.Context, signature string, session fosite.Session) (fosite.Requester, error) {
	req, _, err := s.getToken(ctx, tablePKCE, signature, session)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePKCERequestSession removes the code challenge of a code.
func (s *Store) DeletePKCERequestSession(ctx context.Context, signature string) error {
	return s.deleteToken(ctx, tablePKCE, "signature", signature)
}

// oidcKey turns the authorization code fosite hands the OpenID Connect
// storage (the whole code, not its signature) into a key that is useless to
// whoever reads the table.
func oidcKey(code string) string {
	sum := sha256.Sum256([]byte(code))
	return hex.EncodeToString(sum[:])
}

// CreateOpenIDConnectSession stores the OpenID Connect request of a code.
func (s *Store) CreateOpenIDConnectSession(ctx context.Context, code string, r fosite.Requester) error {
	return s.createToken(ctx, tableOIDC, oidcKey(code), r, fosite.AuthorizeCode)
}

// GetOpenIDConnectSession returns the OpenID Connect request of a code; the
// session is read into the requester's session.
func (s *Store) GetOpenIDConnectSession(ctx context.Context, code string, requester fosite.Requester) (fosite.Requester, error) {
	var session fosite.Session
	if requester != nil {
		session = requester.GetSession()
	}
	req, _, err := s.getToken(ctx, tableOIDC, oidcKey(code), session)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeleteOpenIDConnectSession removes the OpenID Connect request of a code.
func (s *Store) DeleteOpenIDConnectSession(ctx context.Context, code string) error {
	return s.deleteToken(ctx, tableOIDC, "signature", oidcKey(code))
}

// ClientAssertionJWTValid returns fosite.ErrJTIKnown when a client
// assertion's jti was already used and has not expired.
func (s *Store) ClientAssertionJWTValid(ctx context.Context, jti string) error {
	var n int
	err := s.pool(ctx).QueryRowContext(ctx, s.q("SELECT COUNT(*) FROM oauth_jtis WHERE jti = ? AND expires_at > ?"),
		oidcKey(jti), utc(s.now())).Scan(&n)
	if err != nil {
		return fmt.Errorf("check client assertion jti: %w", s.translate(err, fosite.ErrNotFound))
	}
	if n > 0 {
		return fosite.ErrJTIKnown
	}
	return nil
}

// SetClientAssertionJWT records a client assertion's jti until it expires;
// recording one twice is fosite.ErrJTIKnown.
func (s *Store) SetClientAssertionJWT(ctx context.Context, jti string, exp time.Time) error {
	now := utc(s.now())
	if _, err := s.pool(ctx).ExecContext(ctx, s.q("DELETE FROM oauth_jtis WHERE jti = ? AND expires_at <= ?"), oidcKey(jti), now); err != nil {
		return fmt.Errorf("record client assertion jti: %w", s.translate(err, fosite.ErrNotFound))
	}
	if _, err := s.pool(ctx).ExecContext(ctx, s.q("INSERT INTO oauth_jtis (jti, expires_at) VALUES (?, ?)"), oidcKey(jti), utc(exp)); err != nil {
		if err = s.translate(err, fosite.ErrNotFound); errors.Is(err, ErrConflict) {
			return fosite.ErrJTIKnown
		}
		return fmt.Errorf("record client assertion jti: %w", err)
	}
	return nil
}
