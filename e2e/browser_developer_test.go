package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The developer dashboard in a real browser: a person registers an OAuth
// app by typing into the form, copies its client id and secret (shown
// once), rotates the secret and deletes the app through the confirmation
// page.

// appEntrySel selects the list entry of the app with id.
func appEntrySel(id string) string {
	return fmt.Sprintf("ul#apps > li.dev-app[data-app=%q]", id)
}

// watchButtonLabels records every label the button with id shows from
// now on, so that a label shown for a moment ("Copied") is seen however
// late the test looks.
func watchButtonLabels(t *testing.T, b *browser, id string) {
	t.Helper()
	run(t, b, "watch the button #"+id, chromedp.Evaluate[bool](fmt.Sprintf(`(() => {
		const button = document.getElementById(%q);
		window.buttonLabels = [];
		new MutationObserver(() => window.buttonLabels.push(button.textContent.trim())).
			observe(button, {childList: true, characterData: true, subtree: true});
		return true;
	})()`, id)))
}

// buttonLabelsShown waits until the watched button showed another label
// and returns the labels it showed; browserDeadline ends a browser that
// never answers.
func buttonLabelsShown(t *testing.T, b *browser) []string {
	t.Helper()
	return run(t, b, "wait for the button to answer",
		chromedp.Poll[[]string](`window.buttonLabels.length > 0 && window.buttonLabels`, chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(0)))
}

// checkCopies clicks the copy button with id and checks that it copied
// (or, without a clipboard, selected) want.
func checkCopies(t *testing.T, b *browser, s *server, id, want string) {
	t.Helper()
	b.do(t, "wait for #"+id, chromedp.WaitVisible(chromedp.ID(id)))
	watchButtonLabels(t, b, id)
	b.do(t, "click #"+id, chromedp.Click(chromedp.ID(id)))
	switch labels := buttonLabelsShown(t, b); labels[0] {
	case "Copied":
		if clip, ok := readClipboard(t, b, s); ok && clip != want {
			t.Errorf("#%s says Copied, but the clipboard holds %q, want %q", id, clip, want)
		}
	case "Press Ctrl+C to copy":
		if sel := run(t, b, "read the selection", chromedp.Evaluate[string](`window.getSelection().toString()`)); strings.TrimSpace(sel) != want {
			t.Errorf("#%s says to press Ctrl+C, but the selection is %q, want %q", id, sel, want)
		}
	default:
		t.Errorf("after a click #%s says %v, want Copied or Press Ctrl+C to copy", id, labels)
	}
}

func TestBrowserDeveloperAppLifecycle(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		owner := s.newKeyOwner(t, "owner@example.com")
		br := newBrowser(t)
		const appName = "Acme Dashboard"
		redirect := "http://" + freePort(t) + "/callback"

		// Signed out, the page sends the browser to sign in and back.
		br.open(t, s.URL+devPath)
		expectPath(t, br, s, "/login")
		if got := br.location(t).Query().Get("return_to"); got != devPath {
			t.Errorf("the sign-in page returns to %q, want %q", got, devPath)
		}
		br.do(t, "type the email and password",
			chromedp.SendKeys(chromedp.ID("email"), "owner@example.com"),
			chromedp.SendKeys(chromedp.ID("password"), keyPassword),
		)
		br.follow(t, "submit the sign-in form", chromedp.Click(chromedp.ID("sign-in")))
		expectPath(t, br, s, devPath)
		if got := shownText(t, br, "#org-name"); got != owner.org.Name {
			t.Errorf("the developer page is for %q, want %q", got, owner.org.Name)
		}
		shownText(t, br, "#no-apps")

		// Register an app: type its name, redirect URI and website, keep
		// the default scopes and add projects:read, keep "confidential".
		var ticked []string
		for _, n := range run(t, br, "list the ticked scopes", chromedp.Nodes(chromedp.CSSAll(`#register-app input[name=scope]:checked`), chromedp.AtLeast(0))) {
			ticked = append(ticked, n.AttributeValue("value"))
		}
		if want := strings.Fields(appScopes); !sameElements(ticked, want) {
			t.Errorf("the form ticks the scopes %v, want %v", ticked, want)
		}
		if n := br.count(t, `#type-confidential:checked`); n != 1 {
			t.Error("the form does not start with a confidential app")
		}
		if n := br.count(t, `#app-first-party`); n != 0 {
			t.Error("the first-party checkbox is offered where the server does not allow first-party apps")
		}
		br.do(t, "fill in the app",
			chromedp.SendKeys(chromedp.ID("app-name"), appName),
			chromedp.SendKeys(chromedp.ID("app-redirect-uris"), redirect),
			chromedp.SendKeys(chromedp.ID("app-client-uri"), "https://acme.example.com"),
			chromedp.Click(chromedp.CSS(`#register-app input[name=scope][value="projects:read"]`)),
		)
		created := br.follow(t, "click Register app", chromedp.Click(chromedp.ID("register-button")))
		expectPath(t, br, s, devPath)
		if created.Status != http.StatusOK {
			t.Fatalf("registering answered %d; the page says: %s", created.Status, br.describe(t))
		}

		// The answer shows the client id and the secret once, with the
		// warning and copy buttons.
		id := shownText(t, br, "#new-client-id")
		secret := shownText(t, br, "#new-secret")
		if got := shownText(t, br, "#shown"); !strings.Contains(got, "It will not be shown again") || !strings.Contains(got, appName) {
			t.Errorf("the box with the credentials says %q, want the app's name and that the secret will not be shown again", got)
		}
		if n := strings.Count(pageHTML(t, br), secret); n != 1 {
			t.Errorf("the page shows the secret %d times, want once", n)
		}
		if got := headerValue(created.Headers, "Cache-Control"); got != "no-store" {
			t.Errorf("the page with the secret has Cache-Control %q, want no-store", got)
		}
		checkPageHeaders(t, "the page with the new secret", created)
		c := s.client(t, id)
		if c.Name != appName || c.OrgID != owner.org.ID || c.Public || !storage.DigestEqual(c.SecretDigest, secret) ||
			strings.Join(c.RedirectURIs, " ") != redirect || c.Metadata.ClientURI != "https://acme.example.com" ||
			!sameElements(c.Scopes, append(strings.Fields(appScopes), "projects:read")) {
			t.Errorf("the stored app is %+v", c)
		}
		checkCopies(t, br, s, "copy-client-id", id)
		checkCopies(t, br, s, "copy-secret", secret)
		if !s.clientSecretWorks(t, id, secret) {
			t.Error("the secret shown does not authenticate the app")
		}

		// Open the page anew: the secret is gone, the app is listed.
		br.open(t, s.URL+devPath)
		expectPath(t, br, s, devPath)
		if strings.Contains(pageHTML(t, br), secret) {
			t.Fatal("the page shows the secret again after opening it anew")
		}
		for _, sel := range []string{"#shown", "#new-secret", "#copy-secret"} {
			if n := br.count(t, sel); n != 0 {
				t.Errorf("the page opened anew has %s", sel)
			}
		}
		item := appEntrySel(id)
		if got := shownText(t, br, item+" .app-name"); got != appName {
			t.Errorf("the app is listed as %q, want %q", got, appName)
		}
		if got := shownText(t, br, item+" .client-id"); got != id {
			t.Errorf("the app's client id reads %q, want %q", got, id)
		}
		if got := shownText(t, br, item+" .app-type"); got != "Confidential" {
			t.Errorf("the app's type reads %q", got)
		}
		if got := shownText(t, br, item+" ul.redirect-uris"); got != redirect {
			t.Errorf("the app's redirect URIs read %q, want %q", got, redirect)
		}

		// Rotate the secret, keeping the old one for 24 hours.
		br.do(t, "choose 24 hours of grace", chromedp.SetValue(chromedp.CSS(item+" select[name=grace]"), "24h"))
		rotated := br.follow(t, "click Rotate secret", chromedp.Click(chromedp.CSS(item+" form.rotate button")))
		expectPath(t, br, s, devPath)
		if rotated.Status != http.StatusOK {
			t.Fatalf("rotating answered %d; the page says: %s", rotated.Status, br.describe(t))
		}
		newSecret := shownText(t, br, "#new-secret")
		if newSecret == secret || shownText(t, br, "#new-client-id") != id {
			t.Fatalf("the rotation shows %q for %s, want a new secret for %s", newSecret, shownText(t, br, "#new-client-id"), id)
		}
		if got := shownText(t, br, "#old-secret"); !strings.Contains(got, "keeps working until") {
			t.Errorf("the rotation says %q about the old secret", got)
		}
		checkCopies(t, br, s, "copy-secret", newSecret)
		if !s.clientSecretWorks(t, id, newSecret) || !s.clientSecretWorks(t, id, secret) {
			t.Error("after rotating with a grace period, both secrets must work")
		}
		br.open(t, s.URL+devPath)
		if strings.Contains(pageHTML(t, br), newSecret) || br.count(t, "#new-secret") != 0 {
			t.Fatal("the new secret is shown again after opening the page anew")
		}
		if got := shownText(t, br, item+" .former-secret"); !strings.Contains(got, "still works until") {
			t.Errorf("the app's entry says %q about the former secret", got)
		}

		// Delete it from its entry, through the confirmation page.
		br.follow(t, "click Delete", chromedp.Click(chromedp.CSS(item+" a.delete")))
		expectPath(t, br, s, devPath+"/apps/"+id+"/delete")
		if got := shownText(t, br, "#delete-app h1"); !strings.Contains(got, appName) {
			t.Errorf("the confirmation asks %q, want the app's name", got)
		}
		if got := shownText(t, br, "#delete-client-id"); got != id {
			t.Errorf("the confirmation names the client %q, want %q", got, id)
		}
		s.client(t, id) // still there before anyone confirmed
		br.follow(t, "confirm the deletion", chromedp.Click(chromedp.ID("confirm-delete")))
		expectPath(t, br, s, devPath)
		if got := shownText(t, br, "#notice"); !strings.Contains(got, "deleted") {
			t.Errorf("the notice after deleting says %q", got)
		}
		if n := br.count(t, item); n != 0 {
			t.Error("the deleted app is still listed")
		}
		shownText(t, br, "#no-apps")
		if _, err := s.Store.FindClient(context.Background(), id); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("the deleted app is still stored: %v", err)
		}
		if s.clientSecretWorks(t, id, newSecret) || s.clientSecretWorks(t, id, secret) {
			t.Error("the deleted app's secrets still authenticate")
		}
		checkNoPageErrors(t, br, s)
	})
}
