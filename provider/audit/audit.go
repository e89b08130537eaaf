// Package audit is the rulebook of the audit log: the kinds of event, who
// an actor is, and how an event is recorded. Every surface (pages, CLI,
// admin API) records through it, in the transaction of the action where
// the action is a database write, so that no action happens unrecorded.
package audit

import (
	"context"

	"github.com/ajrly/ajrly-auth/storage"
)

// The kinds of event. Their names are stable: operators filter and alert
// on them (`ajrly-auth audit list --json`).
const (
	SignIn            = "signin.succeeded"
	SignInFailed      = "signin.failed"
	SignInThrottled   = "signin.throttled"
	SignOut           = "signout"
	PasswordChanged   = "password.changed"
	EmailChanged      = "email.changed"
	KeyCreated        = "api_key.created"
	KeyRotated        = "api_key.rotated"
	KeyRevoked        = "api_key.revoked"
	AppRegistered     = "app.registered"
	AppChanged        = "app.changed"
	AppDeleted        = "app.deleted"
	AppSecretRotated  = "app.secret_rotated" //nolint:gosec // G101: an event kind's name, not a credential
	ConsentGranted    = "consent.granted"
	ConsentRevoked    = "consent.revoked"
	MemberInvited     = "member.invited"
	InvitationRevoked = "member.invitation_revoked"
	MemberJoined      = "member.joined"
	MemberRemoved     = "member.removed"
	MemberLeft        = "member.left"
	RoleChanged       = "member.role_changed"
	OrgCreated        = "org.created"
	OrgRenamed        = "org.renamed"
	OrgDeleted        = "org.deleted"
	SigningKeyRotated = "signing_key.rotated"
)

// Kind is a kind of event with the words pages show for it.
type Kind struct {
	Name        string
	Description string
}

// Kinds lists every kind, in the order the audit page's filter shows them.
var Kinds = []Kind{
	{SignIn, "Signed in"},
	{SignInFailed, "Sign-in failed"},
	{SignInThrottled, "Sign-in throttled"},
	{SignOut, "Signed out"},
	{PasswordChanged, "Password changed"},
	{EmailChanged, "Email changed"},
	{KeyCreated, "API key created"},
	{KeyRotated, "API key rotated"},
	{KeyRevoked, "API key revoked"},
	{AppRegistered, "App registered"},
	{AppChanged, "App changed"},
	{AppDeleted, "App deleted"},
	{AppSecretRotated, "App secret rotated"},
	{ConsentGranted, "Access granted to an app"},
	{ConsentRevoked, "Access revoked from an app"},
	{MemberInvited, "Member invited"},
	{InvitationRevoked, "Invitation revoked"},
	{MemberJoined, "Member joined"},
	{MemberRemoved, "Member removed"},
	{MemberLeft, "Member left"},
	{RoleChanged, "Role changed"},
	{OrgCreated, "Organization created"},
	{OrgRenamed, "Organization renamed"},
	{OrgDeleted, "Organization deleted"},
	{SigningKeyRotated, "Signing key rotated"},
}

// Known reports whether name is a kind of event.
func Known(name string) bool {
	for _, k := range Kinds {
		if k.Name == name {
			return true
		}
	}
	return false
}

// Describe returns the words for a kind (its name when unknown).
func Describe(name string) string {
	for _, k := range Kinds {
		if k.Name == name {
			return k.Description
		}
	}
	return name
}

// Actor is who acts and from where: a signed-in person at a browser, or
// the operator at the command line.
type Actor struct {
	UserID    string // "" for the operator
	Email     string // how the actor is shown in the log
	Operator  bool   // the command line or the admin API: no permission checks apply
	IP        string
	UserAgent string
}

// OperatorActor is the operator at the command line.
func OperatorActor() Actor { return Actor{Operator: true, Email: "operator"} }

// Event is what happened, beside who did it.
type Event struct {
	Kind     string
	OrgID    string
	TargetID string
	Target   string // how the target is shown: an email, a key's hint, an app's name; never a secret
	Detail   string
}

// Appender is where events go: the store, or its transaction through ctx.
type Appender interface {
	AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error
}

// originKey holds, in a request's context, where the request came from.
type originKey struct{}

type origin struct{ ip, userAgent string }

// WithOrigin returns ctx carrying the client address and User-Agent of the
// request it belongs to (the web kit sets them on every request), which
// Person and Record give the events recorded in it.
func WithOrigin(ctx context.Context, ip, userAgent string) context.Context {
	return context.WithValue(ctx, originKey{}, origin{ip: ip, userAgent: userAgent})
}

// Origin returns the client address and User-Agent ctx carries, if any.
func Origin(ctx context.Context) (ip, userAgent string) {
	o, _ := ctx.Value(originKey{}).(origin)
	return o.ip, o.userAgent
}

// Person is u acting in the request of ctx; nil for nobody known.
func Person(ctx context.Context, u *storage.User) Actor {
	a := Actor{}
	a.IP, a.UserAgent = Origin(ctx)
	if u != nil {
		a.UserID, a.Email = u.ID, u.Email
	}
	return a
}

// Record appends e, done by a, to the log. Call it with the context of
// the action's transaction so that both are written or neither. An actor
// without an address takes the one of the request ctx belongs to.
func Record(ctx context.Context, to Appender, a Actor, e Event) error {
	if a.IP == "" && a.UserAgent == "" && !a.Operator {
		a.IP, a.UserAgent = Origin(ctx)
	}
	actor := a.Email
	if actor == "" && a.Operator {
		actor = "operator"
	}
	return to.AppendAuditEvent(ctx, &storage.AuditEvent{
		Kind: e.Kind, OrgID: e.OrgID, ActorID: a.UserID, Actor: actor,
		TargetID: e.TargetID, Target: e.Target, Detail: e.Detail,
		IP: a.IP, UserAgent: a.UserAgent,
	})
}
