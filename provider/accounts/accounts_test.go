package accounts_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

func TestCheckAppliesOnePolicyForEverySurface(t *testing.T) {
	t.Parallel()
	good := accounts.Person{Email: "alice@example.com", Name: "Alice", Password: "correct horse battery"}
	with := func(f func(*accounts.Person)) accounts.Person { p := good; f(&p); return p }
	tests := []struct {
		name        string
		person      accounts.Person
		opts        accounts.Options
		field, code string // of the first problem; "" for none
		message     string
	}{
		{"a good person", good, accounts.Options{RequireName: true}, "", "", ""},
		{"no email", with(func(p *accounts.Person) { p.Email = " " }), accounts.Options{}, "email", accounts.CodeRequired, "is required"},
		{"no password", with(func(p *accounts.Person) { p.Password = "" }), accounts.Options{}, "password", accounts.CodeRequired, "is required"},
		{"nine characters", with(func(p *accounts.Person) { p.Password = "123456789" }), accounts.Options{}, "password", accounts.CodeTooShort, "must be at least 10 characters"},
		{"five two-byte letters are five characters", with(func(p *accounts.Person) { p.Password = "ééééé" }), accounts.Options{}, "password", accounts.CodeTooShort, "must be at least 10 characters"},
		{"ten characters", with(func(p *accounts.Person) { p.Password = "7 tin cans" }), accounts.Options{}, "", "", ""},
		{"a common password", with(func(p *accounts.Person) { p.Password = "1234567890" }), accounts.Options{}, "password", accounts.CodeCommon, "most common passwords"},
		{"a common password in capitals", with(func(p *accounts.Person) { p.Password = "PassWord123" }), accounts.Options{}, "password", accounts.CodeCommon, "most common passwords"},
		{"a keyboard walk", with(func(p *accounts.Person) { p.Password = "qwertyuiop" }), accounts.Options{}, "password", accounts.CodeCommon, "most common passwords"},
		{"the email as password", with(func(p *accounts.Person) { p.Password = " ALICE@Example.com " }), accounts.Options{}, "password", accounts.CodePasswordIsEmail, "must not be the email address"},
		{"an email without an at sign", with(func(p *accounts.Person) { p.Email = "alice.example.com" }), accounts.Options{}, "email", accounts.CodeInvalid, `"alice.example.com" is not an email address`},
		{"no name where one is required", with(func(p *accounts.Person) { p.Name = "" }), accounts.Options{RequireName: true}, "name", accounts.CodeRequired, "is required"},
		{"no name where none is required", with(func(p *accounts.Person) { p.Name = "" }), accounts.Options{}, "", "", ""},
		{"a name of 101 characters", with(func(p *accounts.Person) { p.Name = strings.Repeat("n", 101) }), accounts.Options{}, "name", accounts.CodeTooLong, "must be at most 100 characters"},
		{"an organization name of 81 characters", with(func(p *accounts.Person) { p.Organization = strings.Repeat("o", 81) }), accounts.Options{}, "organization", accounts.CodeInvalid, "80"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := accounts.Check(tc.person, tc.opts)
			if tc.field == "" {
				if got != nil {
					t.Fatalf("problems %v, want none", got)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("no problem, want %s %s", tc.field, tc.code)
			}
			if p := got[0]; p.Field != tc.field || p.Code != tc.code || !strings.Contains(p.Message, tc.message) {
				t.Errorf("first problem %+v, want field %s, code %s, a message with %q", p, tc.field, tc.code, tc.message)
			}
		})
	}
	// Every field's problem at once, one each, in the order a form reads.
	all := accounts.Check(accounts.Person{Email: "nope", Password: "short", Organization: strings.Repeat("o", 81)}, accounts.Options{RequireName: true})
	var order []string
	for _, p := range all {
		order = append(order, p.Field)
	}
	if strings.Join(order, ",") != "password,email,name,organization" {
		t.Errorf("problems of fields %v, want password, email, name, organization", order)
	}
	var fe fields.Error
	if !errors.As(all.Err(), &fe) || fe.Field != "password" {
		t.Errorf("errors.As finds %+v, want the password's problem", fe)
	}
}

// A person is created together with their organization, or not at all.
func TestCreateAlwaysGivesAnOrganization(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			store := b.Open(t, nil)
			ctx := context.Background()
			a := accounts.New(store, accounts.Config{})
			p := tenancy.New(store)

			personal, err := a.Create(ctx, accounts.Person{Email: "ada@example.com", Name: "Ada", Password: "a long password"}, accounts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if personal.Org.Name != "Ada's organization" || personal.Org.Role != storage.RoleOwner || personal.Joined {
				t.Errorf("no organization named: got %+v, want Ada's organization as owner", personal.Org)
			}
			// The same name for another Ada: the next free one.
			again, err := a.Create(ctx, accounts.Person{Email: "ada2@example.com", Name: "Ada", Password: "a long password"}, accounts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if again.Org.Name != "Ada's organization (ada2@example.com)" {
				t.Errorf("a taken personal name: got %q", again.Org.Name)
			}
			named, err := a.Create(ctx, accounts.Person{Email: "bob@example.com", Password: "a long password", Organization: "Acme"}, accounts.Options{})
			if err != nil || named.Org.Name != "Acme" || named.Org.Role != storage.RoleOwner {
				t.Fatalf("a new named organization: %+v, %v", named, err)
			}
			joined, err := a.Create(ctx, accounts.Person{Email: "carol@example.com", Password: "a long password", Organization: "acme", JoinExisting: true}, accounts.Options{})
			if err != nil || !joined.Joined || joined.Org.ID != named.Org.ID || joined.Org.Role != storage.RoleMember {
				t.Fatalf("joining an existing organization: %+v, %v", joined, err)
			}
			if _, err := a.Create(ctx, accounts.Person{Email: "dave@example.com", Password: "a long password", Organization: "ACME"}, accounts.Options{}); !errors.Is(err, storage.ErrOrgNameTaken) {
				t.Fatalf("a taken name for a new organization: %v, want ErrOrgNameTaken", err)
			}
			if _, err := store.UserByEmail(ctx, "dave@example.com"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a failed creation left the person behind: %v", err)
			}
			if strings.Contains(personal.User.PasswordHash, "a long password") || !strings.HasPrefix(personal.User.PasswordHash, "$argon2id$") {
				t.Errorf("stored password %q, want an argon2id hash", personal.User.PasswordHash)
			}
			// A taken email creates nothing either, nor does a person the
			// rules refuse.
			if _, err := a.Create(ctx, accounts.Person{Email: "ADA@example.com", Password: "a long password", Organization: "Hooli"}, accounts.Options{}); !errors.Is(err, storage.ErrEmailTaken) {
				t.Errorf("a taken email: %v, want ErrEmailTaken", err)
			}
			if _, err := store.OrganizationByName(ctx, "Hooli"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a taken email left its organization behind: %v", err)
			}
			var fe fields.Error
			if _, err := a.Create(ctx, accounts.Person{Email: "short@example.com", Password: "short"}, accounts.Options{}); !errors.As(err, &fe) || fe.Field != "password" {
				t.Errorf("a short password: %v, want the password's problem", err)
			}
			if _, err := store.UserByEmail(ctx, "short@example.com"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a refused person was created: %v", err)
			}
			for _, who := range []*accounts.Created{personal, again, named, joined} {
				orgs, err := p.Organizations(ctx, who.User.ID)
				if err != nil || len(orgs) != 1 {
					t.Errorf("%s belongs to %v (%v), want exactly one organization", who.User.Email, orgs, err)
				}
			}
			if role, err := p.Role(ctx, named.Org.ID, joined.User.ID); role != storage.RoleMember || err != nil {
				t.Errorf("Role = %q, %v", role, err)
			}
			if _, err := p.Role(ctx, named.Org.ID, personal.User.ID); !errors.Is(err, tenancy.ErrNotMember) {
				t.Errorf("Role of an outsider: %v, want ErrNotMember", err)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			s := b.Open(t, nil)
			ctx := context.Background()
			a := accounts.New(s, accounts.Config{})
			made, err := a.Create(ctx, accounts.Person{Email: "alice@example.com", Name: "Alice", Password: "correct horse battery"}, accounts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := a.Authenticate(ctx, " ALICE@example.com", "correct horse battery")
			if err != nil || got.ID != made.User.ID {
				t.Fatalf("the right password: %v, %v", got, err)
			}
			for _, tc := range []struct{ email, password string }{
				{"alice@example.com", "correct horse batterY"},
				{"alice@example.com", ""},
				{"nobody@example.com", "correct horse battery"},
			} {
				if _, err := a.Authenticate(ctx, tc.email, tc.password); !errors.Is(err, accounts.ErrInvalidCredentials) {
					t.Errorf("%s with %q: %v, want ErrInvalidCredentials", tc.email, tc.password, err)
				}
			}
		})
	}
}

// A person created through an invitation comes verified, with no
// organization of their own, and a failure to join creates nobody.
func TestCreateInvitedJoinsInsteadOfAPersonalOrganization(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			store := b.Open(t, nil)
			ctx := t.Context()
			a := accounts.New(store, accounts.Config{})
			owner, err := a.Create(ctx, accounts.Person{Email: "owner@example.com", Password: "a long password", Organization: "Acme"}, accounts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			refused := errors.New("the invitation was used meanwhile")
			_, err = a.CreateInvited(ctx, accounts.Person{Email: "new@example.com", Name: "New", Password: "a long password"},
				func(context.Context, *storage.User) error { return refused })
			if !errors.Is(err, refused) {
				t.Fatalf("a failed join: %v", err)
			}
			if _, err := store.UserByEmail(ctx, "new@example.com"); !errors.Is(err, storage.ErrNotFound) {
				t.Fatalf("a failed join left the person: %v", err)
			}
			if _, err := a.CreateInvited(ctx, accounts.Person{Email: "new@example.com", Password: "a long password"},
				func(context.Context, *storage.User) error { return nil }); !errors.As(err, new(fields.Errors)) {
				t.Fatalf("no name: %v, want the name's problem", err)
			}
			u, err := a.CreateInvited(ctx, accounts.Person{Email: "New@Example.com", Name: "New", Password: "a long password", Organization: "Ignored"},
				func(ctx context.Context, u *storage.User) error {
					return store.AddMember(ctx, owner.Org.ID, u.ID, storage.RoleMember)
				})
			if err != nil {
				t.Fatal(err)
			}
			stored, err := store.UserByID(ctx, u.ID)
			if err != nil || !stored.EmailVerified || !u.EmailVerified {
				t.Fatalf("created %+v (%v), want the address verified", stored, err)
			}
			orgs, err := store.UserOrganizations(ctx, u.ID)
			if err != nil || len(orgs) != 1 || orgs[0].ID != owner.Org.ID {
				t.Fatalf("their organizations: %+v, %v; want Acme alone", orgs, err)
			}
			if _, err := a.CreateInvited(ctx, accounts.Person{Email: "new@example.com", Name: "Again", Password: "a long password"},
				func(context.Context, *storage.User) error { return nil }); !errors.Is(err, storage.ErrEmailTaken) {
				t.Fatalf("a taken address: %v, want ErrEmailTaken", err)
			}
		})
	}
}
