package web

import (
	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/auth"
)

// Access names who may call a route. Every route declares one, and the
// guard enforces it, with the route's scope, in one place. Which roles hold
// each level is the auth policy's (auth.Principal.Holds).
type Access = auth.Access

// Access levels.
const (
	AccessPublic  = auth.AccessPublic  // health, login: no session needed
	AccessUser    = auth.AccessUser    // any logged-in user; results filtered to their scope
	AccessLive    = auth.AccessLive    // live video of a camera
	AccessAlerts  = auth.AccessAlerts  // read alerts and their snapshots
	AccessAck     = auth.AccessAck     // acknowledge alerts
	AccessCounts  = auth.AccessCounts  // visitor counts and staffing reports
	AccessAdmin   = auth.AccessAdmin   // users, tokens, audit log, profiles
	AccessAccount = auth.AccessAccount // own account; allowed while a password change is pending
	AccessMetrics = auth.AccessMetrics // Prometheus metrics: admins or the metrics token
	// AccessGeometry: draw cameras' lines and zones.
	AccessGeometry = auth.AccessGeometry
)

// Scope is the district and center a request touches. Empty fields mean
// the route is not tied to one (list routes filter their results).
type Scope = auth.Scope

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
		{fiber.MethodGet, "/api/centers", AccessUser, nil, s.places},
		{fiber.MethodGet, "/api/events", AccessUser, centersScope, s.events},
		{fiber.MethodGet, "/api/counts", AccessCounts, centersScope, s.counts},
		{fiber.MethodGet, "/api/counts.csv", AccessCounts, centersScope, s.countsCSV},
		{fiber.MethodGet, "/api/reports/staffing", AccessCounts, centersScope, s.staffing},
		{fiber.MethodGet, "/api/reports/staffing.csv", AccessCounts, centersScope, s.staffingCSV},
		{fiber.MethodGet, "/api/reports/services", AccessCounts, centersScope, s.services},
		{fiber.MethodGet, "/api/reports/services.csv", AccessCounts, centersScope, s.servicesCSV},
		{fiber.MethodGet, "/api/reports/queues", AccessCounts, centersScope, s.queues},
		{fiber.MethodGet, "/api/reports/queues.csv", AccessCounts, centersScope, s.queuesCSV},
		{fiber.MethodGet, "/api/alerts", AccessAlerts, centersScope, s.listAlerts},
		{fiber.MethodGet, "/api/alerts/:id", AccessAlerts, alertScope, s.getAlert},
		{fiber.MethodGet, "/api/alerts/:id/snapshot.jpg", AccessAlerts, alertScope, s.alertSnapshot},
		{fiber.MethodPost, "/api/alerts/:id/ack", AccessAck, alertScope, s.ackAlert},
		{fiber.MethodGet, "/api/alerts/:id/clip.mp4", AccessLive, alertScope, s.alertClip},
		{fiber.MethodGet, "/api/cameras/:camera/recordings", AccessLive, cameraScope, s.recordingsTimeline},
		{fiber.MethodGet, "/api/cameras/:camera/playback", AccessLive, cameraScope, s.playback},
		{fiber.MethodGet, "/api/cameras/:camera/recording.mp4", AccessLive, cameraScope, s.recordingVideo},
		{fiber.MethodPost, "/api/alerts/ack", AccessAck, bulkAckScope, s.bulkAck},
		{fiber.MethodGet, "/api/board", AccessAlerts, centersScope, s.board},
		{fiber.MethodGet, "/api/cameras/:camera/geometry", AccessLive, cameraScope, s.getGeometry},
		{fiber.MethodPut, "/api/cameras/:camera/geometry", AccessGeometry, geometryScope, s.putGeometry},
		{fiber.MethodDelete, "/api/cameras/:camera/geometry", AccessGeometry, geometryScope, s.revertGeometry},
		{fiber.MethodPost, "/api/cameras/:camera/geometry/check", AccessGeometry, geometryScope, s.checkGeometry},
		{fiber.MethodGet, "/api/cameras/:camera/geometry/versions", AccessGeometry, geometryScope, s.geometryVersions},
		{fiber.MethodGet, "/api/cameras/:camera/geometry/versions/:version", AccessGeometry, geometryScope, s.geometryVersion},
		{fiber.MethodGet, "/api/cameras/:camera/snapshot.jpg", AccessLive, cameraScope, s.cameraSnapshot},
		{fiber.MethodGet, "/api/cameras/:camera/overlay", AccessLive, cameraScope, s.overlay},
		{fiber.MethodGet, "/api/editing", AccessUser, nil, s.editing},
		{fiber.MethodPut, "/api/editing", AccessAdmin, nil, s.setEditing},
		{fiber.MethodGet, "/api/views", AccessLive, nil, s.listViews},
		{fiber.MethodPost, "/api/views", AccessLive, viewScope, s.saveView},
		{fiber.MethodDelete, "/api/views/:id", AccessLive, nil, s.deleteView},
		{fiber.MethodPost, "/whep/:camera", AccessLive, cameraScope, s.whepOffer},
		{fiber.MethodPatch, "/whep/:camera/:session", AccessLive, cameraScope, s.whepPatch},
		{fiber.MethodDelete, "/whep/:camera/:session", AccessLive, cameraScope, s.whepHangup},
		{fiber.MethodPost, "/api/login", AccessPublic, nil, s.login},
		{fiber.MethodPost, "/api/logout", AccessAccount, nil, s.logout},
		{fiber.MethodGet, "/api/me", AccessAccount, nil, s.me},
		{fiber.MethodPost, "/api/me/password", AccessAccount, nil, s.changeOwnPassword},
		{fiber.MethodGet, "/api/users", AccessAdmin, nil, s.listUsers},
		{fiber.MethodPost, "/api/users", AccessAdmin, nil, s.createUser},
		{fiber.MethodPatch, "/api/users/:id", AccessAdmin, nil, s.updateUser},
		{fiber.MethodPost, "/api/users/:id/password", AccessAdmin, nil, s.resetPassword},
		{fiber.MethodPost, "/api/users/:id/unlock", AccessAdmin, nil, s.unlockUser},
		{fiber.MethodGet, "/api/tokens", AccessAdmin, nil, s.listTokens},
		{fiber.MethodPost, "/api/tokens", AccessAdmin, nil, s.createToken},
		{fiber.MethodDelete, "/api/tokens/:id", AccessAdmin, nil, s.revokeToken},
		{fiber.MethodGet, "/api/audit", AccessAdmin, nil, s.auditList},
		{fiber.MethodGet, "/api/audit.csv", AccessAdmin, nil, s.auditCSV},
		{fiber.MethodGet, "/api/notifiers", AccessAdmin, nil, s.notifiers},
		{fiber.MethodGet, "/metrics", AccessMetrics, nil, s.metrics},
		{fiber.MethodGet, "/api/cluster", AccessMetrics, nil, s.cluster},
		{fiber.MethodGet, "/debug/pprof/", AccessAdmin, nil, s.pprof},
		{fiber.MethodGet, "/debug/pprof/:name", AccessAdmin, nil, s.pprof},
	}
}

// cameraScope scopes a request by the :camera path parameter.
func cameraScope(s *Server, c *fiber.Ctx) ([]Scope, error) {
	if !idPattern.MatchString(c.Params("camera")) {
		return nil, fiber.NewError(fiber.StatusBadRequest, "camera id "+quote(c.Params("camera"))+" is not a valid id")
	}
	ref, ok := s.deps.Config.Camera(c.Params("camera"))
	if !ok {
		return nil, fiber.NewError(fiber.StatusNotFound, "unknown camera "+quote(c.Params("camera")))
	}
	return []Scope{{District: ref.District.ID, Center: ref.Center.ID}}, nil
}

// healthz answers anyone: containers' health checks, the reverse proxy,
// and the other nodes of a cluster, which ask whether this one reaches
// NATS (cluster.Health).
func (s *Server) healthz(c *fiber.Ctx) error {
	if s.deps.Cluster != nil {
		return c.JSON(fiber.Map{"status": "ok", "cluster": s.deps.Cluster.Health()})
	}
	return c.JSON(fiber.Map{"status": "ok"})
}

// cluster shows the cluster as this node sees it: its leases, the nodes
// alive and what each holds, the cameras no node runs right now.
func (s *Server) cluster(c *fiber.Ctx) error {
	if s.deps.Cluster == nil {
		return apiErr(fiber.StatusNotFound, "not_found", "this hallwatch is a single node: its configuration has no cluster section")
	}
	return c.JSON(s.deps.Cluster.View())
}
