package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"strconv"
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
// (YYYY-MM-DD); by default the last 7 days up to today in the zone of the
// centers asked for (the first one's, if they differ).
type dayRange struct{ from, to time.Time } // dates at 00:00 UTC, zone applied per center

func parseDayRange(c *fiber.Ctx, maxDays int, loc *time.Location) (dayRange, error) {
	now := time.Now().In(loc)
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
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
			return r, apiErr(fiber.StatusBadRequest, codeBadDate, p.name+": want a date YYYY-MM-DD, got "+quote(v)).with("param", p.name)
		}
		*p.dst = d
	}
	if r.to.Before(r.from) {
		return r, apiErr(fiber.StatusBadRequest, "bad_range", "to is before from")
	}
	if days := int(r.to.Sub(r.from).Hours()/24) + 1; days > maxDays {
		return r, apiErr(fiber.StatusBadRequest, codeRangeTooLong, fmt.Sprintf("range of %d days is too long; at most %d", days, maxDays)).
			with("max_days", maxDays)
	}
	return r, nil
}

// in returns the range as instants in a center's zone: [from 00:00, to+1 00:00).
func (r dayRange) in(loc *time.Location) (time.Time, time.Time) {
	from := time.Date(r.from.Year(), r.from.Month(), r.from.Day(), 0, 0, 0, 0, loc)
	to := time.Date(r.to.Year(), r.to.Month(), r.to.Day(), 0, 0, 0, 0, loc).AddDate(0, 0, 1)
	return from, to
}

// reportCenters resolves the request's centers (those asked for, or all it
// may see) and the range of days, by default in the first one's zone.
func (s *Server) reportCenters(c *fiber.Ctx, maxDays int) ([]centerRef, dayRange, error) {
	requested, err := s.requestedCenters(c)
	if err != nil {
		return nil, dayRange{}, err
	}
	visible := s.visibleCenters(c, AccessCounts, requested)
	loc := time.UTC
	if len(visible) > 0 {
		loc = visible[0].center.Location()
	}
	r, err := parseDayRange(c, maxDays, loc)
	return visible, r, err
}

// analysedSince returns when analysis of each camera of the centers began
// (camera → instant): reports start there.
func (s *Server) analysedSince(ctx context.Context, centers []centerRef) (map[string]time.Time, error) {
	var cams []string
	for _, ref := range centers {
		for _, cam := range ref.center.Cameras {
			cams = append(cams, cam.ID)
		}
	}
	if len(cams) == 0 {
		return map[string]time.Time{}, nil
	}
	return s.deps.Store.Coverage(ctx, cams)
}

// centerSince is the earliest analysis start of a center's cameras, or zero.
func centerSince(ref centerRef, since map[string]time.Time) time.Time {
	var first time.Time
	for _, cam := range ref.center.Cameras {
		if t, ok := since[cam.ID]; ok && (first.IsZero() || t.Before(first)) {
			first = t
		}
	}
	return first
}

type countRow struct {
	Center     string    `json:"center"`
	CenterName string    `json:"center_name"`
	District   string    `json:"district"`
	Start      time.Time `json:"start"`
	In         int       `json:"in"`
	Out        int       `json:"out"`
}

// countCenter is a center of a counts answer: its zone and the part of
// the range it has data for.
type countCenter struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	District string `json:"district"`
	Timezone string `json:"timezone"`
	// FirstDay is the first local day its cameras were analysed; empty when
	// never. Rows start there (not at the range's start) and end now.
	FirstDay string `json:"first_day,omitempty"`
	// Days is how many days of the range have rows: the divisor of a
	// daily average.
	Days int `json:"days"`
}

type countAnswer struct {
	Bucket  string        `json:"bucket"`
	From    string        `json:"from"`
	To      string        `json:"to"`
	Centers []countCenter `json:"centers"`
	Rows    []countRow    `json:"rows"`
}

// countRows answers /api/counts and its CSV: visitor crossings per center
// and hour or day, in each center's time zone, one row per bucket from the
// day its cameras were first analysed up to now, buckets without visitors
// included (so averages, charts and CSV agree).
func (s *Server) countRows(c *fiber.Ctx) (countAnswer, error) {
	bucket := c.Query("bucket", store.BucketDay)
	if bucket != store.BucketDay && bucket != store.BucketHour {
		return countAnswer{}, fiber.NewError(fiber.StatusBadRequest, "bucket: want hour or day, got "+quote(bucket))
	}
	maxDays := maxDayRange
	if bucket == store.BucketHour {
		maxDays = maxHourRange
	}
	centers, r, err := s.reportCenters(c, maxDays)
	if err != nil {
		return countAnswer{}, err
	}
	ctx := c.UserContext()
	since, err := s.analysedSince(ctx, centers)
	if err != nil {
		return countAnswer{}, err
	}
	out := countAnswer{Bucket: bucket, From: r.from.Format(time.DateOnly), To: r.to.Format(time.DateOnly), Centers: []countCenter{}, Rows: []countRow{}}
	now := time.Now()
	for _, ref := range centers {
		loc := ref.center.Location()
		cc := countCenter{ID: ref.center.ID, Name: ref.center.Name, District: ref.district.ID, Timezone: loc.String()}
		first := centerSince(ref, since)
		if first.IsZero() {
			out.Centers = append(out.Centers, cc)
			continue
		}
		cc.FirstDay = first.In(loc).Format(time.DateOnly)
		from, to := r.in(loc)
		start := later(from, bucketStart(first, loc, bucket))
		end := earlier(to, nextBucket(bucketStart(now, loc, bucket), loc, bucket))
		got, err := s.deps.Store.Counts(ctx, store.CountQuery{Centers: []string{ref.center.ID}, From: start, To: end, Bucket: bucket})
		if err != nil {
			return countAnswer{}, err
		}
		byStart := map[int64]store.CountRow{}
		for _, g := range got {
			byStart[g.Start.Unix()] = g
		}
		for b := start; b.Before(end); b = nextBucket(b, loc, bucket) {
			g := byStart[b.Unix()]
			out.Rows = append(out.Rows, countRow{Center: ref.center.ID, CenterName: ref.center.Name, District: ref.district.ID, Start: b, In: g.In, Out: g.Out})
		}
		for d := later(from, bucketStart(first, loc, store.BucketDay)); d.Before(end); d = nextBucket(d, loc, store.BucketDay) {
			cc.Days++
		}
		out.Centers = append(out.Centers, cc)
	}
	return out, nil
}

// bucketStart is the start of the local hour or day holding t.
func bucketStart(t time.Time, loc *time.Location, bucket string) time.Time {
	lt := t.In(loc)
	if bucket == store.BucketHour {
		return lt.Truncate(time.Minute).Add(-time.Duration(lt.Minute()) * time.Minute)
	}
	return time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// nextBucket is the start of the next local hour or day.
func nextBucket(b time.Time, loc *time.Location, bucket string) time.Time {
	if bucket == store.BucketHour {
		return b.Add(time.Hour)
	}
	return time.Date(b.Year(), b.Month(), b.Day()+1, 0, 0, 0, 0, loc)
}

func (s *Server) counts(c *fiber.Ctx) error {
	a, err := s.countRows(c)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) countsCSV(c *fiber.Ctx) error {
	a, err := s.countRows(c)
	if err != nil {
		return err
	}
	records := [][]string{{"district", "center", "center_name", a.Bucket + "_start", "in", "out"}}
	for _, row := range a.Rows {
		records = append(records, []string{row.District, row.Center, row.CenterName, row.Start.Format(time.RFC3339),
			strconv.Itoa(row.In), strconv.Itoa(row.Out)})
	}
	return sendCSV(c, fmt.Sprintf("visitors-%s-%s-%s.csv", a.Bucket, a.From, a.To), records)
}

// staffingRows computes the daily staffing report of the requested centers.
func (s *Server) staffingRows(c *fiber.Ctx) (dayRange, []report.WindowDay, error) {
	centers, r, err := s.reportCenters(c, maxDayRange)
	if err != nil {
		return r, nil, err
	}
	ctx := c.UserContext()
	since, err := s.analysedSince(ctx, centers)
	if err != nil {
		return r, nil, err
	}
	rows := []report.WindowDay{}
	for _, ref := range centers {
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
			Before: before, Events: evs, Alerts: alerts, Now: time.Now(), Since: since})...)
	}
	return r, rows, nil
}

func (s *Server) staffing(c *fiber.Ctx) error {
	r, rows, err := s.staffingRows(c)
	if err != nil {
		return err
	}
	totals := report.Totals(rows)
	if totals == nil {
		totals = []report.WindowTotal{}
	}
	return c.JSON(fiber.Map{"from": r.from.Format(time.DateOnly), "to": r.to.Format(time.DateOnly), "rows": rows, "windows": totals})
}

func (s *Server) staffingCSV(c *fiber.Ctx) error {
	r, rows, err := s.staffingRows(c)
	if err != nil {
		return err
	}
	records := [][]string{{"center", "camera", "window", "window_name", "day", "open_minutes",
		"staffed_minutes", "backup_minutes", "covering_minutes", "unstaffed_minutes", "unknown_minutes", "alerts",
		"confirmed", "false_alarms", "false_alarm_rate"}}
	for _, w := range rows {
		rate := ""
		if w.FalseAlarmRate >= 0 {
			rate = strconv.FormatFloat(w.FalseAlarmRate, 'f', 3, 64)
		}
		records = append(records, []string{w.Center, w.Camera, w.Window, w.WindowName, w.Day,
			minutes(w.OpenMinutes), minutes(w.StaffedMinutes), minutes(w.BackupMinutes), minutes(w.CoveringMinutes), minutes(w.UnstaffedMinutes), minutes(w.UnknownMinutes), strconv.Itoa(w.Alerts),
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
			rec[i] = csvCell(cell)
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
