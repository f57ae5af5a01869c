// Package ids makes the random identifiers hallwatch hands out: one way
// for every kind, so none is guessable and all look alike.
package ids

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// New returns a random 128-bit identifier in hex (WHEP sessions and other
// handles that appear in URLs).
func New() string {
	var b [16]byte
	rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	return hex.EncodeToString(b[:])
}

// Secret returns 256 random bits, URL-safe: bearer secrets such as session
// and API tokens, which the store keeps only hashed.
func Secret() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
