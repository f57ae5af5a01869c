package web

import (
	"encoding/csv"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/store"
)

// Audit listing limits: the page shows recent entries, the CSV export
// takes a period.
const (
	auditPageDefault = 500
	auditPageMax     = 5000
	auditCSVMax      = 200000
)

type auditView struct {
	ID     int64     `json:"id"`
	Time   time.Time `json:"time"`
	User   string    `json:"user"`
	Action string    `json:"action"`
	Target string    `json:"target"`
	// TargetName names the target for people: a watched camera's name.
	TargetName string `json:"target_name,omitempty"`
	Detail     string `json:"detail"`
	RemoteAddr string `json:"remote_addr"`
}

// targetName is what the audit shows for an entry's target: the name of
// the camera a viewing watched, else nothing more than the target itself.
func (s *Server) targetName(e store.AuditEntry) string {
	if e.Action == actionWatch {
		if ref, ok := s.deps.Config.Camera(e.Target); ok {
			return ref.Camera.Name
		}
	}
	return ""
}

func (s *Server) auditList(c *fiber.Ctx) error {
	q, err := auditQuery(c, auditPageDefault, auditPageMax)
	if err != nil {
		return err
	}
	es, err := s.deps.Audit.Audit(c.UserContext(), q)
	if err != nil {
		return err
	}
	out := make([]auditView, len(es))
	for i, e := range es {
		out[i] = auditView{ID: e.ID, Time: e.Time, User: e.User, Action: e.Action, Target: e.Target, TargetName: s.targetName(e),
			Detail: e.Detail, RemoteAddr: e.RemoteAddr}
	}
	return c.JSON(fiber.Map{"entries": out})
}

// auditCSV exports the audit log (UTC times, newest first).
func (s *Server) auditCSV(c *fiber.Ctx) error {
	q, err := auditQuery(c, auditCSVMax, auditCSVMax)
	if err != nil {
		return err
	}
	es, err := s.deps.Audit.Audit(c.UserContext(), q)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="hallwatch-audit.csv"`)
	w := csv.NewWriter(c)
	w.Write([]string{"time", "user", "action", "target", "target_name", "detail", "remote_addr"})
	for _, e := range es {
		w.Write([]string{e.Time.UTC().Format(time.RFC3339Nano), csvCell(e.User), csvCell(e.Action),
			csvCell(e.Target), csvCell(s.targetName(e)), csvCell(e.Detail), csvCell(e.RemoteAddr)})
	}
	w.Flush()
	return w.Error()
}

// csvCell defuses spreadsheet formulas: a user name like "=HYPERLINK(…)"
// must stay text when an admin opens the export.
func csvCell(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

// auditQuery reads ?from=&to= (RFC 3339 or YYYY-MM-DD, UTC), ?user=,
// ?action= and ?limit=.
func auditQuery(c *fiber.Ctx, def, max int) (store.AuditQuery, error) {
	q := store.AuditQuery{User: c.Query("user"), Action: c.Query("action"), Limit: def}
	for _, f := range []struct {
		name string
		dst  *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		v := c.Query(f.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return q, fiber.NewError(fiber.StatusBadRequest, f.name+": "+quote(v)+" is not a time (2025-03-01 or 2025-03-01T08:00:00Z)")
			}
		}
		*f.dst = t
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return q, fiber.NewError(fiber.StatusBadRequest, "to must be after from")
	}
	if len(q.User) > 64 || len(q.Action) > 64 {
		return q, fiber.NewError(fiber.StatusBadRequest, "user and action filters are at most 64 bytes")
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > max {
			return q, fiber.NewError(fiber.StatusBadRequest, "limit: "+quote(v)+" is not a number from 1 to "+strconv.Itoa(max))
		}
		q.Limit = n
	}
	return q, nil
}
