package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/ajrly/ajrly-auth/provider/audit"
)

// maxBodyBytes caps every request body (SECURITY.md: 1 MiB).
const maxBodyBytes = 1 << 20

// maxAuthorizeBodyBytes caps the body of the authorization endpoint: its
// parameters are capped at 8 KiB together (provider.AuthorizeParameters),
// so a body much larger than that is never a real request.
const maxAuthorizeBodyBytes = 64 << 10

type ctxKey int

const requestIDKey ctxKey = 0

// RequestID returns the id of the request ctx belongs to.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// ClientIP returns the address of the client, as far as it can be trusted.
// It is kept once, as the request's origin that audit events record.
func ClientIP(ctx context.Context) string {
	ip, _ := audit.Origin(ctx)
	return ip
}

// requestIDs makes cheap unique ids: a random per-process prefix and a counter.
type requestIDs struct {
	prefix string
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return &requestIDs{prefix: hex.EncodeToString(b)}
}

func (g *requestIDs) next() string {
	return g.prefix + "-" + strconv.FormatUint(g.n.Add(1), 36)
}

// validRequestID accepts an upstream X-Request-ID that is safe to log.
func validRequestID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// proxies decides whose X-Forwarded-* headers to believe.
type proxies []netip.Prefix

func (p proxies) trusted(addr netip.Addr) bool {
	for _, prefix := range p {
		if prefix.Contains(addr) {
			return true
		}
	}
	return false
}

// realIP walks X-Forwarded-For from the right, skipping trusted proxies,
// and returns the first address a trusted proxy vouches for.
func (p proxies) realIP(r *http.Request) (netip.Addr, bool) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	peer = peer.Unmap()
	if !p.trusted(peer) {
		return peer, false
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		addr, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			break
		}
		addr = addr.Unmap()
		if !p.trusted(addr) {
			return addr, true
		}
		peer = addr
	}
	return peer, true
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// Wrap wraps every request: request id, client address, body cap, panic
// recovery and one structured log line.
func (k *Kit) Wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ip, viaProxy := k.proxies.realIP(r)
		id := r.Header.Get("X-Request-ID")
		if !viaProxy || !validRequestID(id) {
			id = k.ids.next()
		}
		ctx := context.WithValue(r.Context(), requestIDKey, id)
		clientIP := ""
		if ip.IsValid() {
			clientIP = ip.String()
		}
		ctx = audit.WithOrigin(ctx, clientIP, r.UserAgent())
		r = r.WithContext(ctx)
		if viaProxy && r.TLS == nil && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
			r.URL.Scheme = "https"
		}
		w.Header().Set("X-Request-ID", id)
		if r.Body != nil {
			limit := int64(maxBodyBytes)
			if r.URL.Path == k.Base+"/authorize" {
				limit = maxAuthorizeBodyBytes
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		rec := &statusRecorder{ResponseWriter: w}
		defer func() {
			if v := recover(); v != nil {
				if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(v)
				}
				k.Log.ErrorContext(ctx, "panic", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				if rec.status == 0 {
					k.InternalError(rec, r)
				}
			}
			level := slog.LevelInfo
			if rec.status >= 500 {
				level = slog.LevelError
			}
			k.Log.LogAttrs(ctx, level, "request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path), // never the query: it may carry codes and hints
				slog.Int("status", rec.status),
				slog.Int("bytes", rec.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("client_ip", ClientIP(ctx)),
			)
			if k.opts.Observe != nil {
				k.opts.Observe(r, rec.status, time.Since(start))
			}
		}()
		if !readableText(r) {
			k.refuseUnreadableText(rec, r)
			return
		}
		next.ServeHTTP(rec, r)
	})
}

// pageHeaders sets the headers SECURITY.md asks of every browser page.
func (k *Kit) PageHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", k.csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// APIHeaders sets the headers of the JSON endpoints, and CORS for those a
// browser app calls directly. The wildcard origin is safe: these endpoints
// take no cookies, only explicit credentials.
func APIHeaders(cors bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if cors && r.Header.Get("Origin") != "" {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			if r.Method == http.MethodOptions {
				h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
				h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
				h.Set("Access-Control-Max-Age", "600")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

// readableText reports whether every field of the request is valid UTF-8
// without NUL: the path, the query, the Authorization header (and the
// client id and secret inside HTTP Basic credentials, which RFC 6749
// §2.3.1 form-encodes), and a form, multipart or JSON body. PostgreSQL
// refuses anything else in a text parameter (SQLSTATE 22021), so such a
// value would otherwise surface as a 500 deep in some handler; SQLite
// would store it. A body is read here and put back for the handler as it
// was, its read error (a body over the cap) included.
func readableText(r *http.Request) bool {
	if !validText(r.URL.Path) || !validEncoded(r.URL.RawQuery) {
		return false
	}
	for _, v := range r.Header.Values("Authorization") {
		if !validText(v) || !validBasic(v) {
			return false
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return true
	}
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" && mt != "multipart/form-data" && mt != "application/json" {
		return true
	}
	body, err := io.ReadAll(r.Body)
	rest := io.Reader(http.NoBody)
	if err != nil {
		rest = errReader{err}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(body), rest), r.Body}
	switch mt {
	case "application/x-www-form-urlencoded":
		return validEncoded(string(body))
	case "multipart/form-data":
		return validMultipart(body, params["boundary"])
	}
	return validJSON(body)
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// validText reports whether s is valid UTF-8 without NUL.
func validText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// validEncoded reports whether the names and values of a URL-encoded
// form or query are valid text once decoded. Pieces that do not decode
// are left to the handler, which refuses them as it always did.
func validEncoded(raw string) bool {
	if !strings.Contains(raw, "%") {
		return validText(raw) // '+' decodes to a space
	}
	values, _ := url.ParseQuery(raw)
	for k, vs := range values {
		if !validText(k) {
			return false
		}
		for _, v := range vs {
			if !validText(v) {
				return false
			}
		}
	}
	return true
}

// validBasic checks the client id and secret of HTTP Basic credentials,
// as sent and once form-decoded.
func validBasic(header string) bool {
	scheme, credentials, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return true
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(credentials))
	if err != nil {
		return true // not Basic credentials at all; the handler refuses them
	}
	if !validText(string(raw)) {
		return false
	}
	id, secret, _ := strings.Cut(string(raw), ":")
	for _, part := range []string{id, secret} {
		if decoded, err := url.QueryUnescape(part); err == nil && !validText(decoded) {
			return false
		}
	}
	return true
}

// validMultipart checks the names and values of a multipart form's
// fields (file parts are not text).
func validMultipart(body []byte, boundary string) bool {
	if boundary == "" {
		return true
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	for {
		part, err := mr.NextPart()
		if err != nil {
			return true // the end, or a malformed body the handler refuses
		}
		if part.FileName() != "" {
			continue
		}
		value, err := io.ReadAll(part)
		if err != nil {
			return true
		}
		if !validText(part.FormName()) || !validText(string(value)) {
			return false
		}
	}
}

// validJSON checks the strings of a JSON body for NUL. encoding/json
// turns invalid UTF-8 into U+FFFD itself, but decodes \u0000, which is
// the only way a NUL can be in JSON: only a body holding that escape is
// decoded here.
func validJSON(body []byte) bool {
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			return true // the end, or JSON the handler refuses
		}
		if s, ok := tok.(string); ok && strings.IndexByte(s, 0) >= 0 {
			return false
		}
	}
}

// apiPaths are the endpoints that answer JSON; every other path is a
// browser page.
var apiPaths = []string{"/token", "/introspect", "/revoke", "/userinfo", "/register", "/.well-known/", "/health/"}

func (k *Kit) isAPIPath(path string) bool {
	path = strings.TrimPrefix(path, k.Base)
	for _, p := range apiPaths {
		if path == p || strings.HasPrefix(path, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
	}
	return false
}

// refuseUnreadableText answers a request readableText refused: an RFC
// 6749 §5.2 invalid_request for the API, the error page for a browser.
// It never repeats the text.
func (k *Kit) refuseUnreadableText(w http.ResponseWriter, r *http.Request) {
	k.Log.InfoContext(r.Context(), "request refused: text that is not valid UTF-8")
	if k.isAPIPath(r.URL.Path) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		WriteJSONError(w, http.StatusBadRequest, "invalid_request", "The request holds text that is not valid UTF-8 (or holds a NUL character).")
		return
	}
	k.PageHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k.RenderError(w, r, http.StatusBadRequest, "This request cannot be read",
			"It holds text that is not valid UTF-8. Go back and try again.", "")
	})).ServeHTTP(w, r)
}
