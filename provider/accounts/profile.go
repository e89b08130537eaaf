package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// ChangeName gives u a new name (fields.Errors when the name rules refuse
// it).
func (a *Accounts) ChangeName(ctx context.Context, u *storage.User, name string) error {
	if err := CheckName(name).Err(); err != nil {
		return err
	}
	return a.store.SetUserName(ctx, u.ID, name)
}

// CodeSameEmail: the new address is the person's address already.
const CodeSameEmail = "same_email"

// emailChangeThrottle spaces a person's requests to change their address:
// each one mails two addresses, one of them anybody's, so a session and a
// password must not make the server a mail cannon. Two requests an hour are
// free; after that each waits twice as long as the last, up to 30 minutes.
var emailChangeThrottle = storage.ThrottlePolicy{Free: 2, Base: time.Minute, Max: 30 * time.Minute, Window: time.Hour}

func emailChangeKey(userID string) string { return "email-change:" + userID }

// ChangeTooSoonError refuses a request to change the address that comes
// before Until, after several others.
type ChangeTooSoonError struct{ Until time.Time }

func (e *ChangeTooSoonError) Error() string {
	return "too many email changes asked for; wait until " + e.Until.UTC().Format(time.RFC3339)
}

// RequestEmailChange starts moving u to newEmail: once the current
// password proves it is them (see checkCurrentPassword for its errors), it
// mails a link to the new address, which makes the change when followed
// (ConfirmEmail), and tells the old address that a change was asked for.
// Nothing changes until the link is followed. A new address that already
// has an account answers exactly as a free one (no enumeration): its
// owner gets a note that someone asked to move an account there, and no
// link. After a couple of requests in an hour, each waits longer
// (*ChangeTooSoonError). Problems of the form are fields.Errors of the fields "email" and
// "current_password";
// ErrMailDisabled when the server sends no mail. It returns the new
// address as stored.
func (a *Accounts) RequestEmailChange(ctx context.Context, u *storage.User, newEmail, password string) (string, error) {
	email := storage.NormalizeEmail(newEmail)
	var e fields.Errors
	switch {
	case email == "":
		e.AddCode(CodeRequired, "email", "is required")
	case storage.ValidateEmail(email) != nil:
		e.AddCode(CodeInvalid, "email", "%q is not an email address (name@example.com)", strings.TrimSpace(newEmail))
	case email == u.Email:
		e.AddCode(CodeSameEmail, "email", "is your address already")
	}
	if password == "" {
		e.AddCode(CodeRequired, "current_password", "is required")
	}
	if err := e.Err(); err != nil {
		return "", err
	}
	if !a.MailEnabled() {
		return "", ErrMailDisabled
	}
	if err := a.checkCurrentPassword(ctx, u, password); err != nil {
		return "", err
	}
	allowed, until, err := a.store.ReserveAttempt(ctx, storage.ThrottleKey{Key: emailChangeKey(u.ID), Policy: emailChangeThrottle})
	if err != nil {
		return "", fmt.Errorf("request email change: %w", err)
	} else if !allowed {
		return "", &ChangeTooSoonError{Until: until}
	}
	_, err = a.store.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		link, err := a.NewLink(ctx, storage.PurposeChangeEmail, u, email)
		if err != nil {
			return "", fmt.Errorf("request email change: %w", err)
		}
		if err := a.send(ctx, email, "change_email", map[string]string{"Link": link, "OldEmail": u.Email}); err != nil {
			return "", fmt.Errorf("mail the email-change link: %w", err)
		}
	case err == nil:
		// Taken: the owner of the address learns of the attempt, the
		// person asking learns nothing. An earlier link to a free address
		// stops working, as a newer request's would.
		if err := a.store.DeleteAccountTokens(ctx, u.ID, storage.PurposeChangeEmail); err != nil {
			return "", fmt.Errorf("request email change: %w", err)
		}
		if err := a.send(ctx, email, "email_change_taken", nil); err != nil {
			return "", fmt.Errorf("mail the owner of the address: %w", err)
		}
	default:
		return "", fmt.Errorf("request email change: %w", err)
	}
	if err := a.send(ctx, u.Email, "email_change_requested", map[string]string{"NewEmail": email}); err != nil {
		return "", fmt.Errorf("tell the current address of the request: %w", err)
	}
	return email, nil
}
