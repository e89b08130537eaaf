package signin

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
	"github.com/ajrly/ajrly-auth/internal/mail"
)

// Demo serves the demo client's redirect URI, so that `make run` works
// without a second program: it shows the code and the curl to exchange it.
type Demo struct {
	*site
	clientID string
}

// Mount registers /demo/callback.
func (d *Demo) Mount(r *mux.Router) {
	r.HandleFunc("/demo/callback", d.callback).Methods(http.MethodGet)
}

// Outbox serves /demo/outbox: in demo mode without an SMTP server, the
// mail the server would have sent, so that a newcomer can follow every
// link from it. Its messages hold live links: only demo mode mounts it.
type Outbox struct {
	*site
	messages func() []mail.Sent
}

// Mount registers /demo/outbox.
func (o *Outbox) Mount(r *mux.Router) {
	r.HandleFunc("/demo/outbox", o.list).Methods(http.MethodGet, http.MethodHead)
}

type outboxPage struct {
	web.BasePage
	Messages []mail.Sent
}

// Keep is how many messages the outbox holds.
func (outboxPage) Keep() int { return mail.OutboxSize }

func (o *Outbox) list(w http.ResponseWriter, r *http.Request) {
	o.kit.Render(w, r, http.StatusOK, "outbox", outboxPage{
		BasePage: o.kit.Page(w, r, "Demo outbox", nil),
		Messages: o.messages(),
	})
}

type demoPage struct {
	web.BasePage
	Code, State, Iss, Error, Description, Curl string
}

func (d *Demo) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := demoPage{
		BasePage:    d.kit.Page(w, r, "Demo callback", nil),
		Code:        q.Get("code"),
		State:       q.Get("state"),
		Iss:         q.Get("iss"),
		Error:       q.Get("error"),
		Description: q.Get("error_description"),
	}
	if page.Code != "" {
		page.Curl = "curl -s -u " + d.clientID + ":$AJRLY_DEMO_SECRET \\\n  -d grant_type=authorization_code \\\n  -d code=" + url.QueryEscape(page.Code) +
			" \\\n  -d redirect_uri=" + url.QueryEscape(d.kit.URL("/demo/callback")) + " \\\n  " + d.kit.URL("/token")
	}
	d.kit.Render(w, r, http.StatusOK, "demo", page)
}
