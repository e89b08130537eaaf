package accounts_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

const password = "correct horse battery"

// mailWorld is accounts that mail a real SMTP server, over a store of one
// backend whose clock the test moves.
type mailWorld struct {
	store *storage.Store
	a     *accounts.Accounts
	mail  *mailtest.Server
	clock *storagetest.Clock
}

func newMailWorld(t *testing.T, b storagetest.Backend) *mailWorld {
	t.Helper()
	clock := storagetest.NewClock()
	store := b.Open(t, clock.Now)
	srv := mailtest.Start(t)
	return &mailWorld{store: store, a: accounts.New(store, accounts.Config{Mailer: srv.Mailer(t, issuer, nil), Issuer: issuer}),
		mail: srv, clock: clock}
}

func (w *mailWorld) person(t *testing.T, email string) *storage.User {
	t.Helper()
	made, err := w.a.Create(context.Background(), accounts.Person{Email: email, Name: "Someone", Password: password}, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return made.User
}

// fresh reads u again, as the next request would.
func (w *mailWorld) fresh(t *testing.T, u *storage.User) *storage.User {
	t.Helper()
	got, err := w.store.UserByID(context.Background(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// problem is the field and code of the first of err's problems.
func problem(err error) (field, code string) {
	var fe fields.Error
	if errors.As(err, &fe) {
		return fe.Field, fe.Code
	}
	return "", ""
}

func TestChangeNameFollowsTheRulesOfSignUp(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			store := b.Open(t, nil)
			ctx := context.Background()
			a := accounts.New(store, accounts.Config{})
			made, err := a.Create(ctx, accounts.Person{Email: "ada@example.com", Name: "Ada", Password: password}, accounts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				name, give, code string
			}{
				{"no name", "  ", accounts.CodeRequired},
				{"a name of 101 characters", strings.Repeat("é", 101), accounts.CodeTooLong},
			} {
				if _, code := problem(a.ChangeName(ctx, made.User, tc.give)); code != tc.code {
					t.Errorf("%s: problem %q, want %q", tc.name, code, tc.code)
				}
			}
			if u, _ := store.UserByID(ctx, made.User.ID); u.Name != "Ada" {
				t.Errorf("a refused name was stored: %q", u.Name)
			}
			if err := a.ChangeName(ctx, made.User, "  "+strings.Repeat("é", 99)+"x "); err != nil {
				t.Fatalf("a name of 100 characters: %v", err)
			}
			if u, _ := store.UserByID(ctx, made.User.ID); u.Name != strings.Repeat("é", 99)+"x" {
				t.Errorf("stored name %q, want it trimmed", u.Name)
			}
		})
	}
}

// An email change is asked for with the current password, mails a link to
// the new address and a notice to the old one, and happens only when the
// link is followed; the old address is told again then.
func TestRequestEmailChangeMovesThePersonOnlyByTheLink(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, b)
			ctx := context.Background()
			alice := w.person(t, "alice@example.com")

			for _, tc := range []struct {
				name, email, password string
				field, code           string
				wrong                 bool
			}{
				{"no address", " ", password, "email", accounts.CodeRequired, false},
				{"not an address", "alice.example.com", password, "email", accounts.CodeInvalid, false},
				{"the current address", " ALICE@example.com", password, "email", accounts.CodeSameEmail, false},
				{"no password", "refused@example.com", "", "current_password", accounts.CodeRequired, false},
				{"a wrong password", "refused@example.com", "not the password", "", "", true},
			} {
				to, err := w.a.RequestEmailChange(ctx, alice, tc.email, tc.password)
				field, code := problem(err)
				if to != "" || field != tc.field || code != tc.code || errors.Is(err, accounts.ErrWrongPassword) != tc.wrong {
					t.Errorf("%s: %q, %v; want problem %s %s (wrong password: %v)", tc.name, to, err, tc.field, tc.code, tc.wrong)
				}
			}
			if _, err := accounts.New(w.store, accounts.Config{}).RequestEmailChange(ctx, alice, "new@example.com", password); !errors.Is(err, accounts.ErrMailDisabled) {
				t.Errorf("without mail: %v, want ErrMailDisabled", err)
			}

			to, err := w.a.RequestEmailChange(ctx, alice, " New@Example.com ", password)
			if err != nil || to != "new@example.com" {
				t.Fatalf("RequestEmailChange = %q, %v", to, err)
			}
			msg := w.mail.Next(t, "new@example.com")
			link := msg.Link(t, accounts.PathVerifyEmail)
			if !strings.HasPrefix(link, issuer+accounts.PathVerifyEmail+"?token=") || !strings.Contains(msg.Text, "alice@example.com") {
				t.Errorf("the mail to the new address: %q\n%s", msg.Subject, msg.Text)
			}
			notice := w.mail.Next(t, "alice@example.com")
			if !strings.Contains(notice.Text, "new@example.com") || strings.Contains(notice.Text, "token=") || strings.Contains(notice.HTML, "token=") {
				t.Errorf("the notice to the old address: %q\n%s", notice.Subject, notice.Text)
			}
			if u := w.fresh(t, alice); u.Email != "alice@example.com" {
				t.Fatalf("the address changed before the link was followed: %s", u.Email)
			}
			u, _ := url.Parse(link)
			done, err := w.a.ConfirmEmail(ctx, u.Query().Get("token"))
			if err != nil || !done.Changed || done.User.Email != "new@example.com" || !done.User.EmailVerified {
				t.Fatalf("ConfirmEmail = %+v, %v", done, err)
			}
			if changed := w.mail.Next(t, "alice@example.com"); !strings.Contains(changed.Text, "new@example.com") {
				t.Errorf("the old address was not told of the change: %q", changed.Subject)
			}
			// The refused requests mailed nobody: their mail would have come
			// before the ones that arrived.
			if n := w.mail.Count("refused@example.com"); n != 0 {
				t.Errorf("%d messages to the address of refused requests", n)
			}
		})
	}
}

// Asking to move to an address that has an account answers as for a free
// one; its owner is told, and no link is sent anywhere.
func TestRequestEmailChangeToATakenAddressTellsNothing(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, b)
			ctx := context.Background()
			alice := w.person(t, "alice@example.com")
			w.person(t, "bob@example.com")

			// A pending link to a free address stops working when a newer
			// request is made, whatever its address.
			if _, err := w.a.RequestEmailChange(ctx, alice, "free@example.com", password); err != nil {
				t.Fatal(err)
			}
			pending := w.mail.Next(t, "free@example.com").Link(t, accounts.PathVerifyEmail)
			w.mail.Next(t, "alice@example.com")

			to, err := w.a.RequestEmailChange(ctx, alice, "BOB@example.com", password)
			if err != nil || to != "bob@example.com" {
				t.Fatalf("a taken address: %q, %v; want the same answer as a free one", to, err)
			}
			note := w.mail.Next(t, "bob@example.com")
			if strings.Contains(note.Text, "token=") || strings.Contains(note.HTML, "token=") {
				t.Errorf("the owner of the taken address got a link:\n%s", note.Text)
			}
			if notice := w.mail.Next(t, "alice@example.com"); !strings.Contains(notice.Text, "bob@example.com") {
				t.Errorf("the requester's own address was not told as for a free one: %q", notice.Subject)
			}
			u, _ := url.Parse(pending)
			if _, err := w.a.ConfirmEmail(ctx, u.Query().Get("token")); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("the older link still works: %v", err)
			}
			if u := w.fresh(t, alice); u.Email != "alice@example.com" {
				t.Errorf("alice moved to %s", u.Email)
			}
		})
	}
}

// Each request mails two addresses, so a person's requests are spaced:
// a few go at once, then each waits longer; a wrong password costs none.
func TestRequestEmailChangeIsSpaced(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			w := newMailWorld(t, b)
			ctx := context.Background()
			alice := w.person(t, "alice@example.com")
			if _, err := w.a.RequestEmailChange(ctx, alice, "new@example.com", "not the password"); !errors.Is(err, accounts.ErrWrongPassword) {
				t.Fatalf("a wrong password: %v", err)
			}
			for i := 1; i <= 3; i++ {
				if _, err := w.a.RequestEmailChange(ctx, alice, "new@example.com", password); err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
			}
			var tooSoon *accounts.ChangeTooSoonError
			if _, err := w.a.RequestEmailChange(ctx, alice, "new@example.com", password); !errors.As(err, &tooSoon) || !tooSoon.Until.Equal(w.clock.Now().Add(time.Minute)) {
				t.Fatalf("the fourth request at once: %v, want a minute's wait", err)
			}
			w.clock.Advance(time.Minute)
			if _, err := w.a.RequestEmailChange(ctx, alice, "new@example.com", password); err != nil {
				t.Fatalf("after the wait: %v", err)
			}
			for range 4 {
				w.mail.Next(t, "new@example.com")
			}
		})
	}
}
