package handlers

import (
	"net/http"

	"github.com/gorilla/mux"
)

// Account serves the signed-in person's home page and signing out.
type Account struct {
	rt *router
}

// Mount registers / and /logout.
func (a *Account) Mount(r *mux.Router) {
	r.HandleFunc("/", a.home).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/logout", a.confirmLogout).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/logout", a.logout).Methods(http.MethodPost)
}

type homePage struct{ basePage }

func (a *Account) home(w http.ResponseWriter, r *http.Request) {
	_, user, err := a.rt.currentUser(r)
	if err != nil {
		a.rt.log.ErrorContext(r.Context(), "load session", "err", err, "request_id", RequestID(r.Context()))
		a.rt.pages.renderError(w, r, statusOf(err), "Something went wrong", "Please try again in a moment.", "")
		return
	}
	if user == nil {
		http.Redirect(w, r, a.rt.base+"/login", http.StatusSeeOther)
		return
	}
	a.rt.pages.render(w, r, http.StatusOK, "home", homePage{a.rt.pages.page(w, r, "Your account", user)})
}

type logoutPage struct {
	basePage
	SignedOut bool
}

// confirmLogout asks before signing out: a GET must not change state.
func (a *Account) confirmLogout(w http.ResponseWriter, r *http.Request) {
	_, user, err := a.rt.currentUser(r)
	if err != nil {
		a.rt.pages.renderError(w, r, statusOf(err), "Something went wrong", "Please try again in a moment.", "")
		return
	}
	page := logoutPage{basePage: a.rt.pages.page(w, r, "Sign out", user), SignedOut: user == nil}
	a.rt.pages.render(w, r, http.StatusOK, "logout", page)
}

func (a *Account) logout(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || !a.rt.checkCSRF(r) {
		a.rt.refuseCSRF(w, r)
		return
	}
	if err := a.rt.endSession(w, r); err != nil {
		a.rt.log.ErrorContext(r.Context(), "end session", "err", err, "request_id", RequestID(r.Context()))
	}
	page := logoutPage{basePage: a.rt.pages.page(w, r, "Signed out", nil), SignedOut: true}
	a.rt.pages.render(w, r, http.StatusOK, "logout", page)
}
