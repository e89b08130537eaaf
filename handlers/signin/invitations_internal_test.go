package signin

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/provider/teams"
	"github.com/ajrly/ajrly-auth/storage"
)

// invitationGoldenPage is the page of an invitation by an admin into
// "Acme <Corp>" in mode; signed out, with problems in the account form.
func invitationGoldenPage(b web.BasePage, mode string) invitationPage {
	p := invitationPage{BasePage: b, Mode: mode, Token: "inv-token", RoleLabel: "an admin",
		Expires: "16 Dec 2026 10:00 UTC", LoginURL: "/login?login_hint=bob%40example.com&return_to=%2Finvitations%2Faccept%3Ftoken%3Dinv-token",
		Invitation: &teams.Invitation{ID: "inv_1", OrgID: "org_1", OrgName: "Acme <Corp>", Email: "bob@example.com", Role: storage.RoleAdmin,
			InvitedBy: "Alice <Admin>", CreatedAt: time.Date(2026, 12, 15, 10, 0, 0, 0, time.UTC), ExpiresAt: time.Date(2026, 12, 16, 10, 0, 0, 0, time.UTC)}}
	if mode == "new" {
		p.Name = "Bob"
		p.Errors = map[string]string{"password": "Use at least 10 characters for your password."}
	}
	return p
}

// TestInvitationPagesRender renders each mode of the invitation page but
// "new" (TestPagesRender's, invitation.golden.html) and compares it with
// testdata/invitation-MODE.golden.html; `go test ./handlers/signin
// -update` rewrites them.
func TestInvitationPagesRender(t *testing.T) {
	t.Parallel()
	someoneElse := &storage.User{ID: "usr_2", Email: "carol@example.com", Name: "Carol"}
	invited := &storage.User{ID: "usr_3", Email: "bob@example.com", Name: "Bob"}
	base := func(u *storage.User) web.BasePage {
		return web.BasePage{Title: "Join Acme <Corp>", CSRF: "csrf-token", RequestID: "req-1", User: u}
	}
	pages := map[string]invitationPage{
		"join":   invitationGoldenPage(base(invited), "join"),
		"wrong":  invitationGoldenPage(base(someoneElse), "wrong"),
		"exists": invitationGoldenPage(base(nil), "exists"),
	}
	update := flag.Lookup("update") // webtest's -update
	for mode, data := range pages {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			if err := web.ExecutePage(&buf, "invitation", data); err != nil {
				t.Fatal(err)
			}
			for _, raw := range webtest.Unescaped {
				if bytes.Contains(buf.Bytes(), []byte(raw)) {
					t.Fatalf("user input %q reached the page unescaped:\n%s", raw, buf.String())
				}
			}
			golden := filepath.Join("testdata", "invitation-"+mode+".golden.html")
			if update != nil && update.Value.String() == "true" {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test with -update)", err)
			}
			if !bytes.Equal(want, buf.Bytes()) {
				t.Fatalf("%s differs (run go test with -update and review the diff):\n%s", golden, buf.String())
			}
		})
	}
}
