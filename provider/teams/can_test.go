package teams_test

import (
	"fmt"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/teams"
)

// TestCanIsThePermissionMatrix asks Can every question — each role
// (and none, and a made-up one) × each action × each target role (and
// none, and a made-up one) — and compares the answer with the matrix as
// DESIGN.md and issue 12 state it, written out here cell by cell.
func TestCanIsThePermissionMatrix(t *testing.T) {
	t.Parallel()
	roles := []string{"owner", "admin", "member", "", "superuser"}
	actions := []teams.Action{teams.ActView, teams.ActInvite, teams.ActChangeRole, teams.ActRemove,
		teams.ActRevokeInvitation, teams.ActRename, teams.ActDelete, teams.ActViewAudit, "fly"}
	// allowed lists every (actor, action, target) that Can must allow;
	// "*" stands for any target. Everything else must be refused.
	allowed := map[string]bool{
		"owner view *": true, "owner revoke_invitation *": true, "owner rename *": true,
		"owner delete *": true, "owner view_audit *": true,
		"owner invite owner": true, "owner invite admin": true, "owner invite member": true,
		"owner change_role owner": true, "owner change_role admin": true, "owner change_role member": true,
		"owner remove owner": true, "owner remove admin": true, "owner remove member": true,

		"admin view *": true, "admin revoke_invitation *": true, "admin view_audit *": true,
		"admin invite admin": true, "admin invite member": true,
		"admin change_role admin": true, "admin change_role member": true,
		"admin remove admin": true, "admin remove member": true,

		"member view *": true,
	}
	asked := 0
	for _, actor := range roles {
		for _, act := range actions {
			for _, target := range roles {
				want := allowed[fmt.Sprintf("%s %s *", actor, act)] || allowed[fmt.Sprintf("%s %s %s", actor, act, target)]
				if got := teams.Can(actor, act, target); got != want {
					t.Errorf("Can(%q, %q, %q) = %v, want %v", actor, act, target, got, want)
				}
				asked++
			}
		}
	}
	if asked != len(roles)*len(actions)*len(roles) {
		t.Fatalf("asked %d questions", asked)
	}
}
