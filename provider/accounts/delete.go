package accounts

import (
	"context"
	"fmt"
	"strings"

	"github.com/ajrly/ajrly-auth/storage"
)

// SoleOwnerError refuses to delete a person who is the only owner of
// organizations that others still need: members who would be left
// without an owner, or apps registered in its name. Nothing was deleted.
type SoleOwnerError struct {
	Email string
	Orgs  []storage.OwnedOrg
}

func (e *SoleOwnerError) Error() string {
	names := make([]string, len(e.Orgs))
	for i, o := range e.Orgs {
		names[i] = fmt.Sprintf("%q (%s)", o.Name, o.ID)
	}
	return fmt.Sprintf("%s is the only owner of %s: make another member an owner, or remove the organization's other members and apps, first",
		e.Email, strings.Join(names, ", "))
}

// Deleted is what deleting a person removed with them.
type Deleted struct {
	User *storage.User
	// Orgs are the organizations that went too: theirs alone, with
	// nobody else in them and no apps.
	Orgs []storage.OwnedOrg
}

// Delete removes the person with email and everything that is theirs:
// sessions, consents, the tokens issued for them, their API keys,
// memberships and mail links (storage.DeleteUser, one transaction). An
// organization they own with someone else as owner stays; one they alone
// are in and no app is registered in goes with them; one where they are
// the only owner but other members or apps depend on it refuses the
// whole deletion with a *SoleOwnerError naming it. ErrNotFound when
// nobody has the address.
func (a *Accounts) Delete(ctx context.Context, email string) (*Deleted, error) {
	var out Deleted
	err := a.store.InTx(ctx, func(ctx context.Context) error {
		u, err := a.store.UserByEmail(ctx, email)
		if err != nil {
			return err
		}
		owned, err := a.store.OwnedOrganizations(ctx, u.ID)
		if err != nil {
			return err
		}
		var refused []storage.OwnedOrg
		var gone []string
		for _, o := range owned {
			switch {
			case o.OtherOwners > 0:
			case o.OtherMembers > 0 || o.Clients > 0:
				refused = append(refused, o)
			default:
				out.Orgs = append(out.Orgs, o)
				gone = append(gone, o.ID)
			}
		}
		if len(refused) > 0 {
			return &SoleOwnerError{Email: u.Email, Orgs: refused}
		}
		out.User = u
		return a.store.DeleteUser(ctx, u.ID, gone...)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
