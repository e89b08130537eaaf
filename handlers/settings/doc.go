// Package settings is the signed-in person's dashboards under /settings
// and the account page: connected apps, the organization's API keys, its
// OAuth apps (the developer dashboard), its team (members, invitations,
// roles) and its own settings (name, deleting it). The rules are the
// domain packages' (tenancy, apikeys, clients, teams); here they meet
// forms.
package settings
