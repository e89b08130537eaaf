package settings

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/ajrly/ajrly-auth/provider"
)

// revealTTL is how long a sealed secret waits for the page that shows it.
const revealTTL = 2 * time.Minute

// revealer shows a secret just made (an API key, a client secret, an
// initial access token) once, on the page a form's redirect leads to.
//
// The form answers with a redirect, so that reloading the page neither
// shows the secret again nor posts the form a second time (which would
// make a second secret). The secret crosses the redirect in a short-lived
// cookie, HttpOnly, sealed (AES-256-GCM) under a key of the server's and
// bound to the cookie's name and the signed-in person; the page deletes
// the cookie as it reads it. Never in a URL, never in a log.
type revealer struct {
	*site
	key []byte // 32 bytes, derived from the cookie key
	now func() time.Time
	// cookie names the cookie; each page has its own, so that one page
	// never takes what another is about to show.
	cookie string
}

// revealed is the sealed document: the page's payload and its deadline.
type revealed struct {
	Expires int64           `json:"exp"`
	Payload json.RawMessage `json:"p"`
}

func (v revealer) aad(userID string) []byte {
	return []byte(v.cookie + "\x00" + userID)
}

// showOnce seals payload (any small JSON value) for userID and sends the
// browser to path (of ours), whose handler takes it with take.
func (v revealer) showOnce(w http.ResponseWriter, r *http.Request, userID, path string, payload any) {
	raw, err := json.Marshal(payload)
	if err == nil {
		var plain, sealed []byte
		plain, err = json.Marshal(revealed{Expires: v.now().Add(revealTTL).Unix(), Payload: raw})
		if err == nil {
			if sealed, err = provider.Seal(v.key, plain, v.aad(userID)); err == nil {
				v.kit.SetCookie(w, v.cookie, base64.RawURLEncoding.EncodeToString(sealed), int(revealTTL/time.Second))
			}
		}
	}
	if err != nil {
		v.kit.ServerErrorPage(w, r, "seal secret to show", err)
		return
	}
	http.Redirect(w, r, v.kit.Base+path, http.StatusSeeOther)
}

// take reads what showOnce sealed for userID into payload and deletes the
// cookie, so that it is shown once. It reports false when there is
// nothing (or nothing valid: expired, another person's, tampered with).
func (v revealer) take(w http.ResponseWriter, r *http.Request, userID string, payload any) bool {
	raw := v.kit.Cookie(r, v.cookie)
	if raw == "" {
		return false
	}
	v.kit.SetCookie(w, v.cookie, "", -1)
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return false
	}
	plain, err := provider.Open(v.key, sealed, v.aad(userID))
	if err != nil {
		return false
	}
	var doc revealed
	if json.Unmarshal(plain, &doc) != nil || v.now().Unix() > doc.Expires {
		return false
	}
	return json.Unmarshal(doc.Payload, payload) == nil
}
