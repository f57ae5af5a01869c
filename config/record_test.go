package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseByteSize(t *testing.T) {
	good := map[string]ByteSize{
		"200GiB": 200 << 30, "500MB": 500e6, "1.5TiB": 3 << 39, "2TB": 2e12, "0B": 0,
		"64 KiB": 64 << 10, "8MiB": 8 << 20, "1GB": 1e9,
	}
	for in, want := range good {
		got, err := parseByteSize(in)
		if err != nil || got != want {
			t.Errorf("parseByteSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	bad := map[string]string{
		"200":       `add a unit, e.g. "200GiB"`,
		"-1GiB":     "must not be negative",
		"GiB":       "want a number with a unit",
		"1e3GB":     "want a number with a unit",
		"9999999TB": "too large",
		"12 apples": "want a number with a unit",
		"NaNGB":     "want a number with a unit",
	}
	for in, want := range bad {
		if _, err := parseByteSize(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseByteSize(%q) error %v, want one saying %q", in, err, want)
		}
	}
	for _, b := range []ByteSize{200 << 30, 3 << 39, 1000, 5 << 20} {
		if again, err := parseByteSize(b.String()); err != nil || again != b {
			t.Errorf("%d written as %q reads back as %d, %v", b, b.String(), again, err)
		}
	}
}

func TestRecordDefaultsAndInheritance(t *testing.T) {
	cfg := mustParse(t, base+`storage:
  path: /data/hw/hallwatch.db
record:
  retain: 7d
  max_size: 20GiB
  paths:
    - path: /mnt/disk2/rec/
      max_size: 1TB
`)
	if got := cfg.RecordPath(); got != "/data/hw/recordings" {
		t.Errorf("RecordPath = %q, want recordings next to the database", got)
	}
	ps := cfg.RecordPaths()
	if len(ps) != 2 || ps[0].MaxSize != 20<<30 || ps[1].Path != "/mnt/disk2/rec" || ps[1].MinFree != 1<<30 {
		t.Errorf("RecordPaths = %+v", ps)
	}
	ref, _ := cfg.Camera("cam1")
	if r := cfg.Recording(ref.Camera); !r.Enabled || r.Retain != 7*24*time.Hour || r.Path != "/data/hw/recordings" {
		t.Errorf("camera without a record section: %+v", r)
	}

	cfg = mustParse(t, edit(t, "            analytics:\n", `            record:
              path: /mnt/disk2/rec
            analytics:
`)+`record:
  retain: 7d
  paths: [{path: /mnt/disk2/rec}]
`)
	ref, _ = cfg.Camera("cam1")
	if r := cfg.Recording(ref.Camera); !r.Enabled || r.Retain != 7*24*time.Hour || r.Path != filepath.Clean("/mnt/disk2/rec") {
		t.Errorf("camera naming only its path inherits enabled and retain: %+v", r)
	}
	cfg = mustParse(t, edit(t, "            analytics:\n", "            record: {enabled: false}\n            analytics:\n"))
	ref, _ = cfg.Camera("cam1")
	if cfg.Recording(ref.Camera).Enabled {
		t.Error("record.enabled: false on the camera still records")
	}
	cfg = mustParse(t, base, "HALLWATCH_RECORD_MAX_SIZE=3GiB", "HALLWATCH_RECORD_ENABLED=false")
	if cfg.Record.MaxSize != 3<<30 || cfg.Record.Enabled {
		t.Errorf("environment: max_size %v enabled %v", cfg.Record.MaxSize, cfg.Record.Enabled)
	}
}

func TestRecordErrors(t *testing.T) {
	cases := []struct {
		name string
		yaml string
		env  []string
		want string
	}{
		{"bare number size", base + "record:\n  max_size: 200\n", nil,
			`t.yaml:25: record.max_size: invalid size "200": add a unit, e.g. "200GiB"`},
		{"tiny budget", base + "record:\n  max_size: 10KiB\n", nil,
			`t.yaml:25: record.max_size: must be 0 (no budget) or at least 1MiB, got 10KiB`},
		{"segment too short", base + "record:\n  segment: 1s\n", nil,
			`t.yaml:25: record.segment: must be from 10s to 1h0m0s, got 1s`},
		{"clip margin too long", base + "record:\n  clip_after: 1h\n", nil,
			`t.yaml:25: record.clip_after: at most 10m0s, got 1h0m0s`},
		{"zero retain", base + "record:\n  retain: 0s\n", nil,
			`t.yaml:25: record.retain: must be greater than 0`},
		{"zero clip retention", base + "retention:\n  clips: 0s\n", nil,
			`t.yaml:25: retention.clips: must be greater than 0`},
		{"duplicate path", base + "record:\n  path: /rec\n  paths:\n    - path: /rec/\n", nil,
			`t.yaml:27: record.paths[0].path: "/rec/" is already a storage path (record.path at line 25)`},
		{"unknown camera path", edit(t, "            analytics:\n", "            record: {path: /elsewhere}\n            analytics:\n"), nil,
			`t.yaml:13: ` + kCam + `.record.path: "/elsewhere" is not a storage path: use record.path or add it to record.paths (with its max_size)`},
		{"bad size from env", base, []string{"HALLWATCH_RECORD_MIN_FREE=lots"},
			`env HALLWATCH_RECORD_MIN_FREE: record.min_free: invalid size "lots": want a number with a unit such as "500MiB", "200GiB" or "2TB"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := parseErrors(t, tc.yaml, tc.env...)
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), tc.want)
			}
		})
	}
}

// FuzzParseByteSize: any text either fails with a message or gives a
// non-negative size that reads back from its own String.
func FuzzParseByteSize(f *testing.F) {
	for _, s := range []string{"200GiB", "1.5TB", "0B", "200", "-1MiB", "1e3GB", "Inf GiB", "0x10MB", ".5KiB", "9223372036854775807B"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := parseByteSize(s)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error")
			}
			return
		}
		if b < 0 {
			t.Fatalf("%q parsed to negative %d", s, b)
		}
		if again, err := parseByteSize(b.String()); err != nil || again != b {
			t.Fatalf("%q = %d written as %q reads back as %d, %v", s, b, b.String(), again, err)
		}
	})
}
