package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/ajrly/ajrly-auth/config"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// auditListFlags are the flags of audit list.
type auditListFlags struct {
	org, since string
	kinds      []string
	asJSON     bool
}

func (c *cli) auditListCmd() *cobra.Command {
	var f auditListFlags
	cmd := c.command("list [--org NAME] [--since 24h] [--kind K] [--json]", "list the audit log, newest first", noArgs,
		func(ctx context.Context, cfg config.Config, _ []string) error { return c.auditList(ctx, cfg, f) })
	fl := cmd.Flags()
	fl.StringVar(&f.org, "org", "", "only the events of the `organization` with this name or id")
	fl.StringVar(&f.since, "since", "", "only the events of the last `duration` (24h, 90m) or since a date (2026-12-01 or RFC 3339)")
	fl.StringSliceVar(&f.kinds, "kind", nil, "only events of this `kind` (repeat or separate with commas), e.g. signin.failed")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per event and line")
	completeWords(cmd, "kind", kindNames()...)
	return cmd
}

// parseSince reads --since: a positive duration before now, or a date.
func parseSince(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("audit list: --since must be a positive duration, got %q", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("audit list: --since takes a duration like 24h or a date like 2026-12-01, got %q", s)
}

// auditRow is how audit list --json shows an event.
type auditRow struct {
	ID        int64  `json:"id"`
	Time      string `json:"time"`
	Kind      string `json:"kind"`
	OrgID     string `json:"org_id,omitempty"`
	Org       string `json:"org,omitempty"`
	ActorID   string `json:"actor_id,omitempty"`
	Actor     string `json:"actor,omitempty"`
	TargetID  string `json:"target_id,omitempty"`
	Target    string `json:"target,omitempty"`
	Detail    string `json:"detail,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

func (c *cli) auditList(ctx context.Context, cfg config.Config, f auditListFlags) error {
	q := storage.AuditQuery{AllOrgs: true, Limit: 1000}
	if f.since != "" {
		since, err := parseSince(f.since, time.Now())
		if err != nil {
			return usageError("%v", err)
		}
		q.Since = since
	}
	for _, k := range f.kinds {
		k = strings.TrimSpace(k)
		if !audit.Known(k) {
			return usageError("audit list: unknown --kind %q; the kinds are %s", k, strings.Join(kindNames(), ", "))
		}
		q.Kinds = append(q.Kinds, k)
	}
	store, err := c.openAdminStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	names := map[string]string{} // organization id → name, as found
	if f.org != "" {
		org, err := findOrg(ctx, store, f.org)
		if err != nil {
			return err
		}
		q.AllOrgs, q.OrgID = false, org.ID
		names[org.ID] = org.Name
	}
	orgName := func(id string) string {
		if id == "" {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		n := id // a deleted organization is shown by its id
		if o, err := store.OrganizationByID(ctx, id); err == nil {
			n = o.Name
		}
		names[id] = n
		return n
	}

	var tw *tabwriter.Writer
	enc := json.NewEncoder(c.stdout)
	if !f.asJSON {
		tw = tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TIME\tKIND\tORGANIZATION\tACTOR\tTARGET\tDETAIL\tIP")
	}
	for {
		events, err := store.ListAuditEvents(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range events {
			if f.asJSON {
				if err := enc.Encode(auditRow{
					ID: e.ID, Time: e.CreatedAt.UTC().Format(time.RFC3339), Kind: e.Kind,
					OrgID: e.OrgID, Org: orgName(e.OrgID), ActorID: e.ActorID, Actor: e.Actor,
					TargetID: e.TargetID, Target: e.Target, Detail: e.Detail, IP: e.IP, UserAgent: e.UserAgent,
				}); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.CreatedAt.UTC().Format(time.RFC3339), e.Kind,
				cell(orgName(e.OrgID)), cell(e.Actor), cell(e.Target), cell(e.Detail), cell(e.IP))
		}
		if len(events) < q.Limit {
			break
		}
		q.Before = events[len(events)-1].ID
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// cell is a table cell: "-" when empty, and no tab or line break that
// would break the table's columns.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

// kindNames lists the names of the audit log's kinds.
func kindNames() []string {
	out := make([]string, len(audit.Kinds))
	for i, k := range audit.Kinds {
		out[i] = k.Name
	}
	return out
}
