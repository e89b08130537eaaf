package tenancy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
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
