package accounts

import (
	"context"

	"github.com/ajrly/ajrly-auth/storage"
)

// CreateInvited creates a person who accepted an invitation by mail: p
// is checked as on sign-up (fields.Errors when it is wrong; the name is
// required, p.Organization is ignored), the address counts as verified
// (the link came to it), and, instead of a personal organization, join
// makes them a member of the organization they were invited into, in the
// same transaction, so that nobody ever exists without one. A taken
// address is storage.ErrEmailTaken and creates nothing. The password is
// hashed before the transaction starts; ErrBusy when no hashing slot
// frees up in time.
func (a *Accounts) CreateInvited(ctx context.Context, p Person, join func(ctx context.Context, u *storage.User) error) (*storage.User, error) {
	p.Organization, p.JoinExisting = "", false
	if err := Check(p, Options{RequireName: true}).Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(ctx, p.Password)
	if err != nil {
		return nil, err
	}
	var out *storage.User
	err = a.store.InTx(ctx, func(ctx context.Context) error {
		u, err := a.store.CreateUser(ctx, p.Email, p.Name, hash)
		if err != nil {
			return err
		}
		if err := a.store.MarkEmailVerified(ctx, u.ID, u.Email); err != nil {
			return err
		}
		u.EmailVerified = true
		if err := join(ctx, u); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
