package settings

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/storage"
)

func TestKeyRowSaysWhatStateAKeyIsIn(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	tests := []struct {
		name                 string
		key                  storage.APIKey
		state, label, expiry string
		canRotate, canRevoke bool
	}{
		{"a key without expiry is active", storage.APIKey{}, "active", "Active", "never", true, true},
		{"a key with an expiry says when", storage.APIKey{ExpiresAt: at(30 * 24 * time.Hour)}, "expiring", "Expires 14 Jan 2027", "14 Jan 2027", true, true},
		{"a rotated key in its grace period is replaced and works until its end", storage.APIKey{ExpiresAt: at(time.Hour), ReplacedBy: "key_2"},
			"replaced", "Replaced", "works until 15 Dec 2026 11:00 UTC", false, true},
		{"a key past its expiry is expired", storage.APIKey{ExpiresAt: at(-time.Hour)}, "expired", "Expired", "15 Dec 2026", false, false},
		{"a revoked key is revoked", storage.APIKey{RevokedAt: at(-24 * time.Hour)}, "revoked", "Revoked", "revoked 14 Dec 2026", false, false},
		{"a key rotated without grace is revoked", storage.APIKey{RevokedAt: at(-time.Minute), ReplacedBy: "key_2"}, "revoked", "Revoked", "revoked 15 Dec 2026", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.key.CreatedAt = now.Add(-48 * time.Hour)
			row := newKeyRow(&tc.key, now)
			got := []any{row.State, row.StateLabel, row.Expiry, row.CanRotate, row.CanRevoke}
			want := []any{tc.state, tc.label, tc.expiry, tc.canRotate, tc.canRevoke}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("state, label, expiry, rotate, revoke (-want +got):\n%s", diff)
			}
		})
	}
}

func TestUsageChartDrawsThirtyDays(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	days := usageWindow(now)
	if len(days) != 30 || storage.UsageDay(days[0]) != "2026-01-31" || storage.UsageDay(days[29]) != "2026-03-01" {
		t.Fatalf("window = %s … %s (%d days), want 2026-01-31 … 2026-03-01", days[0], days[len(days)-1], len(days))
	}
	c := newUsageChart(days, map[string]int64{
		"2026-01-30": 1000, // before the window: not counted
		"2026-01-31": 1,
		"2026-02-14": 300,
		"2026-03-01": 1200,
	})
	if c.Total != "1,501" || c.Label != "1,501 requests in the last 30 days" {
		t.Errorf("total %q, label %q", c.Total, c.Label)
	}
	want := []usageBar{
		{X: 0, Y: 30, Width: 4, Height: 1, Title: "31 Jan: 1 request"}, // tiny, but it shows
		{X: 70, Y: 23, Width: 4, Height: 8, Title: "14 Feb: 300 requests"},
		{X: 145, Y: 1, Width: 4, Height: 30, Title: "1 Mar: 1,200 requests"},
	}
	if diff := cmp.Diff(want, c.Bars); diff != "" {
		t.Errorf("bars (-want +got):\n%s", diff)
	}
	if empty := newUsageChart(days, nil); empty.Total != "0" || len(empty.Bars) != 0 {
		t.Errorf("no usage: %+v", empty)
	}
	if one := newUsageChart(days, map[string]int64{"2026-02-01": 1}); one.Label != "1 request in the last 30 days" {
		t.Errorf("one request: %q", one.Label)
	}
}

func TestThousands(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 123456: "123,456", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(in); got != want {
			t.Errorf("thousands(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestAPIKeysPageModes renders the two pages the golden file does not
// show: the confirmation before revoking, and a person in no organization.
func TestAPIKeysPageModes(t *testing.T) {
	t.Parallel()
	user := &storage.User{ID: "usr_1", Email: "alice@example.com"}
	now := time.Now()
	key := storage.APIKey{ID: "key_1", Name: "Deploy <bot>", Prefix: "Abcd", Last4: "wxyz", Scopes: "read projects:write", CreatedAt: now}
	row := newKeyRow(&key, now)
	tests := []struct {
		name      string
		data      apiKeysPage
		want, not []string
	}{
		{"the revoke confirmation names the key and what stops", apiKeysPage{
			BasePage: web.BasePage{Title: "Revoke API key", CSRF: "csrf-token", User: user},
			Org:      &storage.MemberOrg{Organization: storage.Organization{ID: "org_1", Name: "Acme"}, Role: storage.RoleOwner},
			Revoke:   &row,
		}, []string{"Revoke “Deploy &lt;bot&gt;”?", "sk_live_Abcd…wxyz", `action="/settings/api-keys/key_1/revoke"`,
			`name="csrf_token" value="csrf-token"`, "access tokens (JWTs) already exchanged for it stop working", "Read all your resources", `id="cancel"`},
			[]string{"<bot>", "Create new key"}},
		{"a person in no organization learns that keys belong to one", apiKeysPage{
			BasePage: web.BasePage{Title: "API keys", CSRF: "csrf-token", User: user},
		}, []string{`id="no-org"`, "API keys belong to an organization"},
			[]string{"Create new key", `id="keys"`, "<form method=\"post\" action=\"/settings/api-keys\""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := web.ExecutePage(&buf, "apikeys", tc.data); err != nil {
				t.Fatal(err)
			}
			for _, s := range tc.want {
				if !strings.Contains(buf.String(), s) {
					t.Errorf("the page lacks %q", s)
				}
			}
			for _, s := range tc.not {
				if strings.Contains(buf.String(), s) {
					t.Errorf("the page shows %q", s)
				}
			}
			if t.Failed() {
				t.Log(buf.String())
			}
		})
	}
}
