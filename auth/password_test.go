package auth

import (
	"strings"
	"testing"
)

// testHash is cheap enough for unit tests; the format is the same.
var testHash = HashParams{Memory: 256, Time: 1, Threads: 1}

func TestHashVerify(t *testing.T) {
	h, err := testHash.Hash("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=256,t=1,p=1$") {
		t.Errorf("hash %q is not argon2id PHC with its parameters", h)
	}
	if strings.Contains(h, "correct horse") {
		t.Fatal("hash contains the password")
	}
	for pw, want := range map[string]bool{"correct horse battery": true, "correct horse batterY": false, "": false} {
		if ok, err := VerifyPassword(h, pw); err != nil || ok != want {
			t.Errorf("VerifyPassword(%q) = %v, %v; want %v", pw, ok, err, want)
		}
	}
	h2, _ := testHash.Hash("correct horse battery")
	if h2 == h {
		t.Error("two hashes of one password are equal: salt is not random")
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	good, _ := testHash.Hash("correct horse battery")
	parts := strings.Split(good, "$")
	for name, h := range map[string]string{
		"empty":       "",
		"bcrypt":      "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":     strings.Replace(good, "argon2id", "argon2i", 1),
		"version":     strings.Replace(good, "v=19", "v=16", 1),
		"params":      strings.Replace(good, "m=256,t=1,p=1", "m=x", 1),
		"huge memory": strings.Replace(good, "m=256", "m=99999999", 1),
		"zero time":   strings.Replace(good, "t=1", "t=0", 1),
		"salt":        strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),
		"short key":   strings.Join(append(parts[:5:5], "AAAA"), "$"),
	} {
		if ok, err := VerifyPassword(h, "correct horse battery"); err == nil || ok {
			t.Errorf("%s: VerifyPassword(%q) = %v, %v; want an error", name, h, ok, err)
		}
	}
}

func TestCheckPassword(t *testing.T) {
	for pw, want := range map[string]string{
		"short":                      "at least 10",
		"long enough":                "",
		"十个字符的中文密码很安全":               "",
		"九个字符的中文密码":                  "at least 10",
		strings.Repeat("x", 257):     "at most 256",
		"invalid \xff utf8 password": "UTF-8",
	} {
		err := CheckPassword(pw)
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("CheckPassword(%.20q) = %v, want %s", pw, err, orValid(want))
		}
	}
}

func TestRandomPassword(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		pw := RandomPassword()
		if err := CheckPassword(pw); err != nil {
			t.Fatalf("generated password %q fails the policy: %v", pw, err)
		}
		if strings.Trim(pw, passwordAlphabet) != "" || strings.ContainsAny(pw, "0O1lI") {
			t.Fatalf("generated password %q has characters outside the alphabet", pw)
		}
		if seen[pw] {
			t.Fatalf("password %q generated twice", pw)
		}
		seen[pw] = true
	}
}

// BenchmarkHashDefault measures the production cost of one login's hash.
func BenchmarkHashDefault(b *testing.B) {
	for b.Loop() {
		if _, err := DefaultHashParams.Hash("correct horse battery"); err != nil {
			b.Fatal(err)
		}
	}
}
