package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/go-jose/go-jose/v3/jwt"
)

// accessClaims are the claims of an RFC 9068 JWT access token of the
// provider (provider.AccessClaims).
type accessClaims struct {
	jwt.Claims
	Org      string `json:"org"`
	Scope    string `json:"scope"`
	ClientID string `json:"client_id"`
	KeyID    string `json:"key_id"`
}

// verifyJWT checks a JWT access token locally, as RFC 9068 §4 says: one
// signature, ES256 or RS256 only, by a key the issuer publishes (by kid)
// whose own algorithm is the header's, typ at+jwt (so an ID token, typ
// JWT, never passes), iss, aud, exp and nbf.
func (s *Server) verifyJWT(ctx context.Context, token string) (*Caller, error) {
	jws, err := jose.ParseSigned(token)
	if err != nil || len(jws.Signatures) != 1 {
		return nil, invalidToken("The JWT is malformed.", err)
	}
	h := jws.Signatures[0].Protected
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, invalidToken(fmt.Sprintf("The JWT is not an access token (typ %q, not at+jwt); ID tokens are not accepted here.", typ), nil)
	}
	alg := jose.SignatureAlgorithm(h.Algorithm)
	if alg != jose.ES256 && alg != jose.RS256 {
		return nil, invalidToken(fmt.Sprintf("The JWT's algorithm %q is not accepted (ES256 or RS256 only).", h.Algorithm), nil)
	}
	if h.KeyID == "" {
		return nil, invalidToken("The JWT names no signing key (kid).", nil)
	}
	key, err := s.keys.key(ctx, h.KeyID)
	if errors.Is(err, errUnknownKey) {
		return nil, invalidToken("The JWT is signed by a key the issuer does not publish.", err)
	} else if err != nil {
		return nil, err
	}
	if keyAlgorithm(key) != string(alg) {
		return nil, invalidToken(fmt.Sprintf("The JWT's key %s is not an %s key.", h.KeyID, alg), nil)
	}
	payload, err := jws.Verify(key.Key)
	if err != nil {
		return nil, invalidToken("The JWT's signature does not verify.", err)
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		return nil, invalidToken("The JWT's claims are malformed.", err)
	}
	now := s.opts.Now()
	leeway := s.opts.Leeway
	switch {
	case c.Issuer != s.opts.Issuer:
		return nil, invalidToken(fmt.Sprintf("The JWT was issued by %q, not by %s.", c.Issuer, s.opts.Issuer), nil)
	case !slices.Contains(c.Audience, s.opts.Audience):
		return nil, invalidToken(fmt.Sprintf("The JWT is not meant for this API (aud %q does not contain %s).", strings.Join(c.Audience, " "), s.opts.Audience), nil)
	case c.Expiry == nil:
		return nil, invalidToken("The JWT has no expiry (exp).", nil)
	case !now.Before(c.Expiry.Time().Add(leeway)):
		return nil, invalidToken("The JWT has expired.", nil)
	case c.NotBefore != nil && now.Add(leeway).Before(c.NotBefore.Time()):
		return nil, invalidToken("The JWT is not valid yet (nbf).", nil)
	case c.IssuedAt != nil && now.Add(leeway).Before(c.IssuedAt.Time()):
		return nil, invalidToken("The JWT was issued in the future (iat).", nil)
	}
	return &Caller{
		Subject: c.Subject, Org: c.Org, ClientID: c.ClientID, Scope: c.Scope,
		Credential: CredentialAccessToken, CheckedBy: CheckedByJWT, KeyID: c.KeyID,
		ExpiresAt: c.Expiry.Time(),
	}, nil
}

// errUnknownKey is a kid the issuer does not publish, even after a fetch.
var errUnknownKey = errors.New("unknown signing key")

// keySet caches the provider's JWKS. Keys are used for maxAge, then
// fetched again; an unknown kid causes a fetch too, but at most once per
// refetch interval, so forged kids cannot make us hammer the provider.
// While the provider is away, keys already known keep working.
type keySet struct {
	fetch   func(context.Context) (map[string]*jose.JSONWebKey, error)
	now     func() time.Time
	refetch time.Duration
	maxAge  time.Duration
	log     *slog.Logger

	fetchMu sync.Mutex // one fetch at a time; never held by a reader

	mu        sync.RWMutex
	keys      map[string]*jose.JSONWebKey
	fetchedAt time.Time // of the last successful fetch
	triedAt   time.Time // of the last attempt
	lastErr   error     // of the last attempt
}

// retryAfterFailure is how soon a failed fetch may be tried again: soon,
// so that the API recovers as soon as the provider does.
const retryAfterFailure = time.Second

// fetchTimeout bounds a fetch of the JWKS, whatever the HTTP client says.
const fetchTimeout = 10 * time.Second

func newKeySet(fetch func(context.Context) (map[string]*jose.JSONWebKey, error), o Options) *keySet {
	return &keySet{fetch: fetch, now: o.Now, refetch: o.JWKSRefetchInterval, maxAge: o.JWKSMaxAge, log: o.Logger}
}

// key returns the published key kid names, errUnknownKey, or an
// ErrUnavailable when the JWKS cannot be fetched.
func (k *keySet) key(ctx context.Context, kid string) (*jose.JSONWebKey, error) {
	k.mu.RLock()
	key, known := k.keys[kid]
	fresh := !k.fetchedAt.IsZero() && k.now().Sub(k.fetchedAt) < k.maxAge
	k.mu.RUnlock()
	if known && fresh {
		return key, nil
	}
	err := k.refresh(ctx)
	k.mu.RLock()
	if k2, ok := k.keys[kid]; ok {
		key, known = k2, true
	}
	k.mu.RUnlock()
	switch {
	case known:
		if err != nil {
			k.log.Warn("jwks: cannot refresh; using the keys fetched before", "err", err)
		}
		return key, nil
	case err != nil:
		return nil, err
	}
	return nil, errUnknownKey
}

// refresh fetches the keys, unless the last attempt was too recent: then
// it reports that attempt's outcome.
func (k *keySet) refresh(ctx context.Context) error {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	now := k.now()
	k.mu.RLock()
	triedAt, lastErr := k.triedAt, k.lastErr
	k.mu.RUnlock()
	wait := k.refetch
	if lastErr != nil {
		wait = min(wait, retryAfterFailure)
	}
	if !triedAt.IsZero() && now.Sub(triedAt) < wait {
		return lastErr
	}
	// The fetch outlives a caller that gives up: others are waiting for it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), fetchTimeout)
	defer cancel()
	keys, err := k.fetch(ctx)
	k.mu.Lock()
	defer k.mu.Unlock()
	k.triedAt, k.lastErr = now, err
	if err == nil {
		k.keys, k.fetchedAt = keys, now
	}
	return err
}
