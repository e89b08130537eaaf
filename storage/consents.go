package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Consent records what a user granted a client, acting in one of their
// organizations (OrgID is empty for a user without one).
type Consent struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
	OrgID     string
	ClientID  string
	Scopes    string // space-separated
	Remember  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is the consents table.
func (Consent) TableName() string { return "consents" }

// ScopeList returns the granted scopes.
func (c *Consent) ScopeList() []string { return strings.Fields(c.Scopes) }

// Covers reports whether the consent grants every scope in scopes.
func (c *Consent) Covers(scopes []string) bool {
	granted := c.ScopeList()
	for _, s := range scopes {
		found := false
		for _, g := range granted {
			if g == s {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// SaveConsent records that a user granted scopes to a client for an
// organization, replacing an earlier grant for the same three.
func (s *Store) SaveConsent(ctx context.Context, c Consent) (*Consent, error) {
	var saved *Consent
	err := s.InTx(ctx, func(ctx context.Context) error {
		var existing Consent
		err := s.conn(ctx).Where("user_id = ? AND org_id = ? AND client_id = ?", c.UserID, c.OrgID, c.ClientID).Take(&existing).Error
		switch err = s.translate(err, ErrNotFound); {
		case errors.Is(err, ErrNotFound):
			c.ID = NewID("cns")
			saved = &c
			return s.conn(ctx).Create(saved).Error
		case err != nil:
			return err
		}
		existing.Scopes, existing.Remember = c.Scopes, c.Remember
		saved = &existing
		return s.conn(ctx).Model(saved).Select("scopes", "remember", "updated_at").Updates(saved).Error
	})
	if err != nil {
		return nil, fmt.Errorf("save consent: %w", s.translate(err, ErrNotFound))
	}
	return saved, nil
}

// ConsentsFor returns a user's consents for a client, newest first.
func (s *Store) ConsentsFor(ctx context.Context, userID, clientID string) ([]Consent, error) {
	var out []Consent
	if err := s.conn(ctx).Where("user_id = ? AND client_id = ?", userID, clientID).Order("updated_at DESC, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("find consents: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// ConnectedApp is a consent with the names a person recognises.
type ConnectedApp struct {
	Consent
	ClientName string
	OrgName    string
}

// ListConnectedApps returns the apps a user granted access, newest first.
func (s *Store) ListConnectedApps(ctx context.Context, userID string) ([]ConnectedApp, error) {
	var out []ConnectedApp
	err := s.conn(ctx).Table("consents c").
		Select("c.*, cl.name AS client_name, COALESCE(o.name, '') AS org_name").
		Joins("JOIN clients cl ON cl.id = c.client_id").
		Joins("LEFT JOIN organizations o ON o.id = c.org_id").
		Where("c.user_id = ?", userID).
		Order("c.updated_at DESC, c.id").
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list connected apps: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// RevokeConsent takes an app's access back: it deletes the user's consent
// and, in the same transaction, every code, access and refresh token issued
// to that app for that person. It returns the consent, or ErrNotFound when
// the user has no such consent.
func (s *Store) RevokeConsent(ctx context.Context, userID, consentID string) (*Consent, error) {
	var c Consent
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.conn(ctx).Where("id = ? AND user_id = ?", consentID, userID).Take(&c).Error; err != nil {
			return s.translate(err, ErrNotFound)
		}
		if err := s.conn(ctx).Delete(&c).Error; err != nil {
			return s.translate(err, ErrNotFound)
		}
		return s.RevokeUserClientTokens(ctx, userID, c.ClientID)
	})
	if err != nil {
		return nil, fmt.Errorf("revoke consent %s: %w", consentID, err)
	}
	return &c, nil
}

// RevokeUserClientTokens deletes every code, access and refresh token a
// client holds for a user.
func (s *Store) RevokeUserClientTokens(ctx context.Context, userID, clientID string) error {
	for _, table := range []string{tableCodes, tableAccess, tableRefresh} {
		_, err := s.pool(ctx).ExecContext(ctx, s.q("DELETE FROM "+table+" WHERE client_id = ? AND subject = ?"), clientID, userID)
		if err != nil {
			return fmt.Errorf("revoke tokens in %s: %w", table, s.translate(err, ErrNotFound))
		}
	}
	return nil
}
