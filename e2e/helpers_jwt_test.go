// Signing and checking JWTs: client keys and their assertions (RFC 7523),
// unsigned and forged tokens, the hosts of a jwks_uri and of request
// objects, the provider's key set, and checks of access-token JWTs.

package e2e

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"

	"github.com/ajrly/ajrly-auth/provider"
)

// jwtBearer is the client_assertion_type of RFC 7523 §2.2.
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// clientKey is a key pair an app signs its client assertions with.
type clientKey struct {
	kid  string
	alg  jose.SignatureAlgorithm
	priv crypto.Signer
}

func newClientKey(t testing.TB, alg jose.SignatureAlgorithm) clientKey {
	t.Helper()
	var (
		priv crypto.Signer
		err  error
	)
	switch alg {
	case jose.ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	}
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{kid: "key-" + randomString(t), alg: alg, priv: priv}
}

// public is the key as the app publishes it.
func (k clientKey) public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

func keySet(keys ...clientKey) jose.JSONWebKeySet {
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, k.public())
	}
	return set
}

// assertionClaims are the claims of a client assertion (RFC 7523 §3):
// iss = sub = the client, the audience, a fresh jti, a minute to live.
func assertionClaims(t testing.TB, clientID, audience string) jwt.Claims {
	now := time.Now()
	return jwt.Claims{
		Issuer: clientID, Subject: clientID, Audience: jwt.Audience{audience}, ID: randomString(t),
		IssuedAt: jwt.NewNumericDate(now), Expiry: jwt.NewNumericDate(now.Add(time.Minute)),
	}
}

// sign signs claims with the key's algorithm and kid (none when kid is
// empty).
func (k clientKey) sign(t testing.TB, claims any) string {
	t.Helper()
	return k.signAs(t, k.alg, claims)
}

func (k clientKey) signAs(t testing.TB, alg jose.SignatureAlgorithm, claims any) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if k.kid != "" {
		opts = opts.WithHeader("kid", k.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// withAssertion adds a client assertion to a token, introspection or
// revocation form.
func withAssertion(form url.Values, assertion string) url.Values {
	out := url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {assertion}}
	for k, v := range form {
		out[k] = v
	}
	return out
}

// unsigned is a JWT with alg "none" and the given kid.
func unsigned(t testing.TB, kid string, claims any) string {
	t.Helper()
	header, _ := json.Marshal(map[string]string{"alg": "none", "kid": kid, "typ": "JWT"})
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc(header) + "." + enc(payload) + "."
}

// hmacWithPublicKey signs claims with HS256 keyed by the DER of an RSA
// public key: the algorithm confusion attack.
func hmacWithPublicKey(t testing.TB, k clientKey, claims any) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(k.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: der},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", k.kid))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// jwksHost is an app's jwks_uri on 127.0.0.1: it serves the keys it is
// given and counts how often it is fetched.
type jwksHost struct {
	url  string
	mu   sync.Mutex
	set  jose.JSONWebKeySet
	hits int
	down bool
}

func newJWKSHost(t testing.TB, keys ...clientKey) *jwksHost {
	t.Helper()
	h := &jwksHost{set: keySet(keys...)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h.mu.Lock()
		h.hits++
		b, _ := json.Marshal(h.set)
		down := h.down
		h.mu.Unlock()
		if down {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL + "/jwks.json"
	return h
}

// serve replaces the published keys.
func (h *jwksHost) serve(keys ...clientKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.set = keySet(keys...)
}

// fail makes the host answer 503 (down) or serve its keys again.
func (h *jwksHost) fail(down bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.down = down
}

// fetches is how often the key set was fetched.
func (h *jwksHost) fetches() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hits
}

// objectHost serves request objects at request_uris, by path.
type objectHost struct {
	url string
	mu  sync.Mutex
	obj map[string]string
}

func newObjectHost(t *testing.T) *objectHost {
	t.Helper()
	h := &objectHost{obj: map[string]string{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		body, ok := h.obj[r.URL.Path]
		h.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/oauth-authz-req+jwt")
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	h.url = srv.URL
	return h
}

// put publishes a request object at path and returns its URL.
func (h *objectHost) put(path, object string) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.obj[path] = object
	return h.url + path
}

// jwks fetches the server's key set.
func (s *server) jwks(t testing.TB) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(s.URL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("jwks: status %d", resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	return set
}

// signWithProviderKey signs claims with the provider's own ES256 key,
// with typ as the header's type.
func signWithProviderKey(t *testing.T, s *server, typ string, claims map[string]any) string {
	t.Helper()
	key, err := s.Provider.Keys().SigningKey(provider.AlgES256)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// verifyAccessJWT checks an RFC 9068 token against the server's JWKS, as a
// resource server would, and returns its header type and claims.
func verifyAccessJWT(t *testing.T, s *server, token string) map[string]any {
	t.Helper()
	set := s.jwks(t)
	jws, err := jose.ParseSigned(token)
	if err != nil {
		t.Fatalf("parse access token: %v", err)
	}
	h := jws.Signatures[0].Protected
	if h.ExtraHeaders[jose.HeaderType] != "at+jwt" || h.Algorithm != "ES256" {
		t.Errorf("header typ %v alg %s, want at+jwt ES256", h.ExtraHeaders[jose.HeaderType], h.Algorithm)
	}
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("the access token does not verify against the JWKS: %v", err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	return claims
}
