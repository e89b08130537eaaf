package handlers

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/storage"
)

// loginStore is what the sign-in page needs from storage.
type loginStore interface {
	AuthenticateUser(ctx context.Context, email, password string) (*storage.User, error)
	Flow(ctx context.Context, id string) (*storage.AuthFlow, error)
	SetFlowLogin(ctx context.Context, id, subject string, authTime time.Time) error
	Client(ctx context.Context, id string) (*storage.Client, error)
}

// Login serves the sign-in page.
type Login struct {
	rt    *router
	store loginStore
}

// Mount registers /login.
func (l *Login) Mount(r *mux.Router) {
	r.HandleFunc("/login", l.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/login", l.submit).Methods(http.MethodPost)
}

type loginPage struct {
	basePage
	Flow       string
	ReturnTo   string
	Email      string
	Error      string
	ClientName string
}

func (l *Login) show(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := loginPage{Flow: q.Get("flow"), ReturnTo: localPath(q.Get("return_to")), Email: q.Get("login_hint")}
	if page.Flow != "" {
		name, ok := l.flowClientName(w, r, page.Flow)
		if !ok {
			return
		}
		page.ClientName = name
	} else if _, user, err := l.rt.currentUser(r); err == nil && user != nil {
		// Already signed in and not in an authorization: nothing to do here.
		http.Redirect(w, r, l.rt.base+orDefault(page.ReturnTo, "/"), http.StatusSeeOther)
		return
	}
	page.basePage = l.rt.pages.page(w, r, "Sign in", nil)
	l.rt.pages.render(w, r, http.StatusOK, "login", page)
}

// flowClientName returns the name of the app a flow is for, or shows an
// error page when the flow is unknown or expired.
func (l *Login) flowClientName(w http.ResponseWriter, r *http.Request, flowID string) (string, bool) {
	flow, err := l.store.Flow(r.Context(), flowID)
	if errors.Is(err, storage.ErrNotFound) {
		l.rt.pages.renderError(w, r, http.StatusNotFound, "This sign-in has expired",
			"Go back to the app and start signing in again.", "")
		return "", false
	} else if err != nil {
		l.rt.log.ErrorContext(r.Context(), "load flow", "err", err, "request_id", RequestID(r.Context()))
		l.rt.pages.renderError(w, r, statusOf(err), "Something went wrong", "Please try again in a moment.", "")
		return "", false
	}
	client, err := l.store.Client(r.Context(), flow.ClientID)
	if err != nil {
		l.rt.pages.renderError(w, r, http.StatusNotFound, "This sign-in has expired",
			"The app is no longer registered.", "")
		return "", false
	}
	return client.Name, true
}

func (l *Login) submit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		l.rt.pages.renderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	if !l.rt.checkCSRF(r) {
		l.rt.refuseCSRF(w, r)
		return
	}
	page := loginPage{
		Flow:     r.PostForm.Get("flow"),
		ReturnTo: localPath(r.PostForm.Get("return_to")),
		Email:    strings.TrimSpace(r.PostForm.Get("email")),
	}
	if page.Flow != "" {
		name, ok := l.flowClientName(w, r, page.Flow)
		if !ok {
			return
		}
		page.ClientName = name
	}
	password := r.PostForm.Get("password")
	user, err := l.store.AuthenticateUser(ctx, page.Email, password)
	if err != nil {
		status := http.StatusUnauthorized
		page.Error = "Incorrect email or password."
		if page.Email == "" || password == "" {
			status = http.StatusBadRequest
			page.Error = "Enter your email and password."
		} else if !errors.Is(err, storage.ErrInvalidCredentials) {
			l.rt.log.ErrorContext(ctx, "authenticate user", "err", err, "request_id", RequestID(ctx))
			status = statusOf(err)
			page.Error = "We could not sign you in right now. Please try again in a moment."
		} else {
			l.rt.log.InfoContext(ctx, "sign-in failed", "request_id", RequestID(ctx), "client_ip", clientIP(ctx))
		}
		page.basePage = l.rt.pages.page(w, r, "Sign in", nil)
		l.rt.pages.render(w, r, status, "login", page)
		return
	}
	ls, err := l.rt.startSession(w, r, user.ID)
	if err != nil {
		l.rt.log.ErrorContext(ctx, "start session", "err", err, "request_id", RequestID(ctx))
		l.rt.pages.renderError(w, r, statusOf(err), "Something went wrong", "We could not sign you in. Please try again.", "")
		return
	}
	l.rt.log.InfoContext(ctx, "signed in", "request_id", RequestID(ctx), "user_id", user.ID)
	if page.Flow == "" {
		http.Redirect(w, r, l.rt.base+orDefault(page.ReturnTo, "/"), http.StatusSeeOther)
		return
	}
	if err := l.store.SetFlowLogin(ctx, page.Flow, user.ID, ls.AuthTime); err != nil {
		l.rt.log.ErrorContext(ctx, "record sign-in on flow", "err", err, "request_id", RequestID(ctx))
		l.rt.pages.renderError(w, r, http.StatusNotFound, "This sign-in has expired", "Go back to the app and start again.", "")
		return
	}
	http.Redirect(w, r, l.rt.base+"/consent?flow="+url.QueryEscape(page.Flow), http.StatusSeeOther)
}

// localPath accepts only a path on this server as a place to return to,
// so that sign-in can never be turned into an open redirect.
func localPath(p string) string {
	if p == "" || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return ""
	}
	return p
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
