package api

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// introspector checks sk_live_ keys and opaque access tokens at the
// provider's introspection endpoint (RFC 7662) and remembers positive
// answers for a short while. Entries are keyed by the SHA-256 of the
// token, so the cache never holds a credential; they live at most the
// cache TTL and never past the token's exp. Negative answers are not
// kept: a key created a second ago must work at once.
type introspector struct {
	p        *providerClient
	issuer   string
	audience string
	ttl      time.Duration
	size     int
	leeway   time.Duration
	now      func() time.Time

	mu    sync.Mutex
	cache map[[sha256.Size]byte]cacheEntry
}

type cacheEntry struct {
	caller Caller
	until  time.Time
}

func newIntrospector(p *providerClient, o Options) *introspector {
	return &introspector{
		p: p, issuer: o.Issuer, audience: o.Audience, ttl: o.CacheTTL, size: o.CacheSize, leeway: o.Leeway, now: o.Now,
		cache: map[[sha256.Size]byte]cacheEntry{},
	}
}

// check returns the caller a key or opaque token speaks for.
func (in *introspector) check(ctx context.Context, token string) (*Caller, error) {
	now := in.now()
	digest := sha256.Sum256([]byte(token))
	if c, ok := in.lookup(digest, now); ok {
		return c, nil
	}
	answer, err := in.p.introspect(ctx, token)
	if err != nil {
		return nil, err
	}
	c, err := in.caller(answer, now)
	if err != nil {
		return nil, err
	}
	in.store(digest, c, now)
	return c, nil
}

// caller turns an introspection answer into a caller, refusing what is
// not an active access credential meant for this API.
func (in *introspector) caller(a *introspection, now time.Time) (*Caller, error) {
	if !a.Active {
		return nil, invalidToken("The credential is invalid, expired or revoked.", nil)
	}
	c := &Caller{
		Subject: a.Subject, Org: a.Org, ClientID: a.ClientID, Scope: a.Scope,
		CheckedBy: CheckedByIntrospection, KeyID: a.KeyID,
	}
	switch {
	case a.TokenUse == "api_key":
		c.Credential = CredentialAPIKey
	case (a.TokenUse == "access_token" || a.TokenUse == "") && (a.TokenType == "" || strings.EqualFold(a.TokenType, "Bearer")):
		c.Credential = CredentialAccessToken
	default:
		return nil, invalidToken(fmt.Sprintf("The credential is not an access token (it is a %s).", a.TokenType), nil)
	}
	if a.Issuer != "" && a.Issuer != in.issuer {
		return nil, invalidToken(fmt.Sprintf("The credential was issued by %q, not by %s.", a.Issuer, in.issuer), nil)
	}
	// Tokens without an audience are for any of the issuer's APIs; one
	// with an audience must name this one.
	if len(a.Audience) > 0 && !slices.Contains(a.Audience, in.audience) {
		return nil, invalidToken(fmt.Sprintf("The credential is not meant for this API (aud %q does not contain %s).", strings.Join(a.Audience, " "), in.audience), nil)
	}
	if a.Expiry != nil {
		c.ExpiresAt = a.Expiry.Time()
		if !now.Before(c.ExpiresAt.Add(in.leeway)) {
			return nil, invalidToken("The credential has expired.", nil)
		}
	}
	if a.NotBefore != nil && now.Add(in.leeway).Before(a.NotBefore.Time()) {
		return nil, invalidToken("The credential is not valid yet (nbf).", nil)
	}
	return c, nil
}

func (in *introspector) lookup(digest [sha256.Size]byte, now time.Time) (*Caller, bool) {
	if in.ttl <= 0 {
		return nil, false
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	e, ok := in.cache[digest]
	if !ok {
		return nil, false
	}
	if !now.Before(e.until) {
		delete(in.cache, digest)
		return nil, false
	}
	c := e.caller
	return &c, true
}

func (in *introspector) store(digest [sha256.Size]byte, c *Caller, now time.Time) {
	if in.ttl <= 0 {
		return
	}
	until := now.Add(in.ttl)
	if !c.ExpiresAt.IsZero() && c.ExpiresAt.Before(until) {
		until = c.ExpiresAt
	}
	if !until.After(now) {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if len(in.cache) >= in.size {
		for d, e := range in.cache {
			if !now.Before(e.until) {
				delete(in.cache, d)
			}
		}
		// Still full: forget entries at random (map order); they are
		// only a shortcut.
		for d := range in.cache {
			if len(in.cache) < in.size*9/10 {
				break
			}
			delete(in.cache, d)
		}
	}
	in.cache[digest] = cacheEntry{caller: *c, until: until}
}
