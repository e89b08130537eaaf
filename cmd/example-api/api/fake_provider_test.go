package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
)

// testKeys are generated once: RSA keys are slow to make.
var testKeys = sync.OnceValue(func() (k struct{ es, es2, rs *jose.JSONWebKey }) {
	ec := func(kid string) *jose.JSONWebKey {
		priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			panic(err)
		}
		return &jose.JSONWebKey{Key: priv, KeyID: kid, Algorithm: string(jose.ES256), Use: "sig"}
	}
	rs, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	k.es, k.es2 = ec("es-1"), ec("es-2")
	k.rs = &jose.JSONWebKey{Key: rs, KeyID: "rs-1", Algorithm: string(jose.RS256), Use: "sig"}
	return k
})

// fakeProvider is the part of Ajrly Auth the API talks to: discovery,
// the JWKS and introspection, with answers a test sets.
type fakeProvider struct {
	t      *testing.T
	srv    *httptest.Server
	issuer string

	clientID, secret string

	mu        sync.Mutex
	published []*jose.JSONWebKey // private keys; their public parts are served
	answers   map[string]map[string]any

	down            atomic.Bool // every endpoint answers 503
	discoveries     atomic.Int64
	jwksFetches     atomic.Int64
	introspections  atomic.Int64
	discoveryIssuer string // when set, discovery claims this issuer
}

func newFakeProvider(t *testing.T) *fakeProvider {
	t.Helper()
	k := testKeys()
	f := &fakeProvider{t: t, clientID: "cl_api", secret: "api-secret/with+odd=chars",
		published: []*jose.JSONWebKey{k.es, k.rs}, answers: map[string]map[string]any{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		f.discoveries.Add(1)
		if f.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		iss := f.issuer
		if f.discoveryIssuer != "" {
			iss = f.discoveryIssuer
		}
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer": iss, "jwks_uri": f.issuer + "/.well-known/jwks.json", "introspection_endpoint": f.issuer + "/introspect",
		})
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		f.jwksFetches.Add(1)
		if f.down.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		f.mu.Lock()
		set := jose.JSONWebKeySet{}
		for _, k := range f.published {
			set.Keys = append(set.Keys, k.Public())
		}
		f.mu.Unlock()
		writeJSON(w, http.StatusOK, set)
	})
	mux.HandleFunc("POST /introspect", func(w http.ResponseWriter, r *http.Request) {
		f.introspections.Add(1)
		if f.down.Load() {
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "temporarily_unavailable"})
			return
		}
		id, secret, ok := r.BasicAuth()
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
		if !ok || id != f.clientID || secret != f.secret {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid_client"})
			return
		}
		f.mu.Lock()
		answer, found := f.answers[r.PostFormValue("token")]
		f.mu.Unlock()
		if !found {
			answer = map[string]any{"active": false}
		}
		writeJSON(w, http.StatusOK, answer)
	})
	f.srv = httptest.NewServer(mux)
	f.issuer = f.srv.URL
	t.Cleanup(f.srv.Close)
	return f
}

// answer sets what introspection says about token.
func (f *fakeProvider) answer(token string, a map[string]any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers[token] = a
}

// publish adds a key to the JWKS.
func (f *fakeProvider) publish(k *jose.JSONWebKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.published = append(f.published, k)
}

// apiKey returns a well-formed sk_live_ key that introspects as active
// with scope, for org.
func (f *fakeProvider) apiKey(t *testing.T, org, scope string) string {
	t.Helper()
	key := "sk_live_" + (rand.Text() + rand.Text())[:43]
	f.answer(key, map[string]any{
		"active": true, "scope": scope, "client_id": "key_1", "sub": "usr_1", "org": org,
		"iat": time.Now().Unix(), "iss": f.issuer, "token_type": "Bearer", "token_use": "api_key",
		"key_id": "key_1", "key_name": "test",
	})
	return key
}

// clock is a clock tests move.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newTestServer starts the API against f with a moveable clock.
func newTestServer(t *testing.T, f *fakeProvider, adjust ...func(*Options)) (*Server, *clock) {
	t.Helper()
	c := newClock()
	o := Options{
		Issuer: f.issuer, ClientID: f.clientID, ClientSecret: f.secret, Audience: DefaultAudience,
		CacheTTL: 10 * time.Second, Now: c.Now, HTTPClient: f.srv.Client(),
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil)),
	}
	for _, a := range adjust {
		a(&o)
	}
	s, err := New(o)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	return s, c
}

// testWriter sends logs to the test's output.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// answer is one response of the API.
type answer struct {
	status    int
	challenge string
	header    http.Header
	body      map[string]any
}

// call sends one request; bearer "" sends no Authorization header.
func call(t *testing.T, h http.Handler, method, target, bearer string, body string) answer {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return do(t, h, req)
}

func do(t *testing.T, h http.Handler, req *http.Request) answer {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := answer{status: rec.Code, challenge: rec.Header().Get("WWW-Authenticate"), header: rec.Header()}
	if rec.Body.Len() > 0 && req.Method != http.MethodHead {
		if err := json.Unmarshal(rec.Body.Bytes(), &a.body); err != nil {
			t.Fatalf("%s %s: body is not JSON: %s", req.Method, req.URL, rec.Body)
		}
	}
	return a
}

// checkedBy is how the answer says the credential was checked.
func (a answer) checkedBy() string {
	c, _ := a.body["caller"].(map[string]any)
	s, _ := c["checked_by"].(string)
	return s
}

// cached reports how many answers the cache holds (for tests).
func (in *introspector) cached() int {
	in.mu.Lock()
	defer in.mu.Unlock()
	return len(in.cache)
}
