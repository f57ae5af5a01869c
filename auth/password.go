package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id's cost parameters.
type HashParams struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
}

// DefaultHashParams cost about 0.1 s and 64 MiB per hash on one core
// (RFC 9106 §4's second recommendation, with 2 lanes for small servers).
var DefaultHashParams = HashParams{Memory: 64 * 1024, Time: 2, Threads: 2}

// Password length limits, in characters (the upper one bounds hashing work).
const (
	MinPasswordLen = 10
	MaxPasswordLen = 256
)

const (
	saltLen = 16
	keyLen  = 32
)

// CheckPassword applies the password policy.
func CheckPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case !utf8.ValidString(pw):
		return errors.New("password is not valid UTF-8")
	case n < MinPasswordLen:
		return fmt.Errorf("password has %d characters, at least %d are required", n, MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("password has %d characters, at most %d are allowed", n, MaxPasswordLen)
	}
	return nil
}

// Hash returns pw's argon2id hash in the PHC string format
// ($argon2id$v=19$m=…,t=…,p=…$salt$key), which carries its parameters, so
// changing DefaultHashParams keeps old hashes verifiable.
func (p HashParams) Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches encoded (from Hash), comparing
// in constant time. A malformed hash is an error, not a mismatch.
func VerifyPassword(encoded, pw string) (bool, error) {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// maxHashMemory refuses stored hashes that would make one login allocate
// more than 1 GiB (a corrupt or hostile row).
const maxHashMemory = 1 << 20

func parseHash(encoded string) (HashParams, []byte, []byte, error) {
	var p HashParams
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errors.New("password hash is not in argon2id PHC format")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return p, nil, nil, fmt.Errorf("password hash has version %q, want v=%d", parts[2], argon2.Version)
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, fmt.Errorf("password hash parameters %q: %v", parts[3], err)
	}
	if p.Memory == 0 || p.Memory > maxHashMemory || p.Time == 0 || p.Threads == 0 {
		return p, nil, nil, fmt.Errorf("password hash parameters %q out of range", parts[3])
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err := errors.Join(err1, err2); err != nil || len(salt) < 8 || len(key) < 16 {
		return p, nil, nil, errors.New("password hash has a malformed salt or key")
	}
	return p, salt, key, nil
}

// passwordAlphabet leaves out look-alikes (0/O, 1/l/I) so a printed
// password can be typed.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// RandomPassword returns a 16-character password (about 93 bits).
func RandomPassword() string {
	const n = 16
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = passwordAlphabet[randIndex(len(passwordAlphabet))]
	}
	return string(buf)
}

// randIndex returns a uniform index in [0, n) by rejection sampling.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}
