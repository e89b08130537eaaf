package storagetest

import (
	"errors"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/storage"
)

// userCases are the cases of users and organizations.
var userCases = []testCase{
	{"users have unique case-insensitive emails and argon2id passwords", testUsers},
	{"organizations have unique names, members with roles, and sign-up is atomic", testOrganizations},
}

func testUsers(t *testing.T, s *storage.Store, _ *Clock) {
	u, err := s.CreateUser(ctx(t), " Alice@Example.com ", "Alice", "correct horse battery")
	Must(t, err)
	if u.Email != "alice@example.com" {
		t.Errorf("email stored as %q, want it normalised", u.Email)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$") || strings.Contains(u.PasswordHash, "correct horse") {
		t.Errorf("password hash %q is not an argon2id hash", u.PasswordHash)
	}
	if _, err := s.CreateUser(ctx(t), "ALICE@example.com", "Other", "another password"); !errors.Is(err, storage.ErrConflict) {
		t.Fatalf("duplicate email error = %v, want ErrConflict", err)
	}
	got, err := s.AuthenticateUser(ctx(t), "alice@EXAMPLE.com", "correct horse battery")
	Must(t, err)
	if got.ID != u.ID {
		t.Fatalf("authenticated %s, want %s", got.ID, u.ID)
	}
	for _, tc := range []struct{ name, email, password string }{
		{"wrong password", "alice@example.com", "wrong password!"},
		{"unknown email", "bob@example.com", "correct horse battery"},
		{"empty password", "alice@example.com", ""},
	} {
		if _, err := s.AuthenticateUser(ctx(t), tc.email, tc.password); !errors.Is(err, storage.ErrInvalidCredentials) {
			t.Errorf("%s: error = %v, want ErrInvalidCredentials", tc.name, err)
		}
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
	owner, err := s.CreateUser(ctx(t), "owner@example.com", "O", "a long password")
	Must(t, err)
	member, err := s.CreateUser(ctx(t), "member@example.com", "M", "a long password")
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

	// Sign-up creates the user and the organization together, or neither.
	u, o, err := s.SignUp(ctx(t), "new@example.com", "New", "a long password", "Initech")
	Must(t, err)
	if orgs, _ := s.UserOrganizations(ctx(t), u.ID); len(orgs) != 1 || orgs[0].ID != o.ID || orgs[0].Role != storage.RoleOwner {
		t.Fatalf("the new user's organizations = %+v", orgs)
	}
	if _, _, err := s.SignUp(ctx(t), "another@example.com", "A", "a long password", "initech"); !errors.Is(err, storage.ErrOrgNameTaken) {
		t.Fatalf("sign-up with a taken organization name: %v", err)
	}
	if _, err := s.UserByEmail(ctx(t), "another@example.com"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a failed sign-up left its user behind: %v", err)
	}
	if _, _, err := s.SignUp(ctx(t), "NEW@example.com", "N", "a long password", "Hooli"); !errors.Is(err, storage.ErrEmailTaken) {
		t.Fatalf("sign-up with a taken email: %v", err)
	}
	if _, err := s.OrganizationByName(ctx(t), "Hooli"); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("a failed sign-up left its organization behind: %v", err)
	}
}
