package signin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/provider/accounts"
	"github.com/ajrly/ajrly-auth/storage"
)

// Verify serves the links in verification and email-change mail
// (/email/verify) and a signed-in person's request for a new link
// (/email/verify/resend). Following a link only shows a page whose button
// uses the token: mail scanners that fetch every link in a message do not
// use it up.
type Verify struct {
	*site
	accounts *accounts.Accounts
}

// Mount registers /email/verify and /email/verify/resend.
func (v *Verify) Mount(r *mux.Router) {
	r.HandleFunc(accounts.PathVerifyEmail, v.show).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc(accounts.PathVerifyEmail, v.confirm).Methods(http.MethodPost)
	r.HandleFunc(accounts.PathVerifyEmail+"/resend", v.resend).Methods(http.MethodPost)
}

// verifyPage is every page of verification, by Mode: "signup" (check your
// inbox, after signing up), "confirm" (the button that uses a link's
// token), "done" (verified or changed), "sent" (a new link went out),
// "wait" (a new link was asked for too soon), "verified" (nothing to
// resend) and "required" (an app waits for a verified address).
type verifyPage struct {
	web.BasePage
	Mode  string
	Token string
	Email string
	// Changed: the link moved the account to Email.
	Changed bool
	// Flow is the authorization waiting, if any.
	Flow        string
	RetryIn     string
	MailEnabled bool
}

func (v *Verify) render(w http.ResponseWriter, r *http.Request, status int, title string, user *storage.User, page verifyPage) {
	page.BasePage = v.kit.Page(w, r, title, user)
	page.MailEnabled = v.accounts.MailEnabled()
	v.kit.Render(w, r, status, "verify", page)
}

// linkProblem answers a link whose token cannot be used (expired, used,
// unknown, tampered, or a link of another kind): a page that says which,
// 410 for a link that worked once, 400 for one that never did.
func (v *Verify) linkProblem(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, storage.ErrTokenUsed):
		v.kit.RenderError(w, r, http.StatusGone, "This link was already used",
			"Each link works once. If your address is not verified yet, sign in and ask for a new link from your account page.", "")
	case errors.Is(err, storage.ErrTokenExpired):
		v.kit.RenderError(w, r, http.StatusGone, "This link has expired",
			"Links to verify an address work for 24 hours. Sign in and ask for a new one from your account page.", "")
	case errors.Is(err, storage.ErrEmailTaken):
		v.kit.RenderError(w, r, http.StatusConflict, "This address has another account now",
			"Someone signed up with this address after you asked to move to it, so your address stays as it was.", "")
	case errors.Is(err, storage.ErrNotFound):
		v.kit.RenderError(w, r, http.StatusBadRequest, "This link is not valid",
			"Copy the whole link from the message, or sign in and ask for a new one from your account page.", "")
	default:
		v.kit.ServerErrorPage(w, r, "verify email", err)
	}
}

func (v *Verify) show(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	if token == "" {
		v.linkProblem(w, r, storage.ErrNotFound)
		return
	}
	if err := v.accounts.CheckEmailLink(r.Context(), token); err != nil {
		v.linkProblem(w, r, err)
		return
	}
	_, user, _ := v.kit.CurrentUser(r) // only for the layout
	w.Header().Set("Cache-Control", "no-store")
	v.render(w, r, http.StatusOK, "Verify your email address", user, verifyPage{Mode: "confirm", Token: token})
}

func (v *Verify) confirm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		v.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	token := r.PostForm.Get("token")
	if token == "" {
		v.linkProblem(w, r, storage.ErrNotFound)
		return
	}
	done, err := v.accounts.ConfirmEmail(ctx, token)
	if done == nil {
		v.linkProblem(w, r, err)
		return
	} else if err != nil {
		// The change stands; only telling the old address failed.
		v.kit.Log.ErrorContext(ctx, "email change mail", "err", err, "user_id", done.User.ID)
	}
	v.kit.Log.InfoContext(ctx, "email confirmed", "user_id", done.User.ID, "changed", done.Changed)
	_, user, _ := v.kit.CurrentUser(r)
	if user != nil && user.ID != done.User.ID {
		user = nil // someone else's browser: not their account page
	} else if user != nil {
		user = done.User
	}
	title := "Your email address is verified"
	if done.Changed {
		title = "Your email address is changed"
	}
	v.render(w, r, http.StatusOK, title, user, verifyPage{Mode: "done", Email: done.User.Email, Changed: done.Changed})
}

func (v *Verify) resend(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	_, user, ok := v.kit.RequireUser(w, r, "/")
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		v.kit.RenderError(w, r, http.StatusBadRequest, "The form could not be read", "Go back and try again.", "")
		return
	}
	page := verifyPage{Email: user.Email, Flow: r.PostForm.Get("flow")}
	var tooSoon *accounts.TooSoonError
	switch err := v.accounts.ResendVerification(ctx, user); {
	case err == nil:
		v.kit.Log.InfoContext(ctx, "verification link sent", "user_id", user.ID)
		page.Mode = "sent"
		v.render(w, r, http.StatusOK, "Check your inbox", user, page)
	case errors.As(err, &tooSoon):
		wait := max(time.Second, tooSoon.Until.Sub(v.kit.Provider.Now()).Round(time.Second))
		w.Header().Set("Retry-After", strconv.Itoa(int(wait/time.Second)))
		page.Mode, page.RetryIn = "wait", waitWords(wait)
		v.render(w, r, http.StatusTooManyRequests, "Wait a moment", user, page)
	case errors.Is(err, accounts.ErrAlreadyVerified):
		page.Mode = "verified"
		v.render(w, r, http.StatusOK, "Your address is already verified", user, page)
	case errors.Is(err, accounts.ErrMailDisabled):
		v.kit.RenderError(w, r, http.StatusServiceUnavailable, "This server sends no mail",
			"Ask the people who run it to verify your address.", "")
	default:
		v.kit.ServerErrorPage(w, r, "resend verification", err)
	}
}

// waitWords says a wait in words: seconds under two minutes, else minutes.
func waitWords(d time.Duration) string {
	secs := int(d / time.Second)
	if secs < 120 {
		return fmt.Sprintf("%d seconds", secs)
	}
	return fmt.Sprintf("%d minutes", (secs+59)/60)
}

// verificationRequired answers a person whose address an app may not see
// unverified (accounts.require_verified_email): the page that says so,
// with a new link a click away and the way back to the authorization.
func (s *site) verificationRequired(w http.ResponseWriter, r *http.Request, user *storage.User, flow string) {
	page := verifyPage{Mode: "required", Email: user.Email, Flow: flow, MailEnabled: s.mailEnabled != nil && s.mailEnabled()}
	page.BasePage = s.kit.Page(w, r, "Verify your email address first", user)
	s.kit.Render(w, r, http.StatusForbidden, "verify", page)
}
