package viewer

import "github.com/gofiber/fiber/v2"

// Access names who may call a route. Every route declares one; the guard
// enforces it in one place.
type Access int

// Access levels, from open to most restricted.
const (
	AccessPublic Access = iota // health, login
	AccessUser                 // any logged-in user; results filtered to their scope
	AccessLive                 // live video of the camera in the path
	AccessAdmin
)

type route struct {
	method  string
	path    string
	access  Access
	handler fiber.Handler
}

func (s *Server) routeTable() []route {
	return []route{
		{fiber.MethodGet, "/healthz", AccessPublic, s.healthz},
		{fiber.MethodGet, "/api/cameras", AccessUser, s.cameras},
		{fiber.MethodPost, "/whep/:camera", AccessLive, s.whepOffer},
		{fiber.MethodPatch, "/whep/:camera/:session", AccessLive, s.whepPatch},
		{fiber.MethodDelete, "/whep/:camera/:session", AccessLive, s.whepHangup},
	}
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}
