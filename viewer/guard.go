package viewer

import "github.com/gofiber/fiber/v2"

// guard enforces a route's access level and scope before its handler runs.
// Until access control lands it only resolves the scope (so unknown
// cameras are refused before any work).
func (s *Server) guard(r route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if r.scope != nil {
			if _, err := r.scope(s, c); err != nil {
				return err
			}
		}
		return c.Next()
	}
}
