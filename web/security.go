package web

import (
	"crypto/tls"
	"fmt"
	"net"
	"runtime/debug"
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
	h := &c.Response().Header
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	h.Set(fiber.HeaderXFrameOptions, "DENY")
	h.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if s.secure {
		h.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
	}
	if p := c.Path(); strings.HasPrefix(p, "/api/") || strings.HasPrefix(p, "/whep/") {
		// Video stills, audit rows and answers carry personal data: no caches.
		h.Set(fiber.HeaderCacheControl, "no-store")
	}
	return c.Next()
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
			err = jsonError(c, fiber.StatusInternalServerError, "internal error; see the server log")
		}
	}()
	return c.Next()
}
