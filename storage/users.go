package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// User is a person who signs in.
type User struct {
	ID            string `gorm:"primaryKey"`
	Email         string
	Name          string
	PasswordHash  string
	EmailVerified bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// TableName is the users table.
func (User) TableName() string { return "users" }

// ErrEmailTaken is returned when an email already has an account.
var ErrEmailTaken = fmt.Errorf("email already has an account: %w", ErrConflict)

// NormalizeEmail is the form emails are stored and looked up in.
func NormalizeEmail(email string) string {
	return strings.ToLower(strings.TrimSpace(email))
}

// ValidateEmail checks that an address has the shape local@domain, with a
// dot in the domain, no spaces and a sane length. Whether it receives mail
// is for a verification email to tell.
func ValidateEmail(email string) error {
	email = NormalizeEmail(email)
	at := strings.LastIndexByte(email, '@')
	switch {
	case email == "":
		return errors.New("email is empty")
	case len(email) > 254:
		return errors.New("email is longer than 254 characters")
	case at <= 0 || at == len(email)-1:
		return fmt.Errorf("%q is not an email address (name@example.com)", email)
	case strings.ContainsAny(email, " \t\r\n<>,;\"()[]\\"):
		return fmt.Errorf("%q contains characters an email address cannot have", email)
	case !strings.Contains(email[at+1:], ".") || strings.HasPrefix(email[at+1:], ".") || strings.HasSuffix(email, "."):
		return fmt.Errorf("%q has no valid domain (name@example.com)", email)
	}
	return nil
}

// CreateUser stores a new user with the hash of their password (made by
// provider/accounts, which holds the password rules). A taken email is
// ErrEmailTaken (an ErrConflict).
func (s *Store) CreateUser(ctx context.Context, email, name, passwordHash string) (*User, error) {
	email = NormalizeEmail(email)
	if err := ValidateEmail(email); err != nil {
		return nil, fmt.Errorf("create user: %w", err)
	}
	if passwordHash == "" {
		return nil, errors.New("create user: no password hash")
	}
	u := &User{ID: NewID("usr"), Email: email, Name: strings.TrimSpace(name), PasswordHash: passwordHash}
	if err := s.translate(s.conn(ctx).Create(u).Error, ErrNotFound); errors.Is(err, ErrConflict) {
		return nil, fmt.Errorf("create user %s: %w", email, ErrEmailTaken)
	} else if err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

// UserByID returns a user or ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id string) (*User, error) {
	var u User
	if err := s.conn(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("find user %s: %w", id, s.translate(err, ErrNotFound))
	}
	return &u, nil
}

// UserByEmail returns a user or ErrNotFound.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	if err := s.conn(ctx).Where("email = ?", NormalizeEmail(email)).Take(&u).Error; err != nil {
		return nil, fmt.Errorf("find user by email: %w", s.translate(err, ErrNotFound))
	}
	return &u, nil
}

// ListUsers returns every user, oldest first.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	var out []User
	if err := s.conn(ctx).Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list users: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// SetUserPassword replaces a person's password hash. Their pending
// password resets stop working: a reset link is for the password it was
// sent about.
func (s *Store) SetUserPassword(ctx context.Context, userID, passwordHash string) error {
	if passwordHash == "" {
		return errors.New("set password: no password hash")
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.updateUser(ctx, userID, map[string]any{"password_hash": passwordHash}); err != nil {
			return fmt.Errorf("set password of %s: %w", userID, err)
		}
		return s.DeleteAccountTokens(ctx, userID, PurposeResetPassword)
	})
}

// SetUserName changes the name a person goes by.
func (s *Store) SetUserName(ctx context.Context, userID, name string) error {
	if err := s.updateUser(ctx, userID, map[string]any{"name": strings.TrimSpace(name)}); err != nil {
		return fmt.Errorf("set name of %s: %w", userID, err)
	}
	return nil
}

// MarkEmailVerified records that the person received mail at email; it
// does nothing (ErrNotFound) when their address is no longer email, since
// a link confirms only the address it was sent to.
func (s *Store) MarkEmailVerified(ctx context.Context, userID, email string) error {
	res := s.conn(ctx).Model(&User{}).Where("id = ? AND email = ?", userID, NormalizeEmail(email)).
		Updates(map[string]any{"email_verified": true, "updated_at": utc(s.now())})
	if res.Error != nil {
		return fmt.Errorf("mark email of %s verified: %w", userID, s.translate(res.Error, ErrNotFound))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("mark email of %s verified: the address changed: %w", userID, ErrNotFound)
	}
	return nil
}

// SetUserEmail moves a person to a new address that a link proved they
// receive mail at (so it is verified); ErrEmailTaken when someone else has
// it by now. Their pending links (for the old address, or other changes) stop working.
func (s *Store) SetUserEmail(ctx context.Context, userID, email string) error {
	email = NormalizeEmail(email)
	if err := ValidateEmail(email); err != nil {
		return fmt.Errorf("set email: %w", err)
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		var n int64
		if err := s.conn(ctx).Model(&User{}).Where("email = ? AND id <> ?", email, userID).Count(&n).Error; err != nil {
			return fmt.Errorf("set email of %s: %w", userID, s.translate(err, ErrNotFound))
		}
		if n > 0 {
			return fmt.Errorf("set email of %s: %w", userID, ErrEmailTaken)
		}
		err := s.updateUser(ctx, userID, map[string]any{"email": email, "email_verified": true})
		if errors.Is(err, ErrConflict) {
			return fmt.Errorf("set email of %s: %w", userID, ErrEmailTaken)
		} else if err != nil {
			return fmt.Errorf("set email of %s: %w", userID, err)
		}
		return s.DeleteAccountTokens(ctx, userID)
	})
}

// updateUser sets columns of one user; ErrNotFound when there is none.
func (s *Store) updateUser(ctx context.Context, userID string, cols map[string]any) error {
	cols["updated_at"] = utc(s.now())
	res := s.conn(ctx).Model(&User{}).Where("id = ?", userID).Updates(cols)
	if res.Error != nil {
		return s.translate(res.Error, ErrNotFound)
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// personTokenTables are the tables of what fosite issued for a person:
// codes, access and refresh tokens, and the PKCE and OpenID Connect state
// of their codes.
var personTokenTables = []string{tableCodes, tableAccess, tableRefresh, tablePKCE, tableOIDC}

// RevokeUserTokens deletes every authorization code (with its PKCE and
// OpenID Connect state), access token and refresh token issued for a
// person, whatever the client: after a password reset no app keeps a
// session the old password opened.
func (s *Store) RevokeUserTokens(ctx context.Context, userID string) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, table := range personTokenTables {
			_, err := s.pool(ctx).ExecContext(ctx, s.q("DELETE FROM "+table+" WHERE subject = ?"), userID)
			if err != nil {
				return fmt.Errorf("revoke tokens of %s in %s: %w", userID, table, s.translate(err, ErrNotFound))
			}
		}
		return nil
	})
}

// orgTokenTables are the request tables that record the organization a
// grant acts in (the PKCE and OpenID Connect state of a code is useless
// once the code is gone).
var orgTokenTables = []string{tableCodes, tableAccess, tableRefresh}

// RevokeUserOrgTokens deletes the codes, access tokens and refresh tokens
// a person holds for grants acting in one organization, whatever the
// client: a member removed from it keeps no app's access there, and keeps
// every other. Rows from before the organization was recorded (org_id
// empty) are revoked too, since they cannot be told apart.
func (s *Store) RevokeUserOrgTokens(ctx context.Context, userID, orgID string) error {
	if userID == "" || orgID == "" {
		return errors.New("revoke tokens in an organization: a person and an organization are required")
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		for _, table := range orgTokenTables {
			_, err := s.pool(ctx).ExecContext(ctx, s.q("DELETE FROM "+table+" WHERE subject = ? AND (org_id = ? OR org_id = '')"), userID, orgID)
			if err != nil {
				return fmt.Errorf("revoke tokens of %s in %s: %w", userID, table, s.translate(err, ErrNotFound))
			}
		}
		return nil
	})
}
