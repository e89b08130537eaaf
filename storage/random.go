package storage

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"math/big"
)

const base62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// RandomBase62 returns n characters drawn uniformly from [0-9A-Za-z] with
// crypto/rand; 43 characters carry 256 bits.
func RandomBase62(n int) string {
	out := make([]byte, n)
	max := big.NewInt(int64(len(base62Alphabet)))
	for i := range out {
		v, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand failed: " + err.Error()) // the OS has no entropy: nothing is safe to do
		}
		out[i] = base62Alphabet[v.Int64()]
	}
	return string(out)
}

// NewID returns a prefixed random identifier such as usr_3Xk9..., long
// enough (128 bits) never to collide.
func NewID(prefix string) string {
	return prefix + "_" + RandomBase62(22)
}

// NewSecret returns a URL-safe random secret of 32 bytes (256 bits).
func NewSecret() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Digest is the SHA-256 digest under which secrets are stored.
func Digest(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}

// DigestHex is Digest as lower-case hex, for text primary keys.
func DigestHex(secret string) string {
	return hex.EncodeToString(Digest(secret))
}

// DigestEqual compares a presented secret with a stored digest in constant time.
func DigestEqual(digest []byte, secret string) bool {
	return len(digest) == sha256.Size && subtle.ConstantTimeCompare(digest, Digest(secret)) == 1
}
