package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/store"
)

const userTestConfig = `
storage:
  path: %DB%
districts:
  - id: d1
    name: One
    centers:
      - id: c1
        name: Center One
        cameras:
          - id: cam1
            name: Hall
            url: rtsp://127.0.0.1:1/x
`

// TestUserCommand runs `hallwatch user` against a real database and
// checks the result by logging in through the auth service.
func TestUserCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "hw.db")
	cfg := filepath.Join(dir, "hw.yaml")
	if err := os.WriteFile(cfg, []byte(strings.ReplaceAll(userTestConfig, "%DB%", db)), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hw := func(want int, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(ctx, append([]string{"user"}, args...), &out, &errb); code != want {
			t.Fatalf("hallwatch user %v: exit %d, want %d\nstdout: %s\nstderr: %s", args, code, want, &out, &errb)
		}
		return out.String() + errb.String()
	}

	out := hw(0, "add", "--config", cfg, "--role", "center_manager", "--centers", "c1", "--display", "王芳", "wang")
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("add printed no password:\n%s", out)
	}
	login := func(name, pw string) (auth.Login, error) {
		st, err := store.Open(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		return auth.New(st, auth.Options{}).Login(ctx, name, pw, "test")
	}
	l, err := login("wang", m[1])
	if err != nil || !l.Principal.MustChangePassword || l.Principal.Centers[0] != "c1" {
		t.Fatalf("login with the printed password: %+v, %v", l.Principal, err)
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "--config", cfg, "--role", "planner", "--centers", "c9", "x"}, `"c9" is not a center`},
		{[]string{"add", "--config", cfg, "--role", "admin", "--districts", "d1", "x"}, "admin sees every district"},
		{[]string{"add", "--config", cfg, "--role", "planner", "wang"}, "already taken"},
		{[]string{"passwd", "--config", cfg, "nobody"}, "not found"},
	} {
		if out := hw(1, c.args...); !strings.Contains(out, c.want) {
			t.Errorf("user %v: %s, want it to say %q", c.args, out, c.want)
		}
	}
	hw(2, "add", "--config", cfg, "--role", "planner")            // no name
	hw(2, "frobnicate", "--config", cfg, "x")                     // unknown command
	if out := hw(0, "--help"); !strings.Contains(out, "passwd") { // help lists the commands
		t.Errorf("help: %s", out)
	}

	// --password-stdin reads the first line.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString("a-chosen-password\nignored\n")
	w.Close()
	stdin := os.Stdin
	os.Stdin = r
	out = hw(0, "passwd", "--config", cfg, "--password-stdin", "wang")
	os.Stdin = stdin
	if strings.Contains(out, "a-chosen-password") || strings.Contains(out, "password:") {
		t.Errorf("passwd printed the chosen password: %s", out)
	}
	if _, err := login("wang", "a-chosen-password"); err != nil {
		t.Fatalf("login with the password from stdin: %v", err)
	}

	hw(0, "disable", "--config", cfg, "wang")
	if _, err := login("wang", "a-chosen-password"); err == nil {
		t.Fatal("a disabled user logged in")
	}
	list := hw(0, "list", "--config", cfg)
	if !regexp.MustCompile(`wang\s+center_manager\s+-\s+c1\s+disabled`).MatchString(list) {
		t.Errorf("list:\n%s", list)
	}
	hw(0, "disable", "--config", cfg, "--enable", "wang")
	if _, err := login("wang", "a-chosen-password"); err != nil {
		t.Fatalf("login after --enable: %v", err)
	}

	// A running server (here: an auth service with its own memory) locks
	// wang; `user unlock` in this other "process" lifts it.
	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	server := auth.New(st, auth.Options{LockoutAttempts: 2})
	for range 2 {
		server.Login(ctx, "wang", "wrong-password", "test")
	}
	if _, err := server.Login(ctx, "wang", "a-chosen-password", "test"); err == nil {
		t.Fatal("not locked after two failures")
	}
	hw(1, "unlock", "--config", cfg, "nobody")
	if out := hw(0, "unlock", "--config", cfg, "wang"); !strings.Contains(out, "wang may log in again") {
		t.Errorf("unlock: %s", out)
	}
	deadline := time.Now().Add(20 * time.Second) // the server reads the store at most once a second
	for {
		_, err := server.Login(ctx, "wang", "a-chosen-password", "test")
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("login after `user unlock`: %v", err)
		}
		time.Sleep(300 * time.Millisecond) // well within the per-address login limit
	}
}

// TestServeCreatesFirstAdminOnce starts `hallwatch serve` twice on one
// database: the first start prints the new admin's password on stdout
// (never in the log), the second creates and prints nothing.
func TestServeCreatesFirstAdminOnce(t *testing.T) {
	dir := t.TempDir()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := udp.LocalAddr().(*net.UDPAddr).Port
	udp.Close()
	cfg := filepath.Join(dir, "hw.yaml")
	yaml := strings.ReplaceAll(userTestConfig, "%DB%", filepath.Join(dir, "hw.db")) +
		fmt.Sprintf("http:\n  listen: 127.0.0.1:0\nwebrtc:\n  udp_port: %d\n  tcp_port: 0\n  interfaces: [lo]\n", port)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	serve := func() (stdout, log string) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		var out, errb syncbuf.Buffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, []string{"serve", "--config", cfg}, &out, &errb) }()
		for deadline := time.Now().Add(30 * time.Second); !strings.Contains(errb.String(), "hallwatch serving"); {
			if time.Now().After(deadline) {
				cancel()
				t.Fatalf("serve did not start:\n%s", errb.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
		if code := <-done; code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, errb.String())
		}
		return out.String(), errb.String()
	}
	out, log := serve()
	m := regexp.MustCompile(`created administrator "admin" with password (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("first start printed no admin password:\n%s", out)
	}
	if strings.Contains(log, m[1]) {
		t.Error("the admin password is in the log")
	}
	if out, _ := serve(); strings.Contains(out, "password") {
		t.Errorf("second start printed: %s", out)
	}
}
