package storage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Roles a member can have in an organization, from most to least power.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Organization is a team people work in; its id is the org claim.
type Organization struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	NameKey   string // the name folded for uniqueness
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is the organizations table.
func (Organization) TableName() string { return "organizations" }

// Membership is a user's place and role in an organization.
type Membership struct {
	OrgID     string `gorm:"primaryKey"`
	UserID    string `gorm:"primaryKey"`
	Role      string
	CreatedAt time.Time
}

// TableName is the memberships table.
func (Membership) TableName() string { return "memberships" }

// MemberOrg is an organization seen from one member.
type MemberOrg struct {
	Organization
	Role string
}

// ErrOrgNameTaken is returned when an organization's name is in use.
var ErrOrgNameTaken = fmt.Errorf("organization name is taken: %w", ErrConflict)

// isBidiControl reports whether r is a Unicode bidirectional formatting
// character (Unicode Standard Annex #9): embeddings and overrides U+202A–U+202E,
// isolates U+2066–U+2069, and the marks U+200E, U+200F and U+061C. In a
// name shown to other people they reorder what is displayed, so that
// one name reads as another.
func isBidiControl(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069' ||
		r == '\u200e' || r == '\u200f' || r == '\u061c'
}

// StripBidiControls returns s without bidirectional formatting
// characters, for names others see: organizations and client_name.
func StripBidiControls(s string) string {
	if !strings.ContainsFunc(s, isBidiControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if isBidiControl(r) {
			return -1
		}
		return r
	}, s)
}

// cleanOrgName is the name as stored: no bidirectional controls, spacing
// collapsed.
func cleanOrgName(name string) string {
	return strings.Join(strings.Fields(StripBidiControls(name)), " ")
}

// orgNameKey folds a name so that "Acme" and " acme " are the same name,
// and so is "Ac\u202eme".
func orgNameKey(name string) string {
	return strings.ToLower(cleanOrgName(name))
}

// ValidateOrgName checks an organization's name, as it is stored (without
// bidirectional controls).
func ValidateOrgName(name string) error {
	name = cleanOrgName(name)
	switch {
	case name == "":
		return errors.New("the organization name is empty")
	case len([]rune(name)) > 80:
		return errors.New("the organization name is longer than 80 characters")
	}
	return nil
}

// CreateOrganization creates an organization with owner as its owner. A
// name already taken (ignoring case and spacing) is ErrConflict.
func (s *Store) CreateOrganization(ctx context.Context, name, ownerID string) (*Organization, error) {
	if err := ValidateOrgName(name); err != nil {
		return nil, fmt.Errorf("create organization: %w", err)
	}
	org := &Organization{ID: NewID("org"), Name: cleanOrgName(name), NameKey: orgNameKey(name)}
	err := s.InTx(ctx, func(ctx context.Context) error {
		if err := s.conn(ctx).Create(org).Error; err != nil {
			return s.translate(err, ErrNotFound)
		}
		return s.conn(ctx).Create(&Membership{OrgID: org.ID, UserID: ownerID, Role: RoleOwner}).Error
	})
	if err = s.translate(err, ErrNotFound); errors.Is(err, ErrConflict) {
		return nil, fmt.Errorf("create organization %q: %w", name, ErrOrgNameTaken)
	} else if err != nil {
		return nil, fmt.Errorf("create organization %q: %w", name, err)
	}
	return org, nil
}

// OrganizationByID returns an organization or ErrNotFound.
func (s *Store) OrganizationByID(ctx context.Context, id string) (*Organization, error) {
	var o Organization
	if err := s.conn(ctx).Where("id = ?", id).Take(&o).Error; err != nil {
		return nil, fmt.Errorf("find organization %s: %w", id, s.translate(err, ErrNotFound))
	}
	return &o, nil
}

// OrganizationByName finds an organization by name, ignoring case and
// spacing, or returns ErrNotFound.
func (s *Store) OrganizationByName(ctx context.Context, name string) (*Organization, error) {
	var o Organization
	if err := s.conn(ctx).Where("name_key = ?", orgNameKey(name)).Take(&o).Error; err != nil {
		return nil, fmt.Errorf("find organization %q: %w", name, s.translate(err, ErrNotFound))
	}
	return &o, nil
}

// AddMember adds a user to an organization with a role; a user already in
// it is ErrConflict.
func (s *Store) AddMember(ctx context.Context, orgID, userID, role string) error {
	if role != RoleOwner && role != RoleAdmin && role != RoleMember {
		return fmt.Errorf("add member: unknown role %q", role)
	}
	if err := s.conn(ctx).Create(&Membership{OrgID: orgID, UserID: userID, Role: role}).Error; err != nil {
		return fmt.Errorf("add member to %s: %w", orgID, s.translate(err, ErrNotFound))
	}
	return nil
}

// UserOrganizations lists the organizations a user belongs to, oldest
// membership first.
func (s *Store) UserOrganizations(ctx context.Context, userID string) ([]MemberOrg, error) {
	var out []MemberOrg
	err := s.conn(ctx).Table("memberships m").
		Select("o.id, o.name, o.name_key, o.created_at, o.updated_at, m.role").
		Joins("JOIN organizations o ON o.id = m.org_id").
		Where("m.user_id = ?", userID).
		Order("m.created_at, o.id").
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list organizations of %s: %w", userID, s.translate(err, ErrNotFound))
	}
	return out, nil
}

// MembershipOf returns a user's membership of an organization, or ErrNotFound.
func (s *Store) MembershipOf(ctx context.Context, orgID, userID string) (*Membership, error) {
	var m Membership
	if err := s.conn(ctx).Where("org_id = ? AND user_id = ?", orgID, userID).Take(&m).Error; err != nil {
		return nil, fmt.Errorf("find membership: %w", s.translate(err, ErrNotFound))
	}
	return &m, nil
}

// OrgSummary is an organization with its member count, for listings.
type OrgSummary struct {
	Organization
	Members int
}

// ListOrganizations returns every organization with its member count.
func (s *Store) ListOrganizations(ctx context.Context) ([]OrgSummary, error) {
	var out []OrgSummary
	err := s.conn(ctx).Table("organizations o").
		Select("o.id, o.name, o.name_key, o.created_at, o.updated_at, COUNT(m.user_id) AS members").
		Joins("LEFT JOIN memberships m ON m.org_id = o.id").
		Group("o.id, o.name, o.name_key, o.created_at, o.updated_at").
		Order("o.created_at, o.id").
		Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("list organizations: %w", s.translate(err, ErrNotFound))
	}
	return out, nil
}

// FreePersonalOrgName finds a name for the personal organization of a
// person called name with email that no organization has (the first free
// one of PersonalOrgNames). It is checked before the insert, because a
// failed insert aborts a PostgreSQL transaction; the unique index settles
// a race.
func (s *Store) FreePersonalOrgName(ctx context.Context, name, email string) (string, error) {
	for _, candidate := range PersonalOrgNames(name, email) {
		_, err := s.OrganizationByName(ctx, candidate)
		if errors.Is(err, ErrNotFound) {
			return candidate, nil
		} else if err != nil {
			return "", err
		}
	}
	return "", fmt.Errorf("no free name for the personal organization of %s: %w", NormalizeEmail(email), ErrOrgNameTaken)
}

// PersonalOrgNames are the names to try, in order, for the personal
// organization of a person called name with email: "Ada's organization",
// then with the email, then numbered. Each fits the 80-character limit.
func PersonalOrgNames(name, email string) []string {
	who := strings.TrimSpace(name)
	if who == "" {
		who, _, _ = strings.Cut(NormalizeEmail(email), "@")
	}
	who = clipRunes(who, 50)
	base := who + "'s organization"
	out := []string{base, clipRunes(base+" ("+NormalizeEmail(email)+")", 80)}
	for i := 2; i <= 9; i++ {
		out = append(out, fmt.Sprintf("%s %d", base, i))
	}
	return out
}

func clipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
