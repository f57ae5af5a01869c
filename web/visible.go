package web

import "github.com/gofiber/fiber/v2"

// allowed reports whether the request's user holds access a on scope sc
// (list handlers filter with it; the guard has checked the route itself).
func (s *Server) allowed(c *fiber.Ctx, a Access, sc Scope) bool {
	return principal(c).Allowed(a, s.completeScope(sc))
}
