package signin

import (
	"context"
	"errors"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// eventLog is what recording the sign-in surface's events needs from
// storage: a transaction to record them in, and who an address tried is.
type eventLog interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error
	UserByEmail(ctx context.Context, email string) (*storage.User, error)
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
}

// notAnAddress is how the log shows an attempt whose email field held
// something else (perhaps a password typed in the wrong field): never as
// typed.
const notAnAddress = "(not an email address)"

// shownAddress is the address tried as the log shows it.
func shownAddress(email string) string {
	email = storage.NormalizeEmail(email)
	if storage.ValidateEmail(email) != nil {
		return notAnAddress
	}
	return email
}

// recordAttempt records a sign-in to email that did not happen (kind is
// audit.SignInFailed or audit.SignInThrottled). For an address with an
// account the actor is its person, in the organization a session of theirs
// would act in, so that its owners see the attempts on their members; for
// another, only the address tried, outside any organization. A failure to
// record is logged: the attempt was refused either way.
func (s *site) recordAttempt(ctx context.Context, kind, email string) {
	actor, org, detail := audit.Person(ctx, nil), "", ""
	u, err := s.events.UserByEmail(ctx, email)
	switch {
	case err == nil:
		actor = audit.Person(ctx, u)
		if kind == audit.SignInFailed {
			detail = "wrong password"
		}
	case errors.Is(err, storage.ErrNotFound):
		actor.Email = shownAddress(email)
		if kind == audit.SignInFailed {
			detail = "no account has this address"
		}
	default:
		s.kit.Log.ErrorContext(ctx, "record sign-in attempt: find user", "err", err)
		actor.Email = shownAddress(email)
	}
	// The same queries for an unknown address as for a known one (whose
	// list is empty): the answer's timing must not tell them apart.
	orgs, err := s.events.UserOrganizations(ctx, actor.UserID)
	if err != nil {
		s.kit.Log.ErrorContext(ctx, "record sign-in attempt: load organizations", "err", err)
	} else if o, err := tenancy.Choose(orgs, "", ""); err == nil {
		org = o.ID
	}
	if kind == audit.SignInThrottled {
		detail = "too many attempts: refused before the password was checked"
	}
	target := actor.Email
	if err := audit.Record(ctx, s.events, actor, audit.Event{Kind: kind, OrgID: org, TargetID: actor.UserID, Target: target, Detail: detail}); err != nil {
		s.kit.Log.ErrorContext(ctx, "record sign-in attempt", "err", err)
	}
}
