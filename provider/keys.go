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
	"slices"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v3"

	"github.com/ajrly/ajrly-auth/provider/audit"
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
	RotateSigningKey(ctx context.Context, next *storage.SigningKey, prev string, retireAt, expireAt time.Time) error
	ReplaceSigningKeys(ctx context.Context, next *storage.SigningKey) error
}

// KeyActivation is how long a new signing key is published before it
// signs: long enough for every instance to reload its keys (each minute)
// and for every client that cached the JWKS (max-age five minutes) to
// fetch it again, so no one meets a token whose kid they cannot find.
const KeyActivation = 10 * time.Minute

// keyGrace is added to how long a replaced key stays published, for
// instances that reload late and clocks that disagree.
const keyGrace = 5 * time.Minute

// KeyRotation is when signing keys rotate.
type KeyRotation struct {
	// Every is how long a key signs before a new one replaces it; 0 means
	// never on its own (only `ajrly-auth keys rotate` rotates).
	Every time.Duration
	// Lifetime is the longest a JWT signed by a key lives (ID tokens, JWT
	// access tokens, API-key JWTs): a replaced key stays in the JWKS that
	// long after it stops signing.
	Lifetime time.Duration
}

// KeySet holds the provider's signing keys in memory. Requests never read
// keys from the database: they are loaded at start and on Reload.
type KeySet struct {
	store    keyStore
	sealKey  []byte
	now      func() time.Time
	log      *slog.Logger
	rotation KeyRotation

	mu      sync.RWMutex
	signing map[string]*jose.JSONWebKey   // alg -> the private key that signs now
	newest  map[string]storage.SigningKey // alg -> the newest key still to stop signing (no private part)
	public  map[string]*jose.JSONWebKey   // kid -> every published public key
	jwks    []byte                        // the JWKS document, encoded once per load
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
	row, err := k.generate(alg)
	if err != nil {
		return err
	}
	return k.store.CreateSigningKey(ctx, row)
}

// generate makes a new sealed key for alg, not yet stored.
func (k *KeySet) generate(alg string) (*storage.SigningKey, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case AlgRS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case AlgES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return nil, fmt.Errorf("create signing key: unsupported algorithm %s", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	jwk := jose.JSONWebKey{Key: priv, Algorithm: alg, Use: "sig"}
	thumb, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("thumbprint %s key: %w", alg, err)
	}
	jwk.KeyID = base64.RawURLEncoding.EncodeToString(thumb)
	privJSON, err := jwk.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode %s key: %w", alg, err)
	}
	pubJSON, err := jwk.Public().MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("encode %s public key: %w", alg, err)
	}
	sealed, err := seal(k.sealKey, privJSON, []byte(jwk.KeyID))
	if err != nil {
		return nil, fmt.Errorf("seal %s key: %w", alg, err)
	}
	return &storage.SigningKey{
		KID:        jwk.KeyID,
		Alg:        alg,
		PublicJWK:  string(pubJSON),
		PrivateEnc: sealed,
		CreatedAt:  k.now().UTC().Truncate(time.Second),
	}, nil
}

// SetRotation sets when keys rotate on their own and how long replaced
// keys stay published.
func (k *KeySet) SetRotation(r KeyRotation) { k.rotation = r }

// Rotated is what a rotation did.
type Rotated struct {
	Alg      string
	KID      string    // the new key
	SignsAt  time.Time // when the new key starts signing
	Replaced string    // the key it replaces ("" if none)
	// LeavesAt is when the replaced key leaves the JWKS.
	LeavesAt time.Time
}

// Rotate replaces the signing key of alg. The new key is published at once
// and signs after KeyActivation; the old one signs until then and stays
// published for the lifetime of what it signed. With immediately (a key
// has leaked) the new key signs at once and every other key of alg leaves
// the JWKS now, so tokens they signed stop verifying.
func (k *KeySet) Rotate(ctx context.Context, alg string, immediately bool) (*Rotated, error) {
	rows, err := k.store.ListSigningKeys(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	prev := ""
	for _, row := range rows { // oldest first
		if row.Alg == alg && row.RetiredAt == nil {
			prev = row.KID
		}
	}
	return k.replace(ctx, alg, prev, immediately)
}

// replace stores a new key of alg that replaces prev ("" for none), and
// loads the keys again. If prev was replaced meanwhile it stores nothing
// and returns storage.ErrConflict.
func (k *KeySet) replace(ctx context.Context, alg, prev string, immediately bool) (*Rotated, error) {
	out, err := k.write(ctx, alg, prev, immediately)
	if err != nil {
		return nil, err
	}
	return out, k.Reload(ctx)
}

// write is replace without loading the keys again, so that a caller can
// make it part of a transaction and load them once it is committed.
func (k *KeySet) write(ctx context.Context, alg, prev string, immediately bool) (*Rotated, error) {
	next, err := k.generate(alg)
	if err != nil {
		return nil, err
	}
	now := next.CreatedAt
	out := &Rotated{Alg: alg, KID: next.KID, SignsAt: now.Add(KeyActivation), Replaced: prev}
	switch {
	case immediately:
		out.SignsAt, out.LeavesAt = now, now
		err = k.store.ReplaceSigningKeys(ctx, next)
	case prev == "":
		err = k.store.CreateSigningKey(ctx, next)
	default:
		out.LeavesAt = out.SignsAt.Add(k.rotation.Lifetime + keyGrace)
		err = k.store.RotateSigningKey(ctx, next, prev, out.SignsAt, out.LeavesAt)
	}
	if err != nil {
		return nil, err
	}
	k.log.InfoContext(ctx, "rotated signing key", "alg", alg, "kid", out.KID, "signs_at", out.SignsAt,
		"replaced", out.Replaced, "replaced_leaves_jwks_at", out.LeavesAt, "immediately", immediately)
	return out, nil
}

// keyEventLog is what recording scheduled rotations in the audit log
// needs of the key store; a store without it records none.
type keyEventLog interface {
	audit.Appender
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// RotationEvent is the audit event of a rotation.
func RotationEvent(r *Rotated, immediately bool) audit.Event {
	detail := "the new key signs from " + r.SignsAt.UTC().Format(time.RFC3339)
	if r.Replaced != "" {
		detail += "; it replaces " + r.Replaced + ", published until " + r.LeavesAt.UTC().Format(time.RFC3339)
	}
	if immediately {
		detail += " (at once: tokens the old keys signed stop verifying)"
	}
	return audit.Event{Kind: audit.SigningKeyRotated, TargetID: r.KID, Target: r.Alg + " key " + r.KID, Detail: detail}
}

// scheduledActor is who rotates keys on schedule (signing_key_rotation).
var scheduledActor = audit.Actor{Email: "scheduled rotation (signing_key_rotation)"}

// rotateOnSchedule replaces prev, the newest key of alg, and records it in
// the audit log in the same transaction when the store keeps one.
func (k *KeySet) rotateOnSchedule(ctx context.Context, alg, prev string) error {
	events, ok := k.store.(keyEventLog)
	if !ok {
		_, err := k.replace(ctx, alg, prev, false)
		return err
	}
	err := events.InTx(ctx, func(ctx context.Context) error {
		r, err := k.write(ctx, alg, prev, false)
		if err != nil {
			return err
		}
		return audit.Record(ctx, events, scheduledActor, RotationEvent(r, false))
	})
	if err != nil {
		return err
	}
	return k.Reload(ctx)
}

// rotateDue rotates each algorithm whose newest key has signed for longer
// than the rotation period. Several instances may try at once; the store
// lets one rotation through.
func (k *KeySet) rotateDue(ctx context.Context) {
	if k.rotation.Every <= 0 {
		return
	}
	k.mu.RLock()
	var due []storage.SigningKey
	for _, row := range k.newest {
		if !k.now().Before(row.CreatedAt.Add(k.rotation.Every)) {
			due = append(due, row)
		}
	}
	k.mu.RUnlock()
	for _, row := range due {
		if err := k.rotateOnSchedule(ctx, row.Alg, row.KID); errors.Is(err, storage.ErrConflict) {
			_ = k.Reload(ctx) // another instance rotated first
		} else if err != nil {
			k.log.WarnContext(ctx, "scheduled signing key rotation", "alg", row.Alg, "err", err)
		}
	}
}

// Reload reads the keys from storage again, e.g. after a rotation.
func (k *KeySet) Reload(ctx context.Context) error {
	rows, err := k.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("load signing keys: %w", err)
	}
	// Oldest first; of two keys made in the same second, the one being
	// replaced is the older.
	slices.SortStableFunc(rows, func(a, b storage.SigningKey) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		switch {
		case a.RetiredAt != nil && b.RetiredAt == nil:
			return -1
		case a.RetiredAt == nil && b.RetiredAt != nil:
			return 1
		}
		return 0
	})
	now := k.now()
	signing := map[string]*jose.JSONWebKey{}
	newest := map[string]storage.SigningKey{}
	public := map[string]*jose.JSONWebKey{}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	// Oldest first. Per algorithm the newest key that still signs and has
	// been published for KeyActivation signs; if none has (the first
	// start, an immediate rotation), the oldest that still signs.
	for _, row := range rows {
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON([]byte(row.PublicJWK)); err != nil {
			return fmt.Errorf("decode public key %s: %w", row.KID, err)
		}
		public[row.KID] = &pub
		set.Keys = append(set.Keys, pub)
		if row.RetiredAt == nil {
			meta := row
			meta.PrivateEnc = nil
			newest[row.Alg] = meta
		}
		if row.RetiredAt != nil && !row.RetiredAt.After(now) {
			continue
		}
		isActive := !row.CreatedAt.After(now.Add(-KeyActivation))
		if _, seen := signing[row.Alg]; seen && !isActive {
			continue
		}
		priv, err := k.private(row)
		if err != nil {
			return err
		}
		signing[row.Alg] = priv
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return fmt.Errorf("encode jwks: %w", err)
	}
	k.mu.Lock()
	k.signing, k.newest, k.public, k.jwks = signing, newest, public, jwks
	k.mu.Unlock()
	return nil
}

// private returns the private key of a row: the one already in memory
// (a reload each minute need not unseal every key again) or unsealed now.
func (k *KeySet) private(row storage.SigningKey) (*jose.JSONWebKey, error) {
	k.mu.RLock()
	for _, key := range k.signing {
		if key.KeyID == row.KID {
			k.mu.RUnlock()
			return key, nil
		}
	}
	k.mu.RUnlock()
	plain, err := open(k.sealKey, row.PrivateEnc, []byte(row.KID))
	if err != nil {
		return nil, fmt.Errorf("unseal signing key %s: %w", row.KID, err)
	}
	var priv jose.JSONWebKey
	if err := priv.UnmarshalJSON(plain); err != nil {
		return nil, fmt.Errorf("decode signing key %s: %w", row.KID, err)
	}
	if key, ok := priv.Key.(*rsa.PrivateKey); ok {
		// go-jose leaves the CRT values out; without them every RS256
		// signature recomputes them (6% of a code exchange, measured).
		key.Precompute()
	}
	return &priv, nil
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
// made by another instance reaches this one (and a new key starts signing
// when its activation has passed), and rotates keys that are due.
func (k *KeySet) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := k.Reload(ctx); err != nil {
				if !errors.Is(err, context.Canceled) {
					k.log.WarnContext(ctx, "reload signing keys", "err", err)
				}
				continue
			}
			k.rotateDue(ctx)
		}
	}
}
