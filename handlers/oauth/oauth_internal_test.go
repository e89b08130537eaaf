package oauth

import (
	"testing"
	"time"
)

func TestExpiresInReportsTheConfiguredLifetime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		ttl, left time.Duration
		want      time.Duration
	}{
		{"expiry rounded down half a second", time.Hour, time.Hour - 500*time.Millisecond - 20*time.Millisecond, time.Hour},
		{"expiry rounded up half a second", time.Hour, time.Hour + 480*time.Millisecond, time.Hour},
		{"a token that lives less than configured", time.Hour, 10*time.Minute + 300*time.Millisecond, 10 * time.Minute},
	}
	for _, tc := range tests {
		if got := expiresIn(tc.ttl, tc.left); got != tc.want {
			t.Errorf("%s: expiresIn(%v, %v) = %v, want %v", tc.name, tc.ttl, tc.left, got, tc.want)
		}
	}
}
