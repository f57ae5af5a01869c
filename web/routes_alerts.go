package web

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/store"
)

// maxAlertList bounds one alert listing.
const maxAlertList = 1000

// alertJSON is an alert with the names a page shows.
type alertJSON struct {
	alerts.AlertView
	CenterName string `json:"center_name"`
	CameraName string `json:"camera_name"`
	WindowName string `json:"window_name,omitempty"`
}

func (s *Server) alertJSON(a store.Alert) alertJSON {
	out := alertJSON{AlertView: alerts.View(a, "")}
	if ref, ok := s.deps.Config.Camera(a.Camera); ok {
		out.CenterName, out.CameraName = ref.Center.Name, ref.Camera.Name
		if ref.Camera.Analytics != nil {
			for _, w := range ref.Camera.Analytics.Windows {
				if w.ID == a.Window {
					out.WindowName = w.Name
				}
			}
		}
	}
	return out
}

// listAlerts answers /api/alerts?center=&district=&open=&from=&to=&limit=.
func (s *Server) listAlerts(c *fiber.Ctx) error {
	requested, err := s.requestedCenters(c)
	if err != nil {
		return err
	}
	q := store.AlertQuery{Centers: centerIDs(s.visibleCenters(c, AccessAlerts, requested)), Limit: 200}
	if len(q.Centers) == 0 {
		return c.JSON(fiber.Map{"alerts": []alertJSON{}}) // an empty list would mean "all centers"
	}
	if v := c.Query("open"); v != "" {
		open, err := strconv.ParseBool(v)
		if err != nil {
			return fiber.NewError(fiber.StatusBadRequest, "open: want true or false, got "+quote(v))
		}
		q.Open = &open
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxAlertList {
			return fiber.NewError(fiber.StatusBadRequest, "limit: want 1.."+strconv.Itoa(maxAlertList)+", got "+quote(v))
		}
		q.Limit = n
	}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if v := c.Query(p.name); v != "" {
			t, err := time.Parse(time.RFC3339, v)
			if err != nil {
				return fiber.NewError(fiber.StatusBadRequest, p.name+": want an RFC 3339 time, got "+quote(v))
			}
			*p.dst = t
		}
	}
	list, err := s.deps.Store.Alerts(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := make([]alertJSON, len(list))
	for i, a := range list {
		out[i] = s.alertJSON(a)
	}
	return c.JSON(fiber.Map{"alerts": out})
}

func (s *Server) getAlert(c *fiber.Ctx) error {
	return c.JSON(s.alertJSON(c.Locals(localAlert).(store.Alert)))
}

func (s *Server) alertSnapshot(c *fiber.Ctx) error {
	a := c.Locals(localAlert).(store.Alert)
	jpeg, err := s.deps.Store.Snapshot(c.UserContext(), a.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && len(jpeg) == 0) {
		return fiber.NewError(fiber.StatusNotFound, "alert "+strconv.FormatInt(a.ID, 10)+" has no snapshot")
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store") // a picture of people: never kept by caches
	c.Set(fiber.HeaderContentType, "image/jpeg")
	return c.Send(jpeg)
}

// maxCommentRunes bounds an acknowledgement comment.
const maxCommentRunes = 500

func (s *Server) ackAlert(c *fiber.Ctx) error {
	var body struct {
		Comment string `json:"comment"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if utf8.RuneCountInString(body.Comment) > maxCommentRunes {
		return fiber.NewError(fiber.StatusBadRequest, "comment: at most "+strconv.Itoa(maxCommentRunes)+" characters")
	}
	a := c.Locals(localAlert).(store.Alert)
	acked, err := s.deps.Alerts.Ack(c.UserContext(), a.ID, userName(c), body.Comment)
	if errors.Is(err, store.ErrConflict) {
		return fiber.NewError(fiber.StatusConflict, err.Error())
	}
	if err != nil {
		return err
	}
	s.audit(c, "alert_ack", "alert "+strconv.FormatInt(a.ID, 10), a.Kind+" at camera "+a.Camera+" "+a.Window)
	return c.JSON(s.alertJSON(acked))
}

// board answers /api/board?center=ID: the center's windows live, its open
// alerts and today's alerts.
func (s *Server) board(c *fiber.Ctx) error {
	refs, err := s.requestedCenters(c)
	if err != nil {
		return err
	}
	if len(refs) != 1 || c.Query("district") != "" {
		return fiber.NewError(fiber.StatusBadRequest, "board: name exactly one center with ?center=ID")
	}
	ref := refs[0]
	loc := ref.center.Location()
	now := time.Now().In(loc)
	midnight := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, loc)
	ctx := c.UserContext()
	ids := []string{ref.center.ID}
	open := true
	openList, err := s.deps.Store.Alerts(ctx, store.AlertQuery{Centers: ids, Open: &open, Limit: maxAlertList})
	if err != nil {
		return err
	}
	today, err := s.deps.Store.Alerts(ctx, store.AlertQuery{Centers: ids, From: midnight, Limit: maxAlertList})
	if err != nil {
		return err
	}
	conv := func(list []store.Alert) []alertJSON {
		out := make([]alertJSON, len(list))
		for i, a := range list {
			out[i] = s.alertJSON(a)
		}
		return out
	}
	windows := s.deps.Alerts.Board(ref.center.ID)
	if windows == nil {
		windows = []alerts.WindowView{}
	}
	return c.JSON(fiber.Map{
		"center":      fiber.Map{"id": ref.center.ID, "name": ref.center.Name, "district": ref.district.ID, "district_name": ref.district.Name},
		"windows":     windows,
		"open_alerts": conv(openList),
		"today":       conv(today),
	})
}
