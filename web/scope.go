package web

import (
	"errors"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// idPattern is the shape of every configured id; anything else in a path
// or query is rejected before it reaches a lookup.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// centerRef is a configured center with its district.
type centerRef struct {
	district *config.District
	center   *config.Center
}

// requestedCenters resolves ?center=a,b and ?district=d; with neither it
// returns nil, meaning "every center the user may see".
func (s *Server) requestedCenters(c *fiber.Ctx) ([]centerRef, error) {
	var out []centerRef
	if v := c.Query("center"); v != "" {
		for _, id := range strings.Split(v, ",") {
			if !idPattern.MatchString(id) {
				return nil, fiber.NewError(fiber.StatusBadRequest, "center: "+quote(id)+" is not a valid id")
			}
			d, ctr, ok := s.deps.Config.Center(id)
			if !ok {
				return nil, fiber.NewError(fiber.StatusNotFound, "unknown center "+quote(id))
			}
			out = append(out, centerRef{d, ctr})
		}
	}
	if v := c.Query("district"); v != "" {
		if !idPattern.MatchString(v) {
			return nil, fiber.NewError(fiber.StatusBadRequest, "district: "+quote(v)+" is not a valid id")
		}
		d, ok := s.deps.Config.District(v)
		if !ok {
			return nil, fiber.NewError(fiber.StatusNotFound, "unknown district "+quote(v))
		}
		for i := range d.Centers {
			out = append(out, centerRef{d, &d.Centers[i]})
		}
	}
	return out, nil
}

// centersScope scopes a request by the centers it names in its query.
func centersScope(s *Server, c *fiber.Ctx) ([]Scope, error) {
	refs, err := s.requestedCenters(c)
	if err != nil {
		return nil, err
	}
	scopes := make([]Scope, len(refs))
	for i, r := range refs {
		scopes[i] = Scope{District: r.district.ID, Center: r.center.ID}
	}
	return scopes, nil
}

// alertScope scopes a request by the alert in its :id path parameter and
// keeps the alert for the handler.
func alertScope(s *Server, c *fiber.Ctx) ([]Scope, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, fiber.NewError(fiber.StatusBadRequest, "alert id "+quote(c.Params("id"))+" is not a positive number")
	}
	a, err := s.deps.Store.Alert(c.UserContext(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fiber.NewError(fiber.StatusNotFound, "no alert "+strconv.FormatInt(id, 10))
	}
	if err != nil {
		return nil, err
	}
	c.Locals(localAlert, a)
	return []Scope{{District: a.District, Center: a.Center}}, nil
}

const localAlert = "alert"

// visibleCenters returns the centers (of those requested, or all when none
// are) that the request may see for the given access.
func (s *Server) visibleCenters(c *fiber.Ctx, a Access, requested []centerRef) []centerRef {
	if requested == nil {
		for i := range s.deps.Config.Districts {
			d := &s.deps.Config.Districts[i]
			for j := range d.Centers {
				requested = append(requested, centerRef{d, &d.Centers[j]})
			}
		}
	}
	var out []centerRef
	for _, r := range requested {
		if s.allowed(c, a, Scope{District: r.district.ID, Center: r.center.ID}) {
			out = append(out, r)
		}
	}
	return out
}

func centerIDs(refs []centerRef) []string {
	ids := make([]string, len(refs))
	for i, r := range refs {
		ids[i] = r.center.ID
	}
	return ids
}
