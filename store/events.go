package store

import (
	"context"
	"database/sql"
	"fmt"
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
// camera's coverage (Coverage) in one transaction: when it returns nil every event is on disk, and on error none
// is, so the caller may retry the whole batch. It is not idempotent: a batch
// appended twice is counted twice.
func (s *SQLite) AppendEvents(ctx context.Context, evs []EventRecord) error {
	if len(evs) == 0 {
		return nil
	}
	for i := range evs {
		if err := s.checkEvent(&evs[i]); err != nil {
			return fmt.Errorf("append events: event %d (camera %q, %s): %w", i, evs[i].Camera, evs[i].Type, err)
		}
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ins, err := tx.PrepareContext(ctx, insertEventSQL)
		if err != nil {
			return err
		}
		defer ins.Close()
		count, err := tx.PrepareContext(ctx, countCrossingSQL)
		if err != nil {
			return err
		}
		defer count.Close()
		first := map[string]time.Time{} // camera → its earliest event in the batch
		for i := range evs {
			if err := insertEvent(ctx, ins, count, &evs[i]); err != nil {
				return fmt.Errorf("event %d: %w", i, err)
			}
			if f, ok := first[evs[i].Camera]; !ok || evs[i].Time.Before(f) {
				first[evs[i].Camera] = evs[i].Time
			}
		}
		for camera, t := range first {
			if _, err := tx.ExecContext(ctx, coverSQL, camera, us(t)); err != nil {
				return fmt.Errorf("coverage of %q: %w", camera, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	return nil
}

func (s *SQLite) checkEvent(e *EventRecord) error {
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
	default:
		return fmt.Errorf("unknown event type %q: %w", e.Type, ErrInvalid)
	}
	return nil
}

const (
	insertEventSQL = `INSERT INTO events
		(time_us, district, center, camera, type, kind, line_id, direction, track, window_id, state, count, frame, t)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	countCrossingSQL = `INSERT INTO crossings_hourly
		(center, camera, line_id, hour_start_us, local_hour, day_start_us, zone, district, in_count, out_count)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (center, camera, line_id, hour_start_us) DO UPDATE SET
			in_count = in_count + excluded.in_count,
			out_count = out_count + excluded.out_count`
	coverSQL = `INSERT INTO camera_coverage (camera, first_us) VALUES (?, ?)
		ON CONFLICT (camera) DO UPDATE SET first_us = MIN(first_us, excluded.first_us)`
)

// insertEvent stores e and, for a crossing, adds it to its hourly count.
func insertEvent(ctx context.Context, ins, countCrossing *sql.Stmt, e *EventRecord) error {
	t := time.UnixMicro(us(e.Time)) // bucket what is stored
	var count sql.NullInt64
	if e.Count != nil {
		count = sql.NullInt64{Int64: int64(*e.Count), Valid: true}
	}
	if _, err := ins.ExecContext(ctx, us(t), e.District, e.Center, e.Camera, e.Type, e.Kind, e.Line,
		e.Direction, e.Track, e.Window, e.State, count, e.Frame, e.T); err != nil {
		return err
	}
	if e.Type != events.TypeCrossing {
		return nil
	}
	in, out := 0, 0
	if e.Direction == events.DirectionIn {
		in = 1
	} else {
		out = 1
	}
	hour, key, day := localBuckets(t, e.Loc)
	_, err := countCrossing.ExecContext(ctx, e.Center, e.Camera, e.Line, us(hour), key, us(day), e.Loc.String(), e.District, in, out)
	return err
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
func (s *SQLite) Events(ctx context.Context, q EventQuery) ([]StoredEvent, error) {
	var w where
	w.in("center", q.Centers)
	w.in("camera", q.Cameras)
	w.in("type", q.Types)
	w.timeRange("time_us", q.From, q.To)
	order := " ORDER BY time_us, id"
	if q.NewestFirst {
		order = " ORDER BY time_us DESC, id DESC"
	}
	evs, err := s.queryEvents(ctx, "SELECT "+eventColumns+" FROM events"+w.String()+order+limit(q.Limit), w.args...)
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
func (s *SQLite) LastWindowStates(ctx context.Context, centers []string, before time.Time) ([]StoredEvent, error) {
	var w where
	w.add("type = ?", events.TypeWindow)
	w.add("time_us < ?", us(before))
	w.in("center", centers)
	evs, err := s.queryEvents(ctx, `SELECT `+eventColumns+` FROM (
		SELECT *, ROW_NUMBER() OVER (PARTITION BY center, camera, window_id ORDER BY time_us DESC, id DESC) AS rn
		FROM events`+w.String()+`)
		WHERE rn = 1 ORDER BY center, camera, window_id`, w.args...)
	if err != nil {
		return nil, fmt.Errorf("query last window states: %w", err)
	}
	return evs, nil
}

func (s *SQLite) queryEvents(ctx context.Context, query string, args ...any) ([]StoredEvent, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []StoredEvent
	for rows.Next() {
		var (
			e     StoredEvent
			t     int64
			count sql.NullInt64
		)
		if err := rows.Scan(&e.ID, &e.District, &e.Center, &e.Camera, &t, &e.Type, &e.Kind, &e.Line,
			&e.Direction, &e.Track, &e.Window, &e.State, &count, &e.Frame, &e.T); err != nil {
			return nil, err
		}
		e.Time = fromUS(t)
		if count.Valid {
			n := int(count.Int64)
			e.Count = &n
		}
		evs = append(evs, e)
	}
	return evs, rows.Err()
}
