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
