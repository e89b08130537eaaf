package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// Password recovery (DESIGN.md, "People's accounts"): a person who forgot
// their password asks for a link to /password/reset (RequestReset), which
// works for an hour, once, and only while it is the newest link and the
// password is the one it was sent about; following it they choose a new
// password (ResetPassword), which signs them out everywhere and revokes
// every token issued to them. An operator can do the same from the command
// line (ResetLink, SetPassword).

// noAccount is the person id the unknown-address path of RequestReset
// works on: no person has it (ids start usr_).
const noAccount = "none"

// RequestReset mails a link to choose a new password to the person whose
// address email is, and does nothing visible when nobody has it: the
// caller answers both alike, so that the answer does not tell whether the
// address has an account. Neither path hashes anything; both look the
// address up and then run the statement that ends the person's earlier
// links (CreateAccountToken runs it for a real person, before it stores
// the new link), so the paths differ only by that one insert and queueing
// the mail, which never waits for delivery (internal/mail). It is
// ErrMailDisabled when this server sends no mail, whoever asks.
func (a *Accounts) RequestReset(ctx context.Context, email string) error {
	if !a.MailEnabled() {
		return ErrMailDisabled
	}
	u, err := a.store.UserByEmail(ctx, email)
	if errors.Is(err, storage.ErrNotFound) {
		return a.store.DeleteAccountTokens(ctx, noAccount, storage.PurposeResetPassword)
	} else if err != nil {
		return err
	}
	link, err := a.NewLink(ctx, storage.PurposeResetPassword, u, u.Email)
	if err != nil {
		return err
	}
	return a.send(ctx, u.Email, "reset_password", map[string]any{
		"Link": link, "Minutes": int(ResetLinkTTL.Minutes()),
	})
}

// ResetLink makes a link to choose a new password for the person whose
// address email is, for an operator to hand over (users reset-link): it
// sends no mail, and like a mailed link it ends the earlier ones.
// storage.ErrNotFound when nobody has the address.
func (a *Accounts) ResetLink(ctx context.Context, email string) (string, error) {
	u, err := a.store.UserByEmail(ctx, email)
	if err != nil {
		return "", err
	}
	return a.NewLink(ctx, storage.PurposeResetPassword, u, u.Email)
}

// ResetFor returns the person a link to /password/reset is for, without
// using the link up (the page that asks for the new password). The errors
// are storage's for tokens, each an ErrNotFound: unknown or tampered (or
// a token of another purpose), used, expired — and expired too when the
// person's address is no longer the one the link was sent to.
func (a *Accounts) ResetFor(ctx context.Context, token string) (*storage.User, error) {
	t, err := a.store.AccountTokenFor(ctx, token, storage.PurposeResetPassword)
	if err != nil {
		return nil, err
	}
	return a.resetUser(ctx, t)
}

func (a *Accounts) resetUser(ctx context.Context, t *storage.AccountToken) (*storage.User, error) {
	u, err := a.store.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, err
	}
	if u.Email != t.Email {
		return nil, fmt.Errorf("reset password: the address changed since the link was sent: %w", storage.ErrTokenExpired)
	}
	return u, nil
}

// ResetPassword uses up the token of a link to /password/reset and makes
// password the person's password: the same policy as sign-up (a
// fields.Errors, the link still usable), the hash made before the
// transaction, and in one transaction the link redeemed, the password
// stored (which ends the person's other reset links), every session of
// theirs ended and every code and token issued to them revoked. Of two
// resets with one link at once exactly one succeeds. The errors are
// ResetFor's and ErrBusy; on any of them nothing changed. The person is
// then told by mail (ErrNotSent, with the person, when that fails).
func (a *Accounts) ResetPassword(ctx context.Context, token, password string) (*storage.User, error) {
	u, err := a.ResetFor(ctx, token)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(password, u.Email).Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	err = a.store.InTx(ctx, func(ctx context.Context) error {
		t, err := a.store.RedeemAccountToken(ctx, token, storage.PurposeResetPassword)
		if err != nil {
			return err
		}
		if u, err = a.resetUser(ctx, t); err != nil {
			return err
		}
		if err := a.replacePassword(ctx, u.ID, hash); err != nil {
			return err
		}
		return a.record(ctx, audit.Person(ctx, u), u, audit.PasswordChanged, "reset by a link sent by mail")
	})
	if err != nil {
		return nil, err
	}
	return u, a.tellPasswordChanged(ctx, u)
}

// SetPassword makes password the password of the person whose address
// email is, as an operator does from the command line (users
// set-password): the policy, and what a reset does — sessions ended,
// tokens revoked, pending reset links ended, the person told.
// storage.ErrNotFound when nobody has the address; a fields.Errors when
// the policy refuses the password.
func (a *Accounts) SetPassword(ctx context.Context, email, password string) (*storage.User, error) {
	u, err := a.store.UserByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(password, u.Email).Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(ctx, password)
	if err != nil {
		return nil, err
	}
	err = a.store.InTx(ctx, func(ctx context.Context) error {
		if err := a.replacePassword(ctx, u.ID, hash); err != nil {
			return err
		}
		return a.record(ctx, audit.OperatorActor(), u, audit.PasswordChanged, "set by the operator")
	})
	if err != nil {
		return nil, err
	}
	return u, a.tellPasswordChanged(ctx, u)
}

// replacePassword stores a new password hash and ends everything the old
// password let anyone keep: every session and every token of the person.
// Run it in a transaction.
func (a *Accounts) replacePassword(ctx context.Context, userID, hash string) error {
	if err := a.store.SetUserPassword(ctx, userID, hash); err != nil {
		return err
	}
	if _, err := a.store.DeleteUserLoginSessions(ctx, userID); err != nil {
		return err
	}
	return a.store.RevokeUserTokens(ctx, userID)
}

// tellPasswordChanged mails the person that their password changed, so
// that a change they did not make does not go unnoticed; a server without
// mail tells nobody.
func (a *Accounts) tellPasswordChanged(ctx context.Context, u *storage.User) error {
	return mailResult(a.send(ctx, u.Email, "password_changed", nil))
}
