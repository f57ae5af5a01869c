package web

import "testing"

func TestParseRange(t *testing.T) {
	const size = 1000
	cases := []struct {
		h             string
		start, length int64
		ok, unsat     bool
	}{
		{"", 0, 0, false, false},
		{"bytes=0-", 0, 1000, true, false},
		{"bytes=0-0", 0, 1, true, false},
		{"bytes=100-199", 100, 100, true, false},
		{"bytes=900-5000", 900, 100, true, false},
		{"bytes=-100", 900, 100, true, false},
		{"bytes=-5000", 0, 1000, true, false},
		{"Bytes = 10 - 19", 10, 10, true, false},
		{"bytes=1000-", 0, 0, false, true},
		{"bytes=-0", 0, 0, false, true},
		{"bytes=5-1", 0, 0, false, false},
		{"bytes=0-1,5-6", 0, 0, false, false},
		{"items=0-1", 0, 0, false, false},
		{"bytes=+1-2", 0, 0, false, false},
		{"bytes=1-2-3", 0, 0, false, false},
		{"bytes=99999999999999999999-", 0, 0, false, false},
	}
	for _, c := range cases {
		start, length, ok, err := parseRange(c.h, size)
		if start != c.start || length != c.length || ok != c.ok || (err != nil) != c.unsat {
			t.Errorf("parseRange(%q) = %d, %d, %v, %v; want %d, %d, %v, unsatisfiable %v",
				c.h, start, length, ok, err, c.start, c.length, c.ok, c.unsat)
		}
	}
}

// FuzzParseRange: any header gives a range inside the resource, the whole
// resource, or 416; never a panic.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-", "bytes=-1", "bytes=5-10", "bytes=0-1,2-3", "bytes=-", "bytes=9-1", "bytes= 7 -"} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		if size < 0 {
			return
		}
		start, length, ok, err := parseRange(h, size)
		if err != nil && ok {
			t.Fatal("a range and an error")
		}
		if ok && (start < 0 || length <= 0 || start+length > size) {
			t.Fatalf("parseRange(%q, %d) = %d+%d outside the resource", h, size, start, length)
		}
	})
}
