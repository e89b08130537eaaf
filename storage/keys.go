package storage

import (
	"context"
	"fmt"
	"time"
)

// SigningKey is one of the provider's signing keys. The public half is a
// JWK; the private half is sealed by the provider (AES-256-GCM under the
// system secret) before it reaches the Store, which never sees it in clear.
type SigningKey struct {
	KID        string `gorm:"primaryKey;column:kid"`
	Alg        string
	PublicJWK  string `gorm:"column:public_jwk"`
	PrivateEnc []byte
	CreatedAt  time.Time
	RetiredAt  *time.Time // no longer signs
	ExpiresAt  *time.Time // no longer published after this
}

// TableName is the signing_keys table.
func (SigningKey) TableName() string { return "signing_keys" }

// CreateSigningKey stores a new key.
func (s *Store) CreateSigningKey(ctx context.Context, k *SigningKey) error {
	if err := s.conn(ctx).Create(k).Error; err != nil {
		return fmt.Errorf("create signing key %s: %w", k.KID, s.translate(err, ErrNotFound))
	}
	return nil
}

// ListSigningKeys returns the keys that are still published (not past
// their expiry), oldest first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]SigningKey, error) {
	var out []SigningKey
	err := s.conn(ctx).Where("expires_at IS NULL OR expires_at > ?", utc(s.now())).Order("created_at, kid").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list signing keys: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// RetireSigningKey stops a key from signing; it stays published until
// expiresAt, when every token it signed has expired.
func (s *Store) RetireSigningKey(ctx context.Context, kid string, expiresAt time.Time) error {
	now := utc(s.now())
	exp := utc(expiresAt)
	res := s.conn(ctx).Model(&SigningKey{}).Where("kid = ? AND retired_at IS NULL", kid).
		Updates(map[string]any{"retired_at": now, "expires_at": exp})
	if res.Error != nil {
		return fmt.Errorf("retire signing key %s: %w", kid, s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("retire signing key %s: %w", kid, ErrNotFound)
	}
	return nil
}
