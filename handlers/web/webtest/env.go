package webtest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
	"github.com/ajrly/ajrly-auth/storage/storagetest"
)

// Issuer is the issuer of every Env.
const Issuer = "https://auth.example.com"

var secret = []byte("handlers-test-secret-handlers-test-secret")

// Env is one surface's world in a test: a fresh SQLite store, a provider
// on it, the web kit and its routers, on which the test mounts the surface.
type Env struct {
	Store     *storage.Store
	Provider  *provider.Provider
	Kit       *web.Kit
	Routes    *web.Routes
	CookieKey []byte
}

// NewProvider is a provider on a fresh SQLite store, with the Env's
// issuer, and the cookie key derived from its secret: what a test that
// wires handlers itself starts from.
func NewProvider(t testing.TB) (*storage.Store, *provider.Provider, []byte) {
	t.Helper()
	store := storagetest.NewSQLite(t)
	p, err := provider.New(context.Background(), store, provider.Options{
		Issuer: Issuer, Secret: secret,
		AccessTokenTTL: time.Hour, RefreshTokenTTL: time.Hour, AuthCodeTTL: time.Minute, IDTokenTTL: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	key, err := provider.DeriveKey(secret, provider.PurposeCookies)
	if err != nil {
		t.Fatal(err)
	}
	return store, p, key
}

// New builds an Env; options may change the kit's options (a logger, say).
func New(t testing.TB, options ...func(*web.Options)) *Env {
	t.Helper()
	store, p, key := NewProvider(t)
	opts := web.Options{Provider: p, Sessions: store, CookieKey: key}
	for _, o := range options {
		o(&opts)
	}
	kit, err := web.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return &Env{Store: store, Provider: p, Kit: kit, Routes: kit.NewRoutes(), CookieKey: key}
}

// SignIn signs a new person with their own organization up and returns a
// browser holding their session.
func (e *Env) SignIn(t testing.TB, email string) *Browser {
	t.Helper()
	ctx := context.Background()
	made, err := accounts.New(e.Store, accounts.Config{}).Create(ctx, accounts.Person{Email: email, Name: "Test person",
		Password: "a long enough password", Organization: "Org of " + email}, accounts.Options{})
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := e.Store.CreateLoginSession(ctx, made.User.ID, made.Org.ID, time.Hour, "test", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	b := e.Browser(t)
	name := e.Kit.CookieName(web.SessionCookie)
	b.Cookies[name] = &http.Cookie{Name: name, Value: token}
	return b
}

// Browser is a cookie-keeping client of the Env's handler, without a
// network.
func (e *Env) Browser(t testing.TB) *Browser {
	return &Browser{t: t, h: e.Routes.Handler(), kit: e.Kit, Cookies: map[string]*http.Cookie{}}
}

// Browser keeps cookies across requests to one handler.
type Browser struct {
	t       testing.TB
	h       http.Handler
	kit     *web.Kit
	Cookies map[string]*http.Cookie
}

// CSRF is the token this browser's forms carry, as a page it loaded would
// hold it.
func (b *Browser) CSRF() string {
	req := httptest.NewRequest(http.MethodGet, Issuer+"/", nil)
	for _, c := range b.Cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	token := b.kit.CSRFToken(rec, req)
	b.keep(rec)
	return token
}

func (b *Browser) keep(rec *httptest.ResponseRecorder) {
	for _, c := range rec.Result().Cookies() {
		if c.MaxAge < 0 {
			delete(b.Cookies, c.Name)
		} else {
			b.Cookies[c.Name] = c
		}
	}
}

// Do sends a request, a form when form is not nil, and keeps the cookies
// the answer sets.
func (b *Browser) Do(method, path string, form url.Values) *httptest.ResponseRecorder {
	b.t.Helper()
	return b.Send(method, path, form, nil)
}

// Send is Do with extra request headers.
func (b *Browser) Send(method, path string, form url.Values, header http.Header) *httptest.ResponseRecorder {
	b.t.Helper()
	body := ""
	if form != nil {
		body = form.Encode()
	}
	req := httptest.NewRequest(method, Issuer+path, strings.NewReader(body))
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	for _, c := range b.Cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	b.h.ServeHTTP(rec, req)
	b.keep(rec)
	return rec
}
