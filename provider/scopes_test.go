package provider_test

import (
	"testing"

	"github.com/ajrly/ajrly-auth/provider"
)

func TestScopeSatisfies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		granted []string
		needed  string
		want    bool
	}{
		{"an exact match satisfies", []string{"projects:read"}, "projects:read", true},
		{"read covers projects:read", []string{"read"}, "projects:read", true},
		{"read covers billing:read", []string{"read"}, "billing:read", true},
		{"write covers projects:write", []string{"write"}, "projects:write", true},
		{"read does not cover projects:write", []string{"read"}, "projects:write", false},
		{"write does not cover projects:read", []string{"write"}, "projects:read", false},
		{"read does not cover team:manage", []string{"read", "write"}, "team:manage", false},
		{"projects:read does not cover read", []string{"projects:read"}, "read", false},
		{"projects:read does not cover billing:read", []string{"projects:read"}, "billing:read", false},
		{"a bare :read is not covered by read", []string{"read"}, ":read", false},
		{"nothing granted satisfies nothing", nil, "read", false},
		{"openid needs openid", []string{"read", "write"}, "openid", false},
		{"a prefix is not a match", []string{"projects:rea"}, "projects:read", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := provider.ScopeSatisfies(tc.granted, tc.needed); got != tc.want {
				t.Fatalf("ScopeSatisfies(%v, %q) = %v, want %v", tc.granted, tc.needed, got, tc.want)
			}
		})
	}
}

func TestEveryScopeHasPlainWords(t *testing.T) {
	t.Parallel()
	for _, s := range provider.Scopes {
		if s.Description == "" || s.Description == s.Name {
			t.Errorf("scope %q has no plain-words description", s.Name)
		}
	}
	if d := provider.DescribeScope("custom:thing"); d.Description == "" {
		t.Error("an unknown scope gets no description")
	}
}
