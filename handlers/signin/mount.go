package signin

import (
	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
)

// Options are what the sign-in pages need.
type Options struct {
	Kit      *web.Kit
	Provider *provider.Provider
	Store    *storage.Store
	// CookieKey signs the device cookies of known browsers.
	CookieKey []byte
	// DemoClientID, when set, serves /demo/callback, the demo client's
	// redirect URI (serve --demo).
	DemoClientID string
	// DemoOutbox, when set, serves /demo/outbox with the mail it lists
	// (demo mode without an SMTP server).
	DemoOutbox func() []mail.Sent
	// Accounts runs the account flows (sign-up, verification, recovery).
	Accounts *accounts.Accounts
	// Teams runs the rules of organizations: accepting an invitation.
	Teams *teams.Teams
	// RequireVerifiedEmail: nobody consents to an app, or gets a token
	// through the browser, before verifying their address
	// (accounts.require_verified_email).
	RequireVerifiedEmail bool
}

// Mount registers the sign-in surface: on protocol the pages other sites
// send people to by GET or POST — /authorize and /logout, which take no
// CSRF token (logout checks its own form's) — and on forms, which the CSRF
// middleware guards, sign-in, sign-up, password recovery, consent, the
// links that verify an address or accept an invitation, and the demo
// callback.
func Mount(protocol, forms *mux.Router, o Options) {
	s := &site{kit: o.Kit, cookieKey: o.CookieKey, requireVerified: o.RequireVerifiedEmail, mailEnabled: o.Accounts.MailEnabled, events: o.Store}
	(&Authorize{site: s, provider: o.Provider, store: o.Store}).Mount(protocol)
	(&Logout{site: s, provider: o.Provider, store: o.Store}).Mount(protocol)
	people := o.Accounts
	login := &Login{site: s, store: o.Store, accounts: people}
	login.Mount(forms)
	(&Signup{site: s, login: login, store: o.Store, accounts: people}).Mount(forms)
	(&Recovery{site: s, store: o.Store, accounts: people}).Mount(forms)
	(&Consent{site: s, provider: o.Provider, store: o.Store}).Mount(forms)
	(&Verify{site: s, accounts: people}).Mount(forms)
	(&Invitations{site: s, store: o.Store, teams: o.Teams}).Mount(forms)
	if o.DemoClientID != "" {
		(&Demo{site: s, clientID: o.DemoClientID}).Mount(forms)
	}
	if o.DemoOutbox != nil {
		(&Outbox{site: s, messages: o.DemoOutbox}).Mount(forms)
	}
}
