package service

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"testing"

	"github.com/hallwatch/hallwatch/config"
)

// nodeEnv names the configuration file of a hallwatch node that a
// cluster test runs as a child process of this test binary.
const nodeEnv = "HALLWATCH_TEST_NODE"

// TestMain runs the tests or, in a child process of a cluster test, one
// hallwatch node until SIGTERM (or kill -9).
func TestMain(m *testing.M) {
	if path := os.Getenv(nodeEnv); path != "" {
		os.Exit(runTestNode(path))
	}
	os.Exit(m.Run())
}

// runTestNode serves as `hallwatch serve --config path` does, and prints
// its HTTP address once listening.
func runTestNode(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	svc, err := New(ctx, cfg, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "hallwatch node:", err)
		return 1
	}
	fmt.Printf("listening %s\n", svc.Addr())
	if err := svc.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "hallwatch node:", err)
		return 1
	}
	return 0
}
