package web

import (
	"crypto/tls"
	"fmt"
	"net"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// contentSecurityPolicy allows only the server's own scripts and styles
// (no inline code, so injected markup cannot run), and no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(c *fiber.Ctx) error {
	s.setSecurityHeaders(c)
	return c.Next()
}

// noStorePrefixes are the paths whose answers no cache may keep: video
// stills, audit rows, answers and profiles carry personal data or secrets.
var noStorePrefixes = []string{"/api/", "/whep/", "/metrics", "/debug/"}

// baseHeaders are the headers every answer carries, in order.
func (s *Server) baseHeaders() [][2]string {
	h := [][2]string{
		{"Content-Security-Policy", contentSecurityPolicy},
		{fiber.HeaderXContentTypeOptions, "nosniff"},
		{fiber.HeaderXFrameOptions, "DENY"},
		{fiber.HeaderReferrerPolicy, "no-referrer"},
		{"Cross-Origin-Opener-Policy", "same-origin"},
		{"Permissions-Policy", "camera=(), microphone=(), geolocation=()"},
	}
	if s.secure {
		h = append(h, [2]string{fiber.HeaderStrictTransportSecurity, "max-age=31536000"})
	}
	return h
}

func (s *Server) setSecurityHeaders(c *fiber.Ctx) {
	h := &c.Response().Header
	for _, kv := range s.baseHeaders() {
		h.Set(kv[0], kv[1])
	}
	// Routing is case-sensitive, but whatever answers /API/… must not be
	// cached either.
	path := strings.ToLower(c.Path())
	if slices.ContainsFunc(noStorePrefixes, func(p string) bool { return strings.HasPrefix(path, p) }) {
		h.Set(fiber.HeaderCacheControl, "no-store")
	}
}

// tlsListener wraps ln with the configured certificate (http.tls_cert,
// http.tls_key).
func (s *Server) tlsListener(ln net.Listener) (net.Listener, error) {
	h := s.deps.Config.HTTP
	cert, err := tls.LoadX509KeyPair(h.TLSCert, h.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("http.tls_cert %s / http.tls_key %s: %w", h.TLSCert, h.TLSKey, err)
	}
	return tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}), nil
}

// recoverPanics turns a handler's panic into a logged 500: one bad request
// must not take every camera's live video down with the process.
func (s *Server) recoverPanics(c *fiber.Ctx) (err error) {
	defer func() {
		if v := recover(); v != nil {
			s.deps.Log.Error("handler panicked", "method", c.Method(), "path", c.Path(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			err = jsonError(c, internalError())
		}
	}()
	return c.Next()
}

// busyAnswer is the whole answer to a connection over the caps: written
// as is, without reading the request, so a flood costs next to nothing.
func (s *Server) busyAnswer() []byte {
	const body = `{"error":"too many connections; try again shortly"}`
	var b strings.Builder
	b.WriteString("HTTP/1.1 503 Service Unavailable\r\n")
	for _, kv := range s.baseHeaders() {
		b.WriteString(kv[0] + ": " + kv[1] + "\r\n")
	}
	fmt.Fprintf(&b, "Cache-Control: no-store\r\nRetry-After: 5\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}
