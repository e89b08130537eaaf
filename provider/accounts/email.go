package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// CheckPassword applies the password policy (the one sign-up applies) to
// a new password of the person with email: a problem of the field
// "password", or nil.
func CheckPassword(password, email string) fields.Errors {
	if problem, bad := passwordProblem(password, email); bad {
		return fields.Errors{problem}
	}
	return nil
}

// Confirmed is what following a link to /email/verify did.
type Confirmed struct {
	User *storage.User
	// Changed: the link confirmed a new address, which is now the
	// person's (the old one was told); otherwise it verified their address.
	Changed bool
	// Previous is the address before a change.
	Previous string
}

// ConfirmEmail uses up the token of a link to /email/verify: a
// verification link marks the person's address verified; an email-change
// link moves them to the new address (verified, since the link reached
// it) and tells the old address. The errors are storage's for tokens
// (ErrTokenExpired, ErrTokenUsed, ErrNotFound: each an ErrNotFound), and
// storage.ErrEmailTaken when someone took the new address meanwhile; on
// any error nothing changed and the token is not used up.
func (a *Accounts) ConfirmEmail(ctx context.Context, token string) (*Confirmed, error) {
	var out Confirmed
	err := a.store.InTx(ctx, func(ctx context.Context) error {
		t, err := a.store.RedeemAccountToken(ctx, token, emailLinkPurposes...)
		if err != nil {
			return err
		}
		if t.Purpose == storage.PurposeChangeEmail {
			before, err := a.store.UserByID(ctx, t.UserID)
			if err != nil {
				return err
			}
			if err := a.store.SetUserEmail(ctx, t.UserID, t.Email); err != nil {
				return err
			}
			out.Changed, out.Previous = true, before.Email
		} else if err := a.store.MarkEmailVerified(ctx, t.UserID, t.Email); errors.Is(err, storage.ErrNotFound) {
			// The person changed their address since: this link is for
			// an address that is no longer theirs.
			return fmt.Errorf("verify email: %w", storage.ErrTokenExpired)
		} else if err != nil {
			return err
		}
		if out.User, err = a.store.UserByID(ctx, t.UserID); err != nil || !out.Changed {
			return err
		}
		return a.record(ctx, audit.Person(ctx, out.User), out.User, audit.EmailChanged, "from "+out.Previous+" to "+out.User.Email)
	})
	if err != nil {
		return nil, err
	}
	if out.Changed {
		// Told after the change is stored: a mail that fails to queue
		// must not undo it.
		if err := mailResult(a.send(ctx, out.Previous, "email_changed", map[string]string{"NewEmail": out.User.Email})); err != nil {
			return &out, fmt.Errorf("tell the old address of the change: %w", err)
		}
	}
	return &out, nil
}

// emailLinkPurposes are the tokens a link to /email/verify may carry.
var emailLinkPurposes = []string{storage.PurposeVerifyEmail, storage.PurposeChangeEmail}
