package handlers

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"
)

// Demo serves the demo client's redirect URI, so that `make run` works
// without a second program: it shows the code and the curl to exchange it.
type Demo struct {
	rt       *router
	clientID string
}

// Mount registers /demo/callback.
func (d *Demo) Mount(r *mux.Router) {
	r.HandleFunc("/demo/callback", d.callback).Methods(http.MethodGet)
}

type demoPage struct {
	basePage
	Code, State, Iss, Error, Description, Curl string
}

func (d *Demo) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	page := demoPage{
		basePage:    d.rt.pages.page(w, r, "Demo callback", nil),
		Code:        q.Get("code"),
		State:       q.Get("state"),
		Iss:         q.Get("iss"),
		Error:       q.Get("error"),
		Description: q.Get("error_description"),
	}
	if page.Code != "" {
		page.Curl = "curl -s -u " + d.clientID + ":$AJRLY_DEMO_SECRET \\\n  -d grant_type=authorization_code \\\n  -d code=" + url.QueryEscape(page.Code) +
			" \\\n  -d redirect_uri=" + url.QueryEscape(d.rt.url("/demo/callback")) + " \\\n  " + d.rt.url("/token")
	}
	d.rt.pages.render(w, r, http.StatusOK, "demo", page)
}
