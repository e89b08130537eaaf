package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// OrgMember is a person in an organization, as its member list shows them.
type OrgMember struct {
	UserID   string
	Email    string
	Name     string
	Role     string
	JoinedAt time.Time
}

// OrgMembers lists the people of an organization: owners first, then
// admins, then members, each by name (email for those without), then
// email.
func (s *Store) OrgMembers(ctx context.Context, orgID string) ([]OrgMember, error) {
	var out []OrgMember
	err := s.conn(ctx).Raw(`SELECT m.user_id, u.email, u.name, m.role, m.created_at AS joined_at
		FROM memberships m JOIN users u ON u.id = m.user_id
		WHERE m.org_id = ?
		ORDER BY CASE m.role WHEN ? THEN 0 WHEN ? THEN 1 ELSE 2 END,
			LOWER(CASE WHEN u.name = '' THEN u.email ELSE u.name END), u.email`,
		orgID, RoleOwner, RoleAdmin).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list members of %s: %w", orgID, s.translate(err, ErrNotFound))
	}
	for i := range out {
		out[i].JoinedAt = out[i].JoinedAt.UTC()
	}
	return out, nil
}

// LockOrganization takes the organization's row for the rest of the
// transaction in ctx, so that changes to its people are made one at a
// time: two owners demoting each other at once cannot both see the other
// still an owner. (SQLite runs one transaction at a time anyway.)
// ErrNotFound when there is no such organization.
func (s *Store) LockOrganization(ctx context.Context, orgID string) error {
	res, err := s.pool(ctx).ExecContext(ctx, s.q("UPDATE organizations SET id = id WHERE id = ?"), orgID)
	if err != nil {
		return fmt.Errorf("lock organization %s: %w", orgID, s.translate(err, ErrNotFound))
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("lock organization %s: %w", orgID, err)
	} else if n == 0 {
		return fmt.Errorf("lock organization %s: %w", orgID, ErrNotFound)
	}
	return nil
}

// CountOwners counts the owners of an organization.
func (s *Store) CountOwners(ctx context.Context, orgID string) (int, error) {
	var n int64
	if err := s.conn(ctx).Model(&Membership{}).Where("org_id = ? AND role = ?", orgID, RoleOwner).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count owners of %s: %w", orgID, s.translate(err, ErrNotFound))
	}
	return int(n), nil
}

// SetMemberRole changes a member's role; ErrNotFound when they are not a
// member.
func (s *Store) SetMemberRole(ctx context.Context, orgID, userID, role string) error {
	if role != RoleOwner && role != RoleAdmin && role != RoleMember {
		return fmt.Errorf("set role: unknown role %q", role)
	}
	res := s.conn(ctx).Model(&Membership{}).Where("org_id = ? AND user_id = ?", orgID, userID).Update("role", role)
	if res.Error != nil {
		return fmt.Errorf("set role of %s in %s: %w", userID, orgID, s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("set role of %s in %s: %w", userID, orgID, ErrNotFound)
	}
	return nil
}

// RemoveMember takes a person's membership of an organization away (and
// nothing else: see RevokeMemberAccess); ErrNotFound when they are not a
// member.
func (s *Store) RemoveMember(ctx context.Context, orgID, userID string) error {
	res := s.conn(ctx).Where("org_id = ? AND user_id = ?", orgID, userID).Delete(&Membership{})
	if res.Error != nil {
		return fmt.Errorf("remove %s from %s: %w", userID, orgID, s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("remove %s from %s: %w", userID, orgID, ErrNotFound)
	}
	return nil
}

// RevokeMemberAPIKeys revokes the API keys a person created in an
// organization that are not revoked yet, and returns how many.
func (s *Store) RevokeMemberAPIKeys(ctx context.Context, orgID, userID string) (int64, error) {
	res := s.conn(ctx).Model(&APIKey{}).Where("org_id = ? AND user_id = ? AND revoked_at IS NULL", orgID, userID).
		Update("revoked_at", utc(s.now()))
	if res.Error != nil {
		return 0, fmt.Errorf("revoke api keys of %s in %s: %w", userID, orgID, s.translate(res.Error, ErrNotFound))
	}
	return res.RowsAffected, nil
}

// DeleteMemberLoginSessions ends a person's sessions working in an
// organization and returns how many there were; their sessions in other
// organizations stay.
func (s *Store) DeleteMemberLoginSessions(ctx context.Context, orgID, userID string) (int64, error) {
	if orgID == "" {
		return 0, errors.New("delete sessions in an organization: an organization is required")
	}
	res := s.conn(ctx).Where("org_id = ? AND user_id = ?", orgID, userID).Delete(&LoginSession{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete sessions of %s in %s: %w", userID, orgID, s.translate(res.Error, ErrNotFound))
	}
	return res.RowsAffected, nil
}

// MemberConsents returns the consents a person gave acting in an
// organization.
func (s *Store) MemberConsents(ctx context.Context, orgID, userID string) ([]Consent, error) {
	var out []Consent
	if err := s.conn(ctx).Where("org_id = ? AND user_id = ?", orgID, userID).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("consents of %s in %s: %w", userID, orgID, s.translate(err, ErrNotFound))
	}
	return out, nil
}

// SetConsentScopes replaces what a consent grants (a lowered role
// narrows it); ErrNotFound when there is no such consent.
func (s *Store) SetConsentScopes(ctx context.Context, consentID, scopes string) error {
	res := s.conn(ctx).Model(&Consent{}).Where("id = ?", consentID).
		Updates(map[string]any{"scopes": scopes, "updated_at": utc(s.now())})
	if res.Error != nil {
		return fmt.Errorf("narrow consent %s: %w", consentID, s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("narrow consent %s: %w", consentID, ErrNotFound)
	}
	return nil
}

// DeleteMemberConsents deletes the consents a person gave acting in an
// organization and returns how many (their tokens: RevokeUserOrgTokens).
func (s *Store) DeleteMemberConsents(ctx context.Context, orgID, userID string) (int64, error) {
	if orgID == "" {
		return 0, errors.New("delete consents in an organization: an organization is required")
	}
	res := s.conn(ctx).Where("org_id = ? AND user_id = ?", orgID, userID).Delete(&Consent{})
	if res.Error != nil {
		return 0, fmt.Errorf("delete consents of %s in %s: %w", userID, orgID, s.translate(res.Error, ErrNotFound))
	}
	return res.RowsAffected, nil
}

// RevokeUserOrgAccessTokens deletes the access tokens a person holds for
// grants acting in an organization (and those from before the
// organization was recorded), leaving their refresh tokens, which narrow
// to their role when used: what a lowered role takes at once.
func (s *Store) RevokeUserOrgAccessTokens(ctx context.Context, userID, orgID string) error {
	if userID == "" || orgID == "" {
		return errors.New("revoke access tokens in an organization: a person and an organization are required")
	}
	_, err := s.pool(ctx).ExecContext(ctx, s.q("DELETE FROM "+tableAccess+" WHERE subject = ? AND (org_id = ? OR org_id = '')"), userID, orgID)
	if err != nil {
		return fmt.Errorf("revoke access tokens of %s in %s: %w", userID, orgID, s.translate(err, ErrNotFound))
	}
	return nil
}

// ClearMemberLoginSessions makes a person's sessions working in an
// organization work in none (their person picks another), for a person
// who left it: they stay signed in. It returns how many there were.
func (s *Store) ClearMemberLoginSessions(ctx context.Context, orgID, userID string) (int64, error) {
	if orgID == "" {
		return 0, errors.New("move sessions out of an organization: an organization is required")
	}
	res := s.conn(ctx).Model(&LoginSession{}).Where("org_id = ? AND user_id = ?", orgID, userID).Update("org_id", "")
	if res.Error != nil {
		return 0, fmt.Errorf("move sessions of %s out of %s: %w", userID, orgID, s.translate(res.Error, ErrNotFound))
	}
	return res.RowsAffected, nil
}

// RevokeMemberAccess takes away at once what a person's grants hold in an
// organization, in one transaction: the API keys they created there, the
// consents they gave acting in it and the codes and tokens of those
// grants. Their sessions there are DeleteMemberLoginSessions' (removed)
// or ClearMemberLoginSessions' (left); their membership RemoveMember's.
func (s *Store) RevokeMemberAccess(ctx context.Context, orgID, userID string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.RevokeMemberAPIKeys(ctx, orgID, userID); err != nil {
			return err
		}
		if _, err := s.DeleteMemberConsents(ctx, orgID, userID); err != nil {
			return err
		}
		return s.RevokeUserOrgTokens(ctx, userID, orgID)
	})
}

// RenameOrganization renames an organization under the rules of
// CreateOrganization (ErrOrgNameTaken for a name in use, ignoring case
// and spacing) and returns it renamed; ErrNotFound when there is none.
func (s *Store) RenameOrganization(ctx context.Context, orgID, name string) (*Organization, error) {
	if err := ValidateOrgName(name); err != nil {
		return nil, fmt.Errorf("rename organization: %w", err)
	}
	var org Organization
	err := s.InTx(ctx, func(ctx context.Context) error {
		// Checked before the update, because a failed update aborts a
		// PostgreSQL transaction; the unique index settles a race.
		var other Organization
		err := s.conn(ctx).Where("name_key = ? AND id <> ?", orgNameKey(name), orgID).Take(&other).Error
		if err = s.translate(err, ErrNotFound); err == nil {
			return ErrOrgNameTaken
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		res := s.conn(ctx).Model(&Organization{}).Where("id = ?", orgID).
			Updates(map[string]any{"name": cleanOrgName(name), "name_key": orgNameKey(name), "updated_at": utc(s.now())})
		if res.Error != nil {
			return s.translate(res.Error, ErrNotFound)
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return s.translate(s.conn(ctx).Where("id = ?", orgID).Take(&org).Error, ErrNotFound)
	})
	if errors.Is(err, ErrConflict) {
		return nil, fmt.Errorf("rename organization %s to %q: %w", orgID, name, ErrOrgNameTaken)
	} else if err != nil {
		return nil, fmt.Errorf("rename organization %s: %w", orgID, err)
	}
	return &org, nil
}

// DeleteOrganization deletes an organization and everything of it, in one
// transaction: its API keys (revoked, then gone with it), its apps
// (clients) with their codes and tokens, every consent given and every
// code and token issued acting in it, its invitations and memberships
// (ON DELETE CASCADE). Sessions that worked in it are kept and work in
// none until their person picks one. Its audit events stay. ErrNotFound
// when there is no such organization; then nothing changed.
func (s *Store) DeleteOrganization(ctx context.Context, orgID string) error {
	if orgID == "" {
		return fmt.Errorf("delete organization: %w", ErrNotFound)
	}
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.LockOrganization(ctx, orgID); err != nil {
			return err
		}
		err := s.conn(ctx).Model(&APIKey{}).Where("org_id = ? AND revoked_at IS NULL", orgID).Update("revoked_at", utc(s.now())).Error
		if err != nil {
			return s.translate(err, ErrNotFound)
		}
		var clientIDs []string
		if err := s.conn(ctx).Model(&Client{}).Where("org_id = ?", orgID).Pluck("id", &clientIDs).Error; err != nil {
			return s.translate(err, ErrNotFound)
		}
		for _, id := range clientIDs {
			if err := s.DeleteClient(ctx, id); err != nil {
				return err
			}
		}
		if err := s.conn(ctx).Where("org_id = ?", orgID).Delete(&Consent{}).Error; err != nil {
			return s.translate(err, ErrNotFound)
		}
		for _, table := range orgTokenTables {
			if err := s.deleteToken(ctx, table, "org_id", orgID); err != nil {
				return err
			}
		}
		if err := s.conn(ctx).Model(&LoginSession{}).Where("org_id = ?", orgID).Update("org_id", "").Error; err != nil {
			return s.translate(err, ErrNotFound)
		}
		return s.translate(s.conn(ctx).Where("id = ?", orgID).Delete(&Organization{}).Error, ErrNotFound)
	})
	if err != nil {
		return fmt.Errorf("delete organization %s: %w", orgID, err)
	}
	return nil
}
