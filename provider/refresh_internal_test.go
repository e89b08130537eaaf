package provider

import (
	"encoding/json"
	"testing"
	"time"
)

// A grant ends refresh_grant_max_age after it began. Sessions stored before
// they recorded GrantedAt fall back to the authorization's time, then to the
// sign-in's, as the ID token claims recorded them.
func TestGrantEndFallsBackForSessionsStoredWithoutGrantedAt(t *testing.T) {
	t.Parallel()
	const maxAge = 90 * 24 * time.Hour
	granted := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	requested := granted.Add(-time.Minute)
	signedIn := granted.Add(-time.Hour)
	tests := []struct {
		name    string
		session string // as stored
		end     time.Time
		limited bool
	}{
		{"the grant's own time comes first", `{"granted_at":"2026-12-01T09:00:00Z","id_token_claims":{"rat":"2026-12-01T08:59:00Z","auth_time":"2026-12-01T08:00:00Z"}}`, granted.Add(maxAge), true},
		{"without it, the authorization request's time", `{"id_token_claims":{"rat":"2026-12-01T08:59:00Z","auth_time":"2026-12-01T08:00:00Z"}}`, requested.Add(maxAge), true},
		{"without either, the sign-in's time", `{"id_token_claims":{"rat":"0001-01-01T00:00:00Z","auth_time":"2026-12-01T08:00:00Z"}}`, signedIn.Add(maxAge), true},
		{"a session that records no time has no end", `{"id_token_claims":{"rat":"0001-01-01T00:00:00Z","auth_time":"0001-01-01T00:00:00Z"}}`, time.Time{}, false},
	}
	g := grantRules{maxAge: maxAge}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sess := NewSession()
			if err := json.Unmarshal([]byte(tc.session), sess); err != nil {
				t.Fatal(err)
			}
			end, limited := g.grantEnd(sess)
			if !end.Equal(tc.end) || limited != tc.limited {
				t.Errorf("grant end = %v, %v; want %v, %v", end, limited, tc.end, tc.limited)
			}
		})
	}
}
