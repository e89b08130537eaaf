package oauth

import (
	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
)

// Options are what the protocol endpoints need.
type Options struct {
	Kit      *web.Kit
	Provider *provider.Provider
	Store    *storage.Store
	// RegistrationMode is how /register admits clients.
	RegistrationMode string
}

// Mount registers the protocol endpoints on r: discovery and the JWKS,
// /token, /introspect, /revoke, /userinfo and dynamic registration.
func Mount(r *mux.Router, o Options) error {
	discovery, err := newDiscovery(o.Kit, o.Provider, o.RegistrationMode != clients.RegistrationOff)
	if err != nil {
		return err
	}
	discovery.Mount(r)
	(&OAuth{kit: o.Kit, provider: o.Provider, store: o.Store}).Mount(r)
	(&Registration{kit: o.Kit, provider: o.Provider, store: o.Store, mode: o.RegistrationMode}).Mount(r)
	return nil
}
