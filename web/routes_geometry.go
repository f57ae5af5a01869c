package web

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geometry"
	"github.com/hallwatch/hallwatch/store"
)

// GeometryDesk keeps the lines and zones drawn on cameras;
// *geometry.Manager is one.
type GeometryDesk interface {
	State(camera string) (geometry.State, error)
	Save(ctx context.Context, camera string, base int, g *config.Geometry, who, remote string) (geometry.State, error)
	Versions(ctx context.Context, camera string, n int) ([]store.GeometryVersion, error)
	Version(ctx context.Context, camera string, version int) (store.GeometryVersion, config.Geometry, error)
	At(ctx context.Context, camera string, at time.Time) (int, config.Geometry, error)
	ManagersMayEdit() bool
	SetManagersMayEdit(ctx context.Context, allow bool, who, remote string) error
}

// Error codes of the geometry routes (besides config.Code*, the reasons a
// drawing is refused).
const (
	codeGeometryConflict   = "geometry_conflict"   // 409: saved meanwhile; "version" is the newest
	codeCameraNotAnalysed  = "camera_not_analysed" // 409: the camera has no analytics section
	codeEditingNotAllowed  = "editing_not_allowed" // 403: an admin has not allowed center managers to edit
	codeBadGeometry        = "bad_geometry"        // 400: not geometry JSON
	codeNoGeometryVersion  = "no_version"          // 404
	codeNoPicture          = "no_picture"          // 503: the camera has not been analysed yet (offline, starting)
	maxGeometryVersionList = 200
)

// geometryScope scopes an editing request by its camera; center managers
// edit only when an admin allowed it.
func geometryScope(s *Server, c *fiber.Ctx) ([]Scope, error) {
	if !s.managersMayEdit(principal(c)) {
		return nil, apiErr(fiber.StatusForbidden, codeEditingNotAllowed, "an admin has not allowed center managers to edit cameras' lines and zones")
	}
	return cameraScope(s, c)
}

// managersMayEdit: admins always edit; others (center managers, the only
// other role holding AccessGeometry) when an admin allowed it.
func (s *Server) managersMayEdit(p *auth.Principal) bool {
	return p.Role == auth.RoleAdmin || s.deps.Geometry.ManagersMayEdit()
}

// mayEditGeometry reports whether p may edit some camera's geometry.
func (s *Server) mayEditGeometry(p *auth.Principal) bool {
	return p.Holds(AccessGeometry) && s.managersMayEdit(p)
}

// geometryError answers the geometry desk's refusals with their codes.
func geometryError(err error) error {
	var invalid *geometry.InvalidError
	var conflict *geometry.ConflictError
	switch {
	case errors.As(err, &invalid):
		first := invalid.Problems[0]
		return apiErr(fiber.StatusUnprocessableEntity, first.Code, first.Error()).
			with("field", first.Field).with("problems", invalid.Problems)
	case errors.As(err, &conflict):
		return apiErr(fiber.StatusConflict, codeGeometryConflict, conflict.Error()).with("version", conflict.Current)
	case errors.Is(err, geometry.ErrNotAnalysed):
		return apiErr(fiber.StatusConflict, codeCameraNotAnalysed, err.Error())
	case errors.Is(err, geometry.ErrUnknownCamera):
		return fiber.NewError(fiber.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrNotFound):
		return apiErr(fiber.StatusNotFound, codeNoGeometryVersion, "no such version")
	}
	return err
}

// geometryView is a camera's geometry in force and whether the caller may
// change it.
type geometryView struct {
	geometry.State
	MayEdit bool `json:"may_edit"`
}

// getGeometry answers GET /api/cameras/:camera/geometry.
func (s *Server) getGeometry(c *fiber.Ctx) error {
	st, err := s.deps.Geometry.State(c.Params("camera"))
	if err != nil {
		return geometryError(err)
	}
	return c.JSON(s.geometryView(c, st))
}

func (s *Server) geometryView(c *fiber.Ctx, st geometry.State) geometryView {
	ref, _ := s.deps.Config.Camera(st.Camera)
	p := principal(c)
	return geometryView{State: st, MayEdit: s.mayEditGeometry(p) && p.InScope(Scope{District: ref.District.ID, Center: ref.Center.ID})}
}

// saveRequest is the editor's save: the version it started from and what
// it drew.
type saveRequest struct {
	BaseVersion *int             `json:"base_version"`
	Geometry    *config.Geometry `json:"geometry"`
}

// putGeometry answers PUT /api/cameras/:camera/geometry: the drawing is
// checked, saved as a new version and put in force.
func (s *Server) putGeometry(c *fiber.Ctx) error {
	var req saveRequest
	if err := decodeJSON(c, &req); err != nil {
		return apiErr(fiber.StatusBadRequest, codeBadGeometry, err.Error())
	}
	if req.BaseVersion == nil || req.Geometry == nil {
		return apiErr(fiber.StatusBadRequest, codeBadGeometry, "send base_version (the version the drawing started from, 0 for the file's) and geometry")
	}
	st, err := s.deps.Geometry.Save(c.UserContext(), c.Params("camera"), *req.BaseVersion, req.Geometry, principal(c).Name, c.IP())
	if err != nil {
		return geometryError(err)
	}
	return c.JSON(s.geometryView(c, st))
}

// checkGeometry answers POST /api/cameras/:camera/geometry/check: the
// problems of a drawing, without saving it (the editor asks as you draw).
func (s *Server) checkGeometry(c *fiber.Ctx) error {
	var g config.Geometry
	if err := decodeJSON(c, &g); err != nil {
		return apiErr(fiber.StatusBadRequest, codeBadGeometry, err.Error())
	}
	ps := g.Check()
	if ps == nil {
		ps = []config.Problem{}
	}
	return c.JSON(fiber.Map{"ok": len(ps) == 0, "problems": ps})
}

// revertGeometry answers DELETE /api/cameras/:camera/geometry?base=N: the
// file's geometry again, as a new version.
func (s *Server) revertGeometry(c *fiber.Ctx) error {
	base, err := strconv.Atoi(c.Query("base"))
	if err != nil || base < 0 {
		return apiErr(fiber.StatusBadRequest, codeBadGeometry, "base: the version in force, a number, is required")
	}
	st, err := s.deps.Geometry.Save(c.UserContext(), c.Params("camera"), base, nil, principal(c).Name, c.IP())
	if err != nil {
		return geometryError(err)
	}
	return c.JSON(s.geometryView(c, st))
}

type versionView struct {
	Version int       `json:"version"`
	SavedAt time.Time `json:"saved_at"`
	SavedBy string    `json:"saved_by"`
	Source  string    `json:"source"`
	Changes string    `json:"changes"`
}

// geometryVersions answers GET /api/cameras/:camera/geometry/versions.
func (s *Server) geometryVersions(c *fiber.Ctx) error {
	vs, err := s.deps.Geometry.Versions(c.UserContext(), c.Params("camera"), maxGeometryVersionList)
	if err != nil {
		return geometryError(err)
	}
	out := make([]versionView, len(vs))
	for i, v := range vs {
		out[i] = newVersionView(v)
	}
	return c.JSON(fiber.Map{"versions": out})
}

func newVersionView(v store.GeometryVersion) versionView {
	src := geometry.SourceEditor
	if v.Geometry == "" {
		src = geometry.SourceFile
	}
	return versionView{Version: v.Version, SavedAt: v.SavedAt, SavedBy: v.User, Source: src, Changes: v.Changes}
}

// geometryVersion answers GET /api/cameras/:camera/geometry/versions/:version.
func (s *Server) geometryVersion(c *fiber.Ctx) error {
	n, err := strconv.Atoi(c.Params("version"))
	if err != nil || n < 1 {
		return apiErr(fiber.StatusBadRequest, codeNoGeometryVersion, "version "+quote(c.Params("version"))+" is not a positive number")
	}
	v, g, err := s.deps.Geometry.Version(c.UserContext(), c.Params("camera"), n)
	if err != nil {
		return geometryError(err)
	}
	return c.JSON(fiber.Map{"version": newVersionView(v), "geometry": g})
}

// editableCamera is a camera the caller may edit, for the editor's list.
type editableCamera struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Center     string `json:"center"`
	CenterName string `json:"center_name"`
	Analysed   bool   `json:"analysed"`
}

// editing answers GET /api/editing: whether center managers may edit, and
// the cameras the caller may edit (none when they may not).
func (s *Server) editing(c *fiber.Ctx) error {
	p := principal(c)
	out := []editableCamera{}
	if s.mayEditGeometry(p) {
		for _, ref := range s.deps.Config.Cameras() {
			if p.InScope(Scope{District: ref.District.ID, Center: ref.Center.ID}) {
				out = append(out, editableCamera{ID: ref.Camera.ID, Name: ref.Camera.Name, Center: ref.Center.ID,
					CenterName: ref.Center.Name, Analysed: ref.Camera.Analytics != nil})
			}
		}
	}
	return c.JSON(fiber.Map{"center_managers": s.deps.Geometry.ManagersMayEdit(), "cameras": out})
}

// setEditing answers PUT /api/editing {"center_managers": bool} (admins).
func (s *Server) setEditing(c *fiber.Ctx) error {
	var req struct {
		CenterManagers *bool `json:"center_managers"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.CenterManagers == nil {
		return fiber.NewError(fiber.StatusBadRequest, "center_managers (true or false) is required")
	}
	if err := s.deps.Geometry.SetManagersMayEdit(c.UserContext(), *req.CenterManagers, principal(c).Name, c.IP()); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"center_managers": *req.CenterManagers})
}
