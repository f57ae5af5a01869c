// Package pgtest runs throwaway PostgreSQL servers for tests: initdb into a
// temporary directory, postgres on a free loopback port, under the
// "postgres" OS user when the tests run as root (as in CI), since
// PostgreSQL refuses to run as root.
//
// Tests skip with a message where PostgreSQL is not installed, unless
// HALLWATCH_REQUIRE_POSTGRES is set (CI sets it): there, a missing
// PostgreSQL fails the test instead of hiding the suite.
package pgtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/hallwatch/hallwatch/internal/orphan"
)

// ErrAbsent means PostgreSQL's server programs are not installed here.
var ErrAbsent = errors.New("PostgreSQL server programs (initdb, postgres) not found: install Debian's postgresql package (scripts/setup-debian.sh) or set HALLWATCH_PG_BIN")

// startTimeout bounds initdb and a server start; reaching it means
// something is broken, not slow.
const startTimeout = 90 * time.Second

// Server is a PostgreSQL server in a temporary directory. Stop and Start
// take it down and bring it back on the same port with the same data, as a
// database outage does.
type Server struct {
	bin      string // directory of initdb and postgres
	dir      string // temporary directory: data/, the socket and the log
	port     int
	password string              // of the superuser "postgres"
	cred     *syscall.Credential // nil: run as the current user
	exited   chan error          // the running postgres's exit, nil while stopped
	proc     *os.Process
}

// New creates a cluster in a new temporary directory and starts it.
func New() (*Server, error) {
	bin, err := findBin()
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if os.Geteuid() == 0 {
		if s.cred, err = postgresUser(); err != nil {
			return nil, err
		}
	}
	if s.dir, err = os.MkdirTemp("", "hallwatch-pg-"); err != nil {
		return nil, err
	}
	if err := s.initdb(); err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	// A port found free can be taken before postgres binds it: try again.
	for attempt := 1; ; attempt++ {
		if s.port, err = freePort(); err == nil {
			err = s.Start()
		}
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "could not bind") {
			break
		}
	}
	if err != nil {
		os.RemoveAll(s.dir)
		return nil, err
	}
	return s, nil
}

// findBin locates PostgreSQL's server programs: $HALLWATCH_PG_BIN, the
// newest /usr/lib/postgresql/N/bin (Debian), or PATH.
func findBin() (string, error) {
	if dir := os.Getenv("HALLWATCH_PG_BIN"); dir != "" {
		if _, err := os.Stat(filepath.Join(dir, "initdb")); err != nil {
			return "", fmt.Errorf("HALLWATCH_PG_BIN=%s: %w", dir, err)
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrAbsent
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// postgresUser is the account the server runs under when tests run as root.
func postgresUser() (*syscall.Credential, error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and PostgreSQL refuses root: no \"postgres\" user to run it as (%v); install Debian's postgresql package", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.bin, name), args...)
	cmd.Dir = s.dir
	cmd.Env = []string{"LANG=C", "LC_ALL=C", "PATH=/usr/bin:/bin", "TZ=UTC"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

func (s *Server) chown(path string) error {
	if s.cred == nil {
		return nil
	}
	return os.Chown(path, int(s.cred.Uid), int(s.cred.Gid))
}

func (s *Server) initdb() error {
	pw := make([]byte, 12)
	rand.Read(pw)
	s.password = hex.EncodeToString(pw)
	pwFile := filepath.Join(s.dir, "pw")
	if err := os.WriteFile(pwFile, []byte(s.password+"\n"), 0o600); err != nil {
		return err
	}
	if err := errors.Join(s.chown(s.dir), s.chown(pwFile)); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	// Password authentication over TCP, as in production; -N skips
	// initdb's own fsyncs, which a throwaway cluster does not need.
	out, err := s.command(ctx, "initdb", "-D", filepath.Join(s.dir, "data"), "-U", "postgres",
		"--pwfile="+pwFile, "--auth-host=scram-sha-256", "--auth-local=trust",
		"-E", "UTF8", "--locale=C", "-N").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	return nil
}

// Start starts the server (again) and waits until it accepts connections.
func (s *Server) Start() error {
	if s.exited != nil {
		return errors.New("pgtest: server already running")
	}
	logPath := filepath.Join(s.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := s.command(context.Background(), "postgres", "-D", filepath.Join(s.dir, "data"),
		"-h", "127.0.0.1", "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "shared_buffers=16MB", "-c", "max_connections=100")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// If the test binary dies, the server must not outlive it: SIGQUIT is
	// PostgreSQL's immediate shutdown.
	exited, err := orphan.Start(cmd, syscall.SIGQUIT)
	if err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.proc, s.exited = cmd.Process, exited
	if err := s.waitReady(); err != nil {
		s.Stop()
		log, _ := os.ReadFile(logPath)
		return fmt.Errorf("postgres on port %d: %w\n%s", s.port, err, log)
	}
	return nil
}

// waitReady polls until the server accepts a login; it fails at once if
// the server exits.
func (s *Server) waitReady() error {
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case exitErr := <-s.exited:
			s.exited <- exitErr // for Stop
			return fmt.Errorf("exited while starting (%v): %v", exitErr, err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v: %w", startTimeout, err)
		}
	}
}

// Stop shuts the server down (fast shutdown: sessions are cut, committed
// data stays) and waits for it to exit. Start brings it back.
func (s *Server) Stop() error {
	if s.exited == nil {
		return nil
	}
	s.proc.Signal(syscall.SIGINT)
	var err error
	select {
	case err = <-s.exited:
	case <-time.After(startTimeout):
		s.proc.Kill()
		err = <-s.exited
	}
	s.exited, s.proc = nil, nil
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return nil // postgres exits non-zero on some shutdowns; it is down either way
	}
	return err
}

// Remove stops the server and deletes its directory.
func (s *Server) Remove() error {
	return errors.Join(s.Stop(), os.RemoveAll(s.dir))
}

// Port is the server's TCP port on 127.0.0.1.
func (s *Server) Port() int { return s.port }

// Password is the superuser's password (it appears in DSN).
func (s *Server) Password() string { return s.password }

// DSN is the URL of database db as the superuser, over TCP with a password.
func (s *Server) DSN(db string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword("postgres", s.password),
		Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)), Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// CreateDB creates an empty database and returns its DSN.
func (s *Server) CreateDB(ctx context.Context, name string) (string, error) {
	db, err := sql.Open("pgx", s.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`"`); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.DSN(name), nil
}
