package provider

import "github.com/ajrly/ajrly-auth/provider/tenancy"

// ScopeNames returns the names of every known scope; the scope table and
// its rules live in package tenancy.
func ScopeNames() []string { return tenancy.Names() }
