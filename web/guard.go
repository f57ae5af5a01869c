package web

import (
	"crypto/subtle"
	"errors"
	"net/url"
	"slices"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/auth"
)

// Cookie and header names the UI relies on (common.js, whep.js).
const (
	cookieSession = "hw_session" // HttpOnly: scripts never see it
	cookieCSRF    = "hw_csrf"    // readable: pages echo it in headerCSRF
	headerCSRF    = "X-CSRF-Token"
)

const localPrincipal = "principal"

// guard enforces a route's access level and scope before its handler runs:
// every route is registered behind it. In order: a cross-site write is
// refused (403), the caller is authenticated by API token (Authorization:
// Bearer) or session cookie (401 without one), a cookie session's writes
// must carry its CSRF token (403), a pending password change allows only
// AccessAccount routes (403), the role must hold the access level (403),
// and every scope the route resolves must be the caller's (403; unknown
// ids are the scope function's 4xx).
func (s *Server) guard(r route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		write := !safeMethod(c.Method())
		if write && !s.sameOrigin(c) {
			return jsonError(c, apiErr(fiber.StatusForbidden, codeCrossSite, "cross-site request refused: Origin does not match this server"))
		}
		if r.access == AccessPublic || r.access == AccessMetrics && s.metricsTokenOK(c) {
			return c.Next()
		}
		p, err := s.authenticate(c)
		if errors.Is(err, auth.ErrUnauthenticated) {
			c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="hallwatch"`)
			return jsonError(c, apiErr(fiber.StatusUnauthorized, "login_required", "login required"))
		} else if err != nil {
			return err
		}
		if write && !s.deps.Auth.CheckCSRF(p, c.Get(headerCSRF)) {
			return s.deny(c, p, r, codeCSRF, "missing or wrong "+headerCSRF+" header (send the hw_csrf cookie's value)")
		}
		if p.MustChangePassword && r.access != AccessAccount {
			return s.deny(c, p, r, codePasswordChange, "change your password first (POST /api/me/password)")
		}
		if !p.Holds(r.access) {
			return s.deny(c, p, r, codeRole, "role "+p.Role+" may not use this ("+r.access.String()+" access)")
		}
		c.Locals(localPrincipal, p)
		c.Locals(localUser, p.Name)
		if r.scope != nil {
			scopes, err := r.scope(s, c)
			if err != nil {
				return err
			}
			for _, sc := range scopes {
				if !p.InScope(s.completeScope(sc)) {
					return s.deny(c, p, r, codeOutOfScope, "outside your assigned districts and centers")
				}
			}
		}
		return c.Next()
	}
}

func (s *Server) deny(c *fiber.Ctx, p *auth.Principal, r route, code, why string) error {
	s.deps.Log.Info("request denied", "user", p.Name, "role", p.Role, "method", r.method, "route", r.path, "reason", why)
	return jsonError(c, apiErr(fiber.StatusForbidden, code, why))
}

// authenticate finds the caller: an Authorization header (API token) wins
// over the session cookie, and a bad one is not retried with the cookie.
func (s *Server) authenticate(c *fiber.Ctx) (*auth.Principal, error) {
	if h := c.Get(fiber.HeaderAuthorization); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return nil, auth.ErrUnauthenticated
		}
		return s.deps.Auth.Token(c.UserContext(), strings.TrimSpace(token))
	}
	if v := c.Cookies(cookieSession); v != "" {
		return s.deps.Auth.Session(c.UserContext(), v)
	}
	return nil, auth.ErrUnauthenticated
}

// completeScope takes a center's district from the configuration, so a
// scope is judged by where the center is now.
func (s *Server) completeScope(sc Scope) Scope {
	if sc.Center != "" {
		if d, _, ok := s.deps.Config.Center(sc.Center); ok {
			sc.District = d.ID
		}
	}
	return sc
}

// principal is the request's authenticated caller; nil on public routes.
func principal(c *fiber.Ctx) *auth.Principal {
	p, _ := c.Locals(localPrincipal).(*auth.Principal)
	return p
}

func safeMethod(m string) bool {
	return m == fiber.MethodGet || m == fiber.MethodHead || m == fiber.MethodOptions
}

// sameOrigin refuses browser writes sent from another site (defence in
// depth besides SameSite cookies and the CSRF token; it also covers the
// login form). Scheme and host must be this server's: https://host is
// another origin than a plain-http server at host, unless http.public_url
// (a TLS proxy in front) names it. Clients that send no Origin (scripts)
// pass.
func (s *Server) sameOrigin(c *fiber.Ctx) bool {
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || u.Path != "" || u.User != nil {
		return false
	}
	got := strings.ToLower(u.Scheme + "://" + u.Host)
	return got == s.ownOrigin(c) || slices.Contains(s.origins, got)
}

// ownOrigin is the origin of a page this server itself served for the
// request's Host.
func (s *Server) ownOrigin(c *fiber.Ctx) string {
	scheme := "http"
	if s.secure {
		scheme = "https"
	}
	return strings.ToLower(scheme + "://" + string(c.Request().Host()))
}

// allowedOrigins lists the origin of http.public_url, through which
// browsers may reach the server (a proxy terminating TLS).
func allowedOrigins(publicURL string) []string {
	u, err := url.Parse(publicURL)
	if publicURL == "" || err != nil || u.Host == "" {
		return nil
	}
	return []string{strings.ToLower(u.Scheme + "://" + u.Host)}
}

// metricsTokenOK reports whether the request carries the configured
// metrics token, which lets a Prometheus scraper in without a user.
func (s *Server) metricsTokenOK(c *fiber.Ctx) bool {
	want := s.deps.MetricsToken
	got, ok := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	return want != "" && ok && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
