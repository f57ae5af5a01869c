package ids

import "testing"

func TestIDsAreDistinctAndURLSafe(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		for _, id := range []string{New(), Secret()} {
			if seen[id] {
				t.Fatalf("id %q handed out twice", id)
			}
			seen[id] = true
			for _, r := range id {
				if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
					t.Fatalf("id %q has %q, not URL-safe", id, r)
				}
			}
		}
	}
	if n := len(New()); n != 32 {
		t.Errorf("New() is %d characters, want 32 (128 bits in hex)", n)
	}
	if n := len(Secret()); n != 43 {
		t.Errorf("Secret() is %d characters, want 43 (256 bits, base64url)", n)
	}
}
