package viewer

import "github.com/gofiber/fiber/v2"

// Access names who may call a route. Every route declares one, and the
// guard enforces it, with the route's scope, in one place.
type Access int

// Access levels. Which roles hold each is decided by the auth policy.
const (
	AccessPublic Access = iota // health, login: no session needed
	AccessUser                 // any logged-in user; results filtered to their scope
	AccessLive                 // live video of a camera
	AccessAlerts               // read alerts and their snapshots
	AccessAck                  // acknowledge alerts
	AccessCounts               // visitor counts and staffing reports
	AccessAdmin                // users, tokens, audit log, profiles
)

// Scope is the district and center a request touches. Empty fields mean
// the route is not tied to one (list routes filter their results).
type Scope struct {
	District, Center string
}

// scopeFunc finds the scopes a request touches, e.g. from a camera id in
// the path or the centers in its query; every one must be allowed. An error
// (unknown camera, alert…) is answered before the handler runs.
type scopeFunc func(s *Server, c *fiber.Ctx) ([]Scope, error)

type route struct {
	method  string
	path    string
	access  Access
	scope   scopeFunc // nil: not tied to one district/center
	handler fiber.Handler
}

func (s *Server) routeTable() []route {
	return []route{
		{fiber.MethodGet, "/healthz", AccessPublic, nil, s.healthz},
		{fiber.MethodGet, "/api/cameras", AccessUser, nil, s.cameras},
		{fiber.MethodGet, "/api/events", AccessUser, centersScope, s.events},
		{fiber.MethodGet, "/api/counts", AccessCounts, centersScope, s.counts},
		{fiber.MethodGet, "/api/counts.csv", AccessCounts, centersScope, s.countsCSV},
		{fiber.MethodGet, "/api/reports/staffing", AccessCounts, centersScope, s.staffing},
		{fiber.MethodGet, "/api/reports/staffing.csv", AccessCounts, centersScope, s.staffingCSV},
		{fiber.MethodGet, "/api/alerts", AccessAlerts, centersScope, s.listAlerts},
		{fiber.MethodGet, "/api/alerts/:id", AccessAlerts, alertScope, s.getAlert},
		{fiber.MethodGet, "/api/alerts/:id/snapshot.jpg", AccessAlerts, alertScope, s.alertSnapshot},
		{fiber.MethodPost, "/api/alerts/:id/ack", AccessAck, alertScope, s.ackAlert},
		{fiber.MethodGet, "/api/board", AccessAlerts, centersScope, s.board},
		{fiber.MethodPost, "/whep/:camera", AccessLive, cameraScope, s.whepOffer},
		{fiber.MethodPatch, "/whep/:camera/:session", AccessLive, cameraScope, s.whepPatch},
		{fiber.MethodDelete, "/whep/:camera/:session", AccessLive, cameraScope, s.whepHangup},
	}
}

// cameraScope scopes a request by the :camera path parameter.
func cameraScope(s *Server, c *fiber.Ctx) ([]Scope, error) {
	ref, ok := s.deps.Config.Camera(c.Params("camera"))
	if !ok {
		return nil, fiber.NewError(fiber.StatusNotFound, "unknown camera "+quote(c.Params("camera")))
	}
	return []Scope{{District: ref.District.ID, Center: ref.Center.ID}}, nil
}

func (s *Server) healthz(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"status": "ok"})
}
