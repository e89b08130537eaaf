package signin

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/ajrly/ajrly-auth/handlers/web/webtest"
	"github.com/ajrly/ajrly-auth/internal/mail"
	"github.com/ajrly/ajrly-auth/internal/mail/mailtest"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/provider/teams"
)

// TestRoutes is the sign-in surface's route table. Every page answers
// HTML; a form posted without its CSRF token is refused by the middleware
// (403) before any handler runs, and with it reaches the handler (a wrong
// password 401, an empty sign-up 400, an unknown sign-in or link 404 or
// 400, a sign-out done); /authorize and /logout, which other sites send people to, take
// no token.
func TestRoutes(t *testing.T) {
	t.Parallel()
	env := webtest.New(t)
	people := accounts.New(env.Store, accounts.Config{Mailer: mailtest.Start(t).Mailer(t, webtest.Issuer, nil), Issuer: webtest.Issuer})
	Mount(env.Routes.Protocol, env.Routes.Forms, Options{Kit: env.Kit, Provider: env.Provider, Store: env.Store,
		CookieKey: env.CookieKey, DemoClientID: "cl_demo", DemoOutbox: func() []mail.Sent { return nil }, Accounts: people,
		Teams: teams.New(env.Store, teams.Config{Issuer: webtest.Issuer, People: people})})
	const html = "text/html"
	noForm := url.Values{}
	webtest.RouteTable(t, env, []webtest.Route{
		{Method: http.MethodGet, Path: "/authorize", Status: http.StatusBadRequest, ContentType: html},
		{Method: http.MethodPost, Path: "/authorize", Form: noForm, Status: http.StatusBadRequest, ContentType: html},
		{Method: http.MethodGet, Path: "/login", Status: http.StatusOK, ContentType: html},
		{Method: http.MethodPost, Path: "/login", Form: url.Values{"email": {"a@example.com"}, "password": {"x"}}, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/login", Form: url.Values{"email": {"a@example.com"}, "password": {"wrong password"}}, CSRF: true, Status: http.StatusUnauthorized, ContentType: html},
		{Method: http.MethodGet, Path: "/signup", Status: http.StatusOK, ContentType: html},
		{Method: http.MethodPost, Path: "/signup", Form: noForm, CSRF: true, Status: http.StatusBadRequest, ContentType: html},
		{Method: http.MethodPost, Path: "/signup", Form: noForm, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodGet, Path: "/signup/sent", Status: http.StatusOK, ContentType: html},
		// A link without a token, or with one nobody made: a readable 400.
		{Method: http.MethodGet, Path: "/email/verify", Status: http.StatusBadRequest, ContentType: html},
		{Method: http.MethodGet, Path: "/email/verify?token=forged", Status: http.StatusBadRequest, ContentType: html},
		{Method: http.MethodPost, Path: "/email/verify", Form: url.Values{"token": {"forged"}}, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/email/verify", Form: url.Values{"token": {"forged"}}, CSRF: true, Status: http.StatusBadRequest, ContentType: html},
		// A new link is for a signed-in person (signed out: sign in
		// first), and this server sends no mail: 503.
		{Method: http.MethodPost, Path: "/email/verify/resend", Form: noForm, SignedIn: true, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/email/verify/resend", Form: noForm, CSRF: true, Status: http.StatusSeeOther},
		{Method: http.MethodPost, Path: "/email/verify/resend", Form: noForm, SignedIn: true, CSRF: true, Status: http.StatusOK, ContentType: html},
		{Method: http.MethodGet, Path: "/consent", Status: http.StatusNotFound, ContentType: html}, // no such sign-in
		{Method: http.MethodPost, Path: "/consent", Form: noForm, SignedIn: true, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/consent", Form: noForm, SignedIn: true, CSRF: true, Status: http.StatusNotFound, ContentType: html},
		{Method: http.MethodGet, Path: "/logout", Status: http.StatusOK, ContentType: html},
		// A post without our token asks first; one with a wrong token is refused.
		{Method: http.MethodPost, Path: "/logout", Form: noForm, SignedIn: true, Status: http.StatusOK, ContentType: html},
		{Method: http.MethodPost, Path: "/logout", Form: url.Values{"csrf_token": {"forged"}}, SignedIn: true, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/logout", Form: noForm, SignedIn: true, CSRF: true, Status: http.StatusOK, ContentType: html},
		{Method: http.MethodGet, Path: "/password/forgot", Status: http.StatusOK, ContentType: html},
		{Method: http.MethodPost, Path: "/password/forgot", Form: url.Values{"email": {"a@example.com"}}, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/password/forgot", Form: url.Values{"email": {"a@example.com"}}, CSRF: true, Status: http.StatusOK, ContentType: html},
		{Method: http.MethodGet, Path: "/password/reset?token=unknown", Status: http.StatusNotFound, ContentType: html},
		{Method: http.MethodPost, Path: "/password/reset", Form: url.Values{"token": {"unknown"}}, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/password/reset", Form: url.Values{"token": {"unknown"}}, CSRF: true, Status: http.StatusNotFound, ContentType: html},
		// An invitation link without a token is 404; one that does not
		// work (any more) 410, to look at, to join and to sign up with.
		{Method: http.MethodGet, Path: "/invitations/accept", Status: http.StatusNotFound, ContentType: html},
		{Method: http.MethodGet, Path: "/invitations/accept?token=forged", Status: http.StatusGone, ContentType: html},
		{Method: http.MethodPost, Path: "/invitations/accept", Form: url.Values{"token": {"forged"}}, SignedIn: true, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/invitations/accept", Form: url.Values{"token": {"forged"}}, SignedIn: true, CSRF: true, Status: http.StatusGone, ContentType: html},
		{Method: http.MethodPost, Path: "/invitations/accept/signup", Form: url.Values{"token": {"forged"}}, Status: http.StatusForbidden, ContentType: html},
		{Method: http.MethodPost, Path: "/invitations/accept/signup", Form: url.Values{"token": {"forged"}}, CSRF: true, Status: http.StatusGone, ContentType: html},
		{Method: http.MethodGet, Path: "/demo/callback?code=ac_live_x&state=s", Status: http.StatusOK, ContentType: html},
		{Method: http.MethodGet, Path: "/demo/outbox", Status: http.StatusOK, ContentType: html},
	})
}
