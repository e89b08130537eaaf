// Package apikeys holds the rules of sk_live_ API keys: what a key may be
// made with (a name, scopes the creator's role may grant, an expiry), what
// a well-formed key looks like, and how a key is rotated. The dashboard,
// the command line and the API-key grant all use it.
package apikeys

import (
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// secretLength is how many base62 characters follow sk_live_: 43 of them
// carry 256 bits.
const secretLength = 43

// MaxNameLength is the longest name a key may have, in characters.
const MaxNameLength = 80

// Spec is what a person asks for when creating a key.
type Spec struct {
	OrgID, UserID string
	Role          string // the creator's role in the organization
	Name          string
	Scopes        []string
	ExpiresAt     *time.Time
}

// New validates a spec and returns the key to store and its secret,
// sk_live_ and 43 base62 characters, which is shown once and never stored.
// Every problem is reported, as fields.Errors (name, scope, expires).
func New(spec Spec, now time.Time) (*storage.APIKey, string, error) {
	var bad fields.Errors
	name := strings.TrimSpace(spec.Name)
	switch {
	case name == "":
		bad.Add("name", "give the key a name that says what it is for")
	case len([]rune(name)) > MaxNameLength:
		bad.Add("name", "at most %d characters", MaxNameLength)
	}
	scopes := tenancy.Parse(strings.Join(spec.Scopes, " "))
	if len(scopes) == 0 {
		bad.Add("scope", "choose at least one permission")
	}
	if refused := Ungrantable(scopes, spec.Role); len(refused) > 0 {
		bad.Add("scope", "%q is not a permission %s can grant (allowed: %s)", refused[0], tenancy.RoleWithArticle(spec.Role),
			strings.Join(tenancy.Grantable(spec.Role), " "))
	}
	if spec.ExpiresAt != nil && !spec.ExpiresAt.After(now) {
		bad.Add("expires", "the expiry must be in the future")
	}
	if err := bad.Err(); err != nil {
		return nil, "", err
	}
	random := storage.RandomBase62(secretLength)
	secret := storage.APIKeyPrefix + random
	k := &storage.APIKey{
		ID:        storage.NewID("key"),
		OrgID:     spec.OrgID,
		UserID:    spec.UserID,
		Name:      name,
		Digest:    storage.DigestHex(secret),
		Prefix:    random[:4],
		Last4:     random[len(random)-4:],
		Scopes:    strings.Join(scopes, " "),
		CreatedAt: now.UTC(),
		ExpiresAt: spec.ExpiresAt,
	}
	return k, secret, nil
}

// Ungrantable returns the scopes of scopes that role may not give a key.
func Ungrantable(scopes []string, role string) []string {
	allowed := tenancy.Grantable(role)
	var out []string
	for _, s := range scopes {
		if !slices.Contains(allowed, s) {
			out = append(out, s)
		}
	}
	return out
}

// ErrNotRotatable is a key that is revoked, expired or already replaced.
var ErrNotRotatable = errors.New("only an active key that was not replaced can be rotated")

// UngrantableError is a rotation refused because the key holds scopes the
// person rotating cannot grant (an admin rotating an owner's billing key):
// rotating would hand them over.
type UngrantableError struct {
	Scopes []string
}

func (e *UngrantableError) Error() string {
	return "the key has permissions the role cannot grant: " + strings.Join(e.Scopes, ", ")
}

// Rotate returns the key that replaces old: the same organization, name,
// scopes and expiry, made by the person rotating (userID with role), who
// must be able to grant every scope of it.
func Rotate(old *storage.APIKey, userID, role string, now time.Time) (*storage.APIKey, string, error) {
	if old.State(now) != storage.KeyActive || old.ReplacedBy != "" {
		return nil, "", ErrNotRotatable
	}
	if refused := Ungrantable(old.ScopeList(), role); len(refused) > 0 {
		return nil, "", &UngrantableError{Scopes: refused}
	}
	return New(Spec{OrgID: old.OrgID, UserID: userID, Role: role, Name: old.Name, Scopes: old.ScopeList(), ExpiresAt: old.ExpiresAt}, now)
}

// ErrMalformed is a presented key that cannot be one of ours.
var ErrMalformed = errors.New("malformed api key")

// CheckFormat tells a well-formed key from garbage without a lookup.
func CheckFormat(secret string) error {
	random, ok := strings.CutPrefix(secret, storage.APIKeyPrefix)
	if !ok || len(random) != secretLength {
		return ErrMalformed
	}
	for _, r := range random {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return ErrMalformed
		}
	}
	return nil
}
