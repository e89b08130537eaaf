package signin

import (
	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/storage"
)

// site is what the sign-in pages share beyond the web kit: the
// authorization endpoint's answers (to the app, or on an error page), the
// end of a sign-in, and known browsers.
type site struct {
	kit *web.Kit
	// cookieKey signs device cookies.
	cookieKey []byte
	// requireVerified: no consent and no code for a person whose address
	// is not verified (accounts.require_verified_email).
	requireVerified bool
	// mailEnabled tells whether this server sends mail (for the page that
	// offers a new verification link).
	mailEnabled func() bool
	// events is where sign-ins and sign-outs are recorded.
	events eventLog
}

// mustVerify reports whether the person may not consent or be issued a
// code before verifying their address.
func (s *site) mustVerify(u *storage.User) bool {
	return s.requireVerified && u != nil && !u.EmailVerified
}
