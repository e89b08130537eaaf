package storagetest

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/storage"
)

// AuditEvents returns every event of s's audit log, of every organization,
// oldest first: what the tests of an action check it recorded.
func AuditEvents(t testing.TB, s *storage.Store) []storage.AuditEvent {
	t.Helper()
	var out []storage.AuditEvent
	q := storage.AuditQuery{AllOrgs: true, Limit: 1000}
	for {
		page, err := s.ListAuditEvents(context.Background(), q)
		if err != nil {
			t.Fatalf("list audit events: %v", err)
		}
		out = append(out, page...)
		if len(page) < q.Limit {
			break
		}
		q.Before = page[len(page)-1].ID
	}
	slices.Reverse(out)
	return out
}

// AuditKinds are the kinds of events, in their order.
func AuditKinds(events []storage.AuditEvent) []string {
	out := make([]string, len(events))
	for i, e := range events {
		out[i] = e.Kind
	}
	return out
}

// CheckNoSecret fails t if any field of any event holds one of secrets.
func CheckNoSecret(t testing.TB, events []storage.AuditEvent, secrets ...string) {
	t.Helper()
	for _, e := range events {
		for _, field := range []string{e.Kind, e.OrgID, e.ActorID, e.Actor, e.TargetID, e.Target, e.Detail, e.IP, e.UserAgent} {
			for _, s := range secrets {
				if s != "" && strings.Contains(field, s) {
					t.Errorf("the %s event %d holds a secret (%.6s…) in %q", e.Kind, e.ID, s, field)
				}
			}
		}
	}
}
