package apikeys_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/storage"
)

var wellFormedAPIKey = regexp.MustCompile(`^sk_live_[0-9A-Za-z]{43}$`)

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// FuzzAPIKeyFormat: CheckAPIKeyFormat accepts exactly sk_live_ and 43
// base62 characters and refuses everything else with ErrMalformedAPIKey;
// a well-formed key built from any input, and one NewAPIKey makes, is
// accepted.
func FuzzAPIKeyFormat(f *testing.F) {
	_, issued, err := apikeys.New(apikeys.Spec{OrgID: "org_fuzz", UserID: "usr_fuzz",
		Role: storage.RoleOwner, Name: "fuzz", Scopes: []string{"read"}}, time.Now())
	if err != nil {
		f.Fatal(err)
	}
	if err := apikeys.CheckFormat(issued); err != nil {
		f.Fatalf("a key NewAPIKey made is refused: %v", err)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := apikeys.CheckFormat(key)
		if want := wellFormedAPIKey.MatchString(key); (err == nil) != want {
			t.Fatalf("CheckAPIKeyFormat(%q) = %v, want accepted: %t", key, err, want)
		}
		if err != nil && !errors.Is(err, apikeys.ErrMalformed) {
			t.Fatalf("CheckAPIKeyFormat(%q) = %v, want %v", key, err, apikeys.ErrMalformed)
		}
		// The same input spelled in base62 is a well-formed key.
		random := make([]byte, 43)
		for i := range random {
			if i < len(key) {
				random[i] = base62[int(key[i])%len(base62)]
			} else {
				random[i] = base62[i%len(base62)]
			}
		}
		if formed := storage.APIKeyPrefix + string(random); apikeys.CheckFormat(formed) != nil {
			t.Fatalf("the well-formed key %q is refused", formed)
		}
	})
}
