// Package floodtest helps tests flood a server with connections: the
// flood itself, and a child process — the test binary again, running the
// same test — for the server whose open-file limit the flood exhausts
// (lowering it must not touch the process running every other test). The
// halves talk in lines: the child says "KEY value" on its standard
// output, the parent answers on the child's standard input.
package floodtest

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const envVar = "HALLWATCH_CHILD_TEST"

// IsChild reports whether this process is the child half of test name.
func IsChild(name string) bool { return os.Getenv(envVar) == name }

// Parent is the parent's end of a running child.
type Parent struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin interface{ Write([]byte) (int, error) }
	lines chan string

	mu     sync.Mutex
	output strings.Builder
}

// Flood opens up to n connections to addr from 127.0.0.2 to 127.0.0.9
// (Linux routes all of 127.0.0.0/8 to loopback), each sending half a
// request and holding on, as a slow flood does; it stops early when the
// server's backlog is full. The connections close when the test ends.
func Flood(t *testing.T, addr string, n int) []net.Conn {
	var conns []net.Conn
	for i := range n {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(2+i%8))}, Timeout: 10 * time.Second}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			break
		}
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: flood\r\n")
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

// Healthy reports whether the server at base answers GET /healthz with
// 200 on a new connection.
func Healthy(base string) bool {
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Get(base + "/healthz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Start runs the child half of the calling test, with extra environment.
func Start(t *testing.T, env ...string) *Parent {
	t.Helper()
	name := t.Name()
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.count=1", "-test.v")
	cmd.Env = append(append(os.Environ(), envVar+"="+name), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &Parent{t: t, cmd: cmd, stdin: stdin, lines: make(chan string, 1000)}
	cmd.Stderr = &lockedWriter{p}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.output.WriteString(sc.Text() + "\n")
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default: // nobody awaits what follows
			}
		}
		close(p.lines)
	}()
	return p
}

type lockedWriter struct{ p *Parent }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.output.Write(b)
}

// Output is what the child wrote so far.
func (p *Parent) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.output.String()
}

// Await returns the value of the child's next "KEY value" line; the test
// fails if the child ends or says nothing of the kind within a minute.
func (p *Parent) Await(key string) string {
	p.t.Helper()
	timeout := time.After(time.Minute)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.cmd.Wait()
				p.t.Fatalf("the child ended before saying %s:\n%s", key, p.Output())
			}
			if v, found := strings.CutPrefix(line, key+" "); found {
				return v
			}
		case <-timeout:
			p.t.Fatalf("the child did not say %s within a minute:\n%s", key, p.Output())
		}
	}
}

// Tell sends the child a line.
func (p *Parent) Tell(line string) {
	fmt.Fprintln(p.stdin, line)
}

// Wait waits for the child to end and fails the test unless it passed.
func (p *Parent) Wait() {
	p.t.Helper()
	go func() {
		for range p.lines { // keep reading
		}
	}()
	if err := p.cmd.Wait(); err != nil || !strings.Contains(p.Output(), "--- PASS") {
		p.t.Fatalf("the child failed: %v\n%s", err, p.Output())
	}
}

// Say is the child's "KEY value…" line to the parent.
func Say(key string, value ...any) {
	fmt.Println(append([]any{key}, value...)...)
}

var stdin = bufio.NewScanner(os.Stdin)

// Hear waits in the child for the parent's line want.
func Hear(t *testing.T, want string) {
	t.Helper()
	if !stdin.Scan() || stdin.Text() != want {
		t.Fatalf("the parent did not say %s (%q, %v)", want, stdin.Text(), stdin.Err())
	}
}

// LowerFileLimit sets this process's soft open-file limit to what it has
// open plus spare, and returns it.
func LowerFileLimit(t *testing.T, spare int) uint64 {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	l.Cur = uint64(len(fds) + spare)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	return l.Cur
}

// OutOfFiles reports whether this process cannot open one more file.
func OutOfFiles() bool {
	f, err := os.Open(os.DevNull)
	if err == nil {
		f.Close()
	}
	return errors.Is(err, syscall.EMFILE)
}
