package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/storage"
)

// How long the links in mail work (DESIGN.md, "People's accounts").
const (
	VerifyLinkTTL = 24 * time.Hour
	ResetLinkTTL  = time.Hour
)

// The paths the links in mail lead to.
const (
	PathVerifyEmail   = "/email/verify"
	PathResetPassword = "/password/reset"
)

// ErrNotSent: the account change stands, but its mail could not be
// queued (a full queue, a closed mailer); the surface logs it and answers
// as if it had been, so that the answer never depends on the mail.
var ErrNotSent = errors.New("the mail could not be queued")

// ErrMailDisabled: the flow needs mail and this server sends none (no SMTP
// setting outside demo mode).
var ErrMailDisabled = errors.New("this server sends no mail")

// linkOf says where the link of each token purpose leads, and for how long.
var linkOf = map[string]struct {
	path string
	ttl  time.Duration
}{
	storage.PurposeVerifyEmail:   {PathVerifyEmail, VerifyLinkTTL},
	storage.PurposeChangeEmail:   {PathVerifyEmail, VerifyLinkTTL},
	storage.PurposeResetPassword: {PathResetPassword, ResetLinkTTL},
}

// MailEnabled tells whether the flows that send mail are on.
func (a *Accounts) MailEnabled() bool { return a.mailer != nil && a.mailer.Enabled() }

// NewLink makes a single-use link for purpose to email (the person's
// address, or the new one for an email change) and returns it; an earlier
// link of the same person and purpose stops working.
func (a *Accounts) NewLink(ctx context.Context, purpose string, u *storage.User, email string) (string, error) {
	l, ok := linkOf[purpose]
	if !ok {
		return "", fmt.Errorf("new link: unknown purpose %q", purpose)
	}
	token, _, err := a.store.CreateAccountToken(ctx, purpose, u.ID, email, l.ttl)
	if err != nil {
		return "", err
	}
	return a.issuer + l.path + "?" + url.Values{"token": {token}}.Encode(), nil
}

// mailResult is the error a flow returns for the mail that tells of a
// change already made: none when it was queued or the server sends no
// mail, ErrNotSent otherwise.
func mailResult(err error) error {
	if err == nil || errors.Is(err, ErrMailDisabled) {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrNotSent, err)
}

// send queues a message from the embedded templates (internal/mail); it
// never waits for delivery.
func (a *Accounts) send(ctx context.Context, to, template string, data any) error {
	if !a.MailEnabled() {
		return ErrMailDisabled
	}
	return a.mailer.Send(ctx, mail.Message{To: to, Template: template, Data: data})
}
