// Package settings is the signed-in person's dashboards under /settings
// and the account page: connected apps, the organization's API keys and
// its OAuth apps (the developer dashboard). The rules are the domain
// packages' (tenancy, apikeys, clients); here they meet forms.
package settings
