package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// apiKeysStore is what the API keys page needs from storage.
type apiKeysStore interface {
	UserOrganizations(ctx context.Context, userID string) ([]storage.MemberOrg, error)
	SetSessionOrg(ctx context.Context, token, orgID string) error
	ListAPIKeys(ctx context.Context, orgID, userID string) ([]storage.APIKeyView, error)
	APIKeyByID(ctx context.Context, id string) (*storage.APIKey, error)
	CreateAPIKey(ctx context.Context, k *storage.APIKey) error
	RotateAPIKey(ctx context.Context, oldID string, replacement *storage.APIKey, grace time.Duration) error
	RevokeAPIKey(ctx context.Context, id string) error
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error
	APIKeyUsage(ctx context.Context, keyIDs []string, since time.Time) (map[string]map[string]int64, error)
}

// APIKeys serves /settings/api-keys: the sk_live_ keys of the organization
// the person works in, with their permissions and usage, and creating,
// rotating and revoking them. A new key's secret is shown once, in the
// answer to the form that made it, and never again.
//
// Owners and admins see and manage every key of the organization; members
// only the keys they created. Any other key is "not found".
type APIKeys struct {
	*site
	store apiKeysStore
	now   func() time.Time
	// usage, when set, is flushed before the page reads usage, so that it
	// shows the requests of the last moments too.
	usage *storage.UsageCounter
	// revealKey seals a new key on its way to being shown once.
	revealKey []byte
}

const apiKeysPath = "/settings/api-keys" //nolint:gosec // G101: a path, not a credential

// Mount registers /settings/api-keys and its forms.
func (a *APIKeys) Mount(r *mux.Router) {
	r.HandleFunc(apiKeysPath, a.list).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(apiKeysPath, a.create).Methods(http.MethodPost)
	r.HandleFunc(apiKeysPath+"/org", a.switchOrg).Methods(http.MethodPost)
	r.HandleFunc(apiKeysPath+"/{id}/rotate", a.rotate).Methods(http.MethodPost)
	r.HandleFunc(apiKeysPath+"/{id}/revoke", a.confirmRevoke).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(apiKeysPath+"/{id}/revoke", a.revoke).Methods(http.MethodPost)
}

// usageDays is how far back the usage chart looks.
const usageDays = 30

// expiryChoices are the lifetimes a new key may have; "never" is none.
var expiryChoices = []choice{
	{"never", "Never", 0},
	{"7d", "In 7 days", 7 * 24 * time.Hour},
	{"30d", "In 30 days", 30 * 24 * time.Hour},
	{"90d", "In 90 days", 90 * 24 * time.Hour},
	{"1y", "In 1 year", 365 * 24 * time.Hour},
}

// graceChoices are how long a rotated key keeps working.
var graceChoices = []choice{
	{"none", "Stop the old key now", 0},
	{"1h", "Keep the old key for 1 hour", time.Hour},
	{"24h", "Keep the old key for 24 hours", 24 * time.Hour},
	{"7d", "Keep the old key for 7 days", 7 * 24 * time.Hour},
}

// choice is one option of a select.
type choice struct {
	Value, Label string
	d            time.Duration
}

func pick(choices []choice, value string) (choice, bool) {
	for _, c := range choices {
		if c.Value == value {
			return c, true
		}
	}
	return choice{}, false
}

// apiKeysPage is the list of keys, the create form and, right after a key
// was made, its secret; or, with Revoke set, the confirmation to revoke one.
type apiKeysPage struct {
	web.BasePage
	// Org is where the person works; nil when they belong to none.
	Org *storage.MemberOrg
	// Orgs are all their organizations: a switcher when there are several.
	Orgs      []storage.MemberOrg
	ManageAll bool
	Keys      []keyRow
	Notice    string
	NewKey    *oneTimeKey
	Form      keyForm
	Expiries  []option
	Graces    []option
	Revoke    *keyRow
}

// OrgSwitchPath is where the organization switcher posts.
func (apiKeysPage) OrgSwitchPath() string { return apiKeysPath + "/org" }

// oneTimeKey is a key just created or rotated, with its secret.
type oneTimeKey struct {
	Name, Hint, Secret string
	// OldKey says what became of the key this one replaced, after a rotation.
	OldKey string
}

// keyForm is the create form as typed, with what is wrong with it.
type keyForm struct {
	Name    string
	Scopes  []scopeChoice
	Expires string
	Errors  map[string][]string
}

type scopeChoice struct {
	tenancy.Scope
	Checked bool
}

type option struct {
	Value, Label string
	Selected     bool
}

// keyRow is one key as the list shows it.
type keyRow struct {
	ID, Name, Hint string
	Scopes         []tenancy.Scope
	Created        string
	CreatedBy      string // a name, or "you"
	CreatorEmail   string
	LastUsed       string // "never" when unused
	State          string // active, expiring, expired, revoked or replaced: a CSS class
	StateLabel     string
	Expiry         string
	Usage          usageChart
	CanRotate      bool
	CanRevoke      bool
}

// mayManage reports whether the person may see and change k.
func (ws *workspace) mayManage(k *storage.APIKey) bool {
	return ws.org != nil && k.OrgID == ws.org.ID && (tenancy.CanManageAllKeys(ws.org.Role) || k.UserID == ws.user.ID)
}

// workspace returns the signed-in person and their organization (see
// router.workspace).
func (a *APIKeys) workspace(w http.ResponseWriter, r *http.Request, returnTo string) (*workspace, bool) {
	return a.site.workspace(w, r, a.store, returnTo)
}

// page builds the list page of ws: its keys with their usage, the create
// form (empty) and the choices of each select.
func (a *APIKeys) page(w http.ResponseWriter, r *http.Request, ws *workspace) (apiKeysPage, error) {
	ctx := r.Context()
	p := apiKeysPage{BasePage: a.kit.Page(w, r, "API keys", ws.user), Org: ws.org, Orgs: ws.orgs}
	if ws.org == nil {
		return p, nil
	}
	p.ManageAll = tenancy.CanManageAllKeys(ws.org.Role)
	p.Form = newKeyForm(ws.org.Role, nil, "never")
	p.Expiries = options(expiryChoices, p.Form.Expires)
	p.Graces = options(graceChoices, "1h")

	if a.usage != nil {
		// Uses are written every few seconds; write this instance's now,
		// so that usage and last-used times are current. A failed flush
		// keeps its counts for the next one.
		if err := a.usage.Flush(ctx); err != nil {
			a.kit.Log.WarnContext(ctx, "flush api key usage", "err", err)
		}
	}
	owner := ws.user.ID
	if p.ManageAll {
		owner = ""
	}
	keys, err := a.store.ListAPIKeys(ctx, ws.org.ID, owner)
	if err != nil {
		return p, err
	}
	now := a.now()
	days := usageWindow(now)
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = k.ID
	}
	usage, err := a.store.APIKeyUsage(ctx, ids, days[0])
	if err != nil {
		return p, err
	}
	for _, k := range keys {
		row := newKeyRow(&k.APIKey, now)
		row.CreatedBy, row.CreatorEmail = creatorName(k, ws.user), k.CreatorEmail
		row.Usage = newUsageChart(days, usage[k.ID])
		p.Keys = append(p.Keys, row)
	}
	return p, nil
}

func creatorName(k storage.APIKeyView, me *storage.User) string {
	switch {
	case k.UserID == me.ID:
		return "you"
	case k.CreatorName != "":
		return k.CreatorName
	}
	return k.CreatorEmail
}

func newKeyForm(role string, checked []string, expires string) keyForm {
	f := keyForm{Expires: expires}
	for _, s := range tenancy.Grantable(role) {
		f.Scopes = append(f.Scopes, scopeChoice{Scope: tenancy.Describe(s), Checked: slices.Contains(checked, s)})
	}
	return f
}

func options(choices []choice, selected string) []option {
	out := make([]option, len(choices))
	for i, c := range choices {
		out[i] = option{Value: c.Value, Label: c.Label, Selected: c.Value == selected}
	}
	return out
}

// Date formats of the page; every time is shown in UTC.
const (
	dateFormat = "2 Jan 2006"
	timeFormat = "2 Jan 2006 15:04 UTC"
)

// newKeyRow describes k at now, without its creator's name and usage.
func newKeyRow(k *storage.APIKey, now time.Time) keyRow {
	row := keyRow{ID: k.ID, Name: k.Name, Hint: k.Hint(), Created: k.CreatedAt.UTC().Format(dateFormat), LastUsed: "never", Expiry: "never"}
	for _, s := range k.ScopeList() {
		row.Scopes = append(row.Scopes, tenancy.Describe(s))
	}
	if k.LastUsedAt != nil {
		row.LastUsed = k.LastUsedAt.UTC().Format(timeFormat)
	}
	if k.ExpiresAt != nil {
		row.Expiry = k.ExpiresAt.UTC().Format(dateFormat)
	}
	switch k.State(now) {
	case storage.KeyRevoked:
		row.State, row.StateLabel = "revoked", "Revoked"
		row.Expiry = "revoked " + k.RevokedAt.UTC().Format(dateFormat)
	case storage.KeyExpired:
		row.State, row.StateLabel = "expired", "Expired"
	default:
		row.CanRevoke = true
		switch {
		case k.ReplacedBy != "":
			// Rotated with a grace period: it works until its new expiry.
			row.State, row.StateLabel = "replaced", "Replaced"
			if k.ExpiresAt != nil {
				row.Expiry = "works until " + k.ExpiresAt.UTC().Format(timeFormat)
			}
		case k.ExpiresAt != nil:
			row.State, row.StateLabel, row.CanRotate = "expiring", "Expires "+row.Expiry, true
		default:
			row.State, row.StateLabel, row.CanRotate = "active", "Active", true
		}
	}
	return row
}

// usageWindow returns the starts of the last usageDays days (UTC), oldest
// first, today last.
func usageWindow(now time.Time) []time.Time {
	y, m, d := now.UTC().Date()
	today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	days := make([]time.Time, usageDays)
	for i := range days {
		days[i] = today.AddDate(0, 0, i-usageDays+1)
	}
	return days
}

// usageChart is a key's requests per day as a small bar chart, drawn as
// inline SVG on the server.
type usageChart struct {
	Total         string // "1,234"
	Label         string // the chart in words, for screen readers
	Width, Height int
	AxisY         int
	Bars          []usageBar
}

type usageBar struct {
	X, Y, Width, Height int
	Title               string
}

// The chart's geometry, in SVG user units.
const (
	chartBarWidth = 4
	chartStep     = 5 // bar and gap
	chartHeight   = 32
	chartWidth    = usageDays * chartStep
)

// newUsageChart draws counts (by storage.UsageDay) over days. Each bar's
// height is relative to the busiest day; a day with any request is at
// least one unit high, so that it shows.
func newUsageChart(days []time.Time, counts map[string]int64) usageChart {
	var total, busiest int64
	for _, d := range days {
		n := counts[storage.UsageDay(d)]
		total += n
		busiest = max(busiest, n)
	}
	c := usageChart{Total: thousands(total), Width: chartWidth, Height: chartHeight, AxisY: chartHeight - 1}
	c.Label = c.Total + " requests in the last " + strconv.Itoa(usageDays) + " days"
	if total == 1 {
		c.Label = "1 request in the last " + strconv.Itoa(usageDays) + " days"
	}
	for i, d := range days {
		n := counts[storage.UsageDay(d)]
		if n == 0 {
			continue
		}
		h := max(1, int((n*(chartHeight-2)+busiest-1)/busiest))
		c.Bars = append(c.Bars, usageBar{
			X: i * chartStep, Y: chartHeight - 1 - h, Width: chartBarWidth, Height: h,
			Title: d.Format("2 Jan") + ": " + thousands(n) + plural(n, " request", " requests"),
		})
	}
	return c
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// thousands formats n with thousands separators: 1234567 → 1,234,567.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func (a *APIKeys) render(w http.ResponseWriter, r *http.Request, status int, p apiKeysPage) {
	a.kit.Render(w, r, status, "apikeys", p)
}

func (a *APIKeys) list(w http.ResponseWriter, r *http.Request) {
	ws, ok := a.workspace(w, r, apiKeysPath)
	if !ok {
		return
	}
	p, err := a.page(w, r, ws)
	if err != nil {
		a.kit.ServerErrorPage(w, r, "list api keys", err)
		return
	}
	switch {
	case r.URL.Query().Get("revoked") == "1":
		p.Notice = "The key was revoked: requests made with it, and the tokens exchanged for it, no longer work."
	case r.URL.Query().Get("switched") == "1" && p.Org != nil:
		p.Notice = "You are now working in " + p.Org.Name + "."
	}
	p.NewKey = a.revealed(w, r, ws)
	a.render(w, r, http.StatusOK, p)
}

// create makes a key and answers with the list and, once, its secret.
func (a *APIKeys) create(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	ctx := r.Context()
	ws, ok := a.workspace(w, r, apiKeysPath)
	if !ok {
		return
	}
	if ws.org == nil {
		a.noOrganization(w, r)
		return
	}
	if !a.kit.RequireRecentSignIn(w, r, ws.session, apiKeysPath) {
		return
	}
	var scopes []string
	for _, v := range r.PostForm["scope"] {
		scopes = append(scopes, strings.Fields(v)...)
	}
	name, expires := r.PostForm.Get("name"), r.PostForm.Get("expires")
	if expires == "" {
		expires = "never"
	}
	problems := map[string][]string{}
	status := http.StatusBadRequest
	if org := r.PostForm.Get("org"); org != "" && org != ws.org.ID {
		// The person switched organization in another window since this
		// form was shown: do not make the key where they did not expect.
		problems["form"] = []string{"You switched to " + ws.org.Name + " in another window. Check the form and create the key again."}
		status = http.StatusConflict
	}
	now := a.now()
	spec := apikeys.Spec{OrgID: ws.org.ID, UserID: ws.user.ID, Role: ws.org.Role, Name: name, Scopes: scopes}
	if c, ok := pick(expiryChoices, expires); !ok {
		problems["expires"] = append(problems["expires"], "Choose one of the expiries offered.")
	} else if c.d > 0 {
		at := now.Add(c.d).UTC().Truncate(time.Second)
		spec.ExpiresAt = &at
	}
	key, secret, err := apikeys.New(spec, now)
	var bad fields.Errors
	switch {
	case errors.As(err, &bad):
		for _, e := range bad {
			problems[e.Field] = append(problems[e.Field], e.Sentence())
		}
	case err != nil:
		a.kit.ServerErrorPage(w, r, "create api key", err)
		return
	}
	if len(problems) > 0 {
		p, err := a.page(w, r, ws)
		if err != nil {
			a.kit.ServerErrorPage(w, r, "list api keys", err)
			return
		}
		p.Form = newKeyForm(ws.org.Role, scopes, expires)
		p.Form.Name, p.Form.Errors = name, problems
		p.Expiries = options(expiryChoices, expires)
		a.render(w, r, status, p)
		return
	}
	if err := apikeys.Save(ctx, a.store, audit.Person(ctx, ws.user), key); err != nil {
		a.kit.ServerErrorPage(w, r, "create api key", err)
		return
	}
	a.kit.Log.InfoContext(ctx, "api key created", "user_id", ws.user.ID, "org_id", ws.org.ID, "key_id", key.ID, "scopes", key.Scopes)
	a.showOnce(w, r, ws, oneTimeKey{Name: key.Name, Hint: key.Hint(), Secret: secret})
}

// revealCookie carries a key just made to the page that shows it once.
const revealCookie = "ajrly_reveal"

// revealer shows new keys once, after the redirect that answers the form.
func (a *APIKeys) revealer() revealer {
	return revealer{site: a.site, key: a.revealKey, now: a.now, cookie: revealCookie}
}

// showOnce sends the browser to the list, which shows k once (see revealer).
func (a *APIKeys) showOnce(w http.ResponseWriter, r *http.Request, ws *workspace, k oneTimeKey) {
	a.revealer().showOnce(w, r, ws.user.ID, apiKeysPath, k)
}

// revealed returns the key a create or rotate just made, once.
func (a *APIKeys) revealed(w http.ResponseWriter, r *http.Request, ws *workspace) *oneTimeKey {
	var k oneTimeKey
	if !a.revealer().take(w, r, ws.user.ID, &k) {
		return nil
	}
	return &k
}

// noOrganization answers a form post of a person in no organization.
func (a *APIKeys) noOrganization(w http.ResponseWriter, r *http.Request) {
	a.kit.RenderError(w, r, http.StatusForbidden, "You are not in an organization",
		"API keys belong to an organization. Ask an owner to add you to theirs.", "")
}

// switchOrg changes the organization the session works in.
func (a *APIKeys) switchOrg(w http.ResponseWriter, r *http.Request) {
	a.site.switchOrg(w, r, a.store, apiKeysPath)
}

// findKey returns the key the path names if the person may manage it; any
// other key, whether it exists or not, is "not found".
func (a *APIKeys) findKey(w http.ResponseWriter, r *http.Request, ws *workspace) (*storage.APIKey, bool) {
	k, err := a.store.APIKeyByID(r.Context(), mux.Vars(r)["id"])
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		a.kit.ServerErrorPage(w, r, "find api key", err)
		return nil, false
	}
	if err != nil || !ws.mayManage(k) {
		a.kit.RenderError(w, r, http.StatusNotFound, "Key not found",
			"There is no such API key in your organization, or you may not manage it.", "")
		return nil, false
	}
	return k, true
}

// keyForm reads a form posted about the key the path names: its CSRF
// token, the workspace, and the key, which the person must be able to
// manage. On failure it has answered.
func (a *APIKeys) keyForm(w http.ResponseWriter, r *http.Request) (*workspace, *storage.APIKey, bool) {
	if !a.parseForm(w, r) {
		return nil, nil, false
	}
	ws, ok := a.workspace(w, r, apiKeysPath)
	if !ok {
		return nil, nil, false
	}
	k, ok := a.findKey(w, r, ws)
	return ws, k, ok
}

// rotate replaces a key by a new one with the same name, permissions and
// expiry, made by the person rotating, and keeps the old one working for
// the chosen grace period.
func (a *APIKeys) rotate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, old, ok := a.keyForm(w, r)
	if !ok || !a.kit.RequireRecentSignIn(w, r, ws.session, apiKeysPath) {
		return
	}
	grace, ok := pick(graceChoices, r.PostForm.Get("grace"))
	if !ok {
		a.kit.RenderError(w, r, http.StatusBadRequest, "Choose a grace period", "Go back and choose how long the old key keeps working.", "")
		return
	}
	now := a.now()
	key, secret, err := apikeys.Rotate(old, ws.user.ID, ws.org.Role, now)
	var refused *apikeys.UngrantableError
	switch {
	case errors.Is(err, apikeys.ErrNotRotatable):
		a.cannotRotate(w, r)
		return
	case errors.As(err, &refused):
		// Rotating would hand the key's permissions over to someone whose
		// role cannot grant them (an admin rotating an owner's billing key).
		a.kit.Log.InfoContext(ctx, "api key rotation refused", "user_id", ws.user.ID, "key_id", old.ID, "err", err)
		a.kit.RenderError(w, r, http.StatusForbidden, "You cannot rotate this key",
			"It has permissions your role cannot grant: "+strings.Join(refused.Scopes, ", ")+
				". Ask an organization owner to rotate it, or revoke it and create a new key.", "")
		return
	case err != nil:
		a.kit.ServerErrorPage(w, r, "rotate api key", err)
		return
	}
	err = apikeys.SaveRotation(ctx, a.store, audit.Person(ctx, ws.user), old, key, grace.d)
	if errors.Is(err, storage.ErrConflict) {
		a.cannotRotate(w, r)
		return
	} else if err != nil {
		a.kit.ServerErrorPage(w, r, "rotate api key", err)
		return
	}
	a.kit.Log.InfoContext(ctx, "api key rotated", "user_id", ws.user.ID, "org_id", ws.org.ID,
		"old_key_id", old.ID, "key_id", key.ID, "grace", grace.d)
	shown := oneTimeKey{Name: key.Name, Hint: key.Hint(), Secret: secret, OldKey: "The old key " + old.Hint() + " stopped working."}
	if grace.d > 0 {
		until := now.Add(grace.d)
		if old.ExpiresAt != nil && old.ExpiresAt.Before(until) {
			until = *old.ExpiresAt
		}
		shown.OldKey = "The old key " + old.Hint() + " keeps working until " + until.UTC().Format(timeFormat) + "."
	}
	a.showOnce(w, r, ws, shown)
}

func (a *APIKeys) cannotRotate(w http.ResponseWriter, r *http.Request) {
	a.kit.RenderError(w, r, http.StatusConflict, "This key cannot be rotated",
		"Only an active key that was not replaced yet can be rotated. Reload the list to see its state.", "")
}

// confirmRevoke asks before revoking a key.
func (a *APIKeys) confirmRevoke(w http.ResponseWriter, r *http.Request) {
	ws, ok := a.workspace(w, r, apiKeysPath+"/"+url.PathEscape(mux.Vars(r)["id"])+"/revoke")
	if !ok {
		return
	}
	k, ok := a.findKey(w, r, ws)
	if !ok {
		return
	}
	row := newKeyRow(k, a.now())
	if row.State == "revoked" {
		a.alreadyRevoked(w, r)
		return
	}
	a.render(w, r, http.StatusOK, apiKeysPage{BasePage: a.kit.Page(w, r, "Revoke API key", ws.user), Org: ws.org, Revoke: &row})
}

func (a *APIKeys) alreadyRevoked(w http.ResponseWriter, r *http.Request) {
	a.kit.RenderError(w, r, http.StatusConflict, "Already revoked", "This key was revoked already: it no longer works.", "")
}

// revoke revokes a key at once.
func (a *APIKeys) revoke(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	ws, k, ok := a.keyForm(w, r)
	if !ok {
		return
	}
	_, err := apikeys.Revoke(ctx, a.store, audit.Person(ctx, ws.user), k.ID)
	if errors.Is(err, storage.ErrNotFound) {
		a.alreadyRevoked(w, r)
		return
	} else if err != nil {
		a.kit.ServerErrorPage(w, r, "revoke api key", err)
		return
	}
	a.kit.Log.InfoContext(ctx, "api key revoked", "user_id", ws.user.ID, "org_id", k.OrgID, "key_id", k.ID)
	http.Redirect(w, r, a.kit.Base+apiKeysPath+"?revoked=1", http.StatusSeeOther)
}

// String keeps a one-time key's secret out of logs and %v.
func (k *oneTimeKey) String() string { return fmt.Sprintf("api key %s", k.Hint) }
