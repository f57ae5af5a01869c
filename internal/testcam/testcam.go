// Package testcam runs a real RTSP camera for tests: GStreamer's RTSP server
// (gst-rtsp-server through /usr/bin/python3 and gi) on 127.0.0.1, serving a
// moving test pattern encoded live with x264/x265, or an MP4 file's H.264.
//
// The camera process is killed with its whole process group when the test
// ends, and exits by itself when the test binary dies (its stdin closes).
// Tests skip with a clear message when GStreamer or gi is missing.
package testcam

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	_ "embed"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

//go:embed rtsp_camera.py
var script []byte

// Python is the interpreter with gi; the python3 on PATH may lack it.
const Python = "/usr/bin/python3"

// readyTimeout bounds the wait for the camera's READY line.
const readyTimeout = 30 * time.Second

// Options describe the camera. Zero values take the defaults in brackets.
type Options struct {
	Codec       string // "h264" [default] or "h265"
	Width       int    // [320]
	Height      int    // [240]
	FPS         int    // [15]
	GOP         int    // frames from key frame to key frame (key-int-max) [FPS]
	BitrateKbps int    // [500]
	Pattern     string // videotestsrc pattern ["ball", which moves]
	// Scroll moves the pattern this many pixels a frame to the side, so
	// that a detailed pattern ("smpte") fills the bitrate as a busy scene
	// does: large key frames and steady delta frames.
	Scroll int

	// File streams an MP4's H.264 frames with their own timing instead of
	// the test pattern. Every viewer gets the file from its start.
	File      string
	Loop      bool // start over at the end instead of ending the stream
	Transcode bool // re-encode File to H.264 (for files in other codecs)

	Port           int    // [0: a free port, see Camera.Port]
	Path           string // ["/stream"]
	User, Password string // when User is set, viewers must log in (basic auth)
	TLS            bool   // serve rtsps:// with a fresh self-signed certificate
}

// Camera is a running test camera.
type Camera struct {
	t    testing.TB
	opts Options
	dir  string
	cert *x509.Certificate

	life sync.Mutex // held while the process is started or stopped

	mu   sync.Mutex
	cmd  *exec.Cmd
	port int
	eos  chan struct{}
	done chan struct{} // closed when the process has been reaped
	logs *tailBuffer
}

// Start starts a camera and waits until it accepts connections. It skips
// the test when GStreamer or Python's gi is missing.
func Start(t testing.TB, opts Options) *Camera {
	t.Helper()
	if _, err := os.Stat(Python); err != nil {
		t.Skipf("testcam: %s not found (GStreamer RTSP test camera needs it with gi): %v", Python, err)
	}
	opts = withDefaults(opts)
	c := &Camera{t: t, opts: opts, dir: t.TempDir(), port: opts.Port}
	scriptPath := filepath.Join(c.dir, "rtsp_camera.py")
	if err := os.WriteFile(scriptPath, script, 0o600); err != nil {
		t.Fatalf("testcam: write script: %v", err)
	}
	if opts.TLS {
		c.cert = writeSelfSigned(t, c.dir)
	}
	t.Cleanup(c.Stop)
	t.Cleanup(c.reportOnFailure)
	c.start()
	return c
}

// reportOnFailure logs, for a failed test, whether the camera still ran
// and the end of what it printed: a camera that died or stalled under load
// is then told apart from a fault of the code under test.
func (c *Camera) reportOnFailure() {
	if !c.t.Failed() {
		return
	}
	c.mu.Lock()
	cmd, done, logs := c.cmd, c.done, c.logs
	c.mu.Unlock()
	state := "stopped by the test"
	if cmd != nil {
		select {
		case <-done:
			state = "exited: " + cmd.ProcessState.String()
		default:
			state = "running"
		}
	}
	c.t.Logf("testcam: camera %s (%s) was %s; its log ends:\n%s", c.URL(), c.opts.Codec, state, logs)
}

func withDefaults(o Options) Options {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Width, 320)
	def(&o.Height, 240)
	def(&o.FPS, 15)
	def(&o.GOP, o.FPS)
	def(&o.BitrateKbps, 500)
	if o.Codec == "" {
		o.Codec = "h264"
	}
	if o.Pattern == "" {
		o.Pattern = "ball"
	}
	if o.Path == "" {
		o.Path = "/stream"
	}
	if !strings.HasPrefix(o.Path, "/") {
		o.Path = "/" + o.Path
	}
	return o
}

func (c *Camera) args() []string {
	o := c.opts
	a := []string{
		filepath.Join(c.dir, "rtsp_camera.py"),
		"--port", strconv.Itoa(c.port),
		"--path", o.Path,
		"--codec", o.Codec,
		"--width", strconv.Itoa(o.Width),
		"--height", strconv.Itoa(o.Height),
		"--fps", strconv.Itoa(o.FPS),
		"--gop", strconv.Itoa(o.GOP),
		"--bitrate", strconv.Itoa(o.BitrateKbps),
		"--pattern", o.Pattern,
		"--scroll", strconv.Itoa(o.Scroll),
	}
	if o.File != "" {
		a = append(a, "--file", o.File)
	}
	if o.Loop {
		a = append(a, "--loop")
	}
	if o.Transcode {
		a = append(a, "--transcode")
	}
	if o.User != "" {
		a = append(a, "--user", o.User, "--password", o.Password)
	}
	if c.cert != nil {
		a = append(a, "--tls-cert", filepath.Join(c.dir, "cert.pem"), "--tls-key", filepath.Join(c.dir, "key.pem"))
	}
	return a
}

// start launches the camera; it fails or skips the test when it cannot.
func (c *Camera) start() {
	c.t.Helper()
	c.life.Lock()
	defer c.life.Unlock()
	if err := c.launch(); err != nil {
		if m, ok := err.(missingError); ok {
			c.t.Skipf("testcam: GStreamer RTSP camera unavailable: %s", string(m))
		}
		c.t.Fatal(err)
	}
}

// missingError names the GStreamer elements this machine lacks.
type missingError string

func (m missingError) Error() string { return "missing GStreamer elements: " + string(m) }

// launch starts the process, waits for its READY line and watches it: a
// camera that dies by itself is started again (see revive). The caller
// holds c.life.
func (c *Camera) launch() error {
	cmd := exec.Command(Python, c.args()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// GStreamer's warnings and errors go to the log a failed test prints,
	// but not rtpsession's warning for every packet sent, which pushed
	// everything else out of that log's tail.
	cmd.Env = append(os.Environ(), "GST_DEBUG=2,rtpsession:1")
	// The camera exits when its stdin closes: exec holds the pipe open until
	// the process is reaped, so the camera never outlives this process.
	if _, err := cmd.StdinPipe(); err != nil {
		return fmt.Errorf("testcam: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("testcam: %w", err)
	}
	logs := &tailBuffer{max: 32 << 10}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("testcam: start %s: %w", Python, err)
	}

	lines := make(chan string, 1)
	eos := make(chan struct{})
	done := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		first := true
		for sc.Scan() {
			switch line := sc.Text(); {
			case first:
				lines <- line
				first = false
			case line == "EOS":
				close(eos)
			}
		}
		if first {
			close(lines)
		}
		_ = cmd.Wait()
		close(done)
	}()

	c.mu.Lock()
	c.cmd, c.eos, c.done, c.logs = cmd, eos, done, logs
	c.mu.Unlock()

	var line string
	select {
	case l, ok := <-lines:
		if !ok {
			c.kill()
			return fmt.Errorf("testcam: camera exited before it was ready: %v\n%s", cmd.ProcessState, logs)
		}
		line = l
	case <-time.After(readyTimeout):
		c.kill()
		return fmt.Errorf("testcam: camera not ready after %v\n%s", readyTimeout, logs)
	}
	word, rest, _ := strings.Cut(line, " ")
	switch word {
	case "READY":
		port, err := strconv.Atoi(rest)
		if err != nil {
			c.kill()
			return fmt.Errorf("testcam: bad READY line %q", line)
		}
		c.mu.Lock()
		c.port = port
		c.mu.Unlock()
		go c.revive(cmd, done)
		return nil
	case "MISSING":
		c.kill()
		return missingError(rest)
	default:
		c.kill()
		return fmt.Errorf("testcam: camera failed: %s\n%s", line, logs)
	}
}

// revive starts a camera that died by itself (not stopped by the test)
// again on its port, as a camera that reboots. GStreamer's RTSP server
// aborts now and then when clients PLAY a shared stream that has not
// started yet (gst_rtsp_media_get_rates: assertion failed); clients then
// reconnect as they would to a real camera.
func (c *Camera) revive(cmd *exec.Cmd, done chan struct{}) {
	<-done
	c.life.Lock()
	defer c.life.Unlock()
	c.mu.Lock()
	crashed := c.cmd == cmd
	logs := c.logs
	c.mu.Unlock()
	if !crashed {
		return // stopped or restarted by the test
	}
	c.t.Logf("testcam: camera on port %d died (%v); starting it again. Its log ends:\n%s", c.Port(), cmd.ProcessState, logs)
	if err := c.launch(); err != nil {
		c.t.Errorf("testcam: camera did not start again: %v", err)
	}
}

// Stop kills the camera (and everything it started). Safe to call twice.
func (c *Camera) Stop() {
	c.life.Lock()
	defer c.life.Unlock()
	c.kill()
}

// kill ends the current process and waits until it is reaped; the caller
// holds c.life.
func (c *Camera) kill() {
	c.mu.Lock()
	cmd, done := c.cmd, c.done
	c.cmd = nil
	c.mu.Unlock()
	if cmd == nil {
		return
	}
	// The negative pid addresses the process group made by Setpgid; SIGKILL
	// also ends a frozen (stopped) camera.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

// Freeze stops the camera process without closing its connections, like
// a hung camera: sockets stay open, nothing is sent. Thaw resumes it.
func (c *Camera) Freeze() { c.signal(syscall.SIGSTOP) }

// Thaw resumes a frozen camera.
func (c *Camera) Thaw() { c.signal(syscall.SIGCONT) }

func (c *Camera) signal(sig syscall.Signal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cmd != nil {
		_ = syscall.Kill(-c.cmd.Process.Pid, sig)
	}
}

// Restart stops the camera and starts it again on the same port, as a
// camera that reboots does. Call it from the test goroutine (it may Fatal).
func (c *Camera) Restart() {
	c.t.Helper()
	c.Stop()
	c.start()
}

// Port is the TCP port the camera listens on.
func (c *Camera) Port() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.port
}

// URL is the camera's stream URL, with the credentials when it has some.
func (c *Camera) URL() string {
	u := url.URL{Scheme: "rtsp", Host: net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port())), Path: c.opts.Path}
	if c.opts.TLS {
		u.Scheme = "rtsps"
	}
	if c.opts.User != "" {
		u.User = url.UserPassword(c.opts.User, c.opts.Password)
	}
	return u.String()
}

// TLSConfig trusts the camera's self-signed certificate (nil without TLS).
func (c *Camera) TLSConfig() *tls.Config {
	if c.cert == nil {
		return nil
	}
	pool := x509.NewCertPool()
	pool.AddCert(c.cert)
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
}

// EOS is closed when a File played once has been sent to its end (its last
// frames may still be on their way). It belongs to the current process:
// call it again after Restart.
func (c *Camera) EOS() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.eos
}

// writeSelfSigned writes cert.pem and key.pem for 127.0.0.1 into dir.
func writeSelfSigned(t testing.TB, dir string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("testcam: key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "testcam"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("testcam: certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("testcam: key: %v", err)
	}
	write := func(name, typ string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b}), 0o600); err != nil {
			t.Fatalf("testcam: %v", err)
		}
	}
	write("cert.pem", "CERTIFICATE", der)
	write("key.pem", "PRIVATE KEY", keyDER)
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("testcam: %v", err)
	}
	return cert
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	if b == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(bytes.Clone(b.buf))
}
