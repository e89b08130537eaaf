package storage

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
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

// RotateSigningKey stores next and sets when the key it replaces, prev,
// stops signing (retireAt) and leaves the JWKS (expireAt), in one
// transaction. When prev was already replaced (another instance rotated
// first) nothing is stored and it returns ErrConflict, so a rotation
// happens once however many instances attempt it.
func (s *Store) RotateSigningKey(ctx context.Context, next *SigningKey, prev string, retireAt, expireAt time.Time) error {
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(next).Error; err != nil {
			return err
		}
		res := tx.Model(&SigningKey{}).Where("kid = ? AND retired_at IS NULL", prev).
			Updates(map[string]any{"retired_at": utc(retireAt), "expires_at": utc(expireAt)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrConflict
		}
		return nil
	})
	if errors.Is(err, ErrConflict) {
		return fmt.Errorf("rotate signing key %s: already replaced: %w", prev, ErrConflict)
	} else if err != nil {
		return fmt.Errorf("rotate signing key %s: %w", prev, s.translate(err, ErrNotFound))
	}
	return nil
}

// ReplaceSigningKeys stores next and withdraws, now, every other key of
// its algorithm that signs or is yet to stop signing: what a leaked key
// calls for. Tokens those keys signed stop verifying.
func (s *Store) ReplaceSigningKeys(ctx context.Context, next *SigningKey) error {
	now := utc(s.now())
	err := s.conn(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(next).Error; err != nil {
			return err
		}
		return tx.Model(&SigningKey{}).
			Where("alg = ? AND kid <> ? AND (retired_at IS NULL OR retired_at > ?)", next.Alg, next.KID, now).
			Updates(map[string]any{"retired_at": now, "expires_at": now}).Error
	})
	if err != nil {
		return fmt.Errorf("replace %s signing keys: %w", next.Alg, s.translate(err, ErrNotFound))
	}
	return nil
}
