package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Purposes of the single-use tokens links in mail carry.
const (
	// PurposeVerifyEmail confirms that a person receives mail at their
	// address (24 hours).
	PurposeVerifyEmail = "verify_email"
	// PurposeChangeEmail confirms a new address before it replaces the old
	// one (24 hours); the token's Email is the new address.
	PurposeChangeEmail = "change_email"
	// PurposeResetPassword lets a person choose a new password (1 hour).
	PurposeResetPassword = "reset_password"
)

// Why a token in a link is refused. Each is an ErrNotFound, so a surface
// that does not tell them apart answers them all alike.
var (
	ErrTokenExpired = fmt.Errorf("the link has expired: %w", ErrNotFound)
	ErrTokenUsed    = fmt.Errorf("the link was already used: %w", ErrNotFound)
)

// AccountToken is a single-use token a link in mail carries. The table
// holds only its SHA-256 digest (DESIGN.md, "People's accounts").
type AccountToken struct {
	Digest  string `gorm:"primaryKey"`
	Purpose string
	UserID  string
	// Email is the address the link was sent to: the person's address
	// for verification and reset, the new address for a change.
	Email     string
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// TableName is the account_tokens table.
func (AccountToken) TableName() string { return "account_tokens" }

// CreateAccountToken makes a token for a link to email, valid for ttl,
// and returns it (32 random bytes, URL-safe). Earlier unused tokens of the
// same person and purpose stop working: only the newest link does.
func (s *Store) CreateAccountToken(ctx context.Context, purpose, userID, email string, ttl time.Duration) (string, *AccountToken, error) {
	if purpose == "" || userID == "" || ttl <= 0 {
		return "", nil, errors.New("create account token: purpose, person and lifetime are required")
	}
	token := NewSecret()
	now := utc(s.now())
	t := &AccountToken{Digest: DigestHex(token), Purpose: purpose, UserID: userID, Email: NormalizeEmail(email),
		CreatedAt: now, ExpiresAt: now.Add(ttl)}
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.deleteAccountTokens(ctx, userID, purpose); err != nil {
			return err
		}
		return s.translate(s.conn(ctx).Create(t).Error, ErrNotFound)
	})
	if err != nil {
		return "", nil, fmt.Errorf("create %s token: %w", purpose, err)
	}
	return token, t, nil
}

// AccountTokenFor returns the token a link carries if it is for one of
// the purposes (a link to /email/verify carries a verification or a
// change of address) and can still be used; otherwise ErrTokenExpired,
// ErrTokenUsed or ErrNotFound (unknown, tampered, or for another purpose).
func (s *Store) AccountTokenFor(ctx context.Context, token string, purposes ...string) (*AccountToken, error) {
	var t AccountToken
	if err := s.conn(ctx).Where("digest = ? AND purpose IN ?", DigestHex(token), purposes).Take(&t).Error; err != nil {
		return nil, fmt.Errorf("find %s token: %w", strings.Join(purposes, " or "), s.translate(err, ErrNotFound))
	}
	switch {
	case t.UsedAt != nil:
		return nil, fmt.Errorf("%s token: %w", t.Purpose, ErrTokenUsed)
	case !utc(s.now()).Before(t.ExpiresAt):
		return nil, fmt.Errorf("%s token: %w", t.Purpose, ErrTokenExpired)
	}
	return &t, nil
}

// RedeemAccountToken uses up the token a link carries and returns it (its
// Purpose says which of the purposes it is for); the errors are
// AccountTokenFor's. Of two requests redeeming the same token at once,
// exactly one succeeds. Run it in the transaction of what the token
// allows, so that a failure there leaves it usable.
func (s *Store) RedeemAccountToken(ctx context.Context, token string, purposes ...string) (*AccountToken, error) {
	t, err := s.AccountTokenFor(ctx, token, purposes...)
	if err != nil {
		return nil, err
	}
	now := utc(s.now())
	res := s.conn(ctx).Model(&AccountToken{}).
		Where("digest = ? AND used_at IS NULL AND expires_at > ?", t.Digest, now).
		Update("used_at", now)
	if res.Error != nil {
		return nil, fmt.Errorf("redeem %s token: %w", t.Purpose, s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("%s token: %w", t.Purpose, ErrTokenUsed)
	}
	t.UsedAt = &now
	return t, nil
}

// DeleteAccountTokens makes every outstanding token of a person for the
// purposes (all purposes when none are given) unusable: a changed
// password ends pending resets, a changed address pending verifications.
func (s *Store) DeleteAccountTokens(ctx context.Context, userID string, purposes ...string) error {
	if len(purposes) == 0 {
		purposes = []string{PurposeVerifyEmail, PurposeChangeEmail, PurposeResetPassword}
	}
	for _, p := range purposes {
		if err := s.deleteAccountTokens(ctx, userID, p); err != nil {
			return fmt.Errorf("delete %s tokens: %w", p, err)
		}
	}
	return nil
}

func (s *Store) deleteAccountTokens(ctx context.Context, userID, purpose string) error {
	err := s.conn(ctx).Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose).Delete(&AccountToken{}).Error
	return s.translate(err, ErrNotFound)
}
