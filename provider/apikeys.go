package provider

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// apiKeySecretLength is how many base62 characters follow sk_live_: 43
// of them carry 256 bits.
const apiKeySecretLength = 43

// APIKeySpec is what a person asks for when creating a key.
type APIKeySpec struct {
	OrgID, UserID string
	Role          string // the creator's role in the organization
	Name          string
	Scopes        []string
	ExpiresAt     *time.Time
}

// NewAPIKey validates a spec and returns the key to store and its secret,
// sk_live_ and 43 base62 characters, which is shown once and never stored.
func NewAPIKey(spec APIKeySpec, now time.Time) (*storage.APIKey, string, error) {
	var problems []error
	name := strings.TrimSpace(spec.Name)
	switch {
	case name == "":
		problems = append(problems, errors.New("name: give the key a name that says what it is for"))
	case len([]rune(name)) > 80:
		problems = append(problems, errors.New("name: at most 80 characters"))
	}
	scopes := dedupe(spec.Scopes)
	allowed := tenancy.Grantable(spec.Role)
	if len(scopes) == 0 {
		problems = append(problems, errors.New("scope: choose at least one permission"))
	}
	for _, s := range scopes {
		if !slices.Contains(allowed, s) {
			problems = append(problems, fmt.Errorf("scope: %q is not a permission %s can grant (allowed: %s)", s, tenancy.RoleWithArticle(spec.Role), strings.Join(allowed, " ")))
		}
	}
	if spec.ExpiresAt != nil && !spec.ExpiresAt.After(now) {
		problems = append(problems, errors.New("expires: the expiry must be in the future"))
	}
	if len(problems) > 0 {
		return nil, "", errors.Join(problems...)
	}
	random := storage.RandomBase62(apiKeySecretLength)
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

// ErrMalformedAPIKey is a presented key that cannot be one of ours.
var ErrMalformedAPIKey = errors.New("malformed api key")

// CheckAPIKeyFormat tells a well-formed key from garbage without a lookup.
func CheckAPIKeyFormat(secret string) error {
	random, ok := strings.CutPrefix(secret, storage.APIKeyPrefix)
	if !ok || len(random) != apiKeySecretLength {
		return ErrMalformedAPIKey
	}
	for _, r := range random {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return ErrMalformedAPIKey
		}
	}
	return nil
}
