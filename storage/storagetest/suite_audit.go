package storagetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// auditCases are the cases of the audit log.
var auditCases = []testCase{
	{"an audit event appended in a rolled-back transaction leaves nothing", testAuditRollback},
	{"audit events are filtered by organization, kind, actor and time", testAuditFilters},
	{"audit pages run newest first without gaps or repeats", testAuditPagination},
	{"audit retention removes only older events", testAuditRetention},
}

// appendEvent appends one event of kind in org by actor and returns it.
func appendEvent(t *testing.T, s *storage.Store, kind, org, actorID string) storage.AuditEvent {
	t.Helper()
	e := &storage.AuditEvent{Kind: kind, OrgID: org, ActorID: actorID, Actor: actorID + "@example.com",
		Target: "target", IP: "192.0.2.1", UserAgent: "Test/1.0"}
	Must(t, s.AppendAuditEvent(ctx(t), e))
	return *e
}

// eventIDs lists the ids of events, in their order.
func eventIDs(es []storage.AuditEvent) []int64 {
	out := make([]int64, len(es))
	for i, e := range es {
		out[i] = e.ID
	}
	return out
}

func testAuditRollback(t *testing.T, s *storage.Store, _ *Clock) {
	boom := errors.New("the action failed")
	err := s.InTx(ctx(t), func(ctx context.Context) error {
		if err := s.AppendAuditEvent(ctx, &storage.AuditEvent{Kind: "api_key.created", OrgID: "org_1"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the action's error", err)
	}
	got, err := s.ListAuditEvents(ctx(t), storage.AuditQuery{AllOrgs: true})
	Must(t, err)
	if len(got) != 0 {
		t.Fatalf("a rolled-back transaction left %d audit events: %+v", len(got), got)
	}
	// The same in a committed transaction is kept.
	Must(t, s.InTx(ctx(t), func(ctx context.Context) error {
		return s.AppendAuditEvent(ctx, &storage.AuditEvent{Kind: "api_key.created", OrgID: "org_1"})
	}))
	got, err = s.ListAuditEvents(ctx(t), storage.AuditQuery{OrgID: "org_1"})
	Must(t, err)
	if len(got) != 1 {
		t.Fatalf("a committed transaction left %d audit events, want 1", len(got))
	}
	if _, err := s.ListAuditEvents(ctx(t), storage.AuditQuery{}); err == nil {
		t.Fatal("listing without an organization nor AllOrgs was accepted")
	}
}

func testAuditFilters(t *testing.T, s *storage.Store, clock *Clock) {
	old := appendEvent(t, s, "signin.succeeded", "org_1", "usr_a")
	clock.Advance(2 * time.Hour)
	since := clock.Now()
	inA := appendEvent(t, s, "signin.succeeded", "org_1", "usr_a")
	keyB := appendEvent(t, s, "api_key.created", "org_1", "usr_b")
	revA := appendEvent(t, s, "api_key.revoked", "org_1", "usr_a")
	other := appendEvent(t, s, "api_key.created", "org_2", "usr_a")
	none := appendEvent(t, s, "signing_key.rotated", "", "")

	for _, tc := range []struct {
		name string
		q    storage.AuditQuery
		want []storage.AuditEvent
	}{
		{"the organization's events", storage.AuditQuery{OrgID: "org_1"}, []storage.AuditEvent{revA, keyB, inA, old}},
		{"every event", storage.AuditQuery{AllOrgs: true}, []storage.AuditEvent{none, other, revA, keyB, inA, old}},
		{"one kind", storage.AuditQuery{OrgID: "org_1", Kinds: []string{"api_key.created"}}, []storage.AuditEvent{keyB}},
		{"two kinds", storage.AuditQuery{OrgID: "org_1", Kinds: []string{"api_key.created", "api_key.revoked"}}, []storage.AuditEvent{revA, keyB}},
		{"one actor", storage.AuditQuery{OrgID: "org_1", ActorID: "usr_a"}, []storage.AuditEvent{revA, inA, old}},
		{"since", storage.AuditQuery{OrgID: "org_1", Since: since}, []storage.AuditEvent{revA, keyB, inA}},
		{"all filters", storage.AuditQuery{AllOrgs: true, Kinds: []string{"signin.succeeded"}, ActorID: "usr_a", Since: since}, []storage.AuditEvent{inA}},
		{"an unknown organization", storage.AuditQuery{OrgID: "org_none"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.ListAuditEvents(ctx(t), tc.q)
			Must(t, err)
			if !slices.Equal(eventIDs(got), eventIDs(tc.want)) {
				t.Fatalf("ids = %v, want %v", eventIDs(got), eventIDs(tc.want))
			}
		})
	}
	got, err := s.ListAuditEvents(ctx(t), storage.AuditQuery{OrgID: "org_2"})
	Must(t, err)
	if len(got) != 1 || got[0].Kind != other.Kind || got[0].Actor != other.Actor || got[0].IP != "192.0.2.1" ||
		got[0].UserAgent != "Test/1.0" || got[0].Target != "target" || !got[0].CreatedAt.Equal(since) {
		t.Fatalf("read back %+v, want %+v", got, other)
	}
}

func testAuditPagination(t *testing.T, s *storage.Store, clock *Clock) {
	var want []int64
	for i := range 23 {
		org := "org_1"
		if i%4 == 3 {
			org = "org_2" // interleaved events of another organization are skipped, not counted
		}
		e := appendEvent(t, s, "signin.succeeded", org, "usr_a")
		if org == "org_1" {
			want = append([]int64{e.ID}, want...)
		}
		if i%5 == 0 {
			clock.Advance(time.Second)
		}
	}
	var got []int64
	var before int64
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		page, err := s.ListAuditEvents(ctx(t), storage.AuditQuery{OrgID: "org_1", Before: before, Limit: 5})
		Must(t, err)
		if len(page) > 5 {
			t.Fatalf("a page of %d events, want at most 5", len(page))
		}
		if len(page) == 0 {
			break
		}
		got = append(got, eventIDs(page)...)
		before = page[len(page)-1].ID
	}
	if !slices.Equal(got, want) {
		t.Fatalf("pages = %v, want %v", got, want)
	}
}

func testAuditRetention(t *testing.T, s *storage.Store, clock *Clock) {
	for range 5 {
		appendEvent(t, s, "signin.succeeded", "org_1", "usr_a")
	}
	clock.Advance(time.Hour)
	cutoff := clock.Now()
	kept := []storage.AuditEvent{
		appendEvent(t, s, "signin.succeeded", "org_1", "usr_a"), // exactly at the cutoff: not older
	}
	clock.Advance(time.Minute)
	kept = append(kept, appendEvent(t, s, "api_key.created", "org_2", "usr_b"))
	n, err := s.DeleteAuditEventsBefore(ctx(t), cutoff, 2) // small batches: several rounds
	Must(t, err)
	if n != 5 {
		t.Fatalf("retention removed %d events, want 5", n)
	}
	got, err := s.ListAuditEvents(ctx(t), storage.AuditQuery{AllOrgs: true})
	Must(t, err)
	if want := []int64{kept[1].ID, kept[0].ID}; !slices.Equal(eventIDs(got), want) {
		t.Fatalf("after retention ids = %v, want %v", eventIDs(got), want)
	}
	n, err = s.DeleteAuditEventsBefore(ctx(t), cutoff, 2)
	Must(t, err)
	if n != 0 {
		t.Fatalf("a second round removed %d events, want 0", n)
	}
}
