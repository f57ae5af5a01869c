package web

import "github.com/gofiber/fiber/v2"

type placeDistrict struct {
	ID      string        `json:"id"`
	Name    string        `json:"name"`
	Centers []placeCenter `json:"centers"`
}

type placeCenter struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
}

// places lists the districts and centers the caller may see, for the pages'
// pickers: /api/cameras lists only what the caller may watch, which is
// nothing for a planner.
func (s *Server) places(c *fiber.Ctx) error {
	out := []placeDistrict{}
	for _, ref := range s.visibleCenters(c, AccessUser, nil) {
		if len(out) == 0 || out[len(out)-1].ID != ref.district.ID {
			out = append(out, placeDistrict{ID: ref.district.ID, Name: ref.district.Name, Centers: []placeCenter{}})
		}
		d := &out[len(out)-1]
		d.Centers = append(d.Centers, placeCenter{ID: ref.center.ID, Name: ref.center.Name, Timezone: ref.center.Location().String()})
	}
	return c.JSON(fiber.Map{"districts": out})
}
