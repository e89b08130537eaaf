package signin

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/ajrly/ajrly-auth/handlers/web"
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
