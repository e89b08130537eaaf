package accounts_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// mailing returns the accounts of a new store whose clock the test moves,
// mailing a real SMTP server.
func mailing(t *testing.T, b storagetest.Backend) (*accounts.Accounts, *storage.Store, *storagetest.Clock, *mailtest.Server) {
	t.Helper()
	clock := storagetest.NewClock()
	store := b.Open(t, clock.Now)
	srv := mailtest.Start(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return accounts.New(store, accounts.Config{Mailer: srv.Mailer(t, issuer, log), Issuer: issuer}), store, clock, srv
}

// Signing up with a taken address costs the same argon2id work as with a
// new one, creates nothing and mails the owner; a new address gets its
// person and a verification link. Counted, not timed: not parallel, since
// the counter is the process's and other tests hash too.
func TestSignUpCostsTheSameHashingForANewAndATakenAddress(t *testing.T) {
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			a, store, _, srv := mailing(t, b)
			ctx := context.Background()
			work := func(p accounts.Person) (*accounts.Created, int64, error) {
				before := accounts.PasswordHashWork()
				made, err := a.SignUp(ctx, p, accounts.Options{RequireName: true})
				return made, accounts.PasswordHashWork() - before, err
			}
			made, fresh, err := work(accounts.Person{Email: "ada@example.com", Name: "Ada", Password: "a long password"})
			if err != nil || made == nil {
				t.Fatalf("a new address: %+v, %v", made, err)
			}
			verify := srv.Next(t, "ada@example.com")
			if !strings.Contains(verify.Subject, "Verify your email address") {
				t.Errorf("the new person got %q, want the verification mail", verify.Subject)
			}
			link := verify.Link(t, accounts.PathVerifyEmail)

			again, taken, err := work(accounts.Person{Email: " ADA@example.com", Name: "Not Ada", Password: "another long password", Organization: "Hooli"})
			if err != nil || again != nil {
				t.Fatalf("a taken address: %+v, %v; want nothing created and no error", again, err)
			}
			if fresh != 1 || taken != fresh {
				t.Errorf("argon2id computations: %d for a new address, %d for a taken one; want one each", fresh, taken)
			}
			attempt := srv.Next(t, "ada@example.com")
			if !strings.Contains(attempt.Subject, "Someone tried to sign up") {
				t.Errorf("the owner of the taken address got %q", attempt.Subject)
			}
			for _, want := range []string{issuer + "/login", issuer + "/password/forgot"} {
				if !strings.Contains(attempt.Text, want) || !strings.Contains(attempt.HTML, want) {
					t.Errorf("the sign-up attempt mail has no link to %s:\n%s", want, attempt.Text)
				}
			}
			if strings.Contains(attempt.Text, "another long password") || strings.Contains(attempt.Text, "token=") {
				t.Errorf("the sign-up attempt mail carries a password or a link token:\n%s", attempt.Text)
			}
			if _, err := store.OrganizationByName(ctx, "Hooli"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("a taken address made its organization: %v", err)
			}
			u, err := store.UserByEmail(ctx, "ada@example.com")
			if err != nil || u.Name != "Ada" || u.EmailVerified {
				t.Fatalf("the person after the second sign-up: %+v, %v; want Ada, unverified", u, err)
			}
			// The link still works: the taken sign-up made no new one.
			done, err := a.ConfirmEmail(ctx, tokenOf(t, link))
			if err != nil || done.Changed || !done.User.EmailVerified {
				t.Fatalf("following the link: %+v, %v", done, err)
			}

			// A taken organization name is refused for both kinds of
			// address, before any hash.
			for _, email := range []string{"new@example.com", "ada@example.com"} {
				_, n, err := work(accounts.Person{Email: email, Name: "X", Password: "a long password", Organization: made.Org.Name})
				if !errors.Is(err, storage.ErrOrgNameTaken) || n != 0 {
					t.Errorf("%s with a taken organization name: %v after %d hashes; want ErrOrgNameTaken after none", email, err, n)
				}
			}
			srv.None(t, "new@example.com", 100*time.Millisecond)
		})
	}
}

// A resend makes the earlier link stop working and the next resend wait;
// a verified person has nothing to resend; every bad token changes
// nothing.
func TestVerificationLinks(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			a, store, clock, srv := mailing(t, b)
			ctx := context.Background()
			made, err := a.SignUp(ctx, accounts.Person{Email: "bea@example.com", Name: "Bea", Password: "a long password"}, accounts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			first := tokenOf(t, srv.Next(t, "bea@example.com").Link(t, accounts.PathVerifyEmail))
			u := made.User

			if err := a.ResendVerification(ctx, u); err != nil {
				t.Fatalf("the first resend: %v", err)
			}
			second := tokenOf(t, srv.Next(t, "bea@example.com").Link(t, accounts.PathVerifyEmail))
			var tooSoon *accounts.TooSoonError
			if err := a.ResendVerification(ctx, u); !errors.As(err, &tooSoon) || !tooSoon.Until.After(clock.Now()) {
				t.Fatalf("a resend right after one: %v, want a TooSoonError with a time to come", err)
			}
			srv.None(t, "bea@example.com", 100*time.Millisecond)
			clock.Advance(tooSoon.Until.Sub(clock.Now()) + time.Second)
			if err := a.ResendVerification(ctx, u); err != nil {
				t.Fatalf("a resend once the wait is over: %v", err)
			}
			third := tokenOf(t, srv.Next(t, "bea@example.com").Link(t, accounts.PathVerifyEmail))

			reset, err := a.NewLink(ctx, storage.PurposeResetPassword, u, u.Email)
			if err != nil {
				t.Fatal(err)
			}
			for name, token := range map[string]string{
				"the first link, replaced": first, "the second link, replaced": second,
				"a tampered link": third[:len(third)-2] + "xx", "a reset link": tokenOf(t, reset), "no token": "",
			} {
				if err := a.CheckEmailLink(ctx, token); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("checking %s: %v, want an ErrNotFound", name, err)
				}
				if _, err := a.ConfirmEmail(ctx, token); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("following %s: %v, want an ErrNotFound", name, err)
				}
			}
			if got, _ := store.UserByID(ctx, u.ID); got.EmailVerified {
				t.Fatal("a bad link verified the address")
			}
			if err := a.CheckEmailLink(ctx, third); err != nil {
				t.Fatalf("checking the newest link: %v", err)
			}
			if _, err := a.ConfirmEmail(ctx, third); err != nil {
				t.Fatalf("following the newest link: %v", err)
			}
			if _, err := a.ConfirmEmail(ctx, third); !errors.Is(err, storage.ErrTokenUsed) {
				t.Errorf("following it again: %v, want ErrTokenUsed", err)
			}
			verified, _ := store.UserByID(ctx, u.ID)
			if err := a.ResendVerification(ctx, verified); !errors.Is(err, accounts.ErrAlreadyVerified) {
				t.Errorf("a resend for a verified address: %v, want ErrAlreadyVerified", err)
			}

			// An expired link: 24 hours on.
			other, err := a.SignUp(ctx, accounts.Person{Email: "cy@example.com", Name: "Cy", Password: "a long password"}, accounts.Options{})
			if err != nil {
				t.Fatal(err)
			}
			late := tokenOf(t, srv.Next(t, "cy@example.com").Link(t, accounts.PathVerifyEmail))
			clock.Advance(accounts.VerifyLinkTTL)
			if _, err := a.ConfirmEmail(ctx, late); !errors.Is(err, storage.ErrTokenExpired) {
				t.Errorf("a link 24 hours old: %v, want ErrTokenExpired", err)
			}
			if got, _ := store.UserByID(ctx, other.User.ID); got.EmailVerified {
				t.Error("an expired link verified the address")
			}
		})
	}
}

// Without mail, sign-up still works (no link goes out) and a resend says
// the server sends none.
func TestSignUpWithoutMail(t *testing.T) {
	t.Parallel()
	store := storagetest.Backends()[0].Open(t, nil)
	a := accounts.New(store, accounts.Config{})
	made, err := a.SignUp(context.Background(), accounts.Person{Email: "dee@example.com", Name: "Dee", Password: "a long password"}, accounts.Options{})
	if err != nil || made == nil {
		t.Fatalf("sign-up without mail: %+v, %v", made, err)
	}
	if again, err := a.SignUp(context.Background(), accounts.Person{Email: "dee@example.com", Name: "Dee", Password: "a long password"}, accounts.Options{}); err != nil || again != nil {
		t.Fatalf("a taken address without mail: %+v, %v", again, err)
	}
	if err := a.ResendVerification(context.Background(), made.User); !errors.Is(err, accounts.ErrMailDisabled) {
		t.Errorf("a resend without mail: %v, want ErrMailDisabled", err)
	}
}

// Delete refuses the only owner of an organization others depend on
// (members, apps) and deletes nothing; one they alone are in goes with
// them; a co-owned one stays.
func TestDelete(t *testing.T) {
	t.Parallel()
	for _, b := range storagetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			store := b.Open(t, nil)
			ctx := context.Background()
			a := accounts.New(store, accounts.Config{})
			create := func(email, org string) *accounts.Created {
				made, err := a.Create(ctx, accounts.Person{Email: email, Password: "a long password", Organization: org, JoinExisting: true}, accounts.Options{})
				if err != nil {
					t.Fatal(err)
				}
				return made
			}
			owner := create("owner@example.com", "Acme")
			create("member@example.com", "Acme")
			coOwner := create("co@example.com", "Co")
			other := create("other@example.com", "")
			if err := store.AddMember(ctx, coOwner.Org.ID, other.User.ID, storage.RoleOwner); err != nil {
				t.Fatal(err)
			}

			var sole *accounts.SoleOwnerError
			if _, err := a.Delete(ctx, "owner@example.com"); !errors.As(err, &sole) || len(sole.Orgs) != 1 || sole.Orgs[0].ID != owner.Org.ID ||
				!strings.Contains(err.Error(), `"Acme"`) {
				t.Fatalf("deleting the only owner of Acme, which has a member: %v", err)
			}
			if _, err := store.UserByID(ctx, owner.User.ID); err != nil {
				t.Fatalf("the refused deletion deleted the person: %v", err)
			}
			// Co-owned: Co stays, with its other owner; their personal
			// organization goes.
			gone, err := a.Delete(ctx, "other@example.com")
			if err != nil || len(gone.Orgs) != 1 || gone.Orgs[0].ID != other.Org.ID {
				t.Fatalf("deleting a co-owner: %+v, %v; want their personal organization gone with them", gone, err)
			}
			if _, err := store.OrganizationByID(ctx, coOwner.Org.ID); err != nil {
				t.Errorf("the co-owned organization went: %v", err)
			}
			if _, err := store.OrganizationByID(ctx, other.Org.ID); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("their personal organization stayed: %v", err)
			}
			if _, err := a.Delete(ctx, "other@example.com"); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("deleting them again: %v, want ErrNotFound", err)
			}
		})
	}
}
