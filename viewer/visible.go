package viewer

import "github.com/gofiber/fiber/v2"

// allowed reports whether the request's user holds access a on scope sc.
// Until access control lands everyone may do everything.
func (s *Server) allowed(c *fiber.Ctx, a Access, sc Scope) bool { return true }
