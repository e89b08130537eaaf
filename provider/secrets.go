package provider

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Purposes for keys derived from the system secret. Each use gets its own
// key so that no two mechanisms ever share one.
const (
	PurposeTokenHMAC   = "ajrly token hmac v1" //nolint:gosec // G101: a key-derivation label, not a credential
	PurposeSigningKeys = "ajrly signing key encryption v1"
	PurposeCookies     = "ajrly cookies v1"
)

// DeriveKey derives a 32-byte key for one purpose from the system secret
// (HKDF-SHA-256).
func DeriveKey(secret []byte, purpose string) ([]byte, error) {
	if len(secret) < 32 {
		return nil, errors.New("derive key: the system secret must be at least 32 bytes")
	}
	return hkdf.Key(sha256.New, secret, nil, purpose, 32)
}

// Seal encrypts plaintext with AES-256-GCM under key, bound to aad.
func Seal(key, plaintext, aad []byte) ([]byte, error) { return seal(key, plaintext, aad) }

// Open decrypts what Seal produced with the same key and aad.
func Open(key, sealed, aad []byte) ([]byte, error) { return open(key, sealed, aad) }

// seal encrypts plaintext with AES-256-GCM; aad binds the ciphertext to its
// context (the key id) so sealed values cannot be swapped between rows.
func seal(key, plaintext, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return gcm.Seal(nonce, nonce, plaintext, aad), nil
}

// open decrypts what seal produced.
func open(key, sealed, aad []byte) ([]byte, error) {
	gcm, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < gcm.NonceSize() {
		return nil, errors.New("open sealed value: too short")
	}
	plain, err := gcm.Open(nil, sealed[:gcm.NonceSize()], sealed[gcm.NonceSize():], aad)
	if err != nil {
		return nil, errors.New("open sealed value: authentication failed (was the system secret changed?)")
	}
	return plain, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("aes: %w", err)
	}
	return cipher.NewGCM(block)
}
