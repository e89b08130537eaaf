package storagetest

import (
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// Open returns an empty, migrated store whose clock is now.
type Open func(t testing.TB, now func() time.Time) *storage.Store

type testCase struct {
	name string
	run  func(t *testing.T, s *storage.Store, clock *Clock)
}

// Run runs every conformance case against stores made by open.
func Run(t *testing.T, open Open) {
	for _, cases := range suites {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				clock := NewClock()
				c.run(t, open(t, clock.Now), clock)
			})
		}
	}
}

// suites are the sub-suites, one per domain; each file suite_<domain>.go
// holds its table of cases and the cases themselves.
var suites = [][]testCase{
	migrationCases,
	clientCases,
	registrationCases,
	userCases,
	tokenCases,
	sessionCases,
	throttleCases,
	apiKeyCases,
	keyCases,
	janitorCases,
	accountCases,
	deleteUserCases,
	teamCases,
	auditCases,
}
