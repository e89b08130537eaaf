package settings

import (
	"context"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
)

// auditStore is what the audit page needs from storage.
type auditStore interface {
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
	SetSessionOrg(ctx context.Context, token, orgID string) error
	ListAuditEvents(ctx context.Context, q storage.AuditQuery) ([]storage.AuditEvent, error)
	OrgMembers(ctx context.Context, orgID string) ([]storage.OrgMember, error)
}

// Audit serves /settings/audit: the audit log of the organization the
// person works in, newest first, filtered by kind and by person, a page
// of auditPageSize events at a time. Owners and admins read it; members
// are refused.
type Audit struct {
	*site
	store auditStore
}

const auditPath = "/settings/audit"

// auditPageSize is how many events a page shows.
const auditPageSize = 50

// Mount registers /settings/audit and its organization switcher.
func (a *Audit) Mount(r *mux.Router) {
	r.HandleFunc(auditPath, a.list).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(auditPath+"/org", func(w http.ResponseWriter, r *http.Request) { a.switchOrg(w, r, a.store, auditPath) }).
		Methods(http.MethodPost)
}

// auditPage is one page of an organization's events.
type auditPage struct {
	web.BasePage
	// Org is where the person works; nil when they belong to none.
	Org    *storage.MemberOrg
	Orgs   []storage.MemberOrg
	Notice string
	Kinds  []option
	People []option
	// Kind and Person are the filters in force ("" for any).
	Kind, Person string
	Events       []auditRow
	// Older is the link to the next, older page; "" on the last.
	Older string
	// Newest is the link back to the first page, on the later ones.
	Newest string
}

// OrgSwitchPath is where the organization switcher posts.
func (auditPage) OrgSwitchPath() string { return auditPath + "/org" }

// auditRow is one event as the page shows it.
type auditRow struct {
	ID                                  int64
	When, Kind, KindName, Actor, Target string
	Detail, IP, Device, UserAgent       string
}

func newAuditRow(e *storage.AuditEvent) auditRow {
	row := auditRow{ID: e.ID, When: dateTime(e.CreatedAt), Kind: audit.Describe(e.Kind), KindName: e.Kind,
		Actor: e.Actor, Target: e.Target, Detail: e.Detail, IP: e.IP, UserAgent: e.UserAgent}
	if e.UserAgent != "" {
		row.Device = describeUserAgent(e.UserAgent)
	}
	return row
}

func (a *Audit) list(w http.ResponseWriter, r *http.Request) {
	ws, ok := a.workspace(w, r, a.store, auditPath)
	if !ok {
		return
	}
	ctx := r.Context()
	p := auditPage{BasePage: a.kit.Page(w, r, "Audit log", ws.user), Org: ws.org, Orgs: ws.orgs}
	if r.URL.Query().Get("switched") == "1" && ws.org != nil {
		p.Notice = "You now work in " + ws.org.Name + "."
	}
	if ws.org == nil {
		a.kit.Render(w, r, http.StatusOK, "audit", p)
		return
	}
	if !teams.Can(ws.org.Role, teams.ActViewAudit, "") {
		a.kit.RenderError(w, r, http.StatusForbidden, "Only owners and admins see the audit log",
			"The audit log of "+ws.org.Name+" shows who did what in it. As a member you cannot see it: ask an owner or an admin of the organization.", "")
		return
	}

	q := r.URL.Query()
	p.Kind, p.Person = q.Get("kind"), q.Get("person")
	if p.Kind != "" && !audit.Known(p.Kind) {
		a.kit.RenderError(w, r, http.StatusBadRequest, "Unknown kind of event", "Choose a kind of event from the list on the audit page.", "")
		return
	}
	var before int64
	if s := q.Get("before"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n <= 0 {
			a.kit.RenderError(w, r, http.StatusBadRequest, "This page of the audit log does not exist", "Go back to the newest events and page from there.", "")
			return
		}
		before = n
	}
	people, err := a.store.OrgMembers(ctx, ws.org.ID)
	if err != nil {
		a.kit.ServerErrorPage(w, r, "list the organization's people", err)
		return
	}
	p.People = []option{{Value: "", Label: "Anyone", Selected: p.Person == ""}}
	member := p.Person == ""
	for _, person := range people {
		label := person.Email
		if person.Name != "" {
			label = person.Name + " (" + person.Email + ")"
		}
		p.People = append(p.People, option{Value: person.UserID, Label: label, Selected: person.UserID == p.Person})
		member = member || person.UserID == p.Person
	}
	if !member {
		a.kit.RenderError(w, r, http.StatusBadRequest, "Unknown person", "Choose a member of "+ws.org.Name+" from the list on the audit page.", "")
		return
	}
	p.Kinds = []option{{Value: "", Label: "Any kind", Selected: p.Kind == ""}}
	for _, k := range audit.Kinds {
		p.Kinds = append(p.Kinds, option{Value: k.Name, Label: k.Description, Selected: k.Name == p.Kind})
	}

	query := storage.AuditQuery{OrgID: ws.org.ID, ActorID: p.Person, Before: before, Limit: auditPageSize + 1}
	if p.Kind != "" {
		query.Kinds = []string{p.Kind}
	}
	events, err := a.store.ListAuditEvents(ctx, query)
	if err != nil {
		a.kit.ServerErrorPage(w, r, "list audit events", err)
		return
	}
	more := len(events) > auditPageSize
	if more {
		events = events[:auditPageSize]
	}
	for i := range events {
		p.Events = append(p.Events, newAuditRow(&events[i]))
	}
	filters := url.Values{}
	if p.Kind != "" {
		filters.Set("kind", p.Kind)
	}
	if p.Person != "" {
		filters.Set("person", p.Person)
	}
	if more {
		older := url.Values{}
		for k, v := range filters {
			older[k] = v
		}
		older.Set("before", strconv.FormatInt(events[len(events)-1].ID, 10))
		p.Older = auditPath + "?" + older.Encode()
	}
	if before > 0 {
		p.Newest = auditPath
		if len(filters) > 0 {
			p.Newest += "?" + filters.Encode()
		}
	}
	a.kit.Render(w, r, http.StatusOK, "audit", p)
}
