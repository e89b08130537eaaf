package signin

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/ajrly/ajrly-auth/storage"
)

// Known browsers. A throttle counted only per account lets anyone keep an
// account blocked by failing on purpose about once a minute, whoever then
// presents the right password (audit finding 18; OWASP ASVS 2.2.1 asks for
// throttling that does not lock the owner out). So a browser that signed
// in to an account successfully gets a device cookie bound to that
// account, and its later attempts are counted on (account, device) instead
// of on the account: failures made elsewhere do not block it, and its own
// failures still do.

const (
	deviceCookie = "ajrly_device"
	// deviceCookieAge is as long as browsers keep a cookie (400 days).
	deviceCookieAge = 400 * 24 * time.Hour
)

// accountThrottleKey is the throttle key of the account an email names: a
// digest, so that neither the table nor the device cookie holds addresses.
func accountThrottleKey(email string) string {
	return "acct:" + storage.DigestHex(storage.NormalizeEmail(email))
}

// deviceMAC binds a device id to an account with the cookie key, so that a
// cookie can be neither forged nor moved to another account.
func (s *site) deviceMAC(accountKey, id string) string {
	m := hmac.New(sha256.New, s.cookieKey)
	m.Write([]byte("device:" + accountKey + ":" + id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// knownDevice returns the throttle key of this browser for the account
// accountKey, or "" when the browser has no device cookie bound to it.
func (s *site) knownDevice(r *http.Request, accountKey string) string {
	id, mac, ok := strings.Cut(s.kit.Cookie(r, deviceCookie), ".")
	if !ok || len(id) < 32 || !hmac.Equal([]byte(mac), []byte(s.deviceMAC(accountKey, id))) {
		return ""
	}
	return "dev:" + storage.DigestHex(accountKey+":"+id)
}

// rememberDevice gives the browser, which has just proved it knows the
// account's password, a device cookie bound to the account; a browser
// already known to the account keeps its cookie. The cookie holds one
// account: signing in to another one rebinds it.
func (s *site) rememberDevice(w http.ResponseWriter, r *http.Request, accountKey string) {
	if s.knownDevice(r, accountKey) != "" {
		return
	}
	id := storage.NewSecret()
	s.kit.SetCookie(w, deviceCookie, id+"."+s.deviceMAC(accountKey, id), int(deviceCookieAge/time.Second))
}
