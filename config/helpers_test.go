package config

import (
	"errors"
	"strings"
	"testing"
)

// base is a small valid file; tests edit it. Lines worth knowing: 2 listen,
// 4 district, 7 center, 10 camera, 12 url, 15 line, 20 window, 22 zone,
// 23 schedule; text appended starts at line 24.
const base = `http:
  listen: 127.0.0.1:8080
districts:
  - id: d1
    name: 东城区
    centers:
      - id: c1
        name: 东华门中心
        cameras:
          - id: cam1
            name: 一楼大厅
            url: rtsp://admin:Pa55w0rd@10.0.0.1:554/x
            analytics:
              lines:
                - id: l1
                  a: [0.5, 0.0]
                  b: [0.5, 1.0]
                  inside: [0.8, 0.5]
              windows:
                - id: w1
                  name: 1号窗口
                  zone: [[0.1, 0.1], [0.3, 0.1], [0.3, 0.3], [0.1, 0.3]]
                  schedule: [mon-fri 09:00-12:00]
`

// Key paths of base's items.
const (
	kCenter = "districts[0].centers[0]"
	kCam    = kCenter + ".cameras[0]"
	kAn     = kCam + ".analytics"
	kLine   = kAn + ".lines[0]"
	kWin    = kAn + ".windows[0]"
)

// edit returns base with each old text replaced by its new text, once.
func edit(t testing.TB, pairs ...string) string {
	t.Helper()
	s := base
	for i := 0; i+1 < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("edit: %q not in base", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// mustParse parses a file that must be valid.
func mustParse(t testing.TB, yaml string, env ...string) *Config {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(yaml), env)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return cfg
}

// parseErrors parses a file that must be invalid and returns its problems.
func parseErrors(t testing.TB, yaml string, env ...string) Errors {
	t.Helper()
	cfg, err := Parse("t.yaml", []byte(yaml), env)
	if err == nil {
		t.Fatalf("Parse succeeded, want an error")
	}
	if cfg != nil {
		t.Errorf("Parse returned a config together with an error")
	}
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("error %T is not Errors: %v", err, err)
	}
	return errs
}
