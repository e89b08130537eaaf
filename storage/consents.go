package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Consent records what a user granted a client.
type Consent struct {
	ID        string `gorm:"primaryKey"`
	UserID    string
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

// SaveConsent records that a user granted scopes to a client, replacing an
// earlier grant for the same pair.
func (s *Store) SaveConsent(ctx context.Context, userID, clientID string, scopes []string, remember bool) (*Consent, error) {
	var saved *Consent
	err := s.InTx(ctx, func(ctx context.Context) error {
		existing, err := s.ConsentFor(ctx, userID, clientID)
		switch {
		case errors.Is(err, ErrNotFound):
			saved = &Consent{ID: NewID("cns"), UserID: userID, ClientID: clientID, Scopes: strings.Join(scopes, " "), Remember: remember}
			return s.conn(ctx).Create(saved).Error
		case err != nil:
			return err
		}
		existing.Scopes = strings.Join(scopes, " ")
		existing.Remember = remember
		saved = existing
		return s.conn(ctx).Model(existing).Select("scopes", "remember", "updated_at").Updates(existing).Error
	})
	if err != nil {
		return nil, fmt.Errorf("save consent: %w", s.translate(err, ErrNotFound))
	}
	return saved, nil
}

// ConsentFor returns the consent of a user for a client, or ErrNotFound.
func (s *Store) ConsentFor(ctx context.Context, userID, clientID string) (*Consent, error) {
	var c Consent
	if err := s.conn(ctx).Where("user_id = ? AND client_id = ?", userID, clientID).Take(&c).Error; err != nil {
		return nil, fmt.Errorf("find consent: %w", s.translate(err, ErrNotFound))
	}
	return &c, nil
}

// ListConsents returns a user's consents, newest first.
func (s *Store) ListConsents(ctx context.Context, userID string) ([]Consent, error) {
	var out []Consent
	if err := s.conn(ctx).Where("user_id = ?", userID).Order("updated_at DESC, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list consents: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}
