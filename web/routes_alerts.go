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
	"github.com/hallwatch/hallwatch/ingest"
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
	// ClipURL plays the alert's video (absent when nothing was recorded).
	ClipURL string `json:"clip_url,omitempty"`
}

func (s *Server) alertJSON(a store.Alert) alertJSON {
	out := alertJSON{AlertView: alerts.View(a, "")}
	if a.HasVideo {
		out.ClipURL = "/api/alerts/" + strconv.FormatInt(a.ID, 10) + "/clip.mp4"
	}
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
		return apiErr(fiber.StatusNotFound, codeNoSnapshot, "alert "+strconv.FormatInt(a.ID, 10)+" has no snapshot")
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

// maxBulkAck bounds the alerts one bulk acknowledgement names.
const maxBulkAck = 200

// ackRequest is an acknowledgement's body: the person's verdict,
// {"verdict": "confirmed"} or {"verdict": "false_alarm", "reason":
// "clerk_present" | "view_blocked" | "zone_wrong" | "other"}, and an
// optional comment (required with reason other: say what was wrong).
// POST /api/alerts/:id/ack takes these alone, POST /api/alerts/ack the ids
// too (one verdict for all of them).
type ackRequest struct {
	IDs     []int64 `json:"ids,omitempty"`
	Verdict string  `json:"verdict"`
	Reason  string  `json:"reason,omitempty"`
	Comment string  `json:"comment"`
}

// falseAlarmReasons are the reasons a false alarm may give.
var falseAlarmReasons = []string{store.ReasonClerkPresent, store.ReasonViewBlocked, store.ReasonZoneWrong, store.ReasonOther}

func (r *ackRequest) check() error {
	r.Comment = strings.TrimSpace(r.Comment)
	switch {
	case r.Verdict != store.VerdictConfirmed && r.Verdict != store.VerdictFalseAlarm:
		return apiErr(fiber.StatusBadRequest, codeBadVerdict, "verdict: want confirmed or false_alarm, got "+quote(r.Verdict))
	case r.Verdict == store.VerdictConfirmed && r.Reason != "":
		return apiErr(fiber.StatusBadRequest, codeBadVerdict, "reason: only a false alarm has one, got "+quote(r.Reason))
	case r.Verdict == store.VerdictFalseAlarm && !slices.Contains(falseAlarmReasons, r.Reason):
		return apiErr(fiber.StatusBadRequest, codeBadVerdict, "reason: want one of "+strings.Join(falseAlarmReasons, ", ")+" for a false alarm, got "+quote(r.Reason))
	case r.Reason == store.ReasonOther && r.Comment == "":
		return apiErr(fiber.StatusBadRequest, codeCommentRequired, "comment: say what was wrong when the reason is other")
	case utf8.RuneCountInString(r.Comment) > maxCommentRunes:
		return apiErr(fiber.StatusBadRequest, "comment_too_long", "comment: at most "+strconv.Itoa(maxCommentRunes)+" characters").
			with("max", maxCommentRunes)
	}
	return nil
}

func (s *Server) ackAlert(c *fiber.Ctx) error {
	var body ackRequest
	if err := decodeJSON(c, &body); err != nil {
		return err
	}
	if len(body.IDs) > 0 {
		return fiber.NewError(fiber.StatusBadRequest, "ids: this alert is named in the path; use POST /api/alerts/ack for several")
	}
	if err := body.check(); err != nil {
		return err
	}
	acked, err := s.ack(c, c.Locals(localAlert).(store.Alert), body)
	if err != nil {
		return storeError(err)
	}
	return c.JSON(s.alertJSON(acked))
}

// ack acknowledges one alert for the request's user and audits it.
func (s *Server) ack(c *fiber.Ctx, a store.Alert, body ackRequest) (store.Alert, error) {
	acked, err := s.deps.Alerts.Ack(c.UserContext(), a.ID, store.Ack{By: userName(c), Verdict: body.Verdict, Reason: body.Reason, Comment: body.Comment})
	if err != nil {
		return store.Alert{}, err
	}
	verdict := body.Verdict
	if body.Reason != "" {
		verdict += " (" + body.Reason + ")"
	}
	s.audit(c, "alert_ack", "alert "+strconv.FormatInt(a.ID, 10), a.Kind+" at camera "+a.Camera+" "+a.Window+": "+verdict)
	return acked, nil
}

// bulkAckScope scopes POST /api/alerts/ack by every alert its body names,
// and keeps the body and the alerts for the handler.
func bulkAckScope(s *Server, c *fiber.Ctx) ([]Scope, error) {
	var body ackRequest
	if err := decodeJSON(c, &body); err != nil {
		return nil, err
	}
	if len(body.IDs) == 0 || len(body.IDs) > maxBulkAck {
		return nil, fiber.NewError(fiber.StatusBadRequest, "ids: name 1 to "+strconv.Itoa(maxBulkAck)+" alerts")
	}
	if err := body.check(); err != nil {
		return nil, err
	}
	list := make([]store.Alert, 0, len(body.IDs))
	scopes := make([]Scope, 0, len(body.IDs))
	seen := map[int64]bool{}
	for _, id := range body.IDs {
		if id <= 0 || seen[id] {
			return nil, fiber.NewError(fiber.StatusBadRequest, "ids: "+strconv.FormatInt(id, 10)+" is not a positive number or is named twice")
		}
		seen[id] = true
		a, err := s.deps.Store.Alert(c.UserContext(), id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fiber.NewError(fiber.StatusNotFound, "no alert "+strconv.FormatInt(id, 10))
		} else if err != nil {
			return nil, err
		}
		list = append(list, a)
		scopes = append(scopes, Scope{District: a.District, Center: a.Center})
	}
	c.Locals(localAckBody, body)
	c.Locals(localAlerts, list)
	return scopes, nil
}

const (
	localAckBody = "ack_body"
	localAlerts  = "alerts"
)

// ackSkipped is an alert a bulk acknowledgement left alone, with why.
type ackSkipped struct {
	ID   int64  `json:"id"`
	Code string `json:"code"` // already_acknowledged
}

// bulkAck acknowledges several alerts with one verdict and comment. Alerts already
// acknowledged (by someone quicker) are reported in "skipped", not failed.
func (s *Server) bulkAck(c *fiber.Ctx) error {
	body := c.Locals(localAckBody).(ackRequest)
	acked := []alertJSON{}
	skipped := []ackSkipped{}
	for _, a := range c.Locals(localAlerts).([]store.Alert) {
		done, err := s.ack(c, a, body)
		switch {
		case errors.Is(err, store.ErrAlreadyAcknowledged):
			skipped = append(skipped, ackSkipped{a.ID, codeAcked})
		case err != nil:
			return err
		default:
			acked = append(acked, s.alertJSON(done))
		}
	}
	return c.JSON(fiber.Map{"acknowledged": acked, "skipped": skipped})
}

// boardCamera is a camera of a board's center and its ingest state.
type boardCamera struct {
	ID    string       `json:"id"`
	Name  string       `json:"name"`
	State ingest.State `json:"state"`
	Since *time.Time   `json:"since,omitempty"`
	// Detector is which detector analyses the camera and why, as in
	// /api/cameras; absent when it is not analysed (yet).
	Detector *boardDetector `json:"detector,omitempty"`
}

type boardDetector struct {
	Kind     string `json:"kind"` // yolo or motion
	Reason   string `json:"reason"`
	Fallback bool   `json:"fallback,omitempty"`
	// Restarts counts the analysis's restarts after a panic (a bug), the
	// last at LastRestart: the windows were unknown meanwhile.
	Restarts    uint64    `json:"restarts,omitempty"`
	LastRestart time.Time `json:"last_restart,omitzero"`
}

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
	// The cameras' states: a window of an offline camera is shown grey,
	// whatever it was last seen as.
	cams := make([]boardCamera, 0, len(ref.center.Cameras))
	for _, cam := range ref.center.Cameras {
		st, _ := s.deps.Status(cam.ID)
		bc := boardCamera{ID: cam.ID, Name: cam.Name, State: st.State}
		if !st.Since.IsZero() {
			bc.Since = &st.Since
		}
		if s.deps.Analysis != nil {
			if a, ok := s.deps.Analysis(cam.ID); ok {
				bc.Detector = &boardDetector{Kind: a.Detector, Reason: a.Reason, Fallback: a.Fallback,
					Restarts: a.Restarts, LastRestart: a.LastPanicAt}
			}
		}
		cams = append(cams, bc)
	}
	return c.JSON(fiber.Map{
		"center":       fiber.Map{"id": ref.center.ID, "name": ref.center.Name, "district": ref.district.ID, "district_name": ref.district.Name},
		"cameras":      cams,
		"windows":      windows,
		"verdict_days": verdictDays,
		"open_alerts":  conv(openList),
		"today":        conv(today),
	})
}
