package storage

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// AuditEvent is one entry of the append-only audit log: who did what, in
// which organization, to what, from where. It never holds a secret: the
// target is named (an email, a key's hint, an app's name), never given.
type AuditEvent struct {
	ID        int64 `gorm:"primaryKey;autoIncrement"`
	CreatedAt time.Time
	Kind      string
	OrgID     string // "" for an event outside any organization
	ActorID   string // the person who acted; "" for the operator or nobody known
	Actor     string // how the actor is shown: their email then, "operator", or an address tried
	TargetID  string
	Target    string // how the target is shown
	Detail    string // a short plain-words addition, e.g. "member → admin"
	IP        string
	UserAgent string
}

// TableName is the audit_events table.
func (AuditEvent) TableName() string { return "audit_events" }

// AppendAuditEvent adds an event to the log. Called with a context that
// carries a transaction, it is part of it: the event is written exactly
// when the action it records is.
func (s *Store) AppendAuditEvent(ctx context.Context, e *AuditEvent) error {
	if e.Kind == "" {
		return errors.New("append audit event: the kind is required")
	}
	e.ID = 0
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	e.CreatedAt = utc(e.CreatedAt)
	e.Actor = truncate(e.Actor, 320)
	e.Target = truncate(e.Target, 320)
	e.Detail = truncate(e.Detail, 500)
	e.IP = truncate(e.IP, 64)
	e.UserAgent = truncate(e.UserAgent, 255)
	if err := s.conn(ctx).Create(e).Error; err != nil {
		return fmt.Errorf("append %s audit event: %w", e.Kind, s.translate(err, ErrNotFound))
	}
	return nil
}

// AuditQuery selects events of the log, newest first.
type AuditQuery struct {
	OrgID   string // the organization's events; "" with AllOrgs for every event
	AllOrgs bool
	Kinds   []string // any kind when empty
	ActorID string   // any actor when empty
	Since   time.Time
	Before  int64 // a cursor: only events older than this id (0: from the newest)
	Limit   int   // at most this many (default 50, at most 1000)
}

// ListAuditEvents returns the events q selects, newest first. The next
// page is the same query with Before set to the last event's ID.
func (s *Store) ListAuditEvents(ctx context.Context, q AuditQuery) ([]AuditEvent, error) {
	if q.OrgID == "" && !q.AllOrgs {
		return nil, errors.New("list audit events: an organization is required")
	}
	switch {
	case q.Limit <= 0:
		q.Limit = 50
	case q.Limit > 1000:
		q.Limit = 1000
	}
	db := s.conn(ctx).Model(&AuditEvent{})
	if q.OrgID != "" {
		db = db.Where("org_id = ?", q.OrgID)
	}
	if len(q.Kinds) > 0 {
		db = db.Where("kind IN ?", q.Kinds)
	}
	if q.ActorID != "" {
		db = db.Where("actor_id = ?", q.ActorID)
	}
	if !q.Since.IsZero() {
		db = db.Where("created_at >= ?", utc(q.Since))
	}
	if q.Before > 0 {
		db = db.Where("id < ?", q.Before)
	}
	var out []AuditEvent
	if err := db.Order("id DESC").Limit(q.Limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list audit events: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// DeleteAuditEventsBefore removes the events older than t (the retention
// the janitor enforces), at most batch rows per statement, and returns how
// many it removed.
func (s *Store) DeleteAuditEventsBefore(ctx context.Context, t time.Time, batch int) (int64, error) {
	if batch <= 0 {
		batch = 1000
	}
	var total int64
	for {
		query := fmt.Sprintf("DELETE FROM audit_events WHERE id IN (SELECT id FROM audit_events WHERE created_at < ? LIMIT %d)", batch)
		res, err := s.pool(ctx).ExecContext(ctx, s.q(query), utc(t))
		if err != nil {
			return total, fmt.Errorf("delete old audit events: %w", s.translate(err, ErrNotFound))
		}
		n, _ := res.RowsAffected()
		total += n
		if n < int64(batch) {
			return total, nil
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}
