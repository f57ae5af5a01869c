package config

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds arbitrary files to Parse: it must never panic, must
// return either a config or located errors, and a config it returns must
// answer every lookup.
func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{
		string(example), base, notifierBase, "",
		"http: listen: x\n", "a: [1, 2\n", "districts:\n  - id: d\n   name: x\n",
		"a: &a [*a]\nb: *a\n", "districts: &d [{id: a, centers: *d}]\n",
		"x: &x [&y [*x, *x], *x]\nhttp: {listen: *x}\n",
		"retention: {events: 99999999999999999d}\n",
		"districts: [{id: d, name: n, centers: [{id: c, name: n, timezone: ../../etc/passwd}]}]\n",
		base + "---\n", "\xef\xbb\xbfhttp: {}\n", "\x00", "{", "- - - -", "? a\n: b\n",
		"schedule: [mon-fri 09:00-12:00]\n",
		"record: {max_size: 1.5TiB, min_free: 0B, paths: [{path: /x, max_size: 2TB}]}\n",
		"record: {max_size: 1e400GB, segment: 1d}\n",
		unknownKeysBomb(2000, 5000),
	} {
		f.Add([]byte(seed))
	}
	day := time.Date(2026, 3, 16, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("f.yaml", data, nil)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T without located problems: %v", err, err)
			}
			for _, e := range errs {
				if e.File != "f.yaml" || e.Msg == "" {
					t.Fatalf("incomplete problem %+v", *e)
				}
			}
			return
		}
		for _, ref := range cfg.Cameras() {
			if got, ok := cfg.Camera(ref.Camera.ID); !ok || got.Camera != ref.Camera {
				t.Fatalf("Camera(%q) does not find the camera", ref.Camera.ID)
			}
			if ref.Center.Location() == nil {
				t.Fatal("nil location")
			}
			ref.Camera.SafeURL()
			if ref.Camera.Analytics == nil {
				continue
			}
			for i := range ref.Camera.Analytics.Windows {
				w := &ref.Camera.Analytics.Windows[i]
				w.OpenAt(day, ref.Center)
				for _, iv := range w.OpenIntervals(day, ref.Center) {
					if !iv[0].Before(iv[1]) {
						t.Fatalf("window %s: empty interval %v", w.ID, iv)
					}
				}
			}
		}
	})
}

// TestAliasBomb checks that aliases cannot blow a small file up into a huge
// configuration ("billion laughs"): decoding stops at nodeBudget values.
func TestAliasBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString("districts:\n  - id: d\n    name: n\n    centers:\n      - id: c\n        name: n\n        cameras:\n")
	b.WriteString("          - {id: k, name: n, url: rtsp://h/x, privacy_masks: [&z [&p [0.1, 0.1], *p, *p, *p, *p, *p, *p, *p, *p, *p]]}\n")
	masks := strings.Repeat("*z, ", 99) + "*z"
	for i := range 300 { // 300 cameras × 100 masks × 10 points × 3 values ≈ 900,000 values
		fmt.Fprintf(&b, "          - {id: k%d, name: n, url: rtsp://h/x, privacy_masks: [%s]}\n", i, masks)
	}
	errs := parseErrors(t, b.String())
	if len(errs) != 1 || !strings.HasSuffix(errs[0].Msg, "document too large (more than 262144 values and keys after expanding aliases)") {
		t.Errorf("got %v", errs)
	}
}

// unknownKeysBomb is a file that aliases one mapping of keys unknown keys
// times as districts: every key is an error, keys × times of them.
func unknownKeysBomb(keys, times int) string {
	var b strings.Builder
	b.WriteString("storage: {path: x.db}\nx: &m {")
	for i := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "k%d: 1", i)
	}
	b.WriteString("}\ndistricts: [")
	b.WriteString(strings.Repeat("*m, ", times-1) + "*m]\n")
	return b.String()
}

// TestUnknownKeysBomb: a 39 KB file aliasing a mapping of 2,000 unknown
// keys 5,000 times (ten million problems) once took `config check` to
// 3.6 GB. Every key counts against the budget and loading stops after
// maxProblems problems, so it is refused with little memory.
func TestUnknownKeysBomb(t *testing.T) {
	bomb := unknownKeysBomb(2000, 5000)
	if len(bomb) > 40<<10 {
		t.Fatalf("the bomb is %d bytes", len(bomb))
	}
	var errs Errors
	allocated := bytesAllocated(func() {
		_, err := Parse("bomb.yaml", []byte(bomb), nil)
		if !errors.As(err, &errs) {
			t.Fatalf("got %v, want located problems", err)
		}
	})
	if len(errs) != maxProblems+1 || errs[len(errs)-1].Error() != "bomb.yaml: stopped after 100 problems; is this the right file?" {
		t.Errorf("%d problems, last %v", len(errs), errs[len(errs)-1])
	}
	for _, e := range errs[1 : len(errs)-1] {
		if e.Line != 2 || !strings.HasPrefix(e.Key, "districts[0].k") || !strings.HasPrefix(e.Msg, "unknown key") {
			t.Errorf("problem %v", e)
		}
	}
	// Parsing 39 KB of YAML into nodes takes a few MB; ten million
	// problems took gigabytes.
	t.Logf("a %d-byte bomb refused with %d problems, %.1f MB allocated", len(bomb), len(errs), float64(allocated)/(1<<20))
	if allocated > 32<<20 {
		t.Errorf("parsing the bomb allocated %d MB", allocated>>20)
	}
}

// bytesAllocated is how many bytes fn allocates on the heap.
func bytesAllocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func BenchmarkParseExample(b *testing.B) {
	data, err := os.ReadFile("example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse("example.yaml", data, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenAt(b *testing.B) {
	cfg, err := Load("example.yaml")
	if err != nil {
		b.Fatal(err)
	}
	ref, _ := cfg.Camera("dhm-hall")
	w := &ref.Camera.Analytics.Windows[2]
	t := time.Date(2026, 3, 16, 5, 0, 0, 0, time.UTC)
	for b.Loop() {
		w.OpenAt(t, ref.Center)
	}
}
