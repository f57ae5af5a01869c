// Package scripts holds the tests of the shell scripts CI runs.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// fakeGo stands in for the go command: one package with one fuzz target,
// whose fuzzing run behaves as $FAKE_FUZZ says (the Nth run reads the Nth
// word, so "flake pass" flakes once and then passes).
const fakeGo = `#!/bin/sh
case "$1 $2" in
"list -f") echo "example.com/p $FAKE_DIR"; exit 0 ;;
"test -list") echo FuzzThing; echo "ok example.com/p 0.01s"; exit 0 ;;
esac
n=$(cat "$FAKE_DIR/runs" 2>/dev/null || echo 0); n=$((n + 1)); echo $n >"$FAKE_DIR/runs"
set -- $FAKE_FUZZ; shift $((n - 1)); what=${1:-pass}
echo "fuzz: elapsed: 0s, gathering baseline coverage: 0/12 completed"
case $what in
pass) echo PASS; echo "ok example.com/p 10.1s"; exit 0 ;;
flake) printf -- '--- FAIL: FuzzThing (10.21s)\n    context deadline exceeded\nFAIL\nexit status 1\nFAIL\texample.com/p\t10.3s\n'; exit 1 ;;
crash)
	mkdir -p "$FAKE_DIR/testdata/fuzz/FuzzThing"; echo 'go test fuzz v1' >"$FAKE_DIR/testdata/fuzz/FuzzThing/0123abcd"
	printf -- '--- FAIL: FuzzThing (3.1s)\n    --- FAIL: FuzzThing (0.00s)\n        thing_test.go:12: boom\n    Failing input written to testdata/fuzz/FuzzThing/0123abcd\nFAIL\n'; exit 1 ;;
crash-at-deadline)
	mkdir -p "$FAKE_DIR/testdata/fuzz/FuzzThing"; echo 'go test fuzz v1' >"$FAKE_DIR/testdata/fuzz/FuzzThing/feed"
	printf -- '--- FAIL: FuzzThing (10.2s)\n    context deadline exceeded\nFAIL\n'; exit 1 ;;
error) printf -- '--- FAIL: FuzzThing (0.5s)\n    thing_test.go:20: seed corpus entry 3 is wrong\n    context deadline exceeded\nFAIL\n'; exit 1 ;;
esac
`

// TestFuzzScriptToleratesOnlyTheDeadlineRace runs scripts/fuzz.sh against
// a fake go command: a bare "context deadline exceeded" (the fuzzing
// coordinator's race on a loaded machine) does not fail it, whether it
// happens once or twice; a written failing input or any other failure does.
func TestFuzzScriptToleratesOnlyTheDeadlineRace(t *testing.T) {
	script, err := filepath.Abs("fuzz.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		runs     string
		fail     bool
		wantRuns int
	}{
		{"pass", false, 1},
		{"flake pass", false, 2},
		{"flake flake", false, 2},
		{"crash", true, 1},
		{"crash-at-deadline", true, 1},
		{"flake crash", true, 2},
		{"error", true, 1},
	} {
		t.Run(strings.ReplaceAll(c.runs, " ", "_"), func(t *testing.T) {
			dir := t.TempDir()
			fake := filepath.Join(dir, "go")
			if err := os.WriteFile(fake, []byte(fakeGo), 0o755); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("sh", script)
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GO="+fake, "FAKE_DIR="+dir, "FAKE_FUZZ="+c.runs, "FUZZTIME=1s")
			out, err := cmd.CombinedOutput()
			if failed := err != nil; failed != c.fail {
				t.Errorf("runs %q: failed=%v (%v), want %v; output:\n%s", c.runs, failed, err, c.fail, out)
			}
			runs, _ := os.ReadFile(filepath.Join(dir, "runs"))
			if got := strings.TrimSpace(string(runs)); got != string(rune('0'+c.wantRuns)) {
				t.Errorf("runs %q: fuzzed %s times, want %d; output:\n%s", c.runs, got, c.wantRuns, out)
			}
		})
	}
}
