package settings

import (
	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
)

// Options are what the settings pages need.
type Options struct {
	Kit      *web.Kit
	Provider *provider.Provider
	Store    *storage.Store
	// RevealKey seals a new secret on its way to the page that shows it
	// once (32 bytes, derived from the cookie key).
	RevealKey []byte
	// Usage, when set, is flushed before the API-key page reads usage.
	Usage *storage.UsageCounter
	// RegistrationMode is how /register admits clients: the developer
	// page offers initial access tokens only in token mode.
	RegistrationMode string
	// Accounts runs the account flows (profile, password, email).
	Accounts *accounts.Accounts
	// Teams runs the rules of organizations (the team and organization
	// pages).
	Teams *teams.Teams
}

// Mount registers the settings surface on r, which the CSRF middleware
// guards: the account page, profile and security, connected apps, API
// keys, the developer dashboard, the team and organization pages and the audit log.
func Mount(r *mux.Router, o Options) {
	s := &site{kit: o.Kit}
	home := &Home{site: s, store: o.Store}
	if o.Accounts != nil {
		home.mailEnabled = o.Accounts.MailEnabled
	}
	home.Mount(r)
	(&Profile{site: s, accounts: o.Accounts}).Mount(r)
	(&Security{site: s, accounts: o.Accounts, store: o.Store}).Mount(r)
	(&Apps{site: s, store: o.Store}).Mount(r)
	(&APIKeys{site: s, store: o.Store, now: o.Provider.Now, usage: o.Usage, revealKey: o.RevealKey}).Mount(r)
	(&Developer{site: s, store: o.Store, now: o.Provider.Now, revealKey: o.RevealKey, mode: o.RegistrationMode}).Mount(r)
	(&Team{site: s, store: o.Store, teams: o.Teams}).Mount(r)
	(&Organization{site: s, store: o.Store, teams: o.Teams, home: home}).Mount(r)
	(&Audit{site: s, store: o.Store}).Mount(r)
}
