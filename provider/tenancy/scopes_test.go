package tenancy_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

const (
	owner  = storage.RoleOwner
	admin  = storage.RoleAdmin
	member = storage.RoleMember
)

// TestRolesHoldTheScopesOfTheDesignTable is DESIGN.md's table, row by row.
func TestRolesHoldTheScopesOfTheDesignTable(t *testing.T) {
	t.Parallel()
	table := []struct {
		scope                string
		owner, admin, member bool
	}{
		{"read", true, true, true},
		{"write", true, true, true},
		{"projects:read", true, true, true},
		{"projects:write", true, true, true},
		{"team:manage", true, true, false},
		{"billing:read", true, false, false},
		{"openid", true, true, true},
		{"offline_access", true, true, true},
		{"secrets:read", false, false, false},
		{"", false, false, false},
	}
	for _, row := range table {
		for role, want := range map[string]bool{owner: row.owner, admin: row.admin, member: row.member, "": false, "guest": false} {
			if got := tenancy.MayHold(role, row.scope); got != want {
				t.Errorf("MayHold(%q, %q) = %v, want %v", role, row.scope, got, want)
			}
		}
	}
	if d := cmp.Diff([]string{"read", "write", "projects:read", "projects:write"}, tenancy.Grantable(member)); d != "" {
		t.Errorf("a member's grantable scopes (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"read", "write", "projects:read", "projects:write", "team:manage", "billing:read"}, tenancy.Grantable(owner)); d != "" {
		t.Errorf("an owner's grantable scopes (-want +got):\n%s", d)
	}
}

func TestCoversAppliesTheUmbrellasOnlyWithinTheRole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		role   string
		held   []string
		needed string
		want   bool
	}{
		{"an exact match", member, []string{"projects:read"}, "projects:read", true},
		{"read covers projects:read", member, []string{"read"}, "projects:read", true},
		{"write covers projects:write", member, []string{"write"}, "projects:write", true},
		{"read covers billing:read for an owner", owner, []string{"read"}, "billing:read", true},
		{"read does not cover billing:read for an admin", admin, []string{"read"}, "billing:read", false},
		{"read does not cover billing:read for a member", member, []string{"read"}, "billing:read", false},
		{"even an exact billing:read is not a member's", member, []string{"billing:read"}, "billing:read", false},
		{"team:manage is not a member's", member, []string{"team:manage"}, "team:manage", false},
		{"team:manage is an admin's", admin, []string{"team:manage"}, "team:manage", true},
		{"no umbrella covers team:manage", owner, []string{"read", "write"}, "team:manage", false},
		{"read never covers an unknown *:read", owner, []string{"read"}, "secrets:read", false},
		{"an unknown scope is never covered, even held", owner, []string{"secrets:read"}, "secrets:read", false},
		{"read does not cover write", owner, []string{"read"}, "projects:write", false},
		{"a narrow scope does not cover the umbrella", owner, []string{"projects:read"}, "read", false},
		{"no role, nothing", "", []string{"read"}, "projects:read", false},
		{"a bare :read is unknown", owner, []string{"read"}, ":read", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tenancy.Covers(tc.role, tc.held, tc.needed); got != tc.want {
				t.Fatalf("Covers(%q, %v, %q) = %v, want %v", tc.role, tc.held, tc.needed, got, tc.want)
			}
		})
	}
}

func TestSatisfiesNeverLetsAnUmbrellaStandInForARoleLimitedScope(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		held   []string
		needed string
		want   bool
	}{
		{"an exact match", []string{"projects:read"}, "projects:read", true},
		{"read covers projects:read", []string{"read"}, "projects:read", true},
		{"read does not stand in for billing:read", []string{"read"}, "billing:read", false},
		{"an explicit billing:read satisfies itself", []string{"billing:read"}, "billing:read", true},
		{"an explicit team:manage satisfies itself", []string{"team:manage"}, "team:manage", true},
		{"read does not cover an unknown *:read", []string{"read"}, "secrets:read", false},
		{"an unknown scope never satisfies", []string{"secrets:read"}, "secrets:read", false},
		{"openid needs openid", []string{"read", "write"}, "openid", false},
		{"a prefix is not a match", []string{"projects:rea"}, "projects:read", false},
		{"nothing satisfies nothing", nil, "read", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tenancy.Satisfies(tc.held, tc.needed); got != tc.want {
				t.Fatalf("Satisfies(%v, %q) = %v, want %v", tc.held, tc.needed, got, tc.want)
			}
		})
	}
}

func TestGrantLeavesOutWhatTheRoleCannotHoldAndSaysWhy(t *testing.T) {
	t.Parallel()
	requested := []string{"openid", "email", "read", "team:manage", "billing:read", "secrets:read", "read"}
	tests := []struct {
		role     string
		granted  []string
		withheld []string
	}{
		{owner, []string{"openid", "email", "read", "team:manage", "billing:read"}, []string{"secrets:read"}},
		{admin, []string{"openid", "email", "read", "team:manage"}, []string{"billing:read", "secrets:read"}},
		{member, []string{"openid", "email", "read"}, []string{"team:manage", "billing:read", "secrets:read"}},
	}
	for _, tc := range tests {
		granted, withheld := tenancy.Grant(tc.role, requested)
		if d := cmp.Diff(tc.granted, granted); d != "" {
			t.Errorf("%s: granted (-want +got):\n%s", tc.role, d)
		}
		var names []string
		for _, w := range withheld {
			names = append(names, w.Name)
			if w.Reason == "" || w.Description == "" {
				t.Errorf("%s: %q is withheld without a reason or description", tc.role, w.Name)
			}
		}
		if d := cmp.Diff(tc.withheld, names); d != "" {
			t.Errorf("%s: withheld (-want +got):\n%s", tc.role, d)
		}
	}
	_, withheld := tenancy.Grant(member, []string{"billing:read"})
	if !strings.Contains(withheld[0].Reason, "owners") || !strings.Contains(withheld[0].Reason, "member") {
		t.Errorf("the reason %q does not say who may give it and what the person is", withheld[0].Reason)
	}
}

func TestNarrowKeepsWhatTheRoleStillHolds(t *testing.T) {
	t.Parallel()
	got := tenancy.Narrow(member, []string{"openid", "read", "team:manage", "billing:read", "projects:write"})
	if d := cmp.Diff([]string{"openid", "read", "projects:write"}, got); d != "" {
		t.Errorf("(-want +got):\n%s", d)
	}
	if got := tenancy.Narrow("", []string{"openid", "read"}); len(got) != 0 {
		t.Errorf("someone outside the organization keeps %v", got)
	}
}

func TestEveryScopeHasPlainWords(t *testing.T) {
	t.Parallel()
	for _, s := range tenancy.Scopes {
		if s.Description == "" || s.Description == s.Name {
			t.Errorf("scope %q has no plain-words description", s.Name)
		}
		if !tenancy.Known(s.Name) {
			t.Errorf("scope %q is in the table but not Known", s.Name)
		}
	}
	if d := tenancy.Describe("custom:thing"); d.Description == "" {
		t.Error("an unknown scope gets no description")
	}
	if !slices.Equal(tenancy.Names()[:4], []string{"openid", "profile", "email", "offline_access"}) {
		t.Errorf("Names: %v", tenancy.Names())
	}
}

// FuzzScopeParsing: whatever a scope parameter holds, parsing gives each
// name once, and a grant for any role holds only known scopes the role may
// hold, taken from what was asked; what it leaves out is all the rest.
func FuzzScopeParsing(f *testing.F) {
	for _, seed := range []string{"openid profile email", "read write read", "billing:read team:manage secrets:read",
		"  \t", ":read read:", "openid\x00read", "projects:read\nprojects:write", strings.Repeat("read ", 60)} {
		f.Add(seed, 2)
	}
	roles := []string{owner, admin, member, ""}
	f.Fuzz(func(t *testing.T, raw string, roleIndex int) {
		role := roles[((roleIndex%len(roles))+len(roles))%len(roles)]
		names := tenancy.Parse(raw)
		seen := map[string]bool{}
		for _, n := range names {
			if n == "" || seen[n] || strings.ContainsAny(n, " \t\n\r") {
				t.Fatalf("Parse(%q) = %q: empty, repeated or unsplit name %q", raw, names, n)
			}
			seen[n] = true
		}
		granted, withheld := tenancy.Grant(role, names)
		for _, g := range granted {
			if !tenancy.Known(g) || !tenancy.MayHold(role, g) || !seen[g] {
				t.Fatalf("Grant(%q, %q) granted %q", role, names, g)
			}
			if !tenancy.Covers(role, granted, g) {
				t.Fatalf("a granted %q is not covered by the grant itself", g)
			}
		}
		if len(granted)+len(withheld) != len(names) {
			t.Fatalf("Grant(%q, %q): %d granted + %d withheld, want %d", role, names, len(granted), len(withheld), len(names))
		}
	})
}
