package storage

import (
	"context"
	"fmt"
	"time"
)

// AuthFlow is an authorization request waiting for the person to sign in
// and consent. /authorize validates the request, stores it here and sends
// the browser to /login or /consent with the flow's id; when the person
// allows, the request is rebuilt from Form and answered.
type AuthFlow struct {
	ID          string `gorm:"primaryKey"`
	ClientID    string
	Form        string // the authorization request's parameters, URL-encoded
	RequestedAt time.Time
	Subject     string     // the user who signed in for this flow, once known
	AuthTime    *time.Time // when that user signed in for this flow
	ExpiresAt   time.Time
}

// TableName is the auth_flows table.
func (AuthFlow) TableName() string { return "auth_flows" }

// CreateFlow stores a pending authorization request; ID is set here.
func (s *Store) CreateFlow(ctx context.Context, f *AuthFlow, ttl time.Duration) error {
	now := utc(s.now())
	f.ID = RandomBase62(32)
	f.RequestedAt = utc(f.RequestedAt)
	if f.RequestedAt.IsZero() {
		f.RequestedAt = now
	}
	f.ExpiresAt = now.Add(ttl)
	if err := s.conn(ctx).Create(f).Error; err != nil {
		return fmt.Errorf("create authorization flow: %w", s.translate(err, ErrNotFound))
	}
	return nil
}

// Flow returns an unexpired flow or ErrNotFound.
func (s *Store) Flow(ctx context.Context, id string) (*AuthFlow, error) {
	var f AuthFlow
	if err := s.conn(ctx).Where("id = ? AND expires_at > ?", id, utc(s.now())).Take(&f).Error; err != nil {
		return nil, fmt.Errorf("find authorization flow: %w", s.translate(err, ErrNotFound))
	}
	return &f, nil
}

// SetFlowLogin records that subject signed in at authTime for this flow.
func (s *Store) SetFlowLogin(ctx context.Context, id, subject string, authTime time.Time) error {
	at := utc(authTime)
	res := s.conn(ctx).Model(&AuthFlow{}).Where("id = ?", id).Updates(map[string]any{"subject": subject, "auth_time": at})
	if res.Error != nil {
		return fmt.Errorf("record sign-in on flow: %w", s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("record sign-in on flow: %w", ErrNotFound)
	}
	return nil
}

// DeleteFlow removes a flow once it is answered. Only the first of two
// concurrent calls gets true, so a flow is answered at most once.
func (s *Store) DeleteFlow(ctx context.Context, id string) (bool, error) {
	res := s.conn(ctx).Where("id = ?", id).Delete(&AuthFlow{})
	if res.Error != nil {
		return false, fmt.Errorf("delete authorization flow: %w", s.translate(res.Error, ErrNotFound))
	}
	return res.RowsAffected == 1, nil
}
