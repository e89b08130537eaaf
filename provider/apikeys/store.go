package apikeys

import (
	"context"
	"time"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// Store is where keys are kept and the events of their life recorded.
type Store interface {
	audit.Appender
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	APIKeyByID(ctx context.Context, id string) (*storage.APIKey, error)
	CreateAPIKey(ctx context.Context, k *storage.APIKey) error
	RotateAPIKey(ctx context.Context, oldID string, replacement *storage.APIKey, grace time.Duration) error
	RevokeAPIKey(ctx context.Context, id string) error
}

// target is how the log shows a key: its name and hint, never the key.
func target(k *storage.APIKey) string { return k.Name + " (" + k.Hint() + ")" }

// Save stores a key New made and records its creation by actor, in one
// transaction.
func Save(ctx context.Context, s Store, actor audit.Actor, k *storage.APIKey) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return audit.Record(ctx, s, actor, audit.Event{Kind: audit.KeyCreated, OrgID: k.OrgID, TargetID: k.ID, Target: target(k),
			Detail: "scopes: " + k.Scopes})
	})
}

// SaveRotation stores the key Rotate made to replace old, letting old work
// for grace more (storage.RotateAPIKey), and records it, in one
// transaction. The event names the old key; its detail the new one.
func SaveRotation(ctx context.Context, s Store, actor audit.Actor, old, replacement *storage.APIKey, grace time.Duration) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.RotateAPIKey(ctx, old.ID, replacement, grace); err != nil {
			return err
		}
		detail := "replaced by " + replacement.Hint() + "; the old key stops now"
		if grace > 0 {
			detail = "replaced by " + replacement.Hint() + "; the old key works " + grace.String() + " more"
		}
		return audit.Record(ctx, s, actor, audit.Event{Kind: audit.KeyRotated, OrgID: old.OrgID, TargetID: old.ID, Target: target(old), Detail: detail})
	})
}

// Revoke revokes the key id and records it, in one transaction, and
// returns the key as it was. An unknown key, or one revoked already, is
// storage.ErrNotFound.
func Revoke(ctx context.Context, s Store, actor audit.Actor, id string) (*storage.APIKey, error) {
	var k *storage.APIKey
	err := s.InTx(ctx, func(ctx context.Context) error {
		var err error
		if k, err = s.APIKeyByID(ctx, id); err != nil {
			return err
		}
		if err := s.RevokeAPIKey(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, s, actor, audit.Event{Kind: audit.KeyRevoked, OrgID: k.OrgID, TargetID: k.ID, Target: target(k)})
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}
