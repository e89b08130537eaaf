package provider

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/ajrly/ajrly-auth/storage"
)

// Signing algorithms. ID tokens are RS256 (OpenID Connect requires it);
// JWT access tokens are ES256, which signs some thirty times faster.
const (
	AlgRS256 = "RS256"
	AlgES256 = "ES256"
)

// keyStore is what KeySet needs from storage.
type keyStore interface {
	ListSigningKeys(ctx context.Context) ([]storage.SigningKey, error)
	CreateSigningKey(ctx context.Context, k *storage.SigningKey) error
}

// KeySet holds the provider's signing keys in memory. Requests never read
// keys from the database: they are loaded at start and on Reload.
type KeySet struct {
	store   keyStore
	sealKey []byte
	now     func() time.Time
	log     *slog.Logger

	mu      sync.RWMutex
	signing map[string]*jose.JSONWebKey // alg -> the newest unretired private key
	public  map[string]*jose.JSONWebKey // kid -> every published public key
	jwks    []byte                      // the JWKS document, encoded once per load
}

// LoadKeys loads the signing keys and creates any that are missing (an
// RS256 and an ES256 key on first start).
func LoadKeys(ctx context.Context, store keyStore, sealKey []byte, now func() time.Time, log *slog.Logger) (*KeySet, error) {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k := &KeySet{store: store, sealKey: sealKey, now: now, log: log}
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	for _, alg := range []string{AlgRS256, AlgES256} {
		if _, err := k.SigningKey(alg); err == nil {
			continue
		}
		if err := k.create(ctx, alg); err != nil {
			return nil, err
		}
		log.InfoContext(ctx, "generated signing key", "alg", alg)
	}
	return k, k.Reload(ctx)
}

// create generates, seals and stores a new key for alg.
func (k *KeySet) create(ctx context.Context, alg string) error {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return fmt.Errorf("create signing key: unsupported algorithm %s", alg)
	}
	if err != nil {
		return fmt.Errorf("generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: alg, Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return fmt.Errorf("thumbprint %s key: %w", alg, err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	privJSON, err := jwk.MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode %s key: %w", alg, err)
	}
	pubJSON, err := jwk.Public().MarshalJSON()
	if err != nil {
		return fmt.Errorf("encode %s public key: %w", alg, err)
	}
	sealed, err := seal(k.sealKey, privJSON, []byte(jwk.KeyID))
	if err != nil {
		return fmt.Errorf("seal %s key: %w", alg, err)
	}
	return k.store.CreateSigningKey(ctx, &storage.SigningKey{
		KID:        jwk.KeyID,
		Alg:        alg,
		PublicJWK:  string(pubJSON),
		PrivateEnc: sealed,
		CreatedAt:  k.now().UTC(),
	})
}

// Reload reads the keys from storage again, e.g. after a rotation.
func (k *KeySet) Reload(ctx context.Context) error {
	rows, err := k.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	signing := map[string]*jose.JSONWebKey{}
	public := map[string]*jose.JSONWebKey{}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	for _, row := range rows { // oldest first: the newest unretired key per algorithm wins
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON([]byte(row.PublicJWK)); err != nil {
			return fmt.Errorf("decode public key %s: %w", row.KID, err)
		}
		public[row.KID] = &pub
		set.Keys = append(set.Keys, pub)
		if row.RetiredAt != nil {
			continue
		}
		plain, err := open(k.sealKey, row.PrivateEnc, []byte(row.KID))
		if err != nil {
			return fmt.Errorf("unseal signing key %s: %w", row.KID, err)
		}
		var priv jose.JSONWebKey
		if err := priv.UnmarshalJSON(plain); err != nil {
			return fmt.Errorf("decode signing key %s: %w", row.KID, err)
		}
		if k, ok := priv.Key.(*rsa.PrivateKey); ok {
			// go-jose leaves the CRT values out; without them every RS256
			// signature recomputes them (6% of a code exchange, measured).
			k.Precompute()
		}
		signing[row.Alg] = &priv
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("encode jwks: %w", err)
	}
	k.mu.Lock()
	k.signing, k.public, k.jwks = signing, public, jwks
	k.mu.Unlock()
	return nil
}

// SigningKey returns the private key that signs with alg now.
func (k *KeySet) SigningKey(alg string) (*jose.JSONWebKey, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.signing[alg]
	if !ok {
		return nil, fmt.Errorf("no %s signing key", alg)
	}
	return key, nil
}

// PublicKey returns a published public key by kid.
func (k *KeySet) PublicKey(kid string) (*jose.JSONWebKey, bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	key, ok := k.public[kid]
	return key, ok
}

// JWKS returns the JSON Web Key Set document with every published key.
func (k *KeySet) JWKS() []byte {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.jwks
}

// Run reloads the keys every interval until ctx ends, so that a rotation
// made by another instance reaches this one.
func (k *KeySet) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Reload(ctx); err != nil && !errors.Is(err, context.Canceled) {
				k.log.WarnContext(ctx, "reload signing keys", "err", err)
			}
		}
	}
}
