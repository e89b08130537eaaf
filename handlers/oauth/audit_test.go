package oauth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/oauth"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider/audit"
	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// TestRegistrationIsRecorded: registering an app at /register with an
// initial access token, changing it and deleting it with its registration
// access token (RFC 7591, 7592) record one event each, in the token's
// organization; tokens issued to the app record nothing; no token or
// secret reaches the log.
func TestRegistrationIsRecorded(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	if err := oauth.Mount(env.Routes.API, oauth.Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store,
		RegistrationMode: clients.RegistrationToken}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	iat, iatSecret := clients.NewInitialAccessToken("org_acme", "usr_owner", 0, env.Provider.Now())
	if err := env.Store.CreateInitialAccessToken(ctx, iat); err != nil {
		t.Fatal(err)
	}
	h := env.Routes.Handler()
	send := func(method, path, bearer, contentType, body string) (int, map[string]any) {
		t.Helper()
		req := httptest.NewRequest(method, webtest.Issuer+path, strings.NewReader(body))
		req.Header.Set("User-Agent", "RegistrationClient/1.0")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		var out map[string]any
		_ = json.Unmarshal(rec.Body.Bytes(), &out)
		return rec.Code, out
	}
	code, reg := send(http.MethodPost, "/register", iatSecret, "application/json",
		`{"client_name":"Robot","redirect_uris":["https://robot.example.com/cb"],"grant_types":["authorization_code","client_credentials"],"response_types":["code"],"scope":"read"}`)
	if code != http.StatusCreated {
		t.Fatalf("register: %d %v", code, reg)
	}
	id, secret, regToken := reg["client_id"].(string), reg["client_secret"].(string), reg["registration_access_token"].(string)

	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "scope": {"read"}}
	code, tok := send(http.MethodPost, "/token", "", "application/x-www-form-urlencoded", form.Encode())
	if code != http.StatusOK {
		t.Fatalf("token: %d %v", code, tok)
	}
	access, _ := tok["access_token"].(string)

	code, changed := send(http.MethodPut, "/register/"+id, regToken, "application/json",
		`{"client_id":"`+id+`","client_name":"Robot 2","redirect_uris":["https://robot.example.com/cb"],"grant_types":["authorization_code","client_credentials"],"response_types":["code"],"scope":"read"}`)
	if code != http.StatusOK {
		t.Fatalf("update: %d %v", code, changed)
	}
	if code, _ := send(http.MethodDelete, "/register/"+id, regToken, "", ""); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}

	events := storagetest.AuditEvents(t, env.Store)
	if got, want := storagetest.AuditKinds(events), []string{audit.AppRegistered, audit.AppChanged, audit.AppDeleted}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
	for _, e := range events {
		if e.OrgID != "org_acme" || e.TargetID != id || e.ActorID != "" || e.IP != "192.0.2.1" || e.UserAgent != "RegistrationClient/1.0" {
			t.Errorf("the %s event: org %q, target %q, actor %q, from %q with %q", e.Kind, e.OrgID, e.TargetID, e.ActorID, e.IP, e.UserAgent)
		}
	}
	if e := events[0]; e.Target != "Robot" || !strings.Contains(e.Detail, iat.ID) {
		t.Errorf("the registration names %q with %q, want the app and the initial access token's id", e.Target, e.Detail)
	}
	storagetest.CheckNoSecret(t, events, iatSecret, secret, regToken, access)
}
