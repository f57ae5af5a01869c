package web

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/store"
)

// viewJSON is a saved live-wall layout as the API shows it.
type viewJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"` // "" is the wall as the user last left it
	Layout    int       `json:"layout"`
	Cameras   []string  `json:"cameras"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ViewStore keeps the users' live-wall layouts; *store.SQLite is one.
type ViewStore interface {
	WallViews(ctx context.Context, userID int64) ([]store.WallView, error)
	SaveWallView(ctx context.Context, v store.WallView) (store.WallView, error)
	DeleteWallView(ctx context.Context, userID, id int64) error
}

// listViews answers the caller's saved wall layouts; cameras the caller
// may no longer watch (or that left the configuration) are left out.
func (s *Server) listViews(c *fiber.Ctx) error {
	p := principal(c)
	list, err := s.deps.Views.WallViews(c.UserContext(), p.UserID)
	if err != nil {
		return err
	}
	out := make([]viewJSON, 0, len(list))
	for _, v := range list {
		cams := []string{}
		for _, id := range v.Cameras {
			if ref, ok := s.deps.Config.Camera(id); ok && s.allowed(c, AccessLive, Scope{District: ref.District.ID, Center: ref.Center.ID}) {
				cams = append(cams, id)
			}
		}
		out = append(out, viewJSON{ID: v.ID, Name: v.Name, Layout: v.Layout, Cameras: cams, UpdatedAt: v.UpdatedAt})
	}
	return c.JSON(fiber.Map{"views": out})
}

type viewRequest struct {
	Name    string   `json:"name"`
	Layout  int      `json:"layout"`
	Cameras []string `json:"cameras"`
}

// viewScope scopes POST /api/views by the cameras its body names: a view
// holds only cameras its user may watch. It keeps the body for saveView.
func viewScope(s *Server, c *fiber.Ctx) ([]Scope, error) {
	var req viewRequest
	if err := decodeJSON(c, &req); err != nil {
		return nil, err
	}
	if len(req.Cameras) > store.MaxViewCameras {
		return nil, fiber.NewError(fiber.StatusBadRequest, "cameras: at most "+strconv.Itoa(store.MaxViewCameras))
	}
	scopes := make([]Scope, 0, len(req.Cameras))
	for _, id := range req.Cameras {
		if !idPattern.MatchString(id) {
			return nil, fiber.NewError(fiber.StatusBadRequest, "camera id "+quote(id)+" is not a valid id")
		}
		ref, ok := s.deps.Config.Camera(id)
		if !ok {
			return nil, fiber.NewError(fiber.StatusNotFound, "unknown camera "+quote(id))
		}
		scopes = append(scopes, Scope{District: ref.District.ID, Center: ref.Center.ID})
	}
	c.Locals(localViewBody, req)
	return scopes, nil
}

const localViewBody = "view_body"

// saveView creates or replaces the caller's view of that name.
func (s *Server) saveView(c *fiber.Ctx) error {
	req := c.Locals(localViewBody).(viewRequest)
	v, err := s.deps.Views.SaveWallView(c.UserContext(), store.WallView{
		UserID: principal(c).UserID, Name: req.Name, Layout: req.Layout, Cameras: req.Cameras,
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return apiErr(fiber.StatusConflict, codeTooManyViews, err.Error()).with("max", store.MaxViewsPerUser)
	case err != nil:
		return storeError(err)
	}
	return c.JSON(viewJSON{ID: v.ID, Name: v.Name, Layout: v.Layout, Cameras: v.Cameras, UpdatedAt: v.UpdatedAt})
}

// deleteView deletes one of the caller's views.
func (s *Server) deleteView(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "view")
	if err != nil {
		return err
	}
	if err := s.deps.Views.DeleteWallView(c.UserContext(), principal(c).UserID, id); err != nil {
		return storeError(err)
	}
	return c.JSON(fiber.Map{"status": "deleted"})
}
