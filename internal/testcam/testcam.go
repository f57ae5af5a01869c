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
	c.start()
	return c
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

// start launches the process and waits for its READY line.
func (c *Camera) start() {
	c.t.Helper()
	cmd := exec.Command(Python, c.args()...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The camera exits when its stdin closes: exec holds the pipe open until
	// the process is reaped, so the camera never outlives this process.
	if _, err := cmd.StdinPipe(); err != nil {
		c.t.Fatalf("testcam: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		c.t.Fatalf("testcam: %v", err)
	}
	logs := &tailBuffer{max: 32 << 10}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		c.t.Fatalf("testcam: start %s: %v", Python, err)
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
			c.Stop()
			c.t.Fatalf("testcam: camera exited before it was ready: %v\n%s", cmd.ProcessState, logs)
		}
		line = l
	case <-time.After(readyTimeout):
		c.Stop()
		c.t.Fatalf("testcam: camera not ready after %v\n%s", readyTimeout, logs)
	}
	word, rest, _ := strings.Cut(line, " ")
	switch word {
	case "READY":
		port, err := strconv.Atoi(rest)
		if err != nil {
			c.Stop()
			c.t.Fatalf("testcam: bad READY line %q", line)
		}
		c.mu.Lock()
		c.port = port
		c.mu.Unlock()
	case "MISSING":
		c.Stop()
		c.t.Skipf("testcam: GStreamer RTSP camera unavailable: %s", rest)
	default:
		c.Stop()
		c.t.Fatalf("testcam: camera failed: %s\n%s", line, logs)
	}
}

// Stop kills the camera (and everything it started). Safe to call twice.
func (c *Camera) Stop() {
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
