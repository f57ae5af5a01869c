// Package natstest runs throwaway NATS servers for tests: Debian's
// nats-server with JetStream, its store in a temporary directory, on a
// free loopback port. Stop and Start take it down and bring it back on the
// same port with the same store, as an outage does (internal/tcpproxy
// cuts one client off while the others keep the server).
//
// Tests skip with a message where nats-server is not installed, unless
// HALLWATCH_REQUIRE_NATS is set (CI sets it): there, a missing server
// fails the test instead of hiding the suite.
package natstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/internal/orphan"
)

// ErrAbsent means nats-server is not installed here.
var ErrAbsent = errors.New("nats-server not found: install Debian's nats-server package (scripts/setup-debian.sh) or set HALLWATCH_NATS_SERVER")

// requireEnv, when set, turns a missing nats-server into a test failure.
const requireEnv = "HALLWATCH_REQUIRE_NATS"

// startTimeout bounds a server start; reaching it means something is
// broken, not slow.
const startTimeout = 30 * time.Second

// Options tunes a server.
type Options struct {
	// NoJetStream starts a plain NATS server, as a misconfigured one is.
	NoJetStream bool
}

// Server is a nats-server in a temporary directory.
type Server struct {
	bin    string
	dir    string // the JetStream store and the log
	port   int
	opts   Options
	proc   *os.Process
	exited chan error // nil while stopped
}

// New starts a server with a fresh store.
func New(opts Options) (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin, opts: opts}
	if s.dir, err = os.MkdirTemp("", "hallwatch-nats-"); err != nil {
		return nil, err
	}
	// A port found free can be taken before the server binds it: try again.
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err == nil {
			err = s.Start()
		}
		if err == nil || attempt == 3 {
			break
		}
	}
	if err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	return s, nil
}

// findBin locates nats-server: $HALLWATCH_NATS_SERVER, /usr/sbin (Debian) or PATH.
func findBin() (string, error) {
	if p := os.Getenv("HALLWATCH_NATS_SERVER"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("HALLWATCH_NATS_SERVER=%s: %w", p, err)
		}
		return p, nil
	}
	if _, err := os.Stat("/usr/sbin/nats-server"); err == nil {
		return "/usr/sbin/nats-server", nil
	}
	if p, err := exec.LookPath("nats-server"); err == nil {
		return p, nil
	}
	return "", ErrAbsent
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start starts the server (again) and waits until it accepts connections.
func (s *Server) Start() error {
	if s.exited != nil {
		return errors.New("natstest: server already running")
	}
	logPath := filepath.Join(s.dir, "nats.log")
	args := []string{"-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-l", logPath}
	if !s.opts.NoJetStream {
		args = append(args, "-js", "-sd", filepath.Join(s.dir, "jetstream"))
	}
	cmd := exec.Command(s.bin, args...)
	exited, err := orphan.Start(cmd, syscall.SIGKILL)
	if err != nil {
		return fmt.Errorf("start nats-server: %w", err)
	}
	s.proc, s.exited = cmd.Process, exited
	if err := s.waitReady(); err != nil {
		s.Stop()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("nats-server on port %d: %w\n%s", s.port, err, log)
	}
	return nil
}

// waitReady polls until the server greets a client (INFO) or exits.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(2 * time.Second))
			buf := make([]byte, 4)
			_, err = c.Read(buf)
			c.Close()
			if err == nil && string(buf) == "INFO" {
				return nil
			}
		}
		select {
		case exitErr := <-s.exited:
			s.exited <- exitErr // for Stop
			return fmt.Errorf("exited while starting (%v)", exitErr)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %v", startTimeout, err)
		}
	}
}

// Stop shuts the server down and waits for it to exit; Start brings it back.
func (s *Server) Stop() error {
	if s.exited == nil {
		return nil
	}
	s.proc.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(startTimeout):
		s.proc.Kill()
		<-s.exited
	}
	s.exited, s.proc = nil, nil
	return nil
}

// Remove stops the server and deletes its directory.
func (s *Server) Remove() error {
	return errors.Join(s.Stop(), os.RemoveAll(s.dir))
}

// Addr is the server's host:port on 127.0.0.1.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// URL is the server's nats:// URL.
func (s *Server) URL() string { return "nats://" + s.Addr() }

// Start starts a server of the test's own and removes it when the test
// ends. Where nats-server is absent it skips tb (fails it when
// HALLWATCH_REQUIRE_NATS is set).
func Start(tb testing.TB, opts ...Options) *Server {
	tb.Helper()
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := New(o)
	if err != nil {
		Unavailable(tb, err)
	}
	tb.Cleanup(func() {
		if err := s.Remove(); err != nil {
			tb.Errorf("natstest: %v", err)
		}
	})
	return s
}

// Unavailable skips tb because nats-server cannot run here (err says why),
// or fails it when HALLWATCH_REQUIRE_NATS is set or the server is
// installed but broken.
func Unavailable(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrAbsent) && os.Getenv(requireEnv) == "" {
		tb.Skipf("NATS suite skipped: %v", err)
	}
	tb.Fatalf("NATS: %v", strings.TrimSpace(err.Error()))
}
