package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// requireEnv, when set, turns a missing PostgreSQL into a test failure.
const requireEnv = "HALLWATCH_REQUIRE_POSTGRES"

// shared is the test binary's one server, started by the first DB call
// and stopped by Main.
var shared struct {
	once sync.Once
	srv  *Server
	err  error
	mu   sync.Mutex
	n    int // databases created
}

// Main runs a package's tests and then removes the shared server. Use it
// as TestMain in every package that calls DB.
func Main(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.Remove(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: removing the server:", err)
		}
	}
	os.Exit(code)
}

// DB returns the DSN of a new, empty database on the test binary's shared
// server, started on first use. Where PostgreSQL is absent it skips tb
// (fails it when HALLWATCH_REQUIRE_POSTGRES is set).
func DB(tb testing.TB) string {
	tb.Helper()
	shared.once.Do(func() { shared.srv, shared.err = New() })
	if shared.err != nil {
		Unavailable(tb, shared.err)
	}
	shared.mu.Lock()
	shared.n++
	name := fmt.Sprintf("t%d_%s", shared.n, strings.ToLower(sanitize(tb.Name())))
	shared.mu.Unlock()
	dsn, err := shared.srv.CreateDB(context.Background(), name)
	if err != nil {
		tb.Fatal(err)
	}
	return dsn
}

// Start starts a server of the test's own (for tests that stop and restart
// it) and removes it when the test ends; it skips like DB.
func Start(tb testing.TB) *Server {
	tb.Helper()
	s, err := New()
	if err != nil {
		Unavailable(tb, err)
	}
	tb.Cleanup(func() {
		if err := s.Remove(); err != nil {
			tb.Errorf("pgtest: %v", err)
		}
	})
	return s
}

// Unavailable skips tb because PostgreSQL cannot run here (err says why),
// or fails it when HALLWATCH_REQUIRE_POSTGRES is set or PostgreSQL is
// installed but broken.
func Unavailable(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrAbsent) && os.Getenv(requireEnv) == "" {
		tb.Skipf("PostgreSQL suite skipped: %v", err)
	}
	tb.Fatalf("PostgreSQL: %v", err)
}

// sanitize keeps a test name usable in a database name (63 bytes at most).
func sanitize(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) > 40 {
		b = b[len(b)-40:]
	}
	return string(b)
}
