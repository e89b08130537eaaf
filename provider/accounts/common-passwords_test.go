package accounts

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// The list holds what people choose most, in any case, and nothing the
// length rule refuses anyway.
func TestCommonPasswords(t *testing.T) {
	t.Parallel()
	set := commonPasswords()
	if len(set) < 5000 {
		t.Errorf("%d common passwords, want several thousand", len(set))
	}
	for p := range set {
		if utf8.RuneCountInString(p) < MinPasswordLength || p != strings.ToLower(p) || strings.TrimSpace(p) != p {
			t.Errorf("%q on the list: every entry is lower case, trimmed and at least %d characters", p, MinPasswordLength)
		}
	}
	for _, tc := range []struct {
		password string
		common   bool
	}{
		{"password123", true},
		{"PASSWORD123", true},
		{" Password123 ", true},
		{"qwertyuiop", true},
		{"1q2w3e4r5t", true},
		{"1111111111", true},
		{"iloveyou123", true},
		{"sunshine2025", true},
		{"correct horse battery", false},
		{"7 tin cans", false},
		{"", false},
		{"# The most common passwords", false}, // the file's comment is no entry
	} {
		if got := isCommonPassword(tc.password); got != tc.common {
			t.Errorf("isCommonPassword(%q) = %v, want %v", tc.password, got, tc.common)
		}
	}
	if problem, bad := passwordProblem("Password123", "alice@example.com"); !bad || problem.Code != CodeCommon || problem.Field != "password" {
		t.Errorf("passwordProblem of a common password: %+v, %v; want the password's problem %s", problem, bad, CodeCommon)
	}
}

// BenchmarkIsCommonPassword measures one lookup on the set built once:
// a lower-casing and a map access, well under a microsecond, against the
// tens of milliseconds of the argon2id hash that follows.
func BenchmarkIsCommonPassword(b *testing.B) {
	commonPasswords() // built once, outside the measurement
	for _, p := range []string{"Password123", "correct horse battery staple"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				isCommonPassword(p)
			}
		})
	}
}
