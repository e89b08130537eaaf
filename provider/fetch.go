package provider

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync"
	"syscall"
	"time"

	"github.com/go-jose/go-jose/v3"
	"github.com/ory/fosite"

	"github.com/ajrly/ajrly-auth/provider/clients"
	"github.com/ajrly/ajrly-auth/storage"
)

// Limits of fetching what clients host (a jwks_uri, a request_uri).
const (
	fetchTimeout  = 5 * time.Second
	fetchMaxBytes = 256 << 10
	jwksCacheTTL  = 10 * time.Minute
	// jwksMinRefresh is the least time between two fetches of one jwks_uri
	// forced by an unknown kid, so that a client cannot make the server
	// fetch on every request.
	jwksMinRefresh = 30 * time.Second
)

// remoteFetcher fetches documents clients host. It refuses what would let
// a client aim the server at its own network (SSRF): only https, or http
// to a loopback host when allowLoopback is set (development); only global
// unicast addresses outside the IANA special-purpose registries
// (checkDialAddress), checked on the address actually dialled.
type remoteFetcher struct {
	client        *http.Client
	allowLoopback bool
}

func newRemoteFetcher(allowLoopback bool) *remoteFetcher {
	f := &remoteFetcher{allowLoopback: allowLoopback}
	// The address is checked in Control, after DNS and before connect(2),
	// so neither DNS nor a redirect can route around it.
	dialer := &net.Dialer{Timeout: fetchTimeout, Control: func(_, address string, _ syscall.RawConn) error {
		host, _, err := net.SplitHostPort(address)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return err
		}
		return checkDialAddress(ip, f.allowLoopback)
	}}
	f.client = &http.Client{
		Timeout: fetchTimeout,
		Transport: &http.Transport{
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   fetchTimeout,
			ResponseHeaderTimeout: fetchTimeout,
			MaxIdleConns:          16,
			IdleConnTimeout:       time.Minute,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return f.checkURL(req.URL)
		},
	}
	return f
}

func (f *remoteFetcher) checkURL(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && f.allowLoopback && clients.IsLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("%s: only https URLs are fetched", u.Redacted())
}

// get fetches location and returns at most fetchMaxBytes of its body.
func (f *remoteFetcher) get(ctx context.Context, location string) ([]byte, error) {
	u, err := url.Parse(location)
	if err != nil {
		return nil, fmt.Errorf("fetch %q: %w", location, err)
	}
	if err := f.checkURL(u); err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json, application/jwk-set+json, application/jwt")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("fetch %s: status %d", u.Redacted(), resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, fetchMaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", u.Redacted(), err)
	}
	if len(body) > fetchMaxBytes {
		return nil, fmt.Errorf("fetch %s: larger than %d bytes", u.Redacted(), fetchMaxBytes)
	}
	return body, nil
}

var _ fosite.JWKSFetcherStrategy = (*jwksFetcher)(nil)

// jwksFetcher is fosite's JWKSFetcherStrategy for clients' jwks_uri:
// cached for jwksCacheTTL, fetched again when an assertion carries an
// unknown kid (a client rotated its keys), at once the first time but
// then at most once per jwksMinRefresh, so random kids cannot make us
// hammer a client's server.
type jwksFetcher struct {
	fetch *remoteFetcher
	now   func() time.Time

	mu    sync.Mutex
	cache map[string]cachedJWKS
}

type cachedJWKS struct {
	set     jose.JSONWebKeySet
	err     error // the fetch failed
	fetched time.Time
	forced  time.Time // the last fetch for an unknown kid
}

func newJWKSFetcher(fetch *remoteFetcher, now func() time.Time) *jwksFetcher {
	return &jwksFetcher{fetch: fetch, now: now, cache: map[string]cachedJWKS{}}
}

// Resolve returns the key set at location; ignoreCache asks for a fresh
// copy, which the rate limit may answer from the cache.
func (f *jwksFetcher) Resolve(ctx context.Context, location string, ignoreCache bool) (*jose.JSONWebKeySet, error) {
	now := f.now()
	f.mu.Lock()
	entry, ok := f.cache[location]
	f.mu.Unlock()
	if ok {
		fresh := now.Sub(entry.fetched) < jwksCacheTTL
		if entry.err != nil && now.Sub(entry.fetched) < jwksMinRefresh {
			return nil, entry.err // failed just now: do not try again on every request
		}
		if entry.err == nil && (!ignoreCache && fresh || ignoreCache && now.Sub(entry.forced) < jwksMinRefresh) {
			return &entry.set, nil
		}
	}
	next := cachedJWKS{fetched: now, forced: entry.forced}
	if ignoreCache {
		next.forced = now
	}
	if body, err := f.fetch.get(ctx, location); err != nil {
		next.err = fosite.ErrInvalidClient.WithHint("The client's jwks_uri could not be fetched.").WithWrap(err).WithDebug(err.Error())
	} else if err := json.Unmarshal(body, &next.set); err != nil {
		next.err = fosite.ErrInvalidClient.WithHint("The client's jwks_uri does not hold a JSON Web Key Set.").WithWrap(err)
	} else {
		storage.SignatureKeys(&next.set)
		dropWeakKeys(&next.set) // RSA under 2048 bits, EC off P-256
	}
	if ctx.Err() != nil {
		return nil, next.err // the request went away; not the client's fault
	}
	f.mu.Lock()
	if len(f.cache) > 10000 {
		f.cache = map[string]cachedJWKS{}
	}
	f.cache[location] = next
	f.mu.Unlock()
	if next.err != nil {
		return nil, next.err
	}
	return &next.set, nil
}
