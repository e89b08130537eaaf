package storage

import "testing"

func TestOrganizationNamesLoseBidirectionalControls(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, stored, key string
		valid                 bool
	}{
		{"a plain name is kept", "Acme", "Acme", "acme", true},
		{"an override is stripped", "Ac\u202eme", "Acme", "acme", true},
		{"every bidirectional control is stripped", "\u202a\u202b\u202c\u202d\u202eA\u2066\u2067\u2068\u2069B\u200e\u200f\u061c", "AB", "ab", true},
		{"spacing still folds", "  Evil \u2066 Corp ", "Evil Corp", "evil corp", true},
		{"a name of controls only is empty", "\u202e\u2069", "", "", false},
		{"other characters stay", "Ünïcode 日本", "Ünïcode 日本", "ünïcode 日本", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := cleanOrgName(tc.in); got != tc.stored {
				t.Errorf("stored name %q, want %q", got, tc.stored)
			}
			if got := orgNameKey(tc.in); got != tc.key {
				t.Errorf("name key %q, want %q", got, tc.key)
			}
			if err := ValidateOrgName(tc.in); (err == nil) != tc.valid {
				t.Errorf("ValidateOrgName = %v, want valid %v", err, tc.valid)
			}
		})
	}
}
