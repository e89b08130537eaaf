package tenancy

import (
	"context"
	"errors"

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
