package accounts

import (
	"context"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// record appends an event about u's account, done by actor, to the log of
// u's first organization — the one their sessions start in — so that its
// owners and admins see what happens to their members' accounts. Call it
// in the transaction of the change.
func (a *Accounts) record(ctx context.Context, actor audit.Actor, u *storage.User, kind, detail string) error {
	orgs, err := a.store.UserOrganizations(ctx, u.ID)
	if err != nil {
		return err
	}
	org := ""
	if len(orgs) > 0 {
		org = orgs[0].ID
	}
	return audit.Record(ctx, a.store, actor, audit.Event{Kind: kind, OrgID: org, TargetID: u.ID, Target: u.Email, Detail: detail})
}
