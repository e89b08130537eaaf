package tenancy

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ajrly/ajrly-auth/storage"
)

// ErrNotMember is a person acting, or asked to act, in an organization they
// do not belong to (any more).
var ErrNotMember = errors.New("not a member of the organization")

// ErrNoOrganization is a person who belongs to no organization at all.
// Sign-up, the CLI and the migrations give everyone one, so this is a
// person whose last membership was taken away.
var ErrNoOrganization = errors.New("belongs to no organization")

// Choose returns the organization a person acts in, out of orgs (theirs):
// the chosen one, which must be theirs; without a choice, preferred (the
// one their session works in) when it is still theirs, else their first.
// An organization id from a form or a request is only ever a choice among
// orgs, never trusted as such.
func Choose(orgs []storage.MemberOrg, chosen, preferred string) (storage.MemberOrg, error) {
	if len(orgs) == 0 {
		return storage.MemberOrg{}, ErrNoOrganization
	}
	if chosen != "" {
		if o, ok := find(orgs, chosen); ok {
			return o, nil
		}
		return storage.MemberOrg{}, ErrNotMember
	}
	if o, ok := find(orgs, preferred); ok {
		return o, nil
	}
	return orgs[0], nil
}

// IsMember reports whether orgID is one of orgs.
func IsMember(orgs []storage.MemberOrg, orgID string) bool {
	_, ok := find(orgs, orgID)
	return ok
}

func find(orgs []storage.MemberOrg, id string) (storage.MemberOrg, bool) {
	if id == "" {
		return storage.MemberOrg{}, false
	}
	for _, o := range orgs {
		if o.ID == id {
			return o, true
		}
	}
	return storage.MemberOrg{}, false
}

// Store is what the policy reads and writes.
type Store interface {
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
	MembershipOf(ctx context.Context, orgID, userID string) (*storage.Membership, error)
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	CreateUser(ctx context.Context, email, name, password string) (*storage.User, error)
	CreateOrganization(ctx context.Context, name, ownerID string) (*storage.Organization, error)
	OrganizationByName(ctx context.Context, name string) (*storage.Organization, error)
	AddMember(ctx context.Context, orgID, userID, role string) error
}

// Policy answers the questions that need the database: what a person's
// organizations and roles are now.
type Policy struct {
	store Store
}

// New returns the policy over store.
func New(store Store) *Policy { return &Policy{store: store} }

// Organizations returns the organizations a person belongs to now.
func (p *Policy) Organizations(ctx context.Context, userID string) ([]storage.MemberOrg, error) {
	return p.store.UserOrganizations(ctx, userID)
}

// ActingOrganization returns the organization a person acts in (see
// Choose) and all of theirs.
func (p *Policy) ActingOrganization(ctx context.Context, userID, chosen, preferred string) (storage.MemberOrg, []storage.MemberOrg, error) {
	orgs, err := p.store.UserOrganizations(ctx, userID)
	if err != nil {
		return storage.MemberOrg{}, nil, err
	}
	org, err := Choose(orgs, chosen, preferred)
	return org, orgs, err
}

// Role returns a person's role in an organization now, or ErrNotMember.
func (p *Policy) Role(ctx context.Context, orgID, userID string) (string, error) {
	if orgID == "" || userID == "" {
		return "", ErrNotMember
	}
	m, err := p.store.MembershipOf(ctx, orgID, userID)
	if errors.Is(err, storage.ErrNotFound) {
		return "", ErrNotMember
	} else if err != nil {
		return "", err
	}
	return m.Role, nil
}

// Person is a person to create, and the organization they start in.
type Person struct {
	Email, Name, Password string
	// Organization names the organization: a new one they own, or, with
	// JoinExisting, an existing one of that name they join as a member.
	// Empty gives them a personal organization of their own, as owner.
	Organization string
	JoinExisting bool
}

// Created is a person just created and the organization they are in.
type Created struct {
	User *storage.User
	Org  storage.MemberOrg
	// Joined: they joined an existing organization (as a member), rather
	// than getting a new one they own.
	Joined bool
}

// CreatePerson creates a person together with their organization, in one
// transaction, so that nobody ever exists without one (DESIGN.md): a
// taken email, or a taken name for a new organization, creates nothing.
func (p *Policy) CreatePerson(ctx context.Context, np Person) (*Created, error) {
	var out *Created
	err := p.store.InTx(ctx, func(ctx context.Context) error {
		u, err := p.store.CreateUser(ctx, np.Email, np.Name, np.Password)
		if err != nil {
			return err
		}
		out = &Created{User: u}
		name := strings.TrimSpace(np.Organization)
		if name != "" && np.JoinExisting {
			existing, err := p.store.OrganizationByName(ctx, name)
			if err == nil {
				out.Joined = true
				out.Org = storage.MemberOrg{Organization: *existing, Role: storage.RoleMember}
				return p.store.AddMember(ctx, existing.ID, u.ID, storage.RoleMember)
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		if name == "" {
			if name, err = p.freePersonalName(ctx, u); err != nil {
				return err
			}
		}
		org, err := p.store.CreateOrganization(ctx, name, u.ID)
		if err != nil {
			return err
		}
		out.Org = storage.MemberOrg{Organization: *org, Role: storage.RoleOwner}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// freePersonalName finds a name for a person's personal organization that
// no organization has: checked before the insert, because a failed insert
// aborts a PostgreSQL transaction.
func (p *Policy) freePersonalName(ctx context.Context, u *storage.User) (string, error) {
	for _, name := range storage.PersonalOrgNames(u.Name, u.Email) {
		_, err := p.store.OrganizationByName(ctx, name)
		if errors.Is(err, storage.ErrNotFound) {
			return name, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name for the personal organization of %s: %w", u.ID, storage.ErrOrgNameTaken)
}
