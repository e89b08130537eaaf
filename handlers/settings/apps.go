package settings

import (
	"context"
	"errors"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
)

// appsStore is what the connected-apps page needs from storage.
type appsStore interface {
	ListConnectedApps(ctx context.Context, userID string) ([]storage.ConnectedApp, error)
	RevokeConsent(ctx context.Context, userID, consentID string) (*storage.Consent, error)
	FindClient(ctx context.Context, id string) (*storage.Client, error)
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AppendAuditEvent(ctx context.Context, e *storage.AuditEvent) error
}

// Apps serves /settings/apps: every app the person allowed, with what it
// may do and since when, and "Revoke access", which deletes the grant and
// every token the app holds for the person.
type Apps struct {
	*site
	store appsStore
}

// Mount registers /settings/apps.
func (a *Apps) Mount(r *mux.Router) {
	r.HandleFunc("/settings/apps", a.list).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/settings/apps/revoke", a.revoke).Methods(http.MethodPost)
}

type connectedApp struct {
	storage.ConnectedApp
	Scopes []tenancy.Scope
	When   string
}

type appsPage struct {
	web.BasePage
	Apps   []connectedApp
	Notice string
}

func (a *Apps) list(w http.ResponseWriter, r *http.Request) {
	_, user, ok := a.kit.RequireUser(w, r, "/settings/apps")
	if !ok {
		return
	}
	granted, err := a.store.ListConnectedApps(r.Context(), user.ID)
	if err != nil {
		a.kit.ServerErrorPage(w, r, "list connected apps", err)
		return
	}
	page := appsPage{BasePage: a.kit.Page(w, r, "Connected apps", user)}
	if r.URL.Query().Get("revoked") == "1" {
		page.Notice = "Access revoked: the app's tokens no longer work."
	}
	for _, g := range granted {
		app := connectedApp{ConnectedApp: g, When: g.UpdatedAt.UTC().Format("2 January 2006")}
		for _, s := range g.ScopeList() {
			app.Scopes = append(app.Scopes, tenancy.Describe(s))
		}
		page.Apps = append(page.Apps, app)
	}
	a.kit.Render(w, r, http.StatusOK, "apps", page)
}

func (a *Apps) revoke(w http.ResponseWriter, r *http.Request) {
	if !a.parseForm(w, r) {
		return
	}
	_, user, ok := a.kit.RequireUser(w, r, "/settings/apps")
	if !ok {
		return
	}
	var c *storage.Consent
	err := a.store.InTx(r.Context(), func(ctx context.Context) error {
		var err error
		if c, err = a.store.RevokeConsent(ctx, user.ID, r.PostForm.Get("consent")); err != nil {
			return err
		}
		name := c.ClientID
		if client, err := a.store.FindClient(ctx, c.ClientID); err == nil {
			name = client.Name
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		return audit.Record(ctx, a.store, audit.Person(ctx, user),
			audit.Event{Kind: audit.ConsentRevoked, OrgID: c.OrgID, TargetID: c.ClientID, Target: name, Detail: "scopes: " + c.Scopes})
	})
	if errors.Is(err, storage.ErrNotFound) {
		a.kit.RenderError(w, r, http.StatusNotFound, "Nothing to revoke", "This app no longer has access to your account.", "")
		return
	} else if err != nil {
		a.kit.ServerErrorPage(w, r, "revoke consent", err)
		return
	}
	a.kit.Log.InfoContext(r.Context(), "access revoked", "user_id", user.ID, "client_id", c.ClientID)
	http.Redirect(w, r, a.kit.Base+"/settings/apps?revoked=1", http.StatusSeeOther)
}
