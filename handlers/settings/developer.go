package settings

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/provider/fields"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// developerStore is what the developer dashboard needs from storage.
type developerStore interface {
	sessionOrgSetter
	ListOrgClients(ctx context.Context, orgID string) ([]storage.Client, error)
	FindClient(ctx context.Context, id string) (*storage.Client, error)
	CreateClient(ctx context.Context, c *storage.Client) error
	UpdateClient(ctx context.Context, c *storage.Client) error
	DeleteClient(ctx context.Context, id string) error
	CreateInitialAccessToken(ctx context.Context, t *storage.InitialAccessToken) error
	ListInitialAccessTokens(ctx context.Context, orgID string) ([]storage.InitialAccessToken, error)
	RevokeInitialAccessToken(ctx context.Context, orgID, id string) error
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error
}

// Developer serves /settings/developer: the OAuth apps (clients) of the
// organization the person works in. Everyone in the organization sees
// them; owners and admins register, edit, rotate the secret of and delete
// them, and make initial access tokens for /register. A new client secret
// or token is shown once, after the redirect that answers its form.
//
// Apps are validated exactly as dynamic registration validates them, by
// provider.ApplyRegistration. An app of another organization, whether it
// exists or not, is "not found".
type Developer struct {
	*site
	store developerStore
	// mode is how /register admits clients (clients.Registration*).
	mode string
	now  func() time.Time
	// revealKey seals a new secret on its way to being shown once.
	revealKey []byte
}

const developerPath = "/settings/developer"

// Mount registers /settings/developer and its forms.
func (d *Developer) Mount(r *mux.Router) {
	r.HandleFunc(developerPath, d.list).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(developerPath+"/org", d.switchOrg).Methods(http.MethodPost)
	r.HandleFunc(developerPath+"/apps", d.register).Methods(http.MethodPost)
	r.HandleFunc(developerPath+"/apps/{id}", d.edit).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(developerPath+"/apps/{id}", d.save).Methods(http.MethodPost)
	r.HandleFunc(developerPath+"/apps/{id}/rotate", d.rotate).Methods(http.MethodPost)
	r.HandleFunc(developerPath+"/apps/{id}/delete", d.confirmDelete).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(developerPath+"/apps/{id}/delete", d.delete).Methods(http.MethodPost)
	r.HandleFunc(developerPath+"/tokens", d.createToken).Methods(http.MethodPost)
	r.HandleFunc(developerPath+"/tokens/{id}/revoke", d.revokeToken).Methods(http.MethodPost)
}

// canManageApps reports whether a role registers, changes and deletes the
// organization's apps and its initial access tokens.
func canManageApps(role string) bool {
	return role == storage.RoleOwner || role == storage.RoleAdmin
}

// mayChange reports whether a person with role may change (edit, rotate
// the secret of, delete) the organization's app c. First-party apps skip
// the consent page for everyone on the server, a trust only the operator
// grants (the command line or the configuration; never this dashboard):
// an admin must not be able to repoint one or take its secret, so only
// owners change them.
func (d *Developer) mayChange(role string, c *storage.Client) bool {
	return canManageApps(role) && (!d.kit.FirstParty(c) || role == storage.RoleOwner)
}

// defaultAppScopes are ticked on an empty registration form.
var defaultAppScopes = []string{"openid", "profile", "email", "offline_access", "read"}

// appGrantTypes are what apps registered here may use: the authorization
// code flow, with refresh tokens when they ask for offline_access.
var appGrantTypes = []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken}

// App types of the registration form.
const (
	appConfidential = "confidential"
	appPublic       = "public"
)

// secretGraceChoices are how long a rotated client secret keeps working.
var secretGraceChoices = []choice{
	{"none", "Stop the old secret now", 0},
	{"1h", "Keep the old secret for 1 hour", time.Hour},
	{"24h", "Keep the old secret for 24 hours", 24 * time.Hour},
	{"7d", "Keep the old secret for 7 days", 7 * 24 * time.Hour},
}

// tokenExpiryChoices are the lifetimes of an initial access token.
var tokenExpiryChoices = []choice{
	{"never", "Never (until revoked)", 0},
	{"24h", "In 24 hours", 24 * time.Hour},
	{"7d", "In 7 days", 7 * 24 * time.Hour},
	{"30d", "In 30 days", 30 * 24 * time.Hour},
}

// developerPage is the list of apps with the registration form, the
// initial access tokens and, right after a form made one, a secret shown
// once; or, with Edit set, one app's edit form; or, with Delete set, the
// confirmation before deleting one.
type developerPage struct {
	web.BasePage
	// Org is where the person works; nil when they belong to none.
	Org *storage.MemberOrg
	// Orgs are all their organizations: a switcher when there are several.
	Orgs []storage.MemberOrg
	// CanManage: an owner or admin, who gets the forms.
	CanManage bool
	Apps      []appRow
	Notice    string
	Shown     *shownSecret
	Form      appForm
	Graces    []option
	// Tokens are the organization's initial access tokens (managers only).
	Tokens        []tokenRow
	TokenExpiries []option
	// RegistrationMode is how /register admits clients (open, token, off),
	// RegisterURL where it is.
	RegistrationMode string
	RegisterURL      string
	Edit             *appRow
	Delete           *appRow
}

// OrgSwitchPath is where the organization switcher posts.
func (developerPage) OrgSwitchPath() string { return developerPath + "/org" }

// appRow is one app as the list shows it.
type appRow struct {
	ID, Name, Initial                     string
	LogoURI, ClientURI, PolicyURI, TOSURI string
	Public, FirstParty                    bool
	// ByAPI: registered at /register with an initial access token.
	ByAPI                                bool
	AuthMethod                           string
	RedirectURIs, PostLogoutRedirectURIs []string
	Scopes                               []tenancy.Scope
	Created                              string
	// FormerSecrets say until when each former secret still works.
	FormerSecrets []string
	// CanChange: the person may edit, rotate and delete the app;
	// CanRotate: it has a secret to rotate.
	CanChange, CanRotate bool
}

// appForm is the registration or edit form as typed, with what is wrong
// with it, by field.
type appForm struct {
	Name                   string
	RedirectURIs           string // one per line
	PostLogoutRedirectURIs string // one per line
	LogoURI, ClientURI     string
	PolicyURI, TOSURI      string
	Type                   string // appConfidential or appPublic
	Scopes                 []scopeChoice
	Errors                 map[string][]string
}

// tokenRow is one initial access token as the list shows it.
type tokenRow struct {
	ID, Created, CreatedBy, Expires string
	State, StateLabel               string // active, expired or revoked: a CSS class
	CanRevoke                       bool
}

// shownSecret is what a form just made, sealed across the redirect to the
// list, which shows it once: an app's client id and secret (Kind "app"), a
// rotated secret ("secret") or an initial access token ("token").
type shownSecret struct {
	Kind     string `json:"kind"`
	Name     string `json:"name,omitempty"`
	ClientID string `json:"client_id,omitempty"`
	Secret   string `json:"secret,omitempty"`
	Token    string `json:"token,omitempty"`
	// Note says what became of the old secret, or until when a token works.
	Note string `json:"note,omitempty"`
}

// String keeps the secret out of logs and %v.
func (s *shownSecret) String() string { return fmt.Sprintf("%s of %s", s.Kind, s.ClientID) }

// developerRevealCookie carries a new secret to the page that shows it.
const developerRevealCookie = "ajrly_reveal_developer"

func (d *Developer) revealer() revealer {
	return revealer{site: d.site, key: d.revealKey, now: d.now, cookie: developerRevealCookie}
}

func (d *Developer) workspace(w http.ResponseWriter, r *http.Request, returnTo string) (*workspace, bool) {
	return d.site.workspace(w, r, d.store, returnTo)
}

func (d *Developer) render(w http.ResponseWriter, r *http.Request, status int, p developerPage) {
	d.kit.Render(w, r, status, "developer", p)
}

// page builds the list page of ws: its apps and, for those who manage
// them, an empty registration form and the initial access tokens.
func (d *Developer) page(w http.ResponseWriter, r *http.Request, ws *workspace) (developerPage, error) {
	ctx := r.Context()
	p := developerPage{
		BasePage: d.kit.Page(w, r, "Developer", ws.user), Org: ws.org, Orgs: ws.orgs,
		RegistrationMode: d.mode, RegisterURL: d.kit.URL("/register"),
	}
	if ws.org == nil {
		return p, nil
	}
	clients, err := d.store.ListOrgClients(ctx, ws.org.ID)
	if err != nil {
		return p, err
	}
	now := d.now()
	for i := range clients {
		p.Apps = append(p.Apps, d.appRow(&clients[i], ws, now))
	}
	p.CanManage = canManageApps(ws.org.Role)
	if !p.CanManage {
		return p, nil
	}
	p.Form = d.newAppForm(ws)
	p.Graces = options(secretGraceChoices, "1h")
	p.TokenExpiries = options(tokenExpiryChoices, "never")
	tokens, err := d.store.ListInitialAccessTokens(ctx, ws.org.ID)
	if err != nil {
		return p, err
	}
	for _, t := range tokens {
		p.Tokens = append(p.Tokens, newTokenRow(&t, ws.user, now))
	}
	return p, nil
}

// appRow describes c at now to the person of ws.
func (d *Developer) appRow(c *storage.Client, ws *workspace, now time.Time) appRow {
	row := newAppRow(c, now, d.kit.FirstParty(c))
	row.CanChange = ws.org != nil && d.mayChange(ws.org.Role, c)
	return row
}

// newAppRow describes c at now; firstParty says whether the operator made
// it first-party.
func newAppRow(c *storage.Client, now time.Time, firstParty bool) appRow {
	row := appRow{
		ID: c.ID, Name: c.Name, Initial: web.Initial(c.Name),
		LogoURI: c.Metadata.LogoURI, ClientURI: c.Metadata.ClientURI, PolicyURI: c.Metadata.PolicyURI, TOSURI: c.Metadata.TOSURI,
		Public: c.Public, FirstParty: firstParty, ByAPI: c.RegistrationTokenDigest != "",
		AuthMethod: c.TokenEndpointAuthMethod, RedirectURIs: c.RedirectURIs, PostLogoutRedirectURIs: c.PostLogoutRedirectURIs,
		Created:   c.CreatedAt.UTC().Format(dateFormat),
		CanRotate: clients.UsesSecret(c),
	}
	for _, s := range c.Scopes {
		row.Scopes = append(row.Scopes, tenancy.Describe(s))
	}
	for _, s := range c.RotatedSecrets {
		if now.Before(s.ExpiresAt) {
			row.FormerSecrets = append(row.FormerSecrets, s.ExpiresAt.UTC().Format(timeFormat))
		}
	}
	return row
}

func newTokenRow(t *storage.InitialAccessToken, me *storage.User, now time.Time) tokenRow {
	row := tokenRow{ID: t.ID, Created: t.CreatedAt.UTC().Format(timeFormat), Expires: "never"}
	if t.CreatedBy == me.ID {
		row.CreatedBy = "you"
	}
	if t.ExpiresAt != nil {
		row.Expires = t.ExpiresAt.UTC().Format(timeFormat)
	}
	switch {
	case t.RevokedAt != nil:
		row.State, row.StateLabel = "revoked", "Revoked "+t.RevokedAt.UTC().Format(dateFormat)
	case !t.Usable(now):
		row.State, row.StateLabel = "expired", "Expired"
	default:
		row.State, row.StateLabel, row.CanRevoke = "active", "Active", true
	}
	return row
}

// newAppForm is the empty registration form of ws.
func (d *Developer) newAppForm(ws *workspace) appForm {
	return appForm{Type: appConfidential, Scopes: scopeChoices(defaultAppScopes)}
}

// scopeChoices are the supported scopes, those in checked ticked.
func scopeChoices(checked []string) []scopeChoice {
	out := make([]scopeChoice, len(tenancy.Scopes))
	for i, s := range tenancy.Scopes {
		out[i] = scopeChoice{Scope: s, Checked: slices.Contains(checked, s.Name)}
	}
	return out
}

// formOf is the edit form of c, as stored.
func (d *Developer) formOf(ws *workspace, c *storage.Client) appForm {
	f := appForm{
		Name: c.Name, RedirectURIs: strings.Join(c.RedirectURIs, "\n"), PostLogoutRedirectURIs: strings.Join(c.PostLogoutRedirectURIs, "\n"),
		LogoURI: c.Metadata.LogoURI, ClientURI: c.Metadata.ClientURI, PolicyURI: c.Metadata.PolicyURI, TOSURI: c.Metadata.TOSURI,
		Type: appConfidential, Scopes: scopeChoices(c.Scopes),
	}
	if c.Public {
		f.Type = appPublic
	}
	return f
}

// readAppForm reads the fields of a registration or edit form post.
func (d *Developer) readAppForm(r *http.Request, ws *workspace) appForm {
	f := appForm{
		Name:                   r.PostForm.Get("name"),
		RedirectURIs:           r.PostForm.Get("redirect_uris"),
		PostLogoutRedirectURIs: r.PostForm.Get("post_logout_redirect_uris"),
		LogoURI:                strings.TrimSpace(r.PostForm.Get("logo_uri")),
		ClientURI:              strings.TrimSpace(r.PostForm.Get("client_uri")),
		PolicyURI:              strings.TrimSpace(r.PostForm.Get("policy_uri")),
		TOSURI:                 strings.TrimSpace(r.PostForm.Get("tos_uri")),
		Type:                   r.PostForm.Get("type"),
		Errors:                 map[string][]string{},
	}
	var scopes []string
	for _, v := range r.PostForm["scope"] {
		scopes = append(scopes, strings.Fields(v)...)
	}
	f.Scopes = scopeChoices(scopes)
	// A scope the form does not offer (a forged post) is kept, so that
	// validation names it.
	for _, s := range scopes {
		if !slices.Contains(tenancy.Names(), s) && !slices.ContainsFunc(f.Scopes, func(c scopeChoice) bool { return c.Name == s }) {
			f.Scopes = append(f.Scopes, scopeChoice{Scope: tenancy.Describe(s), Checked: true})
		}
	}
	return f
}

func (f *appForm) scopes() []string {
	var out []string
	for _, s := range f.Scopes {
		if s.Checked {
			out = append(out, s.Name)
		}
	}
	return out
}

// lines splits a text area into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// registration returns reg with the form's fields set over it: on
// registration an empty one, on an edit the app's stored metadata, so
// that what the form does not show (contacts, keys, the authentication
// method) is kept.
func (f *appForm) registration(reg *clients.Registration) *clients.Registration {
	reg.ClientName = strings.TrimSpace(f.Name)
	reg.RedirectURIs = lines(f.RedirectURIs)
	reg.PostLogoutRedirectURIs = lines(f.PostLogoutRedirectURIs)
	reg.LogoURI, reg.ClientURI, reg.PolicyURI, reg.TOSURI = f.LogoURI, f.ClientURI, f.PolicyURI, f.TOSURI
	reg.Scope = strings.Join(f.scopes(), " ")
	return reg
}

// appRules are the client rulebook's options for apps made by hand here:
// a name and at least one scope.
var appRules = clients.Options{RequireName: true, RequireScope: true}

// checkOrg adds the form's own problem: the organization switched in
// another window since the form was shown. (A first_party field is not
// read at all: only the operator makes an app first-party.)
func (d *Developer) checkOrg(r *http.Request, ws *workspace, f *appForm) int {
	if org := r.PostForm.Get("org"); org != "" && org != ws.org.ID {
		f.Errors["form"] = append(f.Errors["form"], "You switched to "+ws.org.Name+" in another window. Check the form and send it again.")
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// registrationFormFields maps the metadata the client rulebook names in
// its problems to the form's fields.
var registrationFormFields = map[string]string{
	"client_name": "name", "redirect_uris": "redirect_uris", "post_logout_redirect_uris": "post_logout_redirect_uris",
	"logo_uri": "logo_uri", "client_uri": "client_uri", "policy_uri": "policy_uri", "tos_uri": "tos_uri", "scope": "scope",
}

// addProblems puts each of the rulebook's problems next to its form field
// (a field the form does not show goes to the whole form, naming it).
func addProblems(err error, problems map[string][]string) {
	var errs fields.Errors
	if !errors.As(err, &errs) {
		problems["form"] = append(problems["form"], fields.Sentence(err.Error()))
		return
	}
	for _, e := range errs {
		if f := registrationFormFields[e.Field]; f != "" {
			problems[f] = append(problems[f], e.Sentence())
		} else {
			problems["form"] = append(problems["form"], strings.TrimSuffix(e.Error(), ".")+".") // names the field as is
		}
	}
}

func (d *Developer) list(w http.ResponseWriter, r *http.Request) {
	ws, ok := d.workspace(w, r, developerPath)
	if !ok {
		return
	}
	p, err := d.page(w, r, ws)
	if err != nil {
		d.kit.ServerErrorPage(w, r, "list apps", err)
		return
	}
	q := r.URL.Query()
	switch {
	case q.Get("deleted") == "1":
		p.Notice = "The app was deleted: its tokens no longer work, and the people who allowed it are disconnected from it."
	case q.Get("revoked") == "1":
		p.Notice = "The initial access token was revoked: it no longer registers apps."
	case q.Get("saved") != "":
		if i := slices.IndexFunc(p.Apps, func(a appRow) bool { return a.ID == q.Get("saved") }); i >= 0 {
			p.Notice = "Your changes to “" + p.Apps[i].Name + "” were saved."
		}
	case q.Get("switched") == "1" && p.Org != nil:
		p.Notice = "You are now working in " + p.Org.Name + "."
	}
	if p.Org != nil {
		var s shownSecret
		if d.revealer().take(w, r, ws.user.ID, &s) {
			p.Shown = &s
		}
	}
	d.render(w, r, http.StatusOK, p)
}

// manager returns the workspace of a form post that changes something:
// the person must be an owner or admin of an organization. On failure it
// has answered.
func (d *Developer) manager(w http.ResponseWriter, r *http.Request) (*workspace, bool) {
	ws, ok := d.formWorkspace(w, r)
	if !ok {
		return nil, false
	}
	if !canManageApps(ws.org.Role) {
		d.forbidden(w, r, ws)
		return nil, false
	}
	return ws, true
}

// managedApp returns the workspace of a form post that changes the app
// the path names, and the app: one of the organization's (else 404), and
// the person must be an owner or admin (else 403). On failure it has
// answered.
func (d *Developer) managedApp(w http.ResponseWriter, r *http.Request) (*workspace, *storage.Client, bool) {
	ws, ok := d.formWorkspace(w, r)
	if !ok {
		return nil, nil, false
	}
	c, ok := d.appToManage(w, r, ws)
	return ws, c, ok
}

// appToManage returns the app the path names, which must be one of the
// organization's (else 404), to a person who must be an owner or admin
// (else 403). On failure it has answered.
func (d *Developer) appToManage(w http.ResponseWriter, r *http.Request, ws *workspace) (*storage.Client, bool) {
	c, ok := d.findApp(w, r, ws)
	if !ok {
		return nil, false
	}
	if !canManageApps(ws.org.Role) {
		d.forbidden(w, r, ws)
		return nil, false
	}
	if !d.mayChange(ws.org.Role, c) {
		d.kit.Log.InfoContext(r.Context(), "first-party app change refused",
			"user_id", ws.user.ID, "org_id", ws.org.ID, "role", ws.org.Role, "client_id", c.ID, "path", r.URL.Path)
		d.kit.RenderError(w, r, http.StatusForbidden, "Only owners can change a first-party app",
			"People are not asked to allow “"+c.Name+"”: the operator made it first-party. Only owners of "+ws.org.Name+" change it, its secret and its addresses.", "")
		return nil, false
	}
	return c, true
}

// formWorkspace checks a form post's CSRF token and returns the
// workspace, which must have an organization. On failure it has answered.
func (d *Developer) formWorkspace(w http.ResponseWriter, r *http.Request) (*workspace, bool) {
	if !d.parseForm(w, r) {
		return nil, false
	}
	ws, ok := d.workspace(w, r, developerPath)
	if !ok {
		return nil, false
	}
	if ws.org == nil {
		d.noOrganization(w, r)
		return nil, false
	}
	return ws, true
}

func (d *Developer) noOrganization(w http.ResponseWriter, r *http.Request) {
	d.kit.RenderError(w, r, http.StatusForbidden, "You are not in an organization",
		"Apps belong to an organization. Ask an owner to add you to theirs.", "")
}

func (d *Developer) forbidden(w http.ResponseWriter, r *http.Request, ws *workspace) {
	d.kit.Log.InfoContext(r.Context(), "developer change refused",
		"user_id", ws.user.ID, "org_id", ws.org.ID, "role", ws.org.Role, "path", r.URL.Path)
	d.kit.RenderError(w, r, http.StatusForbidden, "Only owners and admins can change apps",
		"You can see the apps of "+ws.org.Name+", but only its owners and admins register, change and delete them.", "")
}

// findApp returns the app the path names if it belongs to the person's
// organization; any other, whether it exists or not, is "not found".
func (d *Developer) findApp(w http.ResponseWriter, r *http.Request, ws *workspace) (*storage.Client, bool) {
	var c *storage.Client
	var err error = storage.ErrNotFound
	if ws.org != nil {
		c, err = d.store.FindClient(r.Context(), mux.Vars(r)["id"])
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		d.kit.ServerErrorPage(w, r, "find app", err)
		return nil, false
	}
	if err != nil || c.OrgID == "" || c.OrgID != ws.org.ID {
		d.kit.RenderError(w, r, http.StatusNotFound, "App not found",
			"There is no such app in your organization.", "")
		return nil, false
	}
	return c, true
}

// register makes an app of the organization and shows its client id and,
// for a confidential app, its secret once.
func (d *Developer) register(w http.ResponseWriter, r *http.Request) {
	ws, ok := d.manager(w, r)
	if !ok || !d.kit.RequireRecentSignIn(w, r, ws.session, developerPath) {
		return
	}
	ctx := r.Context()
	f := d.readAppForm(r, ws)
	status := d.checkOrg(r, ws, &f)
	reg := f.registration(&clients.Registration{GrantTypes: appGrantTypes})
	switch f.Type {
	case appConfidential:
		reg.TokenEndpointAuthMethod = clients.AuthSecretBasic
	case appPublic:
		reg.TokenEndpointAuthMethod = clients.AuthNone
	default:
		f.Errors["type"] = append(f.Errors["type"], "Choose whether the app is confidential or public.")
		f.Type = appConfidential
	}
	c, secret, err := clients.Create(reg, appRules, ws.org.ID)
	if err != nil {
		addProblems(err, f.Errors)
	}
	if len(f.Errors) > 0 {
		p, err := d.page(w, r, ws)
		if err != nil {
			d.kit.ServerErrorPage(w, r, "list apps", err)
			return
		}
		p.Form = f
		d.render(w, r, status, p)
		return
	}
	if err := clients.Register(ctx, d.store, audit.Person(ctx, ws.user), c, "in the developer dashboard"); err != nil {
		d.kit.ServerErrorPage(w, r, "register app", err)
		return
	}
	d.kit.Log.InfoContext(ctx, "client registered in the dashboard", "user_id", ws.user.ID,
		"org_id", ws.org.ID, "client_id", c.ID, "public", c.Public, "first_party", c.FirstParty)
	d.revealer().showOnce(w, r, ws.user.ID, developerPath, shownSecret{Kind: "app", Name: c.Name, ClientID: c.ID, Secret: secret})
}

// edit shows an app's edit form.
func (d *Developer) edit(w http.ResponseWriter, r *http.Request) {
	ws, ok := d.workspace(w, r, developerPath+"/apps/"+url.PathEscape(mux.Vars(r)["id"]))
	if !ok {
		return
	}
	c, ok := d.appToManage(w, r, ws)
	if !ok {
		return
	}
	d.renderEdit(w, r, ws, c, d.formOf(ws, c), http.StatusOK)
}

func (d *Developer) renderEdit(w http.ResponseWriter, r *http.Request, ws *workspace, c *storage.Client, f appForm, status int) {
	row := d.appRow(c, ws, d.now())
	d.render(w, r, status, developerPage{
		BasePage: d.kit.Page(w, r, "Edit "+c.Name, ws.user), Org: ws.org, CanManage: true, Edit: &row, Form: f,
	})
}

// save replaces an app's metadata with the edit form's, validated as on
// registration. The secret, the type (public or confidential) and what
// the form does not show are kept.
func (d *Developer) save(w http.ResponseWriter, r *http.Request) {
	ws, c, ok := d.managedApp(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	f := d.readAppForm(r, ws)
	f.Type = appConfidential
	if c.Public {
		f.Type = appPublic
	}
	status := d.checkOrg(r, ws, &f)
	updated := *c
	if err := clients.Apply(f.registration(clients.RegistrationOf(c)), &updated, appRules); err != nil {
		addProblems(err, f.Errors)
	}
	if len(f.Errors) > 0 {
		d.renderEdit(w, r, ws, c, f, status)
		return
	}
	if err := clients.Change(ctx, d.store, audit.Person(ctx, ws.user), &updated, "in the developer dashboard"); errors.Is(err, storage.ErrNotFound) {
		d.findApp(w, r, ws) // deleted meanwhile: not found
		return
	} else if err != nil {
		d.kit.ServerErrorPage(w, r, "edit app", err)
		return
	}
	d.kit.Log.InfoContext(ctx, "client edited in the dashboard", "user_id", ws.user.ID,
		"org_id", ws.org.ID, "client_id", c.ID, "first_party", updated.FirstParty)
	http.Redirect(w, r, d.kit.Base+developerPath+"?saved="+url.QueryEscape(c.ID), http.StatusSeeOther)
}

// rotate gives a confidential app a new secret, shown once, and keeps the
// old one working for the chosen grace period. Former secrets past their
// grace are dropped; "now" stops every former secret at once (a leak).
func (d *Developer) rotate(w http.ResponseWriter, r *http.Request) {
	ws, c, ok := d.managedApp(w, r)
	if !ok || !d.kit.RequireRecentSignIn(w, r, ws.session, developerPath) {
		return
	}
	ctx := r.Context()
	grace, ok := pick(secretGraceChoices, r.PostForm.Get("grace"))
	if !ok {
		d.kit.RenderError(w, r, http.StatusBadRequest, "Choose a grace period", "Go back and choose how long the old secret keeps working.", "")
		return
	}
	now := d.now()
	updated, secret, err := clients.RotateSecret(c, grace.d, now)
	if errors.Is(err, clients.ErrNoSecret) {
		d.kit.RenderError(w, r, http.StatusConflict, "This app has no secret to rotate",
			"Public apps have no secret, and apps that authenticate with private_key_jwt use their own keys.", "")
		return
	}
	if err := clients.SaveRotation(ctx, d.store, audit.Person(ctx, ws.user), updated, grace.d); errors.Is(err, storage.ErrNotFound) {
		d.findApp(w, r, ws)
		return
	} else if err != nil {
		d.kit.ServerErrorPage(w, r, "rotate client secret", err)
		return
	}
	d.kit.Log.InfoContext(ctx, "client secret rotated", "user_id", ws.user.ID,
		"org_id", ws.org.ID, "client_id", c.ID, "grace", grace.d)
	note := "The old secret stopped working."
	if grace.d > 0 {
		note = "The old secret keeps working until " + now.Add(grace.d).UTC().Format(timeFormat) + "."
	}
	d.revealer().showOnce(w, r, ws.user.ID, developerPath, shownSecret{Kind: "secret", Name: c.Name, ClientID: c.ID, Secret: secret, Note: note})
}

// confirmDelete asks before deleting an app.
func (d *Developer) confirmDelete(w http.ResponseWriter, r *http.Request) {
	ws, ok := d.workspace(w, r, developerPath+"/apps/"+url.PathEscape(mux.Vars(r)["id"])+"/delete")
	if !ok {
		return
	}
	c, ok := d.appToManage(w, r, ws)
	if !ok {
		return
	}
	row := d.appRow(c, ws, d.now())
	d.render(w, r, http.StatusOK, developerPage{BasePage: d.kit.Page(w, r, "Delete "+c.Name, ws.user), Org: ws.org, Delete: &row})
}

// delete removes an app with its codes, tokens and consents.
func (d *Developer) delete(w http.ResponseWriter, r *http.Request) {
	ws, c, ok := d.managedApp(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	if err := clients.Delete(ctx, d.store, audit.Person(ctx, ws.user), c); errors.Is(err, storage.ErrNotFound) {
		d.findApp(w, r, ws)
		return
	} else if err != nil {
		d.kit.ServerErrorPage(w, r, "delete app", err)
		return
	}
	d.kit.Log.InfoContext(ctx, "client deleted in the dashboard", "user_id", ws.user.ID,
		"org_id", ws.org.ID, "client_id", c.ID)
	http.Redirect(w, r, d.kit.Base+developerPath+"?deleted=1", http.StatusSeeOther)
}

// createToken makes an initial access token that registers apps for the
// organization at /register, and shows it once.
func (d *Developer) createToken(w http.ResponseWriter, r *http.Request) {
	ws, ok := d.manager(w, r)
	if !ok || !d.kit.RequireRecentSignIn(w, r, ws.session, developerPath) {
		return
	}
	ctx := r.Context()
	if d.mode != clients.RegistrationToken {
		d.kit.RenderError(w, r, http.StatusConflict, "Initial access tokens are not used here",
			"This server's /register does not take initial access tokens (registration is "+d.mode+").", "")
		return
	}
	exp, ok := pick(tokenExpiryChoices, r.PostForm.Get("expires"))
	if !ok {
		d.kit.RenderError(w, r, http.StatusBadRequest, "Choose an expiry", "Go back and choose when the token stops working.", "")
		return
	}
	t, secret := clients.NewInitialAccessToken(ws.org.ID, ws.user.ID, exp.d, d.now())
	note := "It works until you revoke it."
	if t.ExpiresAt != nil {
		note = "It works until " + t.ExpiresAt.Format(timeFormat) + ", or until you revoke it."
	}
	if err := d.store.CreateInitialAccessToken(ctx, t); err != nil {
		d.kit.ServerErrorPage(w, r, "create initial access token", err)
		return
	}
	d.kit.Log.InfoContext(ctx, "initial access token created", "user_id", ws.user.ID,
		"org_id", ws.org.ID, "token_id", t.ID)
	d.revealer().showOnce(w, r, ws.user.ID, developerPath, shownSecret{Kind: "token", Token: secret, Note: note})
}

// revokeToken revokes one of the organization's initial access tokens.
func (d *Developer) revokeToken(w http.ResponseWriter, r *http.Request) {
	ws, ok := d.manager(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	id := mux.Vars(r)["id"]
	err := d.store.RevokeInitialAccessToken(ctx, ws.org.ID, id)
	if errors.Is(err, storage.ErrNotFound) {
		d.kit.RenderError(w, r, http.StatusNotFound, "Token not found",
			"There is no such token in your organization, or it was revoked already.", "")
		return
	} else if err != nil {
		d.kit.ServerErrorPage(w, r, "revoke initial access token", err)
		return
	}
	d.kit.Log.InfoContext(ctx, "initial access token revoked", "user_id", ws.user.ID,
		"org_id", ws.org.ID, "token_id", id)
	http.Redirect(w, r, d.kit.Base+developerPath+"?revoked=1", http.StatusSeeOther)
}

// switchOrg changes the organization the session works in.
func (d *Developer) switchOrg(w http.ResponseWriter, r *http.Request) {
	d.site.switchOrg(w, r, d.store, developerPath)
}
