package tenancy_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestChooseOnlyEverPicksAnOrganizationOfThePerson(t *testing.T) {
	t.Parallel()
	acme := storage.MemberOrg{Organization: storage.Organization{ID: "org_acme"}, Role: owner}
	globex := storage.MemberOrg{Organization: storage.Organization{ID: "org_globex"}, Role: member}
	mine := []storage.MemberOrg{acme, globex}
	tests := []struct {
		name              string
		orgs              []storage.MemberOrg
		chosen, preferred string
		want              string
		err               error
	}{
		{"a choice among theirs", mine, "org_globex", "org_acme", "org_globex", nil},
		{"a choice of someone else's organization is refused", mine, "org_victim", "", "", tenancy.ErrNotMember},
		{"no choice: the session's organization", mine, "", "org_globex", "org_globex", nil},
		{"no choice and a stale session organization: the first", mine, "", "org_gone", "org_acme", nil},
		{"a person in no organization chooses nothing", nil, "org_victim", "", "", tenancy.ErrNoOrganization},
		{"a person in no organization gets none by default", nil, "", "", "", tenancy.ErrNoOrganization},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := tenancy.Choose(tc.orgs, tc.chosen, tc.preferred)
			if !errors.Is(err, tc.err) || got.ID != tc.want {
				t.Fatalf("Choose = %q, %v; want %q, %v", got.ID, err, tc.want, tc.err)
			}
		})
	}
}

func TestCreatePersonAlwaysGivesAnOrganization(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			store := b.Open(t, nil)
			ctx := context.Background()
			p := tenancy.New(store)

			personal, err := p.CreatePerson(ctx, tenancy.Person{Email: "ada@example.com", Name: "Ada", Password: "a long password"})
			if err != nil {
				t.Fatal(err)
			}
			if personal.Org.Name != "Ada's organization" || personal.Org.Role != owner || personal.Joined {
				t.Errorf("no organization named: got %+v, want Ada's organization as owner", personal.Org)
			}
			// The same name for another Ada: the next free one.
			again, err := p.CreatePerson(ctx, tenancy.Person{Email: "ada2@example.com", Name: "Ada", Password: "a long password"})
			if err != nil {
				t.Fatal(err)
			}
			if again.Org.Name != "Ada's organization (ada2@example.com)" {
				t.Errorf("a taken personal name: got %q", again.Org.Name)
			}
			named, err := p.CreatePerson(ctx, tenancy.Person{Email: "bob@example.com", Password: "a long password", Organization: "Acme"})
			if err != nil || named.Org.Name != "Acme" || named.Org.Role != owner {
				t.Fatalf("a new named organization: %+v, %v", named, err)
			}
			joined, err := p.CreatePerson(ctx, tenancy.Person{Email: "carol@example.com", Password: "a long password", Organization: "acme", JoinExisting: true})
			if err != nil || !joined.Joined || joined.Org.ID != named.Org.ID || joined.Org.Role != member {
				t.Fatalf("joining an existing organization: %+v, %v", joined, err)
			}
			if _, err := p.CreatePerson(ctx, tenancy.Person{Email: "dave@example.com", Password: "a long password", Organization: "ACME"}); !errors.Is(err, storage.ErrOrgNameTaken) {
				t.Fatalf("a taken name for a new organization: %v, want ErrOrgNameTaken", err)
			}
			if _, err := store.UserByEmail(ctx, "dave@example.com"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a failed creation left the person behind: %v", err)
			}
			for _, who := range []*tenancy.Created{personal, again, named, joined} {
				orgs, err := p.Organizations(ctx, who.User.ID)
				if err != nil || len(orgs) != 1 {
					t.Errorf("%s belongs to %v (%v), want exactly one organization", who.User.Email, orgs, err)
				}
			}
			if role, err := p.Role(ctx, named.Org.ID, joined.User.ID); role != member || err != nil {
				t.Errorf("Role = %q, %v", role, err)
			}
			if _, err := p.Role(ctx, named.Org.ID, personal.User.ID); !errors.Is(err, tenancy.ErrNotMember) {
				t.Errorf("Role of an outsider: %v, want ErrNotMember", err)
			}
		})
	}
}

func TestPersonalOrganizationNamesFitAndDiffer(t *testing.T) {
	t.Parallel()
	names := storage.PersonalOrgNames(strings.Repeat("é", 200), "someone@example.com")
	seen := map[string]bool{}
	for _, n := range names {
		if err := storage.ValidateOrgName(n); err != nil {
			t.Errorf("%q: %v", n, err)
		}
		if seen[strings.ToLower(n)] {
			t.Errorf("%q twice", n)
		}
		seen[strings.ToLower(n)] = true
	}
	if got := storage.PersonalOrgNames("", "grace@example.com")[0]; got != "grace's organization" {
		t.Errorf("without a name: %q", got)
	}
}
