package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"golang.org/x/oauth2"

	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// The profile and security pages in a real browser, with the mail they
// send arriving at a real SMTP server: changing the name and the email
// address, changing the password, and signing out other devices.

const accountPassword = "correct horse battery"

// A person renames themselves, then moves to a new address: the link goes
// to the new address, the old one hears of the request and of the change,
// and afterwards they sign in with the new address, which ID tokens carry.
func TestBrowserChangeNameAndEmail(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		alice := s.createUser(t, "alice@example.com", accountPassword, "Alice")
		br := newBrowser(t)
		signInToAccount(t, br, s, "alice@example.com", accountPassword)
		br.follow(t, "open the profile from the account page", chromedp.Click(chromedp.ID("profile-link")))
		expectPath(t, br, s, profilePath)
		if got := shownText(t, br, "#current-email"); got != "alice@example.com" {
			t.Errorf("the profile shows the address %q", got)
		}
		shownText(t, br, "#email-unverified")

		// The name: too long is refused next to the field, then a good one
		// is saved.
		br.do(t, "type a name too long", typeInto("name", strings.Repeat("n", accounts.MaxNameLength+1))...)
		br.do(t, "lift the page's own length limit", chromedp.RemoveAttribute(chromedp.ID("name"), "maxlength"),
			chromedp.SetValue(chromedp.ID("name"), strings.Repeat("n", accounts.MaxNameLength+1)))
		if resp := br.follow(t, "save the name", chromedp.Click(chromedp.ID("save-name"))); resp.Status != http.StatusBadRequest {
			t.Errorf("a name too long: status %d, want 400", resp.Status)
		}
		if got := shownText(t, br, "#error-name"); got != "Use at most 100 characters for your name." {
			t.Errorf("the name's problem reads %q", got)
		}
		br.do(t, "type a new name", typeInto("name", "Alice Liddell")...)
		br.follow(t, "save the name", chromedp.Click(chromedp.ID("save-name")))
		expectPath(t, br, s, profilePath)
		if got := shownText(t, br, "#notice"); got != "Your name was saved." {
			t.Errorf("after saving, the page says %q", got)
		}
		if got := fieldValue(t, br, "name"); got != "Alice Liddell" {
			t.Errorf("the name field holds %q", got)
		}
		if u, _ := s.Store.UserByID(t.Context(), alice.ID); u.Name != "Alice Liddell" {
			t.Errorf("stored name %q", u.Name)
		}

		// The email: a wrong password and the current address are refused.
		if resp := requestEmailChangeIn(t, br, "alice@new.example.com", "not my password"); resp.Status != http.StatusUnauthorized {
			t.Errorf("a wrong password: status %d, want 401", resp.Status)
		}
		if got := shownText(t, br, "#error-current-password"); got != "That is not your current password." {
			t.Errorf("a wrong password reads %q", got)
		}
		if got := fieldValue(t, br, "new-email"); got != "alice@new.example.com" {
			t.Errorf("the refused form lost the address typed: %q", got)
		}
		requestEmailChangeIn(t, br, "ALICE@example.com", accountPassword)
		if got := shownText(t, br, "#error-email"); got != "That is your address already." {
			t.Errorf("the current address reads %q", got)
		}
		requestEmailChangeIn(t, br, "alice@new.example.com", accountPassword)
		if got := shownText(t, br, "#sent"); !strings.Contains(got, "We sent a link to alice@new.example.com.") {
			t.Errorf("after asking, the page says %q", got)
		}
		if u, _ := s.Store.UserByID(t.Context(), alice.ID); u.Email != "alice@example.com" {
			t.Fatalf("the address changed before the link was opened: %s", u.Email)
		}
		msg := s.Mail.Next(t, "alice@new.example.com")
		link := msg.Link(t, accounts.PathVerifyEmail)
		if requested := s.Mail.Next(t, "alice@example.com"); !strings.Contains(requested.Text, "alice@new.example.com") {
			t.Errorf("the old address was not told of the request: %q", requested.Subject)
		}
		token := confirmEmailChange(t, br, s, link)
		if changed := s.Mail.Next(t, "alice@example.com"); !strings.Contains(changed.Subject, "was changed") {
			t.Errorf("the old address was not told of the change: %q", changed.Subject)
		}

		br.open(t, s.URL+profilePath)
		if got := shownText(t, br, "#current-email"); got != "alice@new.example.com" {
			t.Errorf("after the link, the profile shows %q", got)
		}
		shownText(t, br, "#email-verified")

		// The new address signs in, and ID tokens carry it; the old one no
		// longer does.
		signInRefused(t, s, "alice@example.com", accountPassword)
		app := newWebApp(t, s, false)
		az := app.newAuthorization(t)
		tok, err := app.config.Exchange(t.Context(), app.code(t, az, "alice@new.example.com", accountPassword), oauth2.VerifierOption(az.verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		var claims struct {
			Email         string `json:"email"`
			EmailVerified bool   `json:"email_verified"`
		}
		if err := verifyIDToken(t, app, tok, az.nonce).Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.Email != "alice@new.example.com" || !claims.EmailVerified {
			t.Errorf("the ID token says %+v, want the new address, verified", claims)
		}
		checkNoPageErrorsBesides(t, br, s, profilePath+"/name", profilePath+"/email")
		s.wantNotLogged(t, link, token, accountPassword)
	})
}

// A password change needs the current password; it keeps this browser
// signed in, signs out another one and the apps' tokens, and is mailed.
func TestBrowserChangePasswordSignsOutOtherDevices(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", accountPassword, "Alice")
		br := newBrowser(t)
		other := isolatedBrowser(t, br)
		signInToAccount(t, br, s, "alice@example.com", accountPassword)
		signInToAccount(t, other, s, "alice@example.com", accountPassword)
		// An app holds a refresh token from a third sign-in.
		app := newWebApp(t, s, false)
		az := app.newAuthorization(t)
		tok, err := app.config.Exchange(t.Context(), app.code(t, az, "alice@example.com", accountPassword), oauth2.VerifierOption(az.verifier))
		if err != nil || tok.RefreshToken == "" {
			t.Fatalf("exchange: %v (refresh token %q)", err, tok.RefreshToken)
		}

		br.open(t, s.URL+"/")
		br.follow(t, "open security from the account page", chromedp.Click(chromedp.ID("security-link")))
		expectPath(t, br, s, securityPath)
		const newPassword = "a brand new passphrase"
		for _, tc := range []struct {
			name, current, next string
			status              int
			field, message      string
		}{
			{"a wrong current password", "not my password", newPassword, http.StatusUnauthorized,
				"#error-current-password", "That is not your current password."},
			{"a short new password", accountPassword, "short", http.StatusBadRequest,
				"#error-password", "Use at least 10 characters for your password."},
		} {
			if resp := changePasswordIn(t, br, tc.current, tc.next); resp.Status != int64(tc.status) {
				t.Errorf("%s: status %d, want %d", tc.name, resp.Status, tc.status)
			}
			if got := shownText(t, br, tc.field); got != tc.message {
				t.Errorf("%s: %s reads %q, want %q", tc.name, tc.field, got, tc.message)
			}
		}
		wantSignedIn(t, other, s, "the other browser, after refused changes,")

		changePasswordIn(t, br, accountPassword, newPassword)
		expectPath(t, br, s, securityPath)
		if got := shownText(t, br, "#notice"); !strings.Contains(got, "Your password was changed.") {
			t.Errorf("after the change, the page says %q", got)
		}
		if msg := s.Mail.Next(t, "alice@example.com"); !strings.Contains(msg.Subject, "password was changed") {
			t.Errorf("the mail about the change: %q", msg.Subject)
		}
		names, current := devicesShown(t, br, s)
		if len(names) != 1 || current != 1 {
			t.Errorf("after the change the devices are %v (%d marked this one), want only this one", names, current)
		}
		wantSignedIn(t, br, s, "the browser that changed the password")
		wantSignedOut(t, other, s, "the other browser")
		if _, err := app.config.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err == nil {
			t.Error("the app's refresh token still works after the password change")
		}
		signInRefused(t, s, "alice@example.com", accountPassword)
		signInToAccount(t, other, s, "alice@example.com", newPassword)
		checkNoPageErrorsBesides(t, br, s, securityPath+"/password")
		s.wantNotLogged(t, accountPassword, newPassword, tok.RefreshToken)
	})
}

// The list of signed-in devices names each browser, marks this one, and
// signs out one device, or every other one.
func TestBrowserSignOutADevice(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, b storagetest.Backend) {
		s := newServer(t, b)
		s.createUser(t, "alice@example.com", accountPassword, "Alice")
		br := newBrowser(t)
		other := isolatedBrowser(t, br)
		signInToAccount(t, br, s, "alice@example.com", accountPassword)
		signInToAccount(t, other, s, "alice@example.com", accountPassword)

		names, current := devicesShown(t, br, s)
		if len(names) != 2 || current != 1 {
			t.Fatalf("the devices are %v (%d marked this one), want two, one of them this one", names, current)
		}
		for _, n := range names {
			if n != "Headless Chrome on Linux" {
				t.Errorf("a device reads %q, want Headless Chrome on Linux", n)
			}
		}
		if got := br.count(t, "#this-device .sign-out-device"); got != 0 {
			t.Errorf("this device has %d sign-out buttons, want none (the header signs out here)", got)
		}
		br.follow(t, "sign the other device out", chromedp.Click(chromedp.CSS("#devices > li:not(#this-device) .sign-out-device")))
		if got := shownText(t, br, "#notice"); got != "That device was signed out." {
			t.Errorf("after signing out a device, the page says %q", got)
		}
		if names, _ := devicesShown(t, br, s); len(names) != 1 {
			t.Errorf("after signing one out, the devices are %v", names)
		}
		wantSignedOut(t, other, s, "the device signed out")
		wantSignedIn(t, br, s, "this device")

		// Sign out every other device: two this time, one of them a plain
		// HTTP client.
		signInToAccount(t, other, s, "alice@example.com", accountPassword)
		agent := s.newAgent(t)
		agent.signIn(agent.get(s.URL+"/login"), "alice@example.com", accountPassword)
		if names, _ := devicesShown(t, br, s); len(names) != 3 {
			t.Fatalf("with three signed in, the devices are %v", names)
		}
		br.follow(t, "sign out all other devices", chromedp.Click(chromedp.ID("sign-out-others")))
		if got := shownText(t, br, "#notice"); got != "Every other device was signed out." {
			t.Errorf("after signing out the others, the page says %q", got)
		}
		wantSignedOut(t, other, s, "the other browser")
		if p := agent.get(s.URL + securityPath); p.url.Path != "/login" {
			t.Errorf("the HTTP client is still signed in: %s", p.url)
		}
		wantSignedIn(t, br, s, "this device")
		checkNoPageErrors(t, br, s)
		s.wantNotLogged(t, accountPassword)
	})
}
