package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/config"
)

// refresh_grant_max_age (audit finding 13): how long a grant can be
// refreshed, 90 days unless set, never shorter than a refresh token lives.
func TestRefreshGrantMaxAge(t *testing.T) {
	t.Parallel()
	if got := config.Default().RefreshGrantMaxAge; got != 90*24*time.Hour {
		t.Errorf("default refresh_grant_max_age = %s, want 2160h", got)
	}
	tests := []struct {
		name string
		args []string
		env  env
		want time.Duration
		err  string
	}{
		{name: "from the environment", env: env{"AJRLY_REFRESH_GRANT_MAX_AGE": "720h"}, want: 720 * time.Hour},
		{name: "from a flag", args: []string{"--refresh-grant-max-age", "4320h"}, want: 4320 * time.Hour},
		{name: "shorter than refresh_token_ttl is an error", env: env{"AJRLY_REFRESH_GRANT_MAX_AGE": "24h"},
			err: "refresh_grant_max_age: must be from refresh_token_ttl (720h) to 8760h, got 24h"},
		{name: "equal to a shorter refresh_token_ttl is valid", env: env{"AJRLY_REFRESH_TOKEN_TTL": "24h", "AJRLY_REFRESH_GRANT_MAX_AGE": "24h"}, want: 24 * time.Hour},
		{name: "longer than a year is an error", env: env{"AJRLY_REFRESH_GRANT_MAX_AGE": "9000h"}, err: "refresh_grant_max_age: must be from"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := load(t, tc.args, tc.env)
			if err == nil {
				err = c.Validate()
			}
			switch {
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Fatalf("error %v, want one containing %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.err == "" && c.RefreshGrantMaxAge != tc.want:
				t.Errorf("refresh_grant_max_age = %s, want %s", c.RefreshGrantMaxAge, tc.want)
			}
		})
	}
}
