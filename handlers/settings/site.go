package settings

import "github.com/ajrly/ajrly-auth/handlers/web"

// site is what the settings pages share beyond the web kit: the person's
// workspace (the organization they work in) and switching it.
type site struct {
	kit *web.Kit
}
