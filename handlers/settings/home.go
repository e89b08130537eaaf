package settings

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/storage"
)

// Home serves the signed-in person's account page: whether their address
// is verified (with a new link a click away when it is not), their
// organizations, and signing out of every device.
type Home struct {
	*site
	store orgLister
	// mailEnabled tells whether the server can send a new link.
	mailEnabled func() bool
}

type homePage struct {
	web.BasePage
	Orgs []storage.MemberOrg
	// MailEnabled: offer to resend the verification link (a form posting
	// to the sign-in surface's /email/verify/resend).
	MailEnabled bool
	// CanAudit: link the audit log, which the person may read in at least
	// one of their organizations.
	CanAudit bool
}

// Mount registers /.
func (a *Home) Mount(r *mux.Router) {
	r.HandleFunc("/", a.home).Methods(http.MethodGet, http.MethodHead)
}

func (a *Home) home(w http.ResponseWriter, r *http.Request) {
	_, user, ok := a.kit.RequireUser(w, r, "/")
	if !ok {
		return
	}
	orgs, err := a.store.UserOrganizations(r.Context(), user.ID)
	if err != nil {
		a.kit.ServerErrorPage(w, r, "load organizations", err)
		return
	}
	p := homePage{BasePage: a.kit.Page(w, r, "Your account", user), Orgs: orgs,
		MailEnabled: a.mailEnabled != nil && a.mailEnabled()}
	for _, o := range orgs {
		p.CanAudit = p.CanAudit || audit.CanRead(o.Role)
	}
	a.kit.Render(w, r, http.StatusOK, "home", p)
}
