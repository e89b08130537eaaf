package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ajrly/ajrly-auth/cmd/example-api/api"
	"github.com/ajrly/ajrly-auth/provider/apikeys"
	"github.com/ajrly/ajrly-auth/provider/tenancy"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The API keys page in a real browser: a person creates a key, copies it
// once, uses it against the example API, trades it for a JWT, revokes it,
// and watches its usage.

// keyEntrySel selects the list entry of the key with id on the keys page.
func keyEntrySel(id string) string {
	return fmt.Sprintf("ul#keys > li.key[data-key=%q]", id)
}

// watchCopyLabels records every label #copy-key shows from now on, so that
// a label the page shows for a moment ("Copied") is seen however late the
// test looks.
func watchCopyLabels(t *testing.T, b *browser) {
	t.Helper()
	run(t, b, "watch the copy button", chromedp.Evaluate[bool](`(() => {
		const button = document.getElementById("copy-key");
		window.copyLabels = [];
		new MutationObserver(() => window.copyLabels.push(button.textContent.trim())).
			observe(button, {childList: true, characterData: true, subtree: true});
		return true;
	})()`))
}

// copyLabelsShown waits until #copy-key showed a label other than its own
// and returns the labels it showed since watchCopyLabels. It waits on DOM
// changes, with no timeout of its own: browserDeadline ends a browser that
// never answers.
func copyLabelsShown(t *testing.T, b *browser) []string {
	t.Helper()
	return run(t, b, "wait for the copy button to answer",
		chromedp.Poll[[]string](`window.copyLabels.length > 0 && window.copyLabels`, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0)))
}

// keyRequestsShown is the 30-day request total of a key's list entry.
func keyRequestsShown(t *testing.T, b *browser, id string) int64 {
	t.Helper()
	raw := shownText(t, b, keyEntrySel(id)+" strong.requests")
	n, err := strconv.ParseInt(strings.ReplaceAll(raw, ",", ""), 10, 64)
	if err != nil {
		t.Fatalf("the key's request total reads %q: %v", raw, err)
	}
	return n
}

func TestBrowserAPIKeyLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner := s.newKeyOwner(t, "owner@example.com") // the owner: every scope is offered
		rsID, rsSecret := s.resourceServer(t)
		e := startExampleAPI(t, s, func(o *api.Options) { o.CacheTTL = 0 }) // introspects every request
		br := newBrowser(t)
		const keyName = "CI deploys for the web app"
		wantScopes := []string{"read", "projects:write"}
		// uses counts what the provider counts as a use of the key: each
		// successful introspection of it and each exchange.
		var uses int64

		// Signed out, the keys page sends the browser to sign in and back.
		br.open(t, s.URL+keysPath)
		expectPath(t, br, s, "/login")
		if got := br.location(t).Query().Get("return_to"); got != keysPath {
			t.Errorf("the sign-in page returns to %q, want %q", got, keysPath)
		}
		br.do(t, "type the email and password",
			chromedp.SendKeys(chromedp.ID("email"), "owner@example.com"),
			chromedp.SendKeys(chromedp.ID("password"), keyPassword),
		)
		br.follow(t, "submit the sign-in form", chromedp.Click(chromedp.ID("sign-in")))
		expectPath(t, br, s, keysPath)
		if got := shownText(t, br, "#org-name"); got != owner.org.Name {
			t.Errorf("the keys page is for %q, want %q", got, owner.org.Name)
		}
		shownText(t, br, "#no-keys")

		// Create a key: type a name, tick read and projects:write, keep
		// "never" as the expiry.
		var offered []string
		for _, n := range run(t, br, "list the permissions", chromedp.Nodes(chromedp.CSSAll(`#create-key input[type=checkbox][name=scope]`))) {
			offered = append(offered, n.AttributeValue("value"))
		}
		if want := tenancy.Grantable(storage.RoleOwner); !sameElements(offered, want) {
			t.Errorf("the form offers the permissions %v, want an owner's %v", offered, want)
		}
		br.do(t, "type the key's name", chromedp.SendKeys(chromedp.ID("key-name"), keyName))
		for _, scope := range wantScopes {
			sel := fmt.Sprintf(`#create-key input[type=checkbox][name=scope][value=%q]`, scope)
			br.do(t, "tick "+scope, chromedp.Click(chromedp.CSS(sel)))
		}
		var ticked []string
		for _, n := range run(t, br, "list the ticked permissions", chromedp.Nodes(chromedp.CSSAll(`#create-key input[name=scope]:checked`), chromedp.AtLeast(0))) {
			ticked = append(ticked, n.AttributeValue("value"))
		}
		if !sameElements(ticked, wantScopes) {
			t.Fatalf("the ticked permissions are %v, want %v", ticked, wantScopes)
		}
		if got := fieldValue(t, br, "key-expires"); got != "never" {
			t.Errorf("the expiry starts at %q, want never", got)
		}
		if got := fieldValue(t, br, "key-name"); got != keyName {
			t.Fatalf("#key-name holds %q after typing %q", got, keyName)
		}
		created := br.follow(t, "click Create key", chromedp.Click(chromedp.ID("create-button")))
		expectPath(t, br, s, keysPath)
		if created.Status != http.StatusOK {
			t.Fatalf("creating the key answered %d; the page says: %s", created.Status, br.describe(t))
		}

		// The answer shows the key once, with the warning and a copy button.
		secret := shownText(t, br, "#new-key")
		if !strings.HasPrefix(secret, storage.APIKeyPrefix) || apikeys.CheckFormat(secret) != nil {
			t.Fatalf("the page shows the key %q, want a well-formed sk_live_ key", secret)
		}
		if got := shownText(t, br, "#new-key-box"); !strings.Contains(got, "It will not be shown again") || !strings.Contains(got, keyName) {
			t.Errorf("the box with the new key says %q, want its name and that it will not be shown again", got)
		}
		if n := strings.Count(pageHTML(t, br), strings.TrimPrefix(secret, storage.APIKeyPrefix)); n != 1 {
			t.Errorf("the page shows the key %d times, want once", n)
		}
		if got := headerValue(created.Headers, "Cache-Control"); got != "no-store" {
			t.Errorf("the page with the key has Cache-Control %q, want no-store", got)
		}
		key := s.keyBySecret(t, secret)
		if key.Name != keyName || key.OrgID != owner.org.ID || key.UserID != owner.user.ID ||
			!sameElements(key.ScopeList(), wantScopes) || key.ExpiresAt != nil {
			t.Errorf("the stored key is %+v, want %q in %s by %s with %v, never expiring", key, keyName, owner.org.ID, owner.user.ID, wantScopes)
		}
		item := keyEntrySel(key.ID)
		if got := run(t, br, "read the key's state", chromedp.AttributeValue(chromedp.CSS(item), "class")); got.Value != "key active" {
			t.Errorf("the new key is listed with class %q, want key active", got.Value)
		}

		// The copy button: copy.js shows it, and a click either copies the
		// key and says so, or, without a clipboard, selects the key and
		// says to press Ctrl+C.
		br.do(t, "wait for the copy button", chromedp.WaitVisible(chromedp.ID("copy-key")))
		watchCopyLabels(t, br)
		br.do(t, "click Copy", chromedp.Click(chromedp.ID("copy-key")))
		switch labels := copyLabelsShown(t, br); labels[0] {
		case "Copied":
			if clip, ok := readClipboard(t, br, s); ok && clip != secret {
				t.Errorf("the page says Copied, but the clipboard holds %q, want the key", clip)
			}
		case "Press Ctrl+C to copy":
			if sel := run(t, br, "read the selection", chromedp.Evaluate[string](`window.getSelection().toString()`)); strings.TrimSpace(sel) != secret {
				t.Errorf("the page says to press Ctrl+C, but the selection is %q, want the key", sel)
			}
		default:
			t.Errorf("after a click the copy button says %v, want Copied or Press Ctrl+C to copy", labels)
		}
		checkPageHeaders(t, "the page with the new key", created)

		// Open the page again: the key is gone, its name and hint stay.
		br.open(t, s.URL+keysPath)
		expectPath(t, br, s, keysPath)
		if strings.Contains(pageHTML(t, br), strings.TrimPrefix(secret, storage.APIKeyPrefix)) {
			t.Fatal("the page shows the key again after opening it anew")
		}
		for _, sel := range []string{"#new-key-box", "#new-key", "#copy-key"} {
			if n := br.count(t, sel); n != 0 {
				t.Errorf("the page opened anew has %s", sel)
			}
		}
		if got := shownText(t, br, item+" .key-name"); got != keyName {
			t.Errorf("the key is listed as %q, want %q", got, keyName)
		}
		hint := storage.APIKeyPrefix + secret[len(storage.APIKeyPrefix):len(storage.APIKeyPrefix)+4] + "…" + secret[len(secret)-4:]
		if got := shownText(t, br, item+" .key-hint"); got != hint || got != key.Hint() {
			t.Errorf("the key's hint reads %q, want %q (stored %q)", got, hint, key.Hint())
		}
		listed := run(t, br, "list the key's permissions", chromedp.Evaluate[[]string](
			fmt.Sprintf(`Array.from(document.querySelectorAll(%q), c => c.textContent.trim())`, item+" ul.chips code")))
		if !sameElements(listed, wantScopes) {
			t.Errorf("the key is listed with the permissions %v, want %v", listed, wantScopes)
		}
		if got := shownText(t, br, item+" dd.expiry"); got != "never" {
			t.Errorf("the key expires %q, want never", got)
		}

		// The example API takes the key as a bearer credential and checks
		// it by introspection; read covers projects:read, but never the
		// owner-only billing:read, which a key must hold by name.
		a := e.call(t, "GET", "/v1/projects", secret, "").want(t, "GET /v1/projects with the key", http.StatusOK)
		uses++
		want := map[string]any{"sub": owner.user.ID, "org": owner.org.ID, "client_id": key.ID, "scope": key.Scopes,
			"credential": "api_key", "checked_by": "introspection", "key_id": key.ID}
		if got := a.caller(); !sameJSON(got, want) {
			t.Errorf("the example API saw the caller %v, want %v", got, want)
		}
		a = e.call(t, "POST", "/v1/projects", secret, `{"name":"Apollo"}`).want(t, "POST /v1/projects with the key", http.StatusCreated)
		uses++
		if project, _ := a.body["project"].(map[string]any); project["name"] != "Apollo" || project["created_by"] != owner.user.ID {
			t.Errorf("POST /v1/projects made %v", a.body)
		}
		e.call(t, "GET", "/v1/billing", secret, "").wantInsufficientScope(t, "GET /v1/billing with the key", "billing:read", key.Scopes)
		uses++
		e.call(t, "GET", "/v1/team", secret, "").wantInsufficientScope(t, "GET /v1/team with the key", "team:manage", key.Scopes)
		uses++

		// The key trades for a JWT (no client), which verifies against the
		// JWKS and which the example API checks locally.
		resp, tok := s.postForm(t, "/token", exchangeForm(secret))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("exchanging the key: status %d: %v", resp.StatusCode, tok)
		}
		uses++
		jwt, _ := tok["access_token"].(string)
		claims := verifyAccessJWT(t, s, jwt)
		for name, want := range map[string]any{"iss": s.URL, "sub": owner.user.ID, "org": owner.org.ID, "scope": key.Scopes,
			"key_id": key.ID, "client_id": key.ID} {
			if claims[name] != want {
				t.Errorf("the JWT's claim %s is %v, want %v", name, claims[name], want)
			}
		}
		a = e.call(t, "GET", "/v1/projects", jwt, "").want(t, "GET /v1/projects with the JWT", http.StatusOK)
		if c := a.caller(); c["checked_by"] != "jwt" || c["key_id"] != key.ID || c["org"] != owner.org.ID || c["sub"] != owner.user.ID {
			t.Errorf("the example API saw the JWT's caller as %v, want one checked by jwt for key %s", c, key.ID)
		}
		intro := s.introspect(t, rsID, rsSecret, secret)
		uses++
		if intro["active"] != true || intro["key_id"] != key.ID {
			t.Errorf("introspection of the key = %v, want active, named %q", intro, keyName)
		}

		// Revoke it from its entry, through the confirmation page.
		br.follow(t, "click Revoke", chromedp.Click(chromedp.CSS(item+" a.revoke")))
		expectPath(t, br, s, keysPath+"/"+key.ID+"/revoke")
		if got := shownText(t, br, "#revoke-key h1"); !strings.Contains(got, keyName) {
			t.Errorf("the confirmation asks %q, want the key's name", got)
		}
		if got := shownText(t, br, "#revoke-hint"); got != hint {
			t.Errorf("the confirmation names the key %q, want %q", got, hint)
		}
		if got := s.introspect(t, rsID, rsSecret, secret); got["active"] != true {
			t.Fatalf("the key stopped at the confirmation page, before anyone confirmed: %v", got)
		}
		uses++
		br.follow(t, "confirm the revocation", chromedp.Click(chromedp.ID("confirm-revoke")))
		expectPath(t, br, s, keysPath)
		if got := shownText(t, br, "#notice"); !strings.Contains(got, "revoked") {
			t.Errorf("the notice after revoking says %q", got)
		}
		if got := run(t, br, "read the key's state", chromedp.AttributeValue(chromedp.CSS(item), "class")); got.Value != "key revoked" {
			t.Errorf("the revoked key is listed with class %q, want key revoked", got.Value)
		}
		if got := shownText(t, br, item+" span.state"); got != "Revoked" {
			t.Errorf("the revoked key's state reads %q, want Revoked", got)
		}
		if n := br.count(t, item+" a.revoke") + br.count(t, item+" form.rotate"); n != 0 {
			t.Error("the revoked key still offers to revoke or rotate it")
		}

		// Now the key fails everywhere, and its JWT at introspection. The
		// example API checks JWTs locally, so it takes this one until it
		// expires (README): not asserted here.
		e.call(t, "GET", "/v1/projects", secret, "").wantInvalidToken(t, "GET /v1/projects with the revoked key")
		resp, body := s.postForm(t, "/token", exchangeForm(secret))
		if desc, _ := body["error_description"].(string); resp.StatusCode != http.StatusBadRequest || body["error"] != "invalid_request" || !strings.Contains(desc, "revoked") {
			t.Errorf("exchanging the revoked key: status %d: %v, want 400 invalid_request saying revoked", resp.StatusCode, body)
		}
		if got := s.introspect(t, rsID, rsSecret, secret); got["active"] != false {
			t.Errorf("introspection of the revoked key = %v, want inactive", got)
		}
		if got := s.introspect(t, rsID, rsSecret, jwt); got["active"] != false {
			t.Errorf("introspection of the revoked key's JWT = %v, want inactive", got)
		}

		// Its uses show on the page: every introspection and exchange.
		if err := s.Usage.Flush(t.Context()); err != nil {
			t.Fatalf("flush the usage: %v", err)
		}
		br.open(t, s.URL+keysPath)
		expectPath(t, br, s, keysPath)
		total := keyRequestsShown(t, br, key.ID)
		if total < uses {
			t.Errorf("the page counts %d requests with the key in 30 days, want at least the %d made", total, uses)
		}
		label := run(t, br, "read the chart's label", chromedp.AttributeValue(chromedp.CSS(item+" svg.spark"), "aria-label"))
		if want := fmt.Sprintf("%d requests in the last 30 days", total); label.Value != want {
			t.Errorf("the usage chart is labelled %q, want %q", label.Value, want)
		}
		if got := shownText(t, br, item+" dd.last-used"); got == "never" {
			t.Error("the key is listed as never used")
		}
		checkNoPageErrors(t, br, s)
	})
}
