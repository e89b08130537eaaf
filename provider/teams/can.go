package teams

import "github.com/ajrly/ajrly-auth/storage"

// Can is the permission matrix, pure: may a person with actorRole do act
// to someone whose role is target (for ActInvite the role invited; for
// ActChangeRole it is asked for both the target's current and new role;
// for actions on the organization itself the target is ignored).
// Owners may do everything. Admins invite members and admins, change
// members and admins between those two roles, remove members and admins,
// revoke invitations and view the audit log; they cannot touch owners,
// rename or delete the organization. Members only view. The last-owner
// rules are checked apart (ErrLastOwner).
func Can(actorRole string, act Action, target string) bool {
	switch actorRole {
	case storage.RoleOwner:
		switch act {
		case ActView, ActRevokeInvitation, ActRename, ActDelete, ActViewAudit:
			return true
		case ActInvite, ActChangeRole, ActRemove:
			return ValidRole(target)
		}
	case storage.RoleAdmin:
		switch act {
		case ActView, ActRevokeInvitation, ActViewAudit:
			return true
		case ActInvite, ActChangeRole, ActRemove:
			return target == storage.RoleAdmin || target == storage.RoleMember
		}
	case storage.RoleMember:
		return act == ActView
	}
	return false
}
