package teams

import (
	"context"
	"errors"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// Store is what Teams reads and writes; *storage.Store satisfies it.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error
	MembershipOf(ctx context.Context, orgID, userID string) (*storage.Membership, error)
}

var errInProgress = errors.New("teams: not implemented yet")

// Members lists the members of an organization, owners first, then
// admins, then members, each by name or email; any member may.
func (t *Teams) Members(ctx context.Context, a audit.Actor, orgID string) ([]Member, error) {
	return nil, errInProgress
}

// Invitations lists the pending invitations of an organization; owners
// and admins may.
func (t *Teams) Invitations(ctx context.Context, a audit.Actor, orgID string) ([]Invitation, error) {
	return nil, errInProgress
}

// Invite mails an invitation into the organization with role (24 hours);
// a pending invitation to the same address is replaced and its link stops
// working.
func (t *Teams) Invite(ctx context.Context, a audit.Actor, orgID, email, role string) (*Invitation, error) {
	return nil, errInProgress
}

// ResendInvitation mails a pending invitation again with a new link (24
// hours); the old link stops working.
func (t *Teams) ResendInvitation(ctx context.Context, a audit.Actor, orgID, invitationID string) error {
	return errInProgress
}

// RevokeInvitation withdraws a pending invitation; its link stops working.
func (t *Teams) RevokeInvitation(ctx context.Context, a audit.Actor, orgID, invitationID string) error {
	return errInProgress
}

// LookupInvitation returns the invitation a link carries, without using
// it up, or ErrInvitationInvalid.
func (t *Teams) LookupInvitation(ctx context.Context, token string) (*Invitation, error) {
	return nil, errInProgress
}

// Accept makes the signed-in person a.UserID a member with the
// invitation's role, using the invitation up.
func (t *Teams) Accept(ctx context.Context, a audit.Actor, token string) (*Invitation, error) {
	return nil, errInProgress
}

// AcceptAsNewPerson creates the person the invitation was sent to (the
// address counts as verified: the link came by mail) as a member with
// its role, without a personal organization.
func (t *Teams) AcceptAsNewPerson(ctx context.Context, a audit.Actor, token, name, password string) (*storage.User, *Invitation, error) {
	return nil, nil, errInProgress
}

// SetRole changes a member's role.
func (t *Teams) SetRole(ctx context.Context, a audit.Actor, orgID, userID, role string) error {
	return errInProgress
}

// Remove takes a person out of an organization (userID == a.UserID: they
// leave).
func (t *Teams) Remove(ctx context.Context, a audit.Actor, orgID, userID string) error {
	return errInProgress
}

// AddMember adds a person with a role, without an invitation.
func (t *Teams) AddMember(ctx context.Context, a audit.Actor, orgID, userID, role string) error {
	return errInProgress
}

// CreateOrganization creates an organization owned by ownerID.
func (t *Teams) CreateOrganization(ctx context.Context, a audit.Actor, name, ownerID string) (*storage.Organization, error) {
	return nil, errInProgress
}

// Rename renames an organization; owners only.
func (t *Teams) Rename(ctx context.Context, a audit.Actor, orgID, name string) error {
	return errInProgress
}

// DeleteOrganization deletes an organization; owners only.
func (t *Teams) DeleteOrganization(ctx context.Context, a audit.Actor, orgID string) error {
	return errInProgress
}
