package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/report"
	"github.com/hallwatch/hallwatch/store"
)

// Range limits keep one request's work bounded.
const (
	maxDayRange  = 400 // days, day buckets and reports
	maxHourRange = 62  // days, hour buckets
)

// dayRange is an inclusive range of local calendar days from ?from=&to=
// (YYYY-MM-DD); by default the last 7 days up to today.
type dayRange struct{ from, to time.Time } // dates at 00:00 UTC, zone applied per center

func parseDayRange(c *fiber.Ctx, maxDays int) (dayRange, error) {
	today := time.Now().UTC().Truncate(24 * time.Hour)
	r := dayRange{from: today.AddDate(0, 0, -6), to: today}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &r.from}, {"to", &r.to}} {
		v := c.Query(p.name)
		if v == "" {
			continue
		}
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return r, fiber.NewError(fiber.StatusBadRequest, p.name+": want a date YYYY-MM-DD, got "+quote(v))
		}
		*p.dst = d
	}
	if r.to.Before(r.from) {
		return r, fiber.NewError(fiber.StatusBadRequest, "to is before from")
	}
	if days := int(r.to.Sub(r.from).Hours()/24) + 1; days > maxDays {
		return r, fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("range of %d days is too long; at most %d", days, maxDays))
	}
	return r, nil
}

// in returns the range as instants in a center's zone: [from 00:00, to+1 00:00).
func (r dayRange) in(loc *time.Location) (time.Time, time.Time) {
	from := time.Date(r.from.Year(), r.from.Month(), r.from.Day(), 0, 0, 0, 0, loc)
	to := time.Date(r.to.Year(), r.to.Month(), r.to.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	return from, to
}

type countRow struct {
	Center     string    `json:"center"`
	CenterName string    `json:"center_name"`
	District   string    `json:"district"`
	Start      time.Time `json:"start"`
	In         int       `json:"in"`
	Out        int       `json:"out"`
}

// countRows answers /api/counts and its CSV: visitor crossings per center
// and hour or day, in each center's time zone.
func (s *Server) countRows(c *fiber.Ctx) (string, dayRange, []countRow, error) {
	bucket := c.Query("bucket", store.BucketDay)
	if bucket != store.BucketDay && bucket != store.BucketHour {
		return "", dayRange{}, nil, fiber.NewError(fiber.StatusBadRequest, "bucket: want hour or day, got "+quote(bucket))
	}
	maxDays := maxDayRange
	if bucket == store.BucketHour {
		maxDays = maxHourRange
	}
	r, err := parseDayRange(c, maxDays)
	if err != nil {
		return "", r, nil, err
	}
	requested, err := s.requestedCenters(c)
	if err != nil {
		return "", r, nil, err
	}
	rows := []countRow{}
	for _, ref := range s.visibleCenters(c, AccessCounts, requested) {
		from, to := r.in(ref.center.Location())
		got, err := s.deps.Store.Counts(c.UserContext(), store.CountQuery{Centers: []string{ref.center.ID}, From: from, To: to, Bucket: bucket})
		if err != nil {
			return "", r, nil, err
		}
		for _, g := range got {
			rows = append(rows, countRow{Center: ref.center.ID, CenterName: ref.center.Name, District: ref.district.ID, Start: g.Start, In: g.In, Out: g.Out})
		}
	}
	return bucket, r, rows, nil
}

func (s *Server) counts(c *fiber.Ctx) error {
	bucket, r, rows, err := s.countRows(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"bucket": bucket, "from": r.from.Format(time.DateOnly), "to": r.to.Format(time.DateOnly), "rows": rows})
}

func (s *Server) countsCSV(c *fiber.Ctx) error {
	bucket, r, rows, err := s.countRows(c)
	if err != nil {
		return err
	}
	records := [][]string{{"district", "center", "center_name", bucket + "_start", "in", "out"}}
	for _, row := range rows {
		records = append(records, []string{row.District, row.Center, row.CenterName, row.Start.Format(time.RFC3339),
			strconv.Itoa(row.In), strconv.Itoa(row.Out)})
	}
	return sendCSV(c, fmt.Sprintf("visitors-%s-%s-%s.csv", bucket, r.from.Format(time.DateOnly), r.to.Format(time.DateOnly)), records)
}

// staffingRows computes the daily staffing report of the requested centers.
func (s *Server) staffingRows(c *fiber.Ctx) (dayRange, []report.WindowDay, error) {
	r, err := parseDayRange(c, maxDayRange)
	if err != nil {
		return r, nil, err
	}
	requested, err := s.requestedCenters(c)
	if err != nil {
		return r, nil, err
	}
	ctx := c.UserContext()
	rows := []report.WindowDay{}
	for _, ref := range s.visibleCenters(c, AccessCounts, requested) {
		from, to := r.in(ref.center.Location())
		ids := []string{ref.center.ID}
		before, err := s.deps.Store.LastWindowStates(ctx, ids, from)
		if err != nil {
			return r, nil, err
		}
		evs, err := s.deps.Store.Events(ctx, store.EventQuery{Centers: ids, Types: []string{"window"}, From: from, To: to})
		if err != nil {
			return r, nil, err
		}
		alerts, err := s.deps.Store.Alerts(ctx, store.AlertQuery{Centers: ids, From: from, To: to})
		if err != nil {
			return r, nil, err
		}
		rows = append(rows, report.Staffing(report.StaffingInput{Center: ref.center, From: from, To: to.Add(-time.Nanosecond),
			Before: before, Events: evs, Alerts: alerts, Now: time.Now()})...)
	}
	return r, rows, nil
}

func (s *Server) staffing(c *fiber.Ctx) error {
	r, rows, err := s.staffingRows(c)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"from": r.from.Format(time.DateOnly), "to": r.to.Format(time.DateOnly), "rows": rows})
}

func (s *Server) staffingCSV(c *fiber.Ctx) error {
	r, rows, err := s.staffingRows(c)
	if err != nil {
		return err
	}
	records := [][]string{{"center", "camera", "window", "window_name", "day", "open_minutes", "unstaffed_minutes", "unknown_minutes", "alerts",
		"confirmed", "false_alarms", "false_alarm_rate"}}
	for _, w := range rows {
		rate := ""
		if w.FalseAlarmRate >= 0 {
			rate = strconv.FormatFloat(w.FalseAlarmRate, 'f', 3, 64)
		}
		records = append(records, []string{w.Center, w.Camera, w.Window, w.WindowName, w.Day,
			minutes(w.OpenMinutes), minutes(w.UnstaffedMinutes), minutes(w.UnknownMinutes), strconv.Itoa(w.Alerts),
			strconv.Itoa(w.Confirmed), strconv.Itoa(w.FalseAlarms), rate})
	}
	return sendCSV(c, fmt.Sprintf("staffing-%s-%s.csv", r.from.Format(time.DateOnly), r.to.Format(time.DateOnly)), records)
}

func minutes(m float64) string { return strconv.FormatFloat(m, 'f', 1, 64) }

// sendCSV answers with a CSV download. The UTF-8 byte-order mark makes
// spreadsheet programs read the Chinese names correctly.
func sendCSV(c *fiber.Ctx, filename string, records [][]string) error {
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	for _, rec := range records {
		for i, cell := range rec {
			rec[i] = csvSafe(cell)
		}
	}
	w := csv.NewWriter(&buf)
	if err := w.WriteAll(records); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+filename+`"`)
	return c.Send(buf.Bytes())
}

// csvSafe keeps a cell from being read as a formula by spreadsheets.
func csvSafe(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
