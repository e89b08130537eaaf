// Package accounts is the rules of people's accounts, for every surface
// alike (the sign-up page, the CLI, later the admin API): what a new
// person's name, email and password must be, creating a person together
// with their organization, and passwords — hashing (argon2id), checking,
// and the bound on how many hashes run at once.
package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/storage"
)

// The password and name policy.
const (
	// MinPasswordLength is the shortest password accepted, in characters.
	MinPasswordLength = 10
	// MaxNameLength is the longest name a person may give, in characters.
	MaxNameLength = 100
)

// Problem codes, which a surface may phrase its own way (fields.Error.Code).
const (
	CodeRequired = "required"
	CodeTooShort = "too_short"
	CodeTooLong  = "too_long"
	CodeInvalid  = "invalid"
	// CodePasswordIsEmail: the password is the person's email address.
	CodePasswordIsEmail = "password_is_email"
	// CodeCommon: the password is on the list of the most common
	// passwords (common-passwords.txt), the first ones an attacker tries.
	CodeCommon = "common"
)

// Person is a person to create, and the organization they start in.
type Person struct {
	Email, Name, Password string
	// Organization names the organization: a new one they own, or, with
	// JoinExisting, an existing one of that name they join as a member.
	// Empty gives them a personal organization of their own, as owner.
	Organization string
	JoinExisting bool
}

// Options say what a surface asks of a new person beyond the rules every
// surface applies.
type Options struct {
	// RequireName: the person must give a name (the sign-up page); an
	// operator creating someone may leave it out (the CLI).
	RequireName bool
}

// Check returns one problem for each field of p that is wrong, in the
// order email, password, name, organization; nil when p can be created.
// Each message completes the field's name ("must be at least 10
// characters"); the code says which rule it broke.
func Check(p Person, o Options) fields.Errors {
	var e fields.Errors
	if strings.TrimSpace(p.Email) == "" {
		e.AddCode(CodeRequired, "email", "is required")
	}
	if problem, bad := passwordProblem(p.Password, p.Email); bad {
		e = append(e, problem)
	}
	if !e.Has("email") {
		if err := storage.ValidateEmail(p.Email); err != nil {
			e.AddCode(CodeInvalid, "email", "%q is not an email address (%v)", strings.TrimSpace(p.Email), err)
		}
	}
	if strings.TrimSpace(p.Name) != "" || o.RequireName {
		e = append(e, CheckName(p.Name)...)
	}
	if strings.TrimSpace(p.Organization) != "" {
		if err := storage.ValidateOrgName(p.Organization); err != nil {
			e.AddCode(CodeInvalid, "organization", "is not a valid organization name: %v", err)
		}
	}
	return e
}

// CheckName applies the name rules (sign-up's, and a rename's): the problem
// of the field "name", or nil. A person who gave a name keeps one.
func CheckName(name string) fields.Errors {
	var e fields.Errors
	switch name = strings.TrimSpace(name); {
	case name == "":
		e.AddCode(CodeRequired, "name", "is required")
	case utf8.RuneCountInString(name) > MaxNameLength:
		e.AddCode(CodeTooLong, "name", "must be at most %d characters", MaxNameLength)
	}
	return e
}

// passwordProblem applies the password policy to a new password of the
// person with email: the problem of the field "password", if any.
func passwordProblem(password, email string) (fields.Error, bool) {
	problem := func(code, message string) (fields.Error, bool) {
		return fields.Error{Field: "password", Code: code, Message: message}, true
	}
	switch {
	case password == "":
		return problem(CodeRequired, "is required")
	case utf8.RuneCountInString(password) < MinPasswordLength:
		return problem(CodeTooShort, fmt.Sprintf("must be at least %d characters", MinPasswordLength))
	case email != "" && strings.EqualFold(strings.TrimSpace(password), storage.NormalizeEmail(email)):
		return problem(CodePasswordIsEmail, "must not be the email address")
	case isCommonPassword(password):
		return problem(CodeCommon, "is one of the most common passwords, which are guessed first")
	}
	return fields.Error{}, false
}

// Created is a person just created and the organization they are in.
type Created struct {
	User *storage.User
	Org  storage.MemberOrg
	// Joined: they joined an existing organization (as a member), rather
	// than getting a new one they own.
	Joined bool
}

// ErrInvalidCredentials is Authenticate's answer for an unknown email and
// for a wrong password alike.
var ErrInvalidCredentials = errors.New("invalid email or password")

// Accounts creates and authenticates people, and runs the flows that
// reach them by mail.
type Accounts struct {
	store  *storage.Store
	mailer *mail.Mailer
	issuer string
}

// Config is what the flows that send mail need; the zero Config sends
// none (MailEnabled is false).
type Config struct {
	// Mailer delivers the account mail; nil sends none.
	Mailer *mail.Mailer
	// Issuer is the issuer URL, which the links in mail start with.
	Issuer string
}

// New returns the accounts of store, mailing through c.
func New(store *storage.Store, c Config) *Accounts {
	return &Accounts{store: store, mailer: c.Mailer, issuer: strings.TrimSuffix(c.Issuer, "/")}
}

// Create checks p (fields.Errors when it is wrong) and creates the person
// together with their organization, in one transaction, so that nobody
// ever exists without one (DESIGN.md): a taken email
// (storage.ErrEmailTaken), or a taken name for a new organization
// (storage.ErrOrgNameTaken), creates nothing. The password is hashed
// before the transaction starts, so no database connection waits on
// argon2id; ErrBusy when no hashing slot frees up in time.
func (a *Accounts) Create(ctx context.Context, p Person, o Options) (*Created, error) {
	if err := Check(p, o).Err(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(ctx, p.Password)
	if err != nil {
		return nil, err
	}
	var out *Created
	err = a.store.InTx(ctx, func(ctx context.Context) error {
		u, err := a.store.CreateUser(ctx, p.Email, p.Name, hash)
		if err != nil {
			return err
		}
		out = &Created{User: u}
		name := strings.TrimSpace(p.Organization)
		if name != "" && p.JoinExisting {
			existing, err := a.store.OrganizationByName(ctx, name)
			if err == nil {
				out.Joined = true
				out.Org = storage.MemberOrg{Organization: *existing, Role: storage.RoleMember}
				return a.store.AddMember(ctx, existing.ID, u.ID, storage.RoleMember)
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
		}
		if name == "" {
			if name, err = a.store.FreePersonalOrgName(ctx, u.Name, u.Email); err != nil {
				return err
			}
		}
		org, err := a.store.CreateOrganization(ctx, name, u.ID)
		if err != nil {
			return err
		}
		out.Org = storage.MemberOrg{Organization: *org, Role: storage.RoleOwner}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Authenticate checks an email and password. An unknown email costs the
// same argon2id computation as a wrong password, so the time taken does
// not tell whether the email has an account: ErrInvalidCredentials either
// way. When no password-hashing slot frees up in time it returns ErrBusy.
func (a *Accounts) Authenticate(ctx context.Context, email, password string) (*storage.User, error) {
	u, err := a.store.UserByEmail(ctx, email)
	hash := ""
	switch {
	case err == nil:
		hash = u.PasswordHash
	case errors.Is(err, storage.ErrNotFound):
		u, hash = nil, dummyHash()
	default:
		return nil, err
	}
	ok, err := VerifyPassword(ctx, hash, password)
	if err != nil {
		return nil, fmt.Errorf("authenticate user: %w", err)
	}
	if u == nil || !ok {
		return nil, ErrInvalidCredentials
	}
	return u, nil
}
