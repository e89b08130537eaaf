package settings

import (
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
)

// Home serves the signed-in person's account page: whether their address
// is verified (with a new link a click away when it is not), their
// organizations and creating another one, and signing out of every
// device.
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
	// Notice says what just happened (leaving or deleting an organization).
	Notice string
	// NewOrg is the create form's name as typed, NewOrgError what is wrong
	// with it.
	NewOrg, NewOrgError string
}

// homeNotices are the page's words after a change elsewhere sent the
// browser here.
var homeNotices = map[string]string{
	"left":    "You left the organization: your sessions, keys and app access there are revoked.",
	"deleted": "The organization is deleted: its keys, apps and grants are revoked.",
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
	q := r.URL.Query()
	a.render(w, r, http.StatusOK, user, func(p *homePage) {
		for k, notice := range homeNotices {
			if q.Get(k) == "1" {
				p.Notice = notice
			}
		}
	})
}

// render shows the account page of user with status; fill adds what the
// request has to say (a notice, the create form as typed).
func (a *Home) render(w http.ResponseWriter, r *http.Request, status int, user *storage.User, fill func(*homePage)) {
	orgs, err := a.store.UserOrganizations(r.Context(), user.ID)
	if err != nil {
		a.kit.ServerErrorPage(w, r, "load organizations", err)
		return
	}
	page := homePage{BasePage: a.kit.Page(w, r, "Your account", user), Orgs: orgs,
		MailEnabled: a.mailEnabled != nil && a.mailEnabled()}
	for _, o := range orgs {
		page.CanAudit = page.CanAudit || teams.Can(o.Role, teams.ActViewAudit, "")
	}
	if fill != nil {
		fill(&page)
	}
	a.kit.Render(w, r, status, "home", page)
}
