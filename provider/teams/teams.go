// Package teams is the rulebook of organizations and the people in them,
// for every surface alike (the team pages, the CLI): who may do what to
// whom (Can), invitations by mail, changing roles, leaving and removing,
// and creating, renaming and deleting organizations. Every change takes
// effect at once — a removed person's sessions, API keys, grants and
// tokens in the organization are revoked in the same transaction — and is
// recorded in the audit log in that transaction too.
package teams

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
)

// The errors of the package; each is errors.Is-able through the context
// the methods wrap around it. tenancy.ErrNotMember is returned when the
// actor (or the person acted upon) is not a member of the organization.
var (
	// ErrForbidden: the actor's role may not do this to that person or role.
	ErrForbidden = errors.New("your role in the organization does not allow this")
	// ErrLastOwner: the last owner can neither leave, be removed nor be
	// demoted; ownership is transferred first.
	ErrLastOwner = errors.New("the organization's last owner cannot leave, be removed or be demoted: make someone else an owner first")
	// ErrAlreadyMember: the person invited or added is a member already.
	ErrAlreadyMember = errors.New("already a member of the organization")
	// ErrInvalidRole: a role that is not owner, admin or member.
	ErrInvalidRole = errors.New("the role must be owner, admin or member")
	// ErrInvitationInvalid: an unknown, tampered, expired, used or revoked
	// invitation token. It wraps storage.ErrNotFound.
	ErrInvitationInvalid = fmt.Errorf("the invitation link is not valid: it may have expired, been used or been revoked: %w", storage.ErrNotFound)
	// ErrWrongAccount: the signed-in person's address is not the one the
	// invitation was sent to.
	ErrWrongAccount = errors.New("the invitation was sent to another email address than the one you are signed in with")
	// ErrAccountExists: AcceptAsNewPerson for an address that has an
	// account; the person signs in instead.
	ErrAccountExists = errors.New("this email address already has an account: sign in to accept the invitation")
	// ErrInvalidEmail: the address invited is not an email address.
	ErrInvalidEmail = errors.New("not an email address")
	// ErrMailDisabled: the server sends no mail, so no invitation can go.
	ErrMailDisabled = accounts.ErrMailDisabled
	// ErrNotSent: the change stands but its mail could not be queued.
	ErrNotSent = accounts.ErrNotSent
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 24 * time.Hour

// PathAccept is where the link of an invitation leads.
const PathAccept = "/invitations/accept"

// Member is a person in an organization.
type Member struct {
	UserID, Email, Name, Role string
	JoinedAt                  time.Time
}

// Invitation is a pending invitation into an organization.
type Invitation struct {
	ID, OrgID, OrgName, Email, Role string
	// InvitedBy is the inviter's name or email, for the mail and the
	// accept page.
	InvitedBy            string
	CreatedAt, ExpiresAt time.Time
}

// Action is something done in an organization, for Can.
type Action string

// The actions of Can.
const (
	ActView             Action = "view"
	ActInvite           Action = "invite"
	ActChangeRole       Action = "change_role"
	ActRemove           Action = "remove"
	ActRevokeInvitation Action = "revoke_invitation"
	ActRename           Action = "rename"
	ActDelete           Action = "delete"
	ActViewAudit        Action = "view_audit"
)

// Config is what Teams needs beside its store.
type Config struct {
	// Mailer delivers invitations; nil (or a disabled one) refuses them
	// with ErrMailDisabled.
	Mailer *mail.Mailer
	// Issuer is the issuer URL the invitation links start with.
	Issuer string
	// People creates the person on AcceptAsNewPerson.
	People *accounts.Accounts
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Teams runs the rules of organizations over a store.
type Teams struct {
	store  Store
	mailer *mail.Mailer
	issuer string
	people *accounts.Accounts
	now    func() time.Time
}

// New returns the teams of store.
func New(store Store, cfg Config) *Teams {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Teams{store: store, mailer: cfg.Mailer, issuer: strings.TrimSuffix(cfg.Issuer, "/"), people: cfg.People, now: now}
}

// ValidRole reports whether role is owner, admin or member.
func ValidRole(role string) bool {
	return role == storage.RoleOwner || role == storage.RoleAdmin || role == storage.RoleMember
}
