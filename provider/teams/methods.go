package teams

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// Store is what Teams reads and writes; *storage.Store satisfies it.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error

	UserByID(ctx context.Context, id string) (*storage.User, error)
	UserByEmail(ctx context.Context, email string) (*storage.User, error)
	MarkEmailVerified(ctx context.Context, userID, email string) error

	OrganizationByID(ctx context.Context, id string) (*storage.Organization, error)
	OrganizationByName(ctx context.Context, name string) (*storage.Organization, error)
	FreePersonalOrgName(ctx context.Context, name, email string) (string, error)
	CreateOrganization(ctx context.Context, name, ownerID string) (*storage.Organization, error)
	RenameOrganization(ctx context.Context, orgID, name string) (*storage.Organization, error)
	DeleteOrganization(ctx context.Context, orgID string) error
	LockOrganization(ctx context.Context, orgID string) error

	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
	MembershipOf(ctx context.Context, orgID, userID string) (*storage.Membership, error)
	OrgMembers(ctx context.Context, orgID string) ([]storage.OrgMember, error)
	CountOwners(ctx context.Context, orgID string) (int, error)
	AddMember(ctx context.Context, orgID, userID, role string) error
	SetMemberRole(ctx context.Context, orgID, userID, role string) error
	RemoveMember(ctx context.Context, orgID, userID string) error
	RevokeMemberAccess(ctx context.Context, orgID, userID string) error
	DeleteMemberLoginSessions(ctx context.Context, orgID, userID string) (int64, error)
	ClearMemberLoginSessions(ctx context.Context, orgID, userID string) (int64, error)
	MemberConsents(ctx context.Context, orgID, userID string) ([]storage.Consent, error)
	SetConsentScopes(ctx context.Context, consentID, scopes string) error
	RevokeUserOrgAccessTokens(ctx context.Context, userID, orgID string) error

	CreateInvitation(ctx context.Context, orgID, email, role, invitedBy string, ttl time.Duration) (string, *storage.Invitation, error)
	ResendInvitation(ctx context.Context, orgID, id string, ttl time.Duration) (string, *storage.Invitation, error)
	RevokeInvitation(ctx context.Context, orgID, id string) (*storage.Invitation, error)
	InvitationByToken(ctx context.Context, token string) (*storage.Invitation, error)
	RedeemInvitation(ctx context.Context, token, userID string) (*storage.Invitation, error)
	PendingInvitations(ctx context.Context, orgID string) ([]storage.Invitation, error)
}

var _ Store = (*storage.Store)(nil)

// rank orders the roles by power.
func rank(role string) int {
	switch role {
	case storage.RoleOwner:
		return 3
	case storage.RoleAdmin:
		return 2
	case storage.RoleMember:
		return 1
	}
	return 0
}

// roleOf returns the actor's role in orgID now: tenancy.ErrNotMember when
// they are not a member. The operator is no member and may do anything:
// "" with no error, and the organization must exist (storage.ErrNotFound).
func (t *Teams) roleOf(ctx context.Context, a audit.Actor, orgID string) (string, error) {
	if a.Operator {
		if _, err := t.store.OrganizationByID(ctx, orgID); err != nil {
			return "", err
		}
		return "", nil
	}
	if a.UserID == "" || orgID == "" {
		return "", tenancy.ErrNotMember
	}
	m, err := t.store.MembershipOf(ctx, orgID, a.UserID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", tenancy.ErrNotMember
	} else if err != nil {
		return "", err
	}
	return m.Role, nil
}

// allow checks that the actor may do act to targets (each a role) in
// orgID and returns their role there ("" for the operator).
func (t *Teams) allow(ctx context.Context, a audit.Actor, orgID string, act Action, targets ...string) (string, error) {
	role, err := t.roleOf(ctx, a, orgID)
	if err != nil || a.Operator {
		return role, err
	}
	if len(targets) == 0 {
		targets = []string{""}
	}
	for _, target := range targets {
		if !Can(role, act, target) {
			return role, ErrForbidden
		}
	}
	return role, nil
}

// membership returns the membership of userID in orgID, or
// tenancy.ErrNotMember.
func (t *Teams) membership(ctx context.Context, orgID, userID string) (*storage.Membership, error) {
	m, err := t.store.MembershipOf(ctx, orgID, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, tenancy.ErrNotMember
	}
	return m, err
}

func (t *Teams) record(ctx context.Context, a audit.Actor, e audit.Event) error {
	if err := audit.Record(ctx, t.store, a, e); err != nil {
		return fmt.Errorf("record %s: %w", e.Kind, err)
	}
	return nil
}

// shown is how a person is shown to others: their name, else their email.
func shown(u *storage.User) string {
	if n := strings.TrimSpace(u.Name); n != "" {
		return n
	}
	return u.Email
}

// Members lists the members of an organization, owners first, then
// admins, then members, each by name or email; any member may.
func (t *Teams) Members(ctx context.Context, a audit.Actor, orgID string) ([]Member, error) {
	if _, err := t.allow(ctx, a, orgID, ActView); err != nil {
		return nil, err
	}
	rows, err := t.store.OrgMembers(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]Member, 0, len(rows))
	for _, r := range rows {
		out = append(out, Member{UserID: r.UserID, Email: r.Email, Name: r.Name, Role: r.Role, JoinedAt: r.JoinedAt})
	}
	return out, nil
}

// Invitations lists the pending invitations of an organization, newest
// first; owners and admins may (those who may invite).
func (t *Teams) Invitations(ctx context.Context, a audit.Actor, orgID string) ([]Invitation, error) {
	if _, err := t.allow(ctx, a, orgID, ActInvite, storage.RoleMember); err != nil {
		return nil, err
	}
	org, err := t.store.OrganizationByID(ctx, orgID)
	if err != nil {
		return nil, err
	}
	rows, err := t.store.PendingInvitations(ctx, orgID)
	if err != nil {
		return nil, err
	}
	out := make([]Invitation, 0, len(rows))
	for i := range rows {
		out = append(out, invitationOf(&rows[i], org))
	}
	return out, nil
}

func invitationOf(inv *storage.Invitation, org *storage.Organization) Invitation {
	return Invitation{ID: inv.ID, OrgID: inv.OrgID, OrgName: org.Name, Email: inv.Email, Role: inv.Role,
		InvitedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

// MailEnabled tells whether invitations can be sent.
func (t *Teams) MailEnabled() bool { return t.mailer != nil && t.mailer.Enabled() }

// Invite mails an invitation into the organization with role (24 hours,
// single use); a pending invitation to the same address is replaced and
// its link stops working. Owners invite any role, admins members and
// admins. The answer is the same whether the address has an account or
// not; ErrAlreadyMember when it is a member's, ErrInvalidRole,
// ErrInvalidEmail, ErrMailDisabled when the server sends no mail (then
// nothing is stored). When the mail could not be queued the invitation
// stands and is returned with ErrNotSent.
func (t *Teams) Invite(ctx context.Context, a audit.Actor, orgID, email, role string) (*Invitation, error) {
	if !ValidRole(role) {
		return nil, ErrInvalidRole
	}
	if err := storage.ValidateEmail(email); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEmail, err)
	}
	email = storage.NormalizeEmail(email)
	if !t.MailEnabled() {
		return nil, ErrMailDisabled
	}
	var (
		token string
		out   Invitation
	)
	err := t.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := t.allow(ctx, a, orgID, ActInvite, role); err != nil {
			return err
		}
		if err := t.notMember(ctx, orgID, email); err != nil {
			return err
		}
		org, err := t.store.OrganizationByID(ctx, orgID)
		if err != nil {
			return err
		}
		by, err := t.inviter(ctx, a, org)
		if err != nil {
			return err
		}
		tok, inv, err := t.store.CreateInvitation(ctx, orgID, email, role, by, InvitationTTL)
		if err != nil {
			return err
		}
		token, out = tok, invitationOf(inv, org)
		return t.record(ctx, a, audit.Event{Kind: audit.MemberInvited, OrgID: orgID, TargetID: inv.ID, Target: email, Detail: "as " + role})
	})
	if err != nil {
		return nil, err
	}
	return &out, t.mail(ctx, &out, token)
}

// notMember refuses an address that belongs to a member of orgID, without
// telling whether it has an account otherwise.
func (t *Teams) notMember(ctx context.Context, orgID, email string) error {
	u, err := t.store.UserByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	} else if err != nil {
		return err
	}
	if _, err := t.store.MembershipOf(ctx, orgID, u.ID); err == nil {
		return ErrAlreadyMember
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	return nil
}

// inviter is how the invitation names who sent it.
func (t *Teams) inviter(ctx context.Context, a audit.Actor, org *storage.Organization) (string, error) {
	if a.UserID == "" {
		return "The administrators of " + org.Name, nil
	}
	u, err := t.store.UserByID(ctx, a.UserID)
	if err != nil {
		return "", err
	}
	return shown(u), nil
}

// mail queues the invitation's mail; ErrNotSent when it could not be.
func (t *Teams) mail(ctx context.Context, inv *Invitation, token string) error {
	err := t.mailer.Send(ctx, mailMessage(t.issuer, inv, token))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotSent, err)
	}
	return nil
}

// ResendInvitation mails a pending invitation again with a new link (24
// hours); the old link stops working. Who may send an invitation of its
// role may resend it. The errors are Invite's, and storage.ErrNotFound
// for an invitation that is not pending in orgID.
func (t *Teams) ResendInvitation(ctx context.Context, a audit.Actor, orgID, invitationID string) error {
	if !t.MailEnabled() {
		return ErrMailDisabled
	}
	var (
		token string
		out   Invitation
	)
	err := t.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := t.allow(ctx, a, orgID, ActInvite, storage.RoleMember); err != nil {
			return err
		}
		tok, inv, err := t.store.ResendInvitation(ctx, orgID, invitationID, InvitationTTL)
		if err != nil {
			return err
		}
		if _, err := t.allow(ctx, a, orgID, ActInvite, inv.Role); err != nil {
			return err
		}
		org, err := t.store.OrganizationByID(ctx, orgID)
		if err != nil {
			return err
		}
		token, out = tok, invitationOf(inv, org)
		return t.record(ctx, a, audit.Event{Kind: audit.MemberInvited, OrgID: orgID, TargetID: inv.ID, Target: inv.Email,
			Detail: "as " + inv.Role + ", sent again"})
	})
	if err != nil {
		return err
	}
	return t.mail(ctx, &out, token)
}

// RevokeInvitation withdraws a pending invitation; its link stops working.
// Owners and admins may; storage.ErrNotFound for an invitation that is
// not pending in orgID.
func (t *Teams) RevokeInvitation(ctx context.Context, a audit.Actor, orgID, invitationID string) error {
	return t.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := t.allow(ctx, a, orgID, ActRevokeInvitation); err != nil {
			return err
		}
		inv, err := t.store.RevokeInvitation(ctx, orgID, invitationID)
		if err != nil {
			return err
		}
		return t.record(ctx, a, audit.Event{Kind: audit.InvitationRevoked, OrgID: orgID, TargetID: inv.ID, Target: inv.Email,
			Detail: "as " + inv.Role})
	})
}

// invalid turns the store's refusals of a token into ErrInvitationInvalid.
func invalid(err error) error {
	if errors.Is(err, storage.ErrNotFound) {
		return ErrInvitationInvalid
	}
	return err
}

// LookupInvitation returns the invitation a link carries, without using
// it up, or ErrInvitationInvalid.
func (t *Teams) LookupInvitation(ctx context.Context, token string) (*Invitation, error) {
	if token == "" {
		return nil, ErrInvitationInvalid
	}
	inv, err := t.store.InvitationByToken(ctx, token)
	if err != nil {
		return nil, invalid(err)
	}
	org, err := t.store.OrganizationByID(ctx, inv.OrgID)
	if err != nil {
		return nil, invalid(err)
	}
	out := invitationOf(inv, org)
	return &out, nil
}

// Accept makes the signed-in person a.UserID a member with the
// invitation's role, using the invitation up, and counts their address as
// verified (the link came to it). ErrInvitationInvalid; ErrWrongAccount
// when their address is not the invitation's (the invitation stays
// usable); ErrAlreadyMember when they are a member already.
func (t *Teams) Accept(ctx context.Context, a audit.Actor, token string) (*Invitation, error) {
	if a.UserID == "" {
		return nil, errors.New("accept invitation: nobody is signed in")
	}
	var out *Invitation
	err := t.store.InTx(ctx, func(ctx context.Context) error {
		inv, err := t.LookupInvitation(ctx, token)
		if err != nil {
			return err
		}
		u, err := t.store.UserByID(ctx, a.UserID)
		if err != nil {
			return err
		}
		if storage.NormalizeEmail(u.Email) != inv.Email {
			return ErrWrongAccount
		}
		if err := t.join(ctx, a, token, u); err != nil {
			return err
		}
		if !u.EmailVerified {
			if err := t.store.MarkEmailVerified(ctx, u.ID, u.Email); err != nil {
				return err
			}
		}
		out = inv
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// join uses the invitation up for u, makes them a member with its role
// and records it, in the transaction of ctx.
func (t *Teams) join(ctx context.Context, a audit.Actor, token string, u *storage.User) error {
	// The organization is locked before the invitation is used up, in the
	// order every change to its people takes (DeleteOrganization locks it,
	// then its invitations go), so that the two cannot deadlock.
	found, err := t.store.InvitationByToken(ctx, token)
	if err != nil {
		return invalid(err)
	}
	if err := t.store.LockOrganization(ctx, found.OrgID); err != nil {
		return invalid(err)
	}
	inv, err := t.store.RedeemInvitation(ctx, token, u.ID)
	if err != nil {
		return invalid(err)
	}
	if _, err := t.store.MembershipOf(ctx, inv.OrgID, u.ID); err == nil {
		return ErrAlreadyMember
	} else if !errors.Is(err, storage.ErrNotFound) {
		return err
	}
	if err := t.store.AddMember(ctx, inv.OrgID, u.ID, inv.Role); err != nil {
		if errors.Is(err, storage.ErrConflict) {
			return ErrAlreadyMember
		}
		return err
	}
	return t.record(ctx, a, audit.Event{Kind: audit.MemberJoined, OrgID: inv.OrgID, TargetID: u.ID, Target: u.Email,
		Detail: "as " + inv.Role + ", invited by " + inv.InvitedBy})
}

// AcceptAsNewPerson creates the person the invitation was sent to, with
// name and password (the sign-up rules: fields.Errors), their address
// verified (the link came to it), as a member with its role and without
// a personal organization, using the invitation up. ErrInvitationInvalid;
// ErrAccountExists when the address has an account (they sign in and
// Accept instead).
func (t *Teams) AcceptAsNewPerson(ctx context.Context, a audit.Actor, token, name, password string) (*storage.User, *Invitation, error) {
	if t.people == nil {
		return nil, nil, errors.New("accept invitation: no accounts to create the person with")
	}
	inv, err := t.LookupInvitation(ctx, token)
	if err != nil {
		return nil, nil, err
	}
	if _, err := t.store.UserByEmail(ctx, inv.Email); err == nil {
		return nil, nil, ErrAccountExists
	} else if !errors.Is(err, storage.ErrNotFound) {
		return nil, nil, err
	}
	u, err := t.people.CreateInvited(ctx, accounts.Person{Email: inv.Email, Name: name, Password: password},
		func(ctx context.Context, u *storage.User) error {
			who := a
			who.UserID, who.Email, who.Operator = u.ID, u.Email, false
			return t.join(ctx, who, token, u)
		})
	if errors.Is(err, storage.ErrEmailTaken) {
		return nil, nil, ErrAccountExists
	} else if err != nil {
		return nil, nil, err
	}
	return u, inv, nil
}

// SetRole changes a member's role. Owners change anyone's role; admins
// change members and admins between those two. The last owner cannot be
// demoted (ErrLastOwner): with the organization locked, the owners are
// counted after the change, so two owners demoting each other at once
// leave one. Lowering a role narrows at once the consents the person gave
// in the organization to what the new role may hold, and revokes their
// access tokens there (refresh tokens and API keys narrow when used).
func (t *Teams) SetRole(ctx context.Context, a audit.Actor, orgID, userID, role string) error {
	if !ValidRole(role) {
		return ErrInvalidRole
	}
	return t.store.InTx(ctx, func(ctx context.Context) error {
		if err := t.store.LockOrganization(ctx, orgID); err != nil {
			return err
		}
		m, err := t.membership(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if _, err := t.allow(ctx, a, orgID, ActChangeRole, m.Role, role); err != nil {
			return err
		}
		if m.Role == role {
			return nil
		}
		u, err := t.store.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if err := t.store.SetMemberRole(ctx, orgID, userID, role); err != nil {
			return err
		}
		if err := t.keepAnOwner(ctx, orgID); err != nil {
			return err
		}
		if rank(role) < rank(m.Role) {
			if err := t.narrow(ctx, orgID, userID, role); err != nil {
				return err
			}
		}
		return t.record(ctx, a, audit.Event{Kind: audit.RoleChanged, OrgID: orgID, TargetID: userID, Target: u.Email,
			Detail: m.Role + " → " + role})
	})
}

// keepAnOwner fails with ErrLastOwner when the change just made left the
// organization without an owner, so that its transaction rolls back.
func (t *Teams) keepAnOwner(ctx context.Context, orgID string) error {
	n, err := t.store.CountOwners(ctx, orgID)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrLastOwner
	}
	return nil
}

// narrow makes what a person holds in an organization fit a lowered role.
func (t *Teams) narrow(ctx context.Context, orgID, userID, role string) error {
	consents, err := t.store.MemberConsents(ctx, orgID, userID)
	if err != nil {
		return err
	}
	for _, c := range consents {
		kept := strings.Join(tenancy.Narrow(role, c.ScopeList()), " ")
		if kept == c.Scopes {
			continue
		}
		if err := t.store.SetConsentScopes(ctx, c.ID, kept); err != nil {
			return err
		}
	}
	return t.store.RevokeUserOrgAccessTokens(ctx, userID, orgID)
}

// Remove takes a person out of an organization; userID == a.UserID is
// leaving, which any member may. Owners remove anyone, admins members and
// admins. The last owner can neither leave nor be removed (ErrLastOwner).
// In the same transaction the API keys they created there and the
// consents they gave there, with those grants' tokens, are revoked, and
// their sessions working there end (one who leaves stays signed in,
// working in none until they pick another); a person left in no
// organization is given a personal one.
func (t *Teams) Remove(ctx context.Context, a audit.Actor, orgID, userID string) error {
	leaving := !a.Operator && a.UserID == userID
	return t.store.InTx(ctx, func(ctx context.Context) error {
		if err := t.store.LockOrganization(ctx, orgID); err != nil {
			return err
		}
		if leaving {
			if _, err := t.allow(ctx, a, orgID, ActView); err != nil {
				return err
			}
		}
		m, err := t.membership(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if !leaving {
			if _, err := t.allow(ctx, a, orgID, ActRemove, m.Role); err != nil {
				return err
			}
		}
		u, err := t.store.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if err := t.store.RemoveMember(ctx, orgID, userID); err != nil {
			return err
		}
		if m.Role == storage.RoleOwner {
			if err := t.keepAnOwner(ctx, orgID); err != nil {
				return err
			}
		}
		if err := t.store.RevokeMemberAccess(ctx, orgID, userID); err != nil {
			return err
		}
		kind, sessions := audit.MemberRemoved, t.store.DeleteMemberLoginSessions
		if leaving {
			// They stay signed in, working in another organization of theirs.
			kind, sessions = audit.MemberLeft, t.store.ClearMemberLoginSessions
		}
		if _, err := sessions(ctx, orgID, userID); err != nil {
			return err
		}
		if err := t.record(ctx, a, audit.Event{Kind: kind, OrgID: orgID, TargetID: userID, Target: u.Email, Detail: "was " + m.Role}); err != nil {
			return err
		}
		return t.keepInAnOrganization(ctx, a, u)
	})
}

// keepInAnOrganization gives u a personal organization when they belong
// to none any more, so that everyone belongs to one (DESIGN.md).
func (t *Teams) keepInAnOrganization(ctx context.Context, a audit.Actor, u *storage.User) error {
	orgs, err := t.store.UserOrganizations(ctx, u.ID)
	if err != nil || len(orgs) > 0 {
		return err
	}
	name, err := t.store.FreePersonalOrgName(ctx, u.Name, u.Email)
	if err != nil {
		return err
	}
	org, err := t.store.CreateOrganization(ctx, name, u.ID)
	if err != nil {
		return err
	}
	return t.record(ctx, a, audit.Event{Kind: audit.OrgCreated, OrgID: org.ID, TargetID: org.ID, Target: org.Name,
		Detail: "personal organization of " + u.Email + ", left in no other"})
}

// AddMember adds a person with a role, without an invitation (the
// operator at the command line; a member may add as they may invite).
// ErrAlreadyMember, ErrInvalidRole, storage.ErrNotFound for no such
// person.
func (t *Teams) AddMember(ctx context.Context, a audit.Actor, orgID, userID, role string) error {
	if !ValidRole(role) {
		return ErrInvalidRole
	}
	return t.store.InTx(ctx, func(ctx context.Context) error {
		if err := t.store.LockOrganization(ctx, orgID); err != nil {
			return err
		}
		if _, err := t.allow(ctx, a, orgID, ActInvite, role); err != nil {
			return err
		}
		u, err := t.store.UserByID(ctx, userID)
		if err != nil {
			return err
		}
		if _, err := t.store.MembershipOf(ctx, orgID, userID); err == nil {
			return ErrAlreadyMember
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if err := t.store.AddMember(ctx, orgID, userID, role); err != nil {
			return err
		}
		return t.record(ctx, a, audit.Event{Kind: audit.MemberJoined, OrgID: orgID, TargetID: userID, Target: u.Email,
			Detail: "as " + role + ", added without an invitation"})
	})
}

// CreateOrganization creates an organization owned by ownerID: a person
// creates one for themselves (ErrForbidden for someone else), the
// operator for anyone. Its name follows the rules of every organization
// name (storage.ValidateOrgName; storage.ErrOrgNameTaken).
func (t *Teams) CreateOrganization(ctx context.Context, a audit.Actor, name, ownerID string) (*storage.Organization, error) {
	if !a.Operator && (a.UserID == "" || a.UserID != ownerID) {
		return nil, ErrForbidden
	}
	if err := storage.ValidateOrgName(name); err != nil {
		return nil, err
	}
	var org *storage.Organization
	err := t.store.InTx(ctx, func(ctx context.Context) error {
		owner, err := t.store.UserByID(ctx, ownerID)
		if err != nil {
			return err
		}
		// A taken name is refused before the insert, whose failure would
		// abort a PostgreSQL transaction.
		if _, err := t.store.OrganizationByName(ctx, name); err == nil {
			return storage.ErrOrgNameTaken
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if org, err = t.store.CreateOrganization(ctx, name, ownerID); err != nil {
			return err
		}
		return t.record(ctx, a, audit.Event{Kind: audit.OrgCreated, OrgID: org.ID, TargetID: org.ID, Target: org.Name,
			Detail: "owner: " + owner.Email})
	})
	if err != nil {
		return nil, err
	}
	return org, nil
}

// Rename renames an organization; owners only. The name rules are
// storage.ValidateOrgName's (storage.ErrOrgNameTaken).
func (t *Teams) Rename(ctx context.Context, a audit.Actor, orgID, name string) error {
	if err := storage.ValidateOrgName(name); err != nil {
		return err
	}
	return t.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := t.allow(ctx, a, orgID, ActRename); err != nil {
			return err
		}
		old, err := t.store.OrganizationByID(ctx, orgID)
		if err != nil {
			return err
		}
		org, err := t.store.RenameOrganization(ctx, orgID, name)
		if err != nil {
			return err
		}
		if org.Name == old.Name {
			return nil
		}
		return t.record(ctx, a, audit.Event{Kind: audit.OrgRenamed, OrgID: orgID, TargetID: orgID, Target: org.Name,
			Detail: old.Name + " → " + org.Name})
	})
}

// DeleteOrganization deletes an organization; owners only. Every API key,
// app (client) and grant of it is revoked with it, in one transaction;
// sessions that worked in it move to none, and each of its people left
// in no organization is given a personal one.
func (t *Teams) DeleteOrganization(ctx context.Context, a audit.Actor, orgID string) error {
	return t.store.InTx(ctx, func(ctx context.Context) error {
		if err := t.store.LockOrganization(ctx, orgID); err != nil {
			return err
		}
		if _, err := t.allow(ctx, a, orgID, ActDelete); err != nil {
			return err
		}
		org, err := t.store.OrganizationByID(ctx, orgID)
		if err != nil {
			return err
		}
		members, err := t.store.OrgMembers(ctx, orgID)
		if err != nil {
			return err
		}
		if err := t.store.DeleteOrganization(ctx, orgID); err != nil {
			return err
		}
		if err := t.record(ctx, a, audit.Event{Kind: audit.OrgDeleted, OrgID: orgID, TargetID: orgID, Target: org.Name,
			Detail: fmt.Sprintf("%d members", len(members))}); err != nil {
			return err
		}
		for _, m := range members {
			u, err := t.store.UserByID(ctx, m.UserID)
			if err != nil {
				return err
			}
			if err := t.keepInAnOrganization(ctx, a, u); err != nil {
				return err
			}
		}
		return nil
	})
}
