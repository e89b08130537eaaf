package storage

import (
	"context"
	"fmt"
)

// OwnedOrg is an organization a person owns, with what deleting the
// person would do to it.
type OwnedOrg struct {
	Organization
	// OtherOwners and OtherMembers count the rest of its people, by role
	// (owners; everyone else).
	OtherOwners, OtherMembers int
	// Clients counts the OAuth apps registered in its name.
	Clients int
}

// OwnedOrganizations returns the organizations userID is an owner of, by
// name.
func (s *Store) OwnedOrganizations(ctx context.Context, userID string) ([]OwnedOrg, error) {
	var out []OwnedOrg
	err := s.conn(ctx).Raw(`SELECT o.id, o.name, o.name_key, o.created_at, o.updated_at,
			(SELECT COUNT(*) FROM memberships x WHERE x.org_id = o.id AND x.user_id <> ? AND x.role = ?) AS other_owners,
			(SELECT COUNT(*) FROM memberships x WHERE x.org_id = o.id AND x.user_id <> ? AND x.role <> ?) AS other_members,
			(SELECT COUNT(*) FROM clients c WHERE c.org_id = o.id) AS clients
		FROM organizations o JOIN memberships m ON m.org_id = o.id
		WHERE m.user_id = ? AND m.role = ?
		ORDER BY o.name_key`, userID, RoleOwner, userID, RoleOwner, userID, RoleOwner).Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("owned organizations of %s: %w", userID, s.translate(err, ErrNotFound))
	}
	return out, nil
}

// DeleteUser removes a person and everything that is theirs, in one
// transaction: every code, access and refresh token issued for them (and
// the PKCE and OpenID Connect state of their codes), their unfinished
// sign-ins, then the person, which takes their sessions, consents,
// memberships, API keys (with their usage) and mail-link tokens with them
// (ON DELETE CASCADE, migrate.go). The organizations orgIDs name go too,
// with whatever else cascades from them: the caller (provider/accounts)
// decides which of the person's organizations may (DeleteUser checks
// nothing about them). ErrNotFound when there is no such person; then
// nothing changed.
func (s *Store) DeleteUser(ctx context.Context, userID string, orgIDs ...string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.RevokeUserTokens(ctx, userID); err != nil {
			return fmt.Errorf("delete user %s: %w", userID, err)
		}
		db := s.pool(ctx)
		if _, err := db.ExecContext(ctx, s.q("DELETE FROM auth_flows WHERE subject = ?"), userID); err != nil {
			return fmt.Errorf("delete user %s: auth_flows: %w", userID, s.translate(err, ErrNotFound))
		}
		res, err := db.ExecContext(ctx, s.q("DELETE FROM users WHERE id = ?"), userID)
		if err != nil {
			return fmt.Errorf("delete user %s: %w", userID, s.translate(err, ErrNotFound))
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("delete user %s: %w", userID, err)
		} else if n == 0 {
			return fmt.Errorf("delete user %s: %w", userID, ErrNotFound)
		}
		for _, id := range orgIDs {
			if _, err := db.ExecContext(ctx, s.q("DELETE FROM organizations WHERE id = ?"), id); err != nil {
				return fmt.Errorf("delete user %s: organization %s: %w", userID, id, s.translate(err, ErrNotFound))
			}
		}
		return nil
	})
}
