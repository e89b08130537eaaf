package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// ErrAlreadyVerified: the person's address is verified; there is nothing
// to resend.
var ErrAlreadyVerified = errors.New("the email address is already verified")

// TooSoonError refuses a resend that comes before Until.
type TooSoonError struct{ Until time.Time }

func (e *TooSoonError) Error() string {
	return "a verification link was sent a moment ago; the next one may go at " + e.Until.UTC().Format(time.RFC3339)
}

// resendThrottle spaces a person's verification links: each resend makes
// the next one wait, a minute at first, doubling up to half an hour, and
// an hour without resends starts over. The link sign-up sends is free.
var resendThrottle = storage.ThrottlePolicy{Free: 0, Base: time.Minute, Max: 30 * time.Minute, Window: time.Hour}

// resendKey is the throttle counter of a person's resends.
func resendKey(userID string) string { return "verify-resend:" + userID }

// SignUp creates a person the way the sign-up page does, without telling
// anyone whether the address already has an account (DESIGN.md, "People's
// accounts"): a new address gets the person (with their organization, as
// Create) and a verification link; an address that has an account creates
// nothing and its owner is mailed that someone tried to sign up with it,
// with the way to sign in or reset their password. Both run one argon2id
// hash of the password (the taken address is found by the insert, after
// the hash), and a taken organization name is refused before either, so
// that it cannot tell them apart. Created is nil for a taken address; a
// surface must answer both alike. The errors are Create's except
// ErrEmailTaken, and ErrNotSent (with the result) when the mail did not
// queue.
func (a *Accounts) SignUp(ctx context.Context, p Person, o Options) (*Created, error) {
	if err := Check(p, o).Err(); err != nil {
		return nil, err
	}
	if name := strings.TrimSpace(p.Organization); name != "" && !p.JoinExisting {
		// Refused for a new and a taken address alike: found only by
		// Create, it would be refused for a new address alone.
		if _, err := a.store.OrganizationByName(ctx, name); err == nil {
			return nil, fmt.Errorf("sign up: %w", storage.ErrOrgNameTaken)
		} else if !errors.Is(err, storage.ErrNotFound) {
			return nil, err
		}
	}
	made, err := a.Create(ctx, p, o)
	switch {
	case errors.Is(err, storage.ErrEmailTaken):
		err := a.send(ctx, storage.NormalizeEmail(p.Email), "signup_attempt", map[string]string{
			"LoginURL": a.issuer + "/login", "ForgotURL": a.issuer + "/password/forgot",
		})
		return nil, mailResult(err)
	case err != nil:
		return nil, err
	}
	return made, mailResult(a.SendVerification(ctx, made.User))
}

// SendVerification mails u a fresh link that verifies their address (24
// hours, single use); their earlier link stops working. ErrMailDisabled
// when the server sends no mail.
func (a *Accounts) SendVerification(ctx context.Context, u *storage.User) error {
	if !a.MailEnabled() {
		return ErrMailDisabled
	}
	link, err := a.NewLink(ctx, storage.PurposeVerifyEmail, u, u.Email)
	if err != nil {
		return err
	}
	return a.send(ctx, u.Email, "verify_email", map[string]string{"Link": link, "PersonName": u.Name})
}

// ResendVerification sends a signed-in person a new verification link,
// at most as often as resendThrottle allows: a *TooSoonError says when
// the next may go, ErrAlreadyVerified that none is needed,
// ErrMailDisabled that the server sends no mail.
func (a *Accounts) ResendVerification(ctx context.Context, u *storage.User) error {
	switch {
	case u.EmailVerified:
		return ErrAlreadyVerified
	case !a.MailEnabled():
		return ErrMailDisabled
	}
	ok, until, err := a.store.ReserveAttempt(ctx, storage.ThrottleKey{Key: resendKey(u.ID), Policy: resendThrottle})
	if err != nil {
		return err
	}
	if !ok {
		return &TooSoonError{Until: until}
	}
	return a.SendVerification(ctx, u)
}

// CheckEmailLink tells whether the token of a link to /email/verify can
// still be used, without using it up (the page that asks to confirm
// shows a dead link's error at once): nil, or storage's ErrTokenExpired,
// ErrTokenUsed or ErrNotFound, as ConfirmEmail would answer.
func (a *Accounts) CheckEmailLink(ctx context.Context, token string) error {
	_, err := a.store.AccountTokenFor(ctx, token, emailLinkPurposes...)
	return err
}
