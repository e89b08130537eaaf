package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrInvitationRevoked is an invitation whose link was withdrawn. Like
// ErrTokenExpired and ErrTokenUsed it is an ErrNotFound, so a surface that
// does not tell them apart answers them alike.
var ErrInvitationRevoked = fmt.Errorf("the invitation was revoked: %w", ErrNotFound)

// Invitation is an invitation into an organization, for an address that
// may have no account yet. The table holds only the SHA-256 digest of the
// token its link carries.
type Invitation struct {
	ID     string `gorm:"primaryKey"`
	OrgID  string
	Email  string
	Role   string
	Digest string
	// InvitedBy is how the inviter is shown: their name, else their email.
	InvitedBy  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	SentAt     time.Time
	AcceptedAt *time.Time
	AcceptedBy string
	RevokedAt  *time.Time
}

// TableName is the invitations table.
func (Invitation) TableName() string { return "invitations" }

// Pending reports whether the invitation can still be accepted at now.
func (i *Invitation) Pending(now time.Time) bool {
	return i.AcceptedAt == nil && i.RevokedAt == nil && now.Before(i.ExpiresAt)
}

// CreateInvitation invites email into an organization with role, for
// ttl, and returns the token of its link (32 random bytes, URL-safe). An
// invitation to the same address into the same organization that is not
// accepted yet is replaced: its link stops working.
func (s *Store) CreateInvitation(ctx context.Context, orgID, email, role, invitedBy string, ttl time.Duration) (string, *Invitation, error) {
	if orgID == "" || ttl <= 0 {
		return "", nil, errors.New("create invitation: an organization and a lifetime are required")
	}
	if role != RoleOwner && role != RoleAdmin && role != RoleMember {
		return "", nil, fmt.Errorf("create invitation: unknown role %q", role)
	}
	if err := ValidateEmail(email); err != nil {
		return "", nil, fmt.Errorf("create invitation: %w", err)
	}
	token := NewSecret()
	now := utc(s.now())
	inv := &Invitation{ID: NewID("inv"), OrgID: orgID, Email: NormalizeEmail(email), Role: role,
		Digest: DigestHex(token), InvitedBy: invitedBy, CreatedAt: now, ExpiresAt: now.Add(ttl), SentAt: now}
	err := s.InTx(ctx, func(ctx context.Context) error {
		err := s.conn(ctx).Where("org_id = ? AND email = ? AND accepted_at IS NULL", orgID, inv.Email).Delete(&Invitation{}).Error
		if err != nil {
			return s.translate(err, ErrNotFound)
		}
		return s.translate(s.conn(ctx).Create(inv).Error, ErrNotFound)
	})
	if err != nil {
		return "", nil, fmt.Errorf("create invitation into %s: %w", orgID, err)
	}
	return token, inv, nil
}

// ResendInvitation gives a pending invitation of an organization a new
// token and lifetime (an expired one too, until the janitor takes it):
// the old link stops working. An accepted, revoked or unknown invitation
// is ErrNotFound.
func (s *Store) ResendInvitation(ctx context.Context, orgID, id string, ttl time.Duration) (string, *Invitation, error) {
	if ttl <= 0 {
		return "", nil, errors.New("resend invitation: a lifetime is required")
	}
	token := NewSecret()
	now := utc(s.now())
	var inv Invitation
	err := s.InTx(ctx, func(ctx context.Context) error {
		res := s.conn(ctx).Model(&Invitation{}).
			Where("id = ? AND org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL", id, orgID).
			Updates(map[string]any{"digest": DigestHex(token), "expires_at": now.Add(ttl), "sent_at": now})
		if res.Error != nil {
			return s.translate(res.Error, ErrNotFound)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return s.translate(s.conn(ctx).Where("id = ?", id).Take(&inv).Error, ErrNotFound)
	})
	if err != nil {
		return "", nil, fmt.Errorf("resend invitation %s: %w", id, err)
	}
	return token, &inv, nil
}

// RevokeInvitation withdraws a pending invitation of an organization and
// returns it; an accepted, revoked or unknown one is ErrNotFound.
func (s *Store) RevokeInvitation(ctx context.Context, orgID, id string) (*Invitation, error) {
	var inv Invitation
	err := s.InTx(ctx, func(ctx context.Context) error {
		now := utc(s.now())
		res := s.conn(ctx).Model(&Invitation{}).
			Where("id = ? AND org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL", id, orgID).
			Update("revoked_at", now)
		if res.Error != nil {
			return s.translate(res.Error, ErrNotFound)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return s.translate(s.conn(ctx).Where("id = ?", id).Take(&inv).Error, ErrNotFound)
	})
	if err != nil {
		return nil, fmt.Errorf("revoke invitation %s: %w", id, err)
	}
	return &inv, nil
}

// InvitationByToken returns the invitation a link carries if it can still
// be accepted; otherwise ErrTokenExpired, ErrTokenUsed,
// ErrInvitationRevoked or ErrNotFound (unknown or tampered), each an
// ErrNotFound.
func (s *Store) InvitationByToken(ctx context.Context, token string) (*Invitation, error) {
	var inv Invitation
	if err := s.conn(ctx).Where("digest = ?", DigestHex(token)).Take(&inv).Error; err != nil {
		return nil, fmt.Errorf("find invitation: %w", s.translate(err, ErrNotFound))
	}
	switch {
	case inv.AcceptedAt != nil:
		return nil, fmt.Errorf("invitation %s: %w", inv.ID, ErrTokenUsed)
	case inv.RevokedAt != nil:
		return nil, fmt.Errorf("invitation %s: %w", inv.ID, ErrInvitationRevoked)
	case !utc(s.now()).Before(inv.ExpiresAt):
		return nil, fmt.Errorf("invitation %s: %w", inv.ID, ErrTokenExpired)
	}
	return &inv, nil
}

// RedeemInvitation uses up the invitation a link carries for the person
// userID and returns it; the errors are InvitationByToken's. Of two
// requests redeeming the same token at once, exactly one succeeds. Run it
// in the transaction that makes the person a member, so that a failure
// there leaves the invitation usable.
func (s *Store) RedeemInvitation(ctx context.Context, token, userID string) (*Invitation, error) {
	if userID == "" {
		return nil, errors.New("redeem invitation: a person is required")
	}
	inv, err := s.InvitationByToken(ctx, token)
	if err != nil {
		return nil, err
	}
	now := utc(s.now())
	res := s.conn(ctx).Model(&Invitation{}).
		Where("id = ? AND digest = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", inv.ID, inv.Digest, now).
		Updates(map[string]any{"accepted_at": now, "accepted_by": userID})
	if res.Error != nil {
		return nil, fmt.Errorf("redeem invitation %s: %w", inv.ID, s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return nil, fmt.Errorf("invitation %s: %w", inv.ID, ErrTokenUsed)
	}
	inv.AcceptedAt, inv.AcceptedBy = &now, userID
	return inv, nil
}

// PendingInvitations lists the invitations of an organization that can
// still be accepted, newest first.
func (s *Store) PendingInvitations(ctx context.Context, orgID string) ([]Invitation, error) {
	var out []Invitation
	err := s.conn(ctx).
		Where("org_id = ? AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > ?", orgID, utc(s.now())).
		Order("created_at DESC, id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list invitations of %s: %w", orgID, s.translate(err, ErrNotFound))
	}
	return out, nil
}
