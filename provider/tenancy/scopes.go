package tenancy

import (
	"slices"
	"strings"

	"github.com/ajrly/ajrly-auth/storage"
)

// Scope is a permission a client may ask for, with the words the consent
// page shows for it.
type Scope struct {
	Name        string
	Description string
	OpenID      bool // an OpenID Connect scope rather than an API permission
}

// Scopes lists every scope Ajrly Auth knows, in the order pages show them.
// A scope that is not here is never granted.
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

// Umbrella scopes: read covers the known *:read scopes, write the known
// *:write scopes — but only those the holder's role may hold.
const (
	ScopeRead  = "read"
	ScopeWrite = "write"
)

// holders is the table of DESIGN.md: which roles may hold each API scope.
// OpenID scopes are about the person, not the organization: any role.
var holders = map[string][]string{
	"read":           {storage.RoleOwner, storage.RoleAdmin, storage.RoleMember},
	"write":          {storage.RoleOwner, storage.RoleAdmin, storage.RoleMember},
	"projects:read":  {storage.RoleOwner, storage.RoleAdmin, storage.RoleMember},
	"projects:write": {storage.RoleOwner, storage.RoleAdmin, storage.RoleMember},
	"team:manage":    {storage.RoleOwner, storage.RoleAdmin},
	"billing:read":   {storage.RoleOwner},
}

var byName = func() map[string]Scope {
	m := make(map[string]Scope, len(Scopes))
	for _, s := range Scopes {
		m[s.Name] = s
	}
	return m
}()

// Known reports whether name is in the scope table.
func Known(name string) bool {
	_, ok := byName[name]
	return ok
}

// Names returns the name of every known scope, in table order.
func Names() []string {
	out := make([]string, len(Scopes))
	for i, s := range Scopes {
		out[i] = s.Name
	}
	return out
}

// Describe returns a scope's plain-words description; an unknown scope is
// described by its name.
func Describe(name string) Scope {
	if s, ok := byName[name]; ok {
		return s
	}
	return Scope{Name: name, Description: "Use the permission “" + name + "”"}
}

// ValidRole reports whether role is one of the three roles.
func ValidRole(role string) bool {
	return role == storage.RoleOwner || role == storage.RoleAdmin || role == storage.RoleMember
}

// MayHold reports whether a person with role may hold scope: a known
// OpenID scope always, a known API scope when the table gives it to the
// role, anything else never.
func MayHold(role, scope string) bool {
	s, ok := byName[scope]
	if !ok || !ValidRole(role) {
		return false
	}
	return s.OpenID || slices.Contains(holders[scope], role)
}

// Grantable returns the API scopes a role may hold (and so give an API
// key), in table order.
func Grantable(role string) []string {
	var out []string
	for _, s := range Scopes {
		if !s.OpenID && MayHold(role, s.Name) {
			out = append(out, s.Name)
		}
	}
	return out
}

// umbrellaOf returns the umbrella scope that covers needed: read for a
// known *:read scope, write for a known *:write scope, "" otherwise.
func umbrellaOf(needed string) string {
	if !Known(needed) {
		return ""
	}
	_, action, ok := strings.Cut(needed, ":")
	if !ok {
		return ""
	}
	switch action {
	case "read":
		return ScopeRead
	case "write":
		return ScopeWrite
	}
	return ""
}

// Covers reports whether a holder with role who holds the scopes in held
// may have needed: needed must be a known scope the role may hold, and be
// in held or covered by the umbrella (read, write) held. This is the rule
// wherever a person's authority is spent: the API-key exchange, refresh.
func Covers(role string, held []string, needed string) bool {
	if !MayHold(role, needed) {
		return false
	}
	if slices.Contains(held, needed) {
		return true
	}
	u := umbrellaOf(needed)
	return u != "" && slices.Contains(held, u)
}

// Satisfies reports whether holding the scopes in held satisfies a need
// for scope needed when nobody's role is at hand: a client's registered
// scopes at /authorize and client credentials (fosite's scope strategy),
// and a resource server checking a token. A known scope in held satisfies
// itself; the umbrellas cover only the scopes every role may hold, so a
// token with read never stands in for billing:read or team:manage, which
// must be granted by name.
func Satisfies(held []string, needed string) bool {
	if !Known(needed) {
		return false
	}
	if slices.Contains(held, needed) {
		return true
	}
	u := umbrellaOf(needed)
	return u != "" && MayHold(storage.RoleMember, needed) && slices.Contains(held, u)
}

// Parse splits a space-separated scope parameter (RFC 6749 §3.3) into its
// names, each once, in order.
func Parse(raw string) []string {
	return dedupe(strings.Fields(raw))
}

func dedupe(in []string) []string {
	seen := make(map[string]struct{}, len(in))
	out := make([]string, 0, len(in))
	for _, s := range in {
		if _, ok := seen[s]; ok || s == "" {
			continue
		}
		seen[s] = struct{}{}
		out = append(out, s)
	}
	return out
}

// Withheld is a requested scope left out of a grant, and why, in words a
// consent page can show.
type Withheld struct {
	Scope
	Reason string
}

// Grant splits the scopes asked of a person with role into those the
// grant carries and those it leaves out (RFC 6749 §3.3: the token
// response's scope then says what was granted): unknown scopes and scopes
// beyond the role are withheld.
func Grant(role string, requested []string) (granted []string, withheld []Withheld) {
	for _, s := range dedupe(requested) {
		switch {
		case MayHold(role, s):
			granted = append(granted, s)
		case !Known(s):
			withheld = append(withheld, Withheld{Scope: Describe(s), Reason: "Ajrly does not know this permission."})
		default:
			withheld = append(withheld, Withheld{Scope: Describe(s), Reason: holdersSentence(s) + " " + roleSentence(role)})
		}
	}
	return granted, withheld
}

// holdersSentence says who may give a scope.
func holdersSentence(scope string) string {
	switch roles := holders[scope]; len(roles) {
	case 1:
		return "Only an organization's " + roles[0] + "s can give this permission."
	case 2:
		return "Only an organization's " + roles[0] + "s and " + roles[1] + "s can give this permission."
	}
	return "Your role cannot give this permission."
}

func roleSentence(role string) string {
	switch role {
	case storage.RoleOwner, storage.RoleAdmin:
		return "You are an " + role + "."
	case storage.RoleMember:
		return "You are a member."
	}
	return "You are not a member."
}

// Narrow keeps of granted only the scopes a holder with role may still
// hold, in order: what a refresh or an API key may carry after the role
// was lowered.
func Narrow(role string, granted []string) []string {
	out := make([]string, 0, len(granted))
	for _, s := range granted {
		if MayHold(role, s) {
			out = append(out, s)
		}
	}
	return out
}

// RoleWithArticle is a role as the object of a sentence: "an owner".
func RoleWithArticle(role string) string {
	switch role {
	case storage.RoleOwner, storage.RoleAdmin:
		return "an " + role
	case storage.RoleMember:
		return "a member"
	}
	return "someone outside the organization"
}

// CanManageAllKeys reports whether a role sees, rotates and revokes every
// API key of its organization; other members manage only their own.
func CanManageAllKeys(role string) bool {
	return role == storage.RoleOwner || role == storage.RoleAdmin
}
