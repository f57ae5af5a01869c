package config

import (
	"errors"
	"io/fs"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pion/stun/v4"
)

func (c *checker) http(h *HTTP) {
	c.listenAddr("http.listen", h.Listen)
	switch {
	case h.TLSCert != "" && h.TLSKey == "":
		c.fail("http.tls_cert", "set without http.tls_key; give both or neither")
	case h.TLSCert == "" && h.TLSKey != "":
		c.fail("http.tls_key", "set without http.tls_cert; give both or neither")
	}
	if h.TLSCert != "" {
		c.file("http.tls_cert", h.TLSCert)
	}
	if h.TLSKey != "" {
		c.file("http.tls_key", h.TLSKey)
	}
	if h.PublicURL != "" {
		if u, err := url.Parse(h.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			c.fail("http.public_url", "want an http:// or https:// address without credentials, such as https://hallwatch.example.gov.cn")
		}
	}
	c.atLeast("http.max_body_bytes", h.MaxBodyBytes, 1024)
	c.share("http.max_connections", h.MaxConnections, "http.max_connections_per_address", h.MaxConnectionsPerAddress)
	c.share("http.max_streams", h.MaxStreams, "http.max_streams_per_user", h.MaxStreamsPerUser)
}

// share checks a cap and the share of it one client or user may take.
func (c *checker) share(totalKey string, total int, shareKey string, share int) {
	c.atLeast(totalKey, total, 1)
	c.atLeast(shareKey, share, 1)
	if share > total && total >= 1 {
		c.fail(shareKey, "is %d, more than %s (%d)", share, totalKey, total)
	}
}

func (c *checker) listenAddr(key, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		c.fail(key, "want host:port such as 127.0.0.1:8080, got %q", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		c.fail(key, "invalid port %q, want 0 to 65535", port)
	}
	if host != "" && !validHost(host) {
		c.fail(key, "invalid host %q, want an IP address or host name", host)
	}
}

// validHost accepts an IP address or a DNS host name.
func validHost(h string) bool {
	if net.ParseIP(h) != nil {
		return true
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// file checks that path names a readable regular file.
func (c *checker) file(key, path string) {
	info, err := os.Stat(path)
	var pe *fs.PathError
	switch {
	case errors.Is(err, fs.ErrNotExist):
		c.fail(key, "file %q does not exist", path)
	case errors.As(err, &pe):
		c.fail(key, "cannot read %q: %v", path, pe.Err)
	case err != nil:
		c.fail(key, "cannot read %q: %v", path, err)
	case info.IsDir():
		c.fail(key, "%q is a directory, want a file", path)
	}
}

func (c *checker) webrtc(w *WebRTC) {
	for _, p := range []struct {
		key  string
		port int
	}{{"webrtc.udp_port", w.UDPPort}, {"webrtc.tcp_port", w.TCPPort}} {
		if p.port < 0 || p.port > 65535 {
			c.fail(p.key, "must be from 0 (off) to 65535, got %d", p.port)
		}
	}
	if w.UDPPort == 0 && w.TCPPort == 0 {
		c.fail("webrtc.udp_port", "udp_port and tcp_port are both 0; enable at least one")
	}
	for i, h := range w.AdditionalHosts {
		if !validHost(h) {
			c.fail(indexKey("webrtc.additional_hosts", i), "%q is neither an IP address nor a host name", h)
		}
	}
	for i, name := range w.Interfaces {
		c.required(indexKey("webrtc.interfaces", i), name)
	}
	for i, s := range w.ICEServers {
		c.iceServer(indexKey("webrtc.ice_servers", i), s)
	}
	c.share("webrtc.max_sessions", w.MaxSessions, "webrtc.max_sessions_per_user", w.MaxSessionsPerUser)
	if d := w.ConnectTimeout.D(); d < time.Second || d > 2*time.Minute {
		c.fail("webrtc.connect_timeout", "must be from 1s to 2m, got %v", d)
	}
	if w.MaxTranscodes < 0 || w.MaxTranscodes > 64 {
		c.fail("webrtc.max_transcodes", "must be from 0 (never transcode) to 64, got %d", w.MaxTranscodes)
	}
	if w.TranscodeMaxWidth != 0 && (w.TranscodeMaxWidth < 160 || w.TranscodeMaxWidth > 7680) {
		c.fail("webrtc.transcode_max_width", "must be 0 (keep the camera's size) or from 160 to 7680 pixels, got %d", w.TranscodeMaxWidth)
	}
}

// iceServer checks a STUN/TURN server with pion's own URL parser, so that
// what passes here also works in the WebRTC engine.
func (c *checker) iceServer(key string, s ICEServer) {
	if !c.required(key+".url", s.URL) {
		return
	}
	scheme, _, _ := strings.Cut(s.URL, ":")
	switch strings.ToLower(scheme) {
	case "stun":
	case "turn", "turns":
		if s.Username == "" || s.Password == "" {
			c.fail(key, "a TURN server needs username and password")
		}
	default:
		c.fail(key+".url", "want a stun:, turn: or turns: URL such as stun:stun.example.com:3478")
		return
	}
	if _, err := stun.ParseURI(s.URL); err != nil {
		c.fail(key+".url", "invalid ICE server URL, want stun:HOST[:PORT] or turn:HOST[:PORT][?transport=udp|tcp]")
	}
}

// cameraURL checks an RTSP URL. Messages never quote the URL or parser
// errors: either may hold the password.
func (c *checker) cameraURL(key, raw string) {
	if !c.required(key, raw) {
		return
	}
	u, ok := c.parseURL(key, raw, "rtsp://host/path")
	if !ok {
		return
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		c.fail(key, "scheme %q not allowed, want rtsp or rtsps", u.Scheme)
		return
	}
	c.urlHost(key, u)
}

// webhookURL checks a notifier URL, which carries an access key: messages
// never quote it.
func (c *checker) webhookURL(key, raw string) {
	if !c.required(key, raw) {
		return
	}
	u, ok := c.parseURL(key, raw, "https://host/path")
	if !ok {
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		c.fail(key, "scheme %q not allowed, want http or https", u.Scheme)
		return
	}
	c.urlHost(key, u)
}

func (c *checker) parseURL(key, raw, example string) (*url.URL, bool) {
	if !strings.Contains(raw, "://") {
		c.fail(key, "want a URL such as %s", example)
		return nil, false
	}
	u, err := url.Parse(raw)
	// An "@" that did not end up in the user info means an unencoded "/",
	// "?" or "#" in the password cut the URL short: the host and port parsed
	// would be pieces of the password.
	if err != nil || (u.User == nil && strings.Contains(raw, "@")) {
		c.fail(key, "invalid URL; percent-encode special characters in the user name and password (@ is %%40, / is %%2F, # is %%23)")
		return nil, false
	}
	return u, true
}

func (c *checker) urlHost(key string, u *url.URL) {
	if u.Hostname() == "" {
		c.fail(key, "missing host")
		return
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			c.fail(key, "invalid port %q, want 1 to 65535", p)
		}
	}
}
