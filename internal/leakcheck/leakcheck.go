// Package leakcheck asserts that goroutines started by a test have ended.
package leakcheck

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// processLifetime are goroutines some libraries start once per process and
// never stop; they are not leaks of the code under test.
var processLifetime = []string{
	"github.com/valyala/fasthttp.updateServerDate",
}

// Count returns the number of goroutines that are not process-lifetime ones.
func Count() int {
	n := 0
	for _, g := range stacks() {
		if !lifetime(g) {
			n++
		}
	}
	return n
}

// Wait waits up to 15 s for the goroutine count to return to base (from
// Count), and fails the test with the remaining stacks otherwise.
func Wait(tb testing.TB, base int) {
	tb.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for Count() > base {
		if time.Now().After(deadline) {
			var extra []string
			for _, g := range stacks() {
				if !lifetime(g) {
					extra = append(extra, g)
				}
			}
			tb.Fatalf("%d goroutines, baseline %d:\n%s", len(extra), base, strings.Join(extra, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func stacks() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Split(strings.TrimSpace(string(buf[:n])), "\n\n")
		}
		buf = make([]byte, 2*len(buf))
	}
}

func lifetime(stack string) bool {
	for _, fn := range processLifetime {
		if strings.Contains(stack, fn) {
			return true
		}
	}
	return false
}
