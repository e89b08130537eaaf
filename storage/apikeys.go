package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// APIKey is an sk_live_ key: a credential a person creates for their
// organization with a set of scopes. Only the SHA-256 digest of the key is
// kept; Prefix and Last4 let people recognise it.
type APIKey struct {
	ID         string `gorm:"primaryKey"`
	OrgID      string
	UserID     string // who created it; the subject of what it does
	Name       string
	Digest     string // hex SHA-256 of the whole key
	Prefix     string // the first characters after sk_live_
	Last4      string
	Scopes     string // space-separated
	CreatedAt  time.Time
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
	ReplacedBy string // the key that replaced this one when it was rotated
}

// TableName is the api_keys table.
func (APIKey) TableName() string { return "api_keys" }

// ScopeList returns the key's permissions.
func (k *APIKey) ScopeList() []string { return strings.Fields(k.Scopes) }

// Hint is how a key is shown after it was created: sk_live_abcd…wxyz.
func (k *APIKey) Hint() string { return APIKeyPrefix + k.Prefix + "…" + k.Last4 }

// APIKeyPrefix starts every API key.
const APIKeyPrefix = "sk_live_"

// Key states.
const (
	KeyActive  = "active"
	KeyExpired = "expired"
	KeyRevoked = "revoked"
)

// State says whether the key works at now.
func (k *APIKey) State(now time.Time) string {
	switch {
	case k.RevokedAt != nil && !k.RevokedAt.After(now):
		return KeyRevoked
	case k.ExpiresAt != nil && !k.ExpiresAt.After(now):
		return KeyExpired
	}
	return KeyActive
}

// CreateAPIKey stores a new key.
func (s *Store) CreateAPIKey(ctx context.Context, k *APIKey) error {
	if k.ExpiresAt != nil {
		t := utc(*k.ExpiresAt)
		k.ExpiresAt = &t
	}
	if err := s.conn(ctx).Create(k).Error; err != nil {
		return fmt.Errorf("create api key %s: %w", k.ID, s.translate(err, ErrNotFound))
	}
	return nil
}

//nolint:gosec // G101: column names, not a credential
const apiKeyColumns = "id, org_id, user_id, name, digest, prefix, last4, scopes, created_at, expires_at, revoked_at, last_used_at, replaced_by"

// APIKeyByDigest finds a key by the digest of the presented secret, in one
// indexed lookup; every use of a key goes through it. It returns the key
// whatever its state, or ErrNotFound.
func (s *Store) APIKeyByDigest(ctx context.Context, digest string) (*APIKey, error) {
	var k APIKey
	err := s.pool(ctx).QueryRowContext(ctx, s.q("SELECT "+apiKeyColumns+" FROM api_keys WHERE digest = ?"), digest).Scan(
		&k.ID, &k.OrgID, &k.UserID, &k.Name, &k.Digest, &k.Prefix, &k.Last4, &k.Scopes,
		&k.CreatedAt, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt, &k.ReplacedBy)
	if err != nil {
		return nil, fmt.Errorf("find api key: %w", s.translate(err, ErrNotFound))
	}
	return &k, nil
}

// APIKeyWithRole finds a key by the digest of the presented secret, like
// APIKeyByDigest, together with its creator's role in the key's
// organization now ("" when they are no longer a member): a key acts with
// its creator's authority, so every use checks it, in the same one lookup.
func (s *Store) APIKeyWithRole(ctx context.Context, digest string) (*APIKey, string, error) {
	var (
		k    APIKey
		role *string
	)
	err := s.pool(ctx).QueryRowContext(ctx, s.q(`SELECT k.id, k.org_id, k.user_id, k.name, k.digest, k.prefix, k.last4, k.scopes,
		k.created_at, k.expires_at, k.revoked_at, k.last_used_at, k.replaced_by, m.role
		FROM api_keys k LEFT JOIN memberships m ON m.org_id = k.org_id AND m.user_id = k.user_id WHERE k.digest = ?`), digest).Scan(
		&k.ID, &k.OrgID, &k.UserID, &k.Name, &k.Digest, &k.Prefix, &k.Last4, &k.Scopes,
		&k.CreatedAt, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt, &k.ReplacedBy, &role)
	if err != nil {
		return nil, "", fmt.Errorf("find api key: %w", s.translate(err, ErrNotFound))
	}
	if role == nil {
		return &k, "", nil
	}
	return &k, *role, nil
}

// APIKeyByIDWithRole is APIKeyByID with the creator's current role in the
// key's organization ("" when they are no longer a member).
func (s *Store) APIKeyByIDWithRole(ctx context.Context, id string) (*APIKey, string, error) {
	k, err := s.APIKeyByID(ctx, id)
	if err != nil {
		return nil, "", err
	}
	m, err := s.MembershipOf(ctx, k.OrgID, k.UserID)
	if errors.Is(err, ErrNotFound) {
		return k, "", nil
	} else if err != nil {
		return nil, "", err
	}
	return k, m.Role, nil
}

// APIKeyByID returns a key or ErrNotFound.
func (s *Store) APIKeyByID(ctx context.Context, id string) (*APIKey, error) {
	var k APIKey
	if err := s.conn(ctx).Where("id = ?", id).Take(&k).Error; err != nil {
		return nil, fmt.Errorf("find api key %s: %w", id, s.translate(err, ErrNotFound))
	}
	return &k, nil
}

// APIKeyView is a key with the names a listing shows.
type APIKeyView struct {
	APIKey
	CreatorEmail string
	CreatorName  string
	OrgName      string
}

// ListAPIKeys returns the keys of an organization (orgID "" for every
// organization), newest first; userID, when not "", keeps only the keys
// that user created.
func (s *Store) ListAPIKeys(ctx context.Context, orgID, userID string) ([]APIKeyView, error) {
	q := s.conn(ctx).Table("api_keys k").
		Select("k.*, u.email AS creator_email, u.name AS creator_name, o.name AS org_name").
		Joins("JOIN users u ON u.id = k.user_id").
		Joins("JOIN organizations o ON o.id = k.org_id")
	if orgID != "" {
		q = q.Where("k.org_id = ?", orgID)
	}
	if userID != "" {
		q = q.Where("k.user_id = ?", userID)
	}
	var out []APIKeyView
	if err := q.Order("k.created_at DESC, k.id").Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("list api keys: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// RevokeAPIKey revokes a key now; revoking a revoked key is ErrNotFound.
func (s *Store) RevokeAPIKey(ctx context.Context, id string) error {
	res := s.conn(ctx).Model(&APIKey{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", utc(s.now()))
	if res.Error != nil {
		return fmt.Errorf("revoke api key %s: %w", id, s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("revoke api key %s: %w", id, ErrNotFound)
	}
	return nil
}

// RotateAPIKey stores replacement and lets the old key work for grace more
// (not past its own expiry; a zero grace revokes it now), in one
// transaction. Only an active key can be rotated.
func (s *Store) RotateAPIKey(ctx context.Context, oldID string, replacement *APIKey, grace time.Duration) error {
	now := utc(s.now())
	err := s.InTx(ctx, func(ctx context.Context) error {
		old, err := s.APIKeyByID(ctx, oldID)
		if err != nil {
			return err
		}
		if old.State(now) != KeyActive || old.ReplacedBy != "" {
			return fmt.Errorf("the key is not active: %w", ErrConflict)
		}
		if err := s.CreateAPIKey(ctx, replacement); err != nil {
			return err
		}
		updates := map[string]any{"replaced_by": replacement.ID}
		if grace <= 0 {
			updates["revoked_at"] = now
		} else if until := now.Add(grace); old.ExpiresAt == nil || until.Before(*old.ExpiresAt) {
			updates["expires_at"] = until
		}
		return s.translate(s.conn(ctx).Model(&APIKey{}).Where("id = ?", oldID).Updates(updates).Error, ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("rotate api key %s: %w", oldID, err)
	}
	return nil
}

// UsageDay formats a time as the day usage is counted under (UTC).
func UsageDay(t time.Time) string { return t.UTC().Format("2006-01-02") }

// APIKeyUsage returns the requests per day (UsageDay) of the given keys
// since a day, by key id.
func (s *Store) APIKeyUsage(ctx context.Context, keyIDs []string, since time.Time) (map[string]map[string]int64, error) {
	out := map[string]map[string]int64{}
	if len(keyIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		KeyID    string
		Day      string
		Requests int64
	}
	err := s.conn(ctx).Raw("SELECT key_id, day, requests FROM api_key_usage WHERE key_id IN ? AND day >= ?", keyIDs, UsageDay(since)).
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("read api key usage: %w", s.translate(err, ErrNotFound))
	}
	for _, r := range rows {
		if out[r.KeyID] == nil {
			out[r.KeyID] = map[string]int64{}
		}
		out[r.KeyID][r.Day] = r.Requests
	}
	return out, nil
}

// addUsage adds counted requests and last-used times, in one transaction.
func (s *Store) addUsage(ctx context.Context, counts map[usageKey]int64, lastUsed map[string]time.Time) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		for k, n := range counts {
			// A key deleted meanwhile has nothing left to count: the
			// EXISTS skips it instead of failing the whole batch.
			_, err := s.pool(ctx).ExecContext(ctx, s.q(`INSERT INTO api_key_usage (key_id, day, requests)
				SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM api_keys WHERE id = ?)
				ON CONFLICT (key_id, day) DO UPDATE SET requests = api_key_usage.requests + excluded.requests`), k.keyID, k.day, n, k.keyID)
			if err != nil {
				return fmt.Errorf("add usage of %s: %w", k.keyID, s.translate(err, ErrNotFound))
			}
		}
		for id, at := range lastUsed {
			_, err := s.pool(ctx).ExecContext(ctx, s.q("UPDATE api_keys SET last_used_at = ? WHERE id = ? AND (last_used_at IS NULL OR last_used_at < ?)"),
				utc(at), id, utc(at))
			if err != nil {
				return fmt.Errorf("record last use of %s: %w", id, s.translate(err, ErrNotFound))
			}
		}
		return nil
	})
}
