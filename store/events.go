package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// EventRecord is an analytics event with the place it belongs to.
type EventRecord struct {
	// Event.Time is required; it is stored in UTC, truncated to the microsecond.
	events.Event
	District string
	Center   string
	// Loc is the center's time zone: it decides which local hour and day a
	// crossing counts in. It must come from time.LoadLocation with an IANA
	// name (Asia/Shanghai, UTC…), because counts are later shown in it by name.
	Loc *time.Location
}

// StoredEvent is an event read back from the store.
type StoredEvent struct {
	ID       int64
	District string
	Center   string
	// Event.Time is in UTC.
	events.Event
}

// EventQuery selects events. Empty lists and zero times do not filter.
type EventQuery struct {
	// Centers limits the result; empty means all centers, so callers that
	// enforce a user's scope must always pass the user's centers.
	Centers []string
	Cameras []string
	Types   []string  // events.TypeCrossing, TypeWindow, TypeAlert
	From    time.Time // inclusive
	To      time.Time // exclusive
	Limit   int       // <= 0: no limit
	// NewestFirst orders by time descending (history pages); the default
	// is oldest first (reports replay state changes in order).
	NewestFirst bool
}

// AppendEvents stores evs and updates the hourly crossing counts and each
// camera's coverage (Coverage) in one transaction: when it returns nil
// every event is on disk, and on error none is, so the caller may retry the whole batch. It is not idempotent: a batch
// appended twice is counted twice.
func (s *Store) AppendEvents(ctx context.Context, evs []EventRecord) error {
	if len(evs) == 0 {
		return nil
	}
	for i := range evs {
		if err := s.checkEvent(&evs[i]); err != nil {
			return fmt.Errorf("append events: event %d (camera %q, %s): %w", i, evs[i].Camera, evs[i].Type, err)
		}
	}
	// Services, queue minutes and waits have their own tables: they are
	// counted and timed, not replayed.
	var services, queues, rest []EventRecord
	for _, e := range evs {
		switch e.Type {
		case events.TypeService:
			services = append(services, e)
		case events.TypeQueue, events.TypeWait:
			queues = append(queues, e)
		default:
			rest = append(rest, e)
		}
	}
	err := s.tx(ctx, func(tx conn) error {
		if err := insertServices(ctx, tx, services); err != nil {
			return err
		}
		if err := insertQueues(ctx, tx, queues); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, rest); err != nil {
			return err
		}
		if err := countCrossings(ctx, tx, evs); err != nil {
			return err
		}
		return cover(ctx, tx, evs)
	})
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	return nil
}

func (s *Store) checkEvent(e *EventRecord) error {
	if err := checkText("district", e.District, "center", e.Center, "camera", e.Camera, "type", e.Type, "kind", e.Kind,
		"line", e.Line, "direction", e.Direction, "window", e.Window, "state", e.State, "zone", e.Zone); err != nil {
		return err
	}
	switch {
	case e.Time.IsZero():
		return fmt.Errorf("time is zero: %w", ErrInvalid)
	case e.Center == "":
		return fmt.Errorf("center is empty: %w", ErrInvalid)
	case e.Camera == "":
		return fmt.Errorf("camera is empty: %w", ErrInvalid)
	case e.Loc == nil:
		return fmt.Errorf("center %q has no time zone (Loc is nil): %w", e.Center, ErrInvalid)
	}
	// "Local" would bucket by whatever zone the reading process has.
	if name := e.Loc.String(); name == "Local" {
		return fmt.Errorf("center %q: Loc is time.Local; pass an IANA zone such as Asia/Shanghai: %w", e.Center, ErrInvalid)
	} else if _, err := s.location(name); err != nil {
		return fmt.Errorf("center %q: Loc %q is not an IANA zone name: %w", e.Center, name, ErrInvalid)
	}
	switch e.Type {
	case events.TypeCrossing:
		if e.Line == "" {
			return fmt.Errorf("crossing without line: %w", ErrInvalid)
		}
		if e.Direction != events.DirectionIn && e.Direction != events.DirectionOut {
			return fmt.Errorf("crossing direction %q, want %q or %q: %w", e.Direction, events.DirectionIn, events.DirectionOut, ErrInvalid)
		}
	case events.TypeWindow:
		if e.Window == "" || e.State == "" {
			return fmt.Errorf("window event needs window and state (got %q, %q): %w", e.Window, e.State, ErrInvalid)
		}
	case events.TypeAlert:
		if e.Kind == "" {
			return fmt.Errorf("alert event without kind: %w", ErrInvalid)
		}
	case events.TypeService:
		if e.Window == "" || !(e.Duration >= 0 && e.Duration < 24*3600) {
			return fmt.Errorf("service event needs a window and a duration of 0 to 24 h (got %q, %v s): %w", e.Window, e.Duration, ErrInvalid)
		}
	case events.TypeQueue:
		if e.Zone == "" || e.Count == nil || *e.Count < 0 || !(e.Mean >= 0 && e.Mean <= float64(*e.Count)) {
			return fmt.Errorf("queue event needs a zone, a count of 0 or more and a mean of 0 to the count: %w", ErrInvalid)
		}
	case events.TypeWait:
		if e.Zone == "" || !(e.Duration >= 0 && e.Duration < 24*3600) {
			return fmt.Errorf("wait event needs a zone and a duration of 0 to 24 h (got %q, %v s): %w", e.Zone, e.Duration, ErrInvalid)
		}
	default:
		return fmt.Errorf("unknown event type %q: %w", e.Type, ErrInvalid)
	}
	return nil
}

// rowsPerInsert bounds the rows of one multi-row INSERT (14 parameters
// each; both databases allow 32,766 or more per statement).
const rowsPerInsert = 500

// insertEvents stores evs with one multi-row INSERT per rowsPerInsert
// events: a round trip per event would dominate a PostgreSQL write.
func insertEvents(ctx context.Context, tx conn, evs []EventRecord) error {
	const cols = `INSERT INTO events
		(time_us, district, center, camera, type, kind, line_id, direction, track, window_id, state, count, frame, t) VALUES `
	return inRows(ctx, tx, cols, "", "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", len(evs), func(i int) []any {
		e := &evs[i]
		var count sql.NullInt64
		if e.Count != nil {
			count = sql.NullInt64{Int64: int64(*e.Count), Valid: true}
		}
		return []any{us(e.Time), e.District, e.Center, e.Camera, e.Type, e.Kind, e.Line,
			e.Direction, e.Track, e.Window, e.State, count, e.Frame, e.T}
	})
}

// hourKey is one row of crossings_hourly.
type hourKey struct {
	center, camera, line string
	hour                 int64
}

// hourCount is what a batch adds to one hourly row.
type hourCount struct {
	hourKey
	local, zone, district string
	day                   int64
	in, out               int
}

// countCrossings adds the batch's crossings to their hourly rows: summed
// in Go first, so that each row is written once per batch.
func countCrossings(ctx context.Context, tx conn, evs []EventRecord) error {
	var rows []hourCount
	index := map[hourKey]int{}
	for i := range evs {
		e := &evs[i]
		if e.Type != events.TypeCrossing {
			continue
		}
		hour, local, day := localBuckets(fromUS(us(e.Time)), e.Loc) // bucket what is stored
		k := hourKey{e.Center, e.Camera, e.Line, us(hour)}
		j, ok := index[k]
		if !ok {
			j = len(rows)
			index[k] = j
			rows = append(rows, hourCount{hourKey: k, local: local, zone: e.Loc.String(), district: e.District, day: us(day)})
		}
		if e.Direction == events.DirectionIn {
			rows[j].in++
		} else {
			rows[j].out++
		}
	}
	return inRows(ctx, tx, `INSERT INTO crossings_hourly
		(center, camera, line_id, hour_start_us, local_hour, day_start_us, zone, district, in_count, out_count) VALUES `,
		` ON CONFLICT (center, camera, line_id, hour_start_us) DO UPDATE SET
			in_count = crossings_hourly.in_count + excluded.in_count,
			out_count = crossings_hourly.out_count + excluded.out_count`,
		"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", len(rows), func(i int) []any {
			r := &rows[i]
			return []any{r.center, r.camera, r.line, r.hour, r.local, r.day, r.zone, r.district, r.in, r.out}
		})
}

// cover moves each camera's coverage back to its earliest event of the
// batch, if that is earlier than what is kept (Coverage).
func cover(ctx context.Context, tx conn, evs []EventRecord) error {
	first := map[string]int64{}
	var cams []string
	for i := range evs {
		t := us(evs[i].Time)
		if f, ok := first[evs[i].Camera]; !ok {
			cams = append(cams, evs[i].Camera)
			first[evs[i].Camera] = t
		} else if t < f {
			first[evs[i].Camera] = t
		}
	}
	return inRows(ctx, tx, `INSERT INTO camera_coverage (camera, first_us) VALUES `,
		` ON CONFLICT (camera) DO UPDATE SET first_us = excluded.first_us WHERE excluded.first_us < camera_coverage.first_us`,
		"(?, ?)", len(cams), func(i int) []any { return []any{cams[i], first[cams[i]]} })
}

// inRows runs head + n row placeholders + tail in statements of at most
// rowsPerInsert rows; args gives row i's values.
func inRows(ctx context.Context, tx conn, head, tail, row string, n int, args func(i int) []any) error {
	for start := 0; start < n; start += rowsPerInsert {
		end := min(start+rowsPerInsert, n)
		var q strings.Builder
		q.WriteString(head)
		var vals []any
		for i := start; i < end; i++ {
			if i > start {
				q.WriteString(", ")
			}
			q.WriteString(row)
			vals = append(vals, args(i)...)
		}
		q.WriteString(tail)
		if _, err := tx.exec(ctx, q.String(), vals...); err != nil {
			return err
		}
	}
	return nil
}

// localBuckets returns the instants where t's local hour and local calendar
// day begin in loc, and the wall-clock hour key. The key carries the UTC
// offset because a DST fall-back repeats a wall-clock hour.
func localBuckets(t time.Time, loc *time.Location) (hour time.Time, key string, day time.Time) {
	lt := t.In(loc)
	hour = lt.Add(-time.Duration(lt.Minute())*time.Minute - time.Duration(lt.Second())*time.Second -
		time.Duration(lt.Nanosecond()))
	day = time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	if day.Day() != lt.Day() {
		// A DST change skipped midnight (America/Santiago, Africa/Cairo) and
		// time.Date fell back into the previous day: the day begins where
		// that day's last zone period ends.
		_, day = day.ZoneBounds()
		day = day.In(loc)
	}
	return hour, hour.Format("2006-01-02T15-07:00"), day
}

const eventColumns = `id, district, center, camera, time_us, type, kind, line_id, direction, track,
	window_id, state, count, frame, t`

// Events returns stored events matching q.
func (s *Store) Events(ctx context.Context, q EventQuery) ([]StoredEvent, error) {
	var w where
	w.in("center", q.Centers)
	w.in("camera", q.Cameras)
	w.in("type", q.Types)
	w.timeRange("time_us", q.From, q.To)
	order := " ORDER BY time_us, id"
	if q.NewestFirst {
		order = " ORDER BY time_us DESC, id DESC"
	}
	evs, err := queryAll(ctx, s.reader(), scanEvent, "SELECT "+eventColumns+" FROM events"+w.String()+order+limit(q.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("query events: %w", err)
	}
	return evs, nil
}

// LastWindowStates returns, for every window of the given centers (empty:
// all), its latest window event before the given time: the state a daily
// staffing report starts from. Together with Events(Types: window) over the
// day it is all the report needs; the report arithmetic (opening hours,
// holidays) lives with the configuration, not here.
func (s *Store) LastWindowStates(ctx context.Context, centers []string, before time.Time) ([]StoredEvent, error) {
	var w where
	w.add("type = ?", events.TypeWindow)
	w.add("time_us < ?", us(before))
	w.in("center", centers)
	evs, err := queryAll(ctx, s.reader(), scanEvent, `SELECT `+eventColumns+` FROM (
		SELECT *, ROW_NUMBER() OVER (PARTITION BY center, camera, window_id ORDER BY time_us DESC, id DESC) AS rn
		FROM events`+w.String()+`) AS latest
		WHERE rn = 1 ORDER BY center, camera, window_id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("query last window states: %w", err)
	}
	return evs, nil
}

func scanEvent(r scanner) (StoredEvent, error) {
	var (
		e     StoredEvent
		t     int64
		count sql.NullInt64
	)
	err := r.Scan(&e.ID, &e.District, &e.Center, &e.Camera, &t, &e.Type, &e.Kind, &e.Line,
		&e.Direction, &e.Track, &e.Window, &e.State, &count, &e.Frame, &e.T)
	e.Time = fromUS(t)
	if count.Valid {
		n := int(count.Int64)
		e.Count = &n
	}
	return e, err
}
