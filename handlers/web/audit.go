package web

import (
	"net/http"

	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// Actor is who acts in r, for the audit log: the person u (nil: nobody
// known yet), from the client address taken through the trusted proxies
// and with the browser's User-Agent.
func Actor(r *http.Request, u *storage.User) audit.Actor {
	a := audit.Actor{IP: ClientIP(r.Context()), UserAgent: r.UserAgent()}
	if u != nil {
		a.UserID, a.Email = u.ID, u.Email
	}
	return a
}
