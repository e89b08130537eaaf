package provider

import (
	"strings"
)

// Scope is a permission a client may ask for, with the words the consent
// page shows for it.
type Scope struct {
	Name        string
	Description string
	OpenID      bool // an OpenID Connect scope rather than an API permission
}

// Scopes lists every scope Ajrly Auth knows, in the order pages show them.
var Scopes = []Scope{
	{Name: "openid", Description: "Confirm who you are (sign you in)", OpenID: true},
	{Name: "profile", Description: "See your name", OpenID: true},
	{Name: "email", Description: "See your email address", OpenID: true},
	{Name: "offline_access", Description: "Stay connected when you are not using it (refresh tokens)", OpenID: true},
	{Name: "read", Description: "Read all your resources"},
	{Name: "write", Description: "Create, change and delete all your resources"},
	{Name: "projects:read", Description: "Read your projects"},
	{Name: "projects:write", Description: "Create, change and delete your projects"},
	{Name: "team:manage", Description: "Manage your team's members and roles"},
	{Name: "billing:read", Description: "Read your billing information and invoices"},
}

// ScopeNames returns the names of every known scope.
func ScopeNames() []string {
	out := make([]string, len(Scopes))
	for i, s := range Scopes {
		out[i] = s.Name
	}
	return out
}

// DescribeScope returns a scope's plain-words description; unknown scopes
// are described by their name.
func DescribeScope(name string) Scope {
	for _, s := range Scopes {
		if s.Name == name {
			return s
		}
	}
	return Scope{Name: name, Description: "Use the permission “" + name + "”"}
}

// ScopeSatisfies reports whether holding the scopes in granted satisfies a
// need for scope needed. It is fosite's scope strategy: exact match, plus the
// hierarchy of DESIGN.md — "read" covers every "*:read" scope and "write"
// every "*:write" scope.
func ScopeSatisfies(granted []string, needed string) bool {
	resource, action, hasAction := strings.Cut(needed, ":")
	for _, g := range granted {
		if g == needed {
			return true
		}
		if hasAction && resource != "" && (action == "read" || action == "write") && g == action {
			return true
		}
	}
	return false
}
