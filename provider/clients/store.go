package clients

import (
	"context"
	"time"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// Store is where apps are kept and the events of their life recorded.
type Store interface {
	audit.Appender
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreateClient(ctx context.Context, c *storage.Client) error
	UpdateClient(ctx context.Context, c *storage.Client) error
	DeleteClient(ctx context.Context, id string) error
}

// event is the event of kind about c: in c's organization, naming the app
// by its name (never its secret).
func event(kind string, c *storage.Client, detail string) audit.Event {
	return audit.Event{Kind: kind, OrgID: c.OrgID, TargetID: c.ID, Target: c.Name, Detail: detail}
}

// Register stores a new app and records its registration by actor, in one
// transaction.
func Register(ctx context.Context, s Store, actor audit.Actor, c *storage.Client, detail string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.CreateClient(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, s, actor, event(audit.AppRegistered, c, detail))
	})
}

// Change stores an app's new settings and records the change, in one
// transaction.
func Change(ctx context.Context, s Store, actor audit.Actor, c *storage.Client, detail string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.UpdateClient(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, s, actor, event(audit.AppChanged, c, detail))
	})
}

// SaveRotation stores the app RotateSecret returned and records the
// rotation, in one transaction.
func SaveRotation(ctx context.Context, s Store, actor audit.Actor, c *storage.Client, grace time.Duration) error {
	detail := "the former secrets stop now"
	if grace > 0 {
		detail = "the former secret works " + grace.String() + " more"
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.UpdateClient(ctx, c); err != nil {
			return err
		}
		return audit.Record(ctx, s, actor, event(audit.AppSecretRotated, c, detail))
	})
}

// Delete deletes an app, and everything issued to it, and records it, in
// one transaction. An unknown app is storage.ErrNotFound.
func Delete(ctx context.Context, s Store, actor audit.Actor, c *storage.Client) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.DeleteClient(ctx, c.ID); err != nil {
			return err
		}
		return audit.Record(ctx, s, actor, event(audit.AppDeleted, c, ""))
	})
}
