package storagetest

import (
	"context"
	"errors"
	"testing"

	"github.com/ajrly/ajrly-auth/storage"
)

// userCases are the cases of users and organizations.
var userCases = []testCase{
	{"users have unique case-insensitive emails and keep their password hash", testUsers},
	{"organizations have unique names, members with roles, and a person with one is created atomically", testOrganizations},
}

func testUsers(t *testing.T, s *storage.Store, _ *Clock) {
	const hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$a2V5" // made by provider/accounts
	u, err := s.CreateUser(ctx(t), " Alice@Example.com ", "Alice", hash)
	Must(t, err)
	if u.Email != "alice@example.com" {
		t.Errorf("email stored as %q, want it normalised", u.Email)
	}
	if _, err := s.CreateUser(ctx(t), "ALICE@example.com", "Other", hash); !errors.Is(err, storage.ErrEmailTaken) {
		t.Fatalf("duplicate email error = %v, want ErrEmailTaken", err)
	}
	if _, err := s.CreateUser(ctx(t), "nohash@example.com", "No hash", ""); err == nil {
		t.Fatal("a user without a password hash was stored")
	}
	byEmail, err := s.UserByEmail(ctx(t), "alice@EXAMPLE.com ")
	Must(t, err)
	if byEmail.ID != u.ID || byEmail.PasswordHash != hash {
		t.Fatalf("UserByEmail = %+v, want %s with the hash as given", byEmail, u.ID)
	}
	if _, err := s.UserByEmail(ctx(t), "bob@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown email error = %v, want ErrNotFound", err)
	}
	byID, err := s.UserByID(ctx(t), u.ID)
	Must(t, err)
	if byID.Email != u.Email || byID.Name != "Alice" {
		t.Errorf("UserByID = %+v", byID)
	}
	if _, err := s.UserByID(ctx(t), "usr_nobody"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("unknown user error = %v, want ErrNotFound", err)
	}
}

func testOrganizations(t *testing.T, s *storage.Store, _ *Clock) {
	owner, err := s.CreateUser(ctx(t), "owner@example.com", "O", "$argon2id$x")
	Must(t, err)
	member, err := s.CreateUser(ctx(t), "member@example.com", "M", "$argon2id$x")
	Must(t, err)
	org, err := s.CreateOrganization(ctx(t), "  Acme   Corp ", owner.ID)
	Must(t, err)
	if org.Name != "Acme Corp" {
		t.Errorf("name stored as %q", org.Name)
	}
	if _, err := s.CreateOrganization(ctx(t), "acme corp", member.ID); !errors.Is(err, storage.ErrOrgNameTaken) {
		t.Fatalf("a taken name (other case) error = %v, want ErrOrgNameTaken", err)
	}
	found, err := s.OrganizationByName(ctx(t), "ACME CORP")
	Must(t, err)
	if found.ID != org.ID {
		t.Fatalf("found %s, want %s", found.ID, org.ID)
	}
	Must(t, s.AddMember(ctx(t), org.ID, member.ID, storage.RoleMember))
	if err := s.AddMember(ctx(t), org.ID, member.ID, storage.RoleAdmin); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("adding a member twice: %v, want ErrConflict", err)
	}
	orgs, err := s.UserOrganizations(ctx(t), member.ID)
	Must(t, err)
	if len(orgs) != 1 || orgs[0].ID != org.ID || orgs[0].Role != storage.RoleMember || orgs[0].Name != "Acme Corp" {
		t.Fatalf("member's organizations = %+v", orgs)
	}
	m, err := s.MembershipOf(ctx(t), org.ID, owner.ID)
	Must(t, err)
	if m.Role != storage.RoleOwner {
		t.Fatalf("owner's role = %q", m.Role)
	}
	all, err := s.ListOrganizations(ctx(t))
	Must(t, err)
	if len(all) != 1 || all[0].Members != 2 {
		t.Fatalf("organizations = %+v", all)
	}

	// A person and their organization are created in one transaction
	// (provider/accounts): a taken name leaves neither behind.
	err = s.InTx(ctx(t), func(ctx context.Context) error {
		u, err := s.CreateUser(ctx, "another@example.com", "A", "$argon2id$x")
		if err != nil {
			return err
		}
		_, err = s.CreateOrganization(ctx, "acme CORP", u.ID)
		return err
	})
	if !errors.Is(err, storage.ErrOrgNameTaken) {
		t.Fatalf("a person with a taken organization name: %v", err)
	}
	if _, err := s.UserByEmail(ctx(t), "another@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a failed transaction left its user behind: %v", err)
	}
}
