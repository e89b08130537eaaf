package storage

import (
	"context"
	"fmt"
	"time"
)

// InitialAccessToken lets whoever holds it register clients at /register
// when registration is by token (RFC 7591 §3). Only its digest is kept.
type InitialAccessToken struct {
	ID        string `gorm:"primaryKey"`
	Digest    string // hex SHA-256
	OrgID     string // the organization it registers clients for, if any
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt *time.Time
	RevokedAt *time.Time
}

// TableName is the initial_access_tokens table.
func (InitialAccessToken) TableName() string { return "initial_access_tokens" }

// Usable reports whether the token can register a client at now.
func (t *InitialAccessToken) Usable(now time.Time) bool {
	return t.RevokedAt == nil && (t.ExpiresAt == nil || now.Before(*t.ExpiresAt))
}

// CreateInitialAccessToken stores a token.
func (s *Store) CreateInitialAccessToken(ctx context.Context, t *InitialAccessToken) error {
	if t.ExpiresAt != nil {
		e := utc(*t.ExpiresAt)
		t.ExpiresAt = &e
	}
	if err := s.conn(ctx).Create(t).Error; err != nil {
		return fmt.Errorf("create initial access token: %w", s.translate(err, ErrNotFound))
	}
	return nil
}

// InitialAccessTokenByDigest finds a token by the digest of its secret.
func (s *Store) InitialAccessTokenByDigest(ctx context.Context, digest string) (*InitialAccessToken, error) {
	var t InitialAccessToken
	if err := s.conn(ctx).Where("digest = ?", digest).Take(&t).Error; err != nil {
		return nil, fmt.Errorf("find initial access token: %w", s.translate(err, ErrNotFound))
	}
	return &t, nil
}

// ListInitialAccessTokens returns the tokens made for an organization
// (orgID "" for the ones made by operators), newest first.
func (s *Store) ListInitialAccessTokens(ctx context.Context, orgID string) ([]InitialAccessToken, error) {
	var out []InitialAccessToken
	if err := s.conn(ctx).Where("org_id = ?", orgID).Order("created_at DESC, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list initial access tokens: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// RevokeInitialAccessToken revokes a token of an organization.
func (s *Store) RevokeInitialAccessToken(ctx context.Context, orgID, id string) error {
	res := s.conn(ctx).Model(&InitialAccessToken{}).Where("id = ? AND org_id = ? AND revoked_at IS NULL", id, orgID).
		Update("revoked_at", utc(s.now()))
	if res.Error != nil {
		return fmt.Errorf("revoke initial access token: %w", s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("revoke initial access token %s: %w", id, ErrNotFound)
	}
	return nil
}

// ListOrgClients returns the clients an organization registered, oldest first.
func (s *Store) ListOrgClients(ctx context.Context, orgID string) ([]Client, error) {
	var out []Client
	if err := s.conn(ctx).Where("org_id = ?", orgID).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list clients of %s: %w", orgID, s.translate(err, ErrNotFound))
	}
	return out, nil
}
