package signin

import "github.com/ajrly/ajrly-auth/handlers/web"

// site is what the sign-in pages share beyond the web kit: the
// authorization endpoint's answers (to the app, or on an error page), the
// end of a sign-in, and known browsers.
type site struct {
	kit *web.Kit
	// cookieKey signs device cookies.
	cookieKey []byte
}
