package web

import (
	"errors"
	"slices"
	"strconv"
	"strings"
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

// ackAlert records the acknowledgement of an alert with the person's
// verdict: {"verdict": "confirmed"} or {"verdict": "false_alarm", "reason":
// "clerk_present" | "view_blocked" | "zone_wrong" | "other"}, and an
// optional comment (required with reason other: say what was wrong).
func (s *Server) ackAlert(c *fiber.Ctx) error {
	var body struct {
		Verdict string `json:"verdict"`
		Reason  string `json:"reason"`
		Comment string `json:"comment"`
	}
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	body.Comment = strings.TrimSpace(body.Comment)
	switch {
	case body.Verdict != store.VerdictConfirmed && body.Verdict != store.VerdictFalseAlarm:
		return fiber.NewError(fiber.StatusBadRequest, "verdict: want confirmed or false_alarm, got "+quote(body.Verdict))
	case body.Verdict == store.VerdictConfirmed && body.Reason != "":
		return fiber.NewError(fiber.StatusBadRequest, "reason: only a false alarm has one, got "+quote(body.Reason))
	case body.Verdict == store.VerdictFalseAlarm && !slices.Contains(falseAlarmReasons, body.Reason):
		return fiber.NewError(fiber.StatusBadRequest, "reason: want one of "+strings.Join(falseAlarmReasons, ", ")+" for a false alarm, got "+quote(body.Reason))
	case body.Reason == store.ReasonOther && body.Comment == "":
		return fiber.NewError(fiber.StatusBadRequest, "comment: say what was wrong when the reason is other")
	case utf8.RuneCountInString(body.Comment) > maxCommentRunes:
		return fiber.NewError(fiber.StatusBadRequest, "comment: at most "+strconv.Itoa(maxCommentRunes)+" characters")
	}
	a := c.Locals(localAlert).(store.Alert)
	acked, err := s.deps.Alerts.Ack(c.UserContext(), a.ID, store.Ack{By: userName(c), Verdict: body.Verdict, Reason: body.Reason, Comment: body.Comment})
	if errors.Is(err, store.ErrConflict) {
		return fiber.NewError(fiber.StatusConflict, err.Error())
	}
	if err != nil {
		return err
	}
	verdict := body.Verdict
	if body.Reason != "" {
		verdict += " (" + body.Reason + ")"
	}
	s.audit(c, "alert_ack", "alert "+strconv.FormatInt(a.ID, 10), a.Kind+" at camera "+a.Camera+" "+a.Window+": "+verdict)
	return c.JSON(s.alertJSON(acked))
}

// falseAlarmReasons are the reasons a false alarm may give.
var falseAlarmReasons = []string{store.ReasonClerkPresent, store.ReasonViewBlocked, store.ReasonZoneWrong, store.ReasonOther}

// verdictDays is how far back the board's false-alarm rates look.
const verdictDays = 30

// windowJSON is a board window with how its alerts were judged lately.
type windowJSON struct {
	alerts.WindowView
	Confirmed   int `json:"confirmed"`
	FalseAlarms int `json:"false_alarms"`
	// FalseAlarmRate is FalseAlarms over the judged alerts of the last
	// verdictDays days, -1 when none was judged.
	FalseAlarmRate float64 `json:"false_alarm_rate"`
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
	verdicts, err := s.deps.Store.VerdictCounts(ctx, ids, now.AddDate(0, 0, -verdictDays), now)
	if err != nil {
		return err
	}
	windows := []windowJSON{}
	for _, w := range s.deps.Alerts.Board(ref.center.ID) {
		v := store.VerdictCount{}
		for _, x := range verdicts {
			if x.Camera == w.Camera && x.Window == w.Window {
				v = x
			}
		}
		windows = append(windows, windowJSON{WindowView: w, Confirmed: v.Confirmed, FalseAlarms: v.FalseAlarms, FalseAlarmRate: v.FalseAlarmRate()})
	}
	return c.JSON(fiber.Map{
		"center":       fiber.Map{"id": ref.center.ID, "name": ref.center.Name, "district": ref.district.ID, "district_name": ref.district.Name},
		"windows":      windows,
		"verdict_days": verdictDays,
		"open_alerts":  conv(openList),
		"today":        conv(today),
	})
}
