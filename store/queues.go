package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// QueueMinute is the people waiting in a queue zone over one minute (a
// queue event stored).
type QueueMinute struct {
	District string
	Center   string
	Camera   string
	Zone     string
	Minute   time.Time // the minute's start, UTC
	Max      int       // most people at once
	Mean     float64
}

// Wait is one visitor's wait in a queue zone (a wait event stored).
type Wait struct {
	ID       int64
	District string
	Center   string
	Camera   string
	Zone     string
	Window   string // the window reached; empty for an estimate
	Track    int
	Start    time.Time // entering the queue zone, UTC
	End      time.Time // reaching the service zone (or the estimate of it), UTC
	// Estimated: the track was lost on the way; the wait is estimated
	// from the people ahead and the windows' service rate.
	Estimated bool
}

// QueueQuery selects queue minutes by their minute and waits by their
// start. Empty lists and zero times do not filter.
type QueueQuery struct {
	Centers []string
	From    time.Time // inclusive
	To      time.Time // exclusive
}

// insertQueues stores the queue and wait events of evs (AppendEvents).
func insertQueues(ctx context.Context, tx conn, evs []EventRecord) error {
	var minutes, waits []*EventRecord
	for i := range evs {
		switch evs[i].Type {
		case events.TypeQueue:
			minutes = append(minutes, &evs[i])
		case events.TypeWait:
			waits = append(waits, &evs[i])
		}
	}
	err := inRows(ctx, tx, `INSERT INTO queue_minutes (minute_us, district, center, camera, zone, max_people, mean_people) VALUES `, "",
		"(?, ?, ?, ?, ?, ?, ?)", len(minutes), func(i int) []any {
			e := minutes[i]
			return []any{us(e.Time), e.District, e.Center, e.Camera, e.Zone, *e.Count, e.Mean}
		})
	if err != nil {
		return err
	}
	return inRows(ctx, tx, `INSERT INTO waits (start_us, end_us, district, center, camera, zone, window_id, track, estimated) VALUES `, "",
		"(?, ?, ?, ?, ?, ?, ?, ?, ?)", len(waits), func(i int) []any {
			e := waits[i]
			return []any{us(durationStart(e.Event)), us(e.Time), e.District, e.Center, e.Camera, e.Zone, e.Window, e.Track, e.Estimated}
		})
}

// QueueMinutes returns the queue minutes in the query's range, oldest first.
func (s *Store) QueueMinutes(ctx context.Context, q QueueQuery) ([]QueueMinute, error) {
	var w where
	w.in("center", q.Centers)
	w.timeRange("minute_us", q.From, q.To)
	out, err := queryAll(ctx, s.reader(), func(r scanner) (QueueMinute, error) {
		var (
			m      QueueMinute
			minute int64
		)
		err := r.Scan(&m.District, &m.Center, &m.Camera, &m.Zone, &minute, &m.Max, &m.Mean)
		m.Minute = fromUS(minute)
		return m, err
	}, "SELECT district, center, camera, zone, minute_us, max_people, mean_people FROM queue_minutes"+w.String()+" ORDER BY minute_us, id", w.args...)
	if err != nil {
		return nil, fmt.Errorf("query queue minutes: %w", err)
	}
	return out, nil
}

// Waits returns the waits that started in the query's range, oldest first.
func (s *Store) Waits(ctx context.Context, q QueueQuery) ([]Wait, error) {
	var w where
	w.in("center", q.Centers)
	w.timeRange("start_us", q.From, q.To)
	out, err := queryAll(ctx, s.reader(), func(r scanner) (Wait, error) {
		var (
			v          Wait
			start, end int64
		)
		err := r.Scan(&v.ID, &v.District, &v.Center, &v.Camera, &v.Zone, &v.Window, &v.Track, &v.Estimated, &start, &end)
		v.Start, v.End = fromUS(start), fromUS(end)
		return v, err
	}, "SELECT id, district, center, camera, zone, window_id, track, estimated, start_us, end_us FROM waits"+w.String()+" ORDER BY start_us, id", w.args...)
	if err != nil {
		return nil, fmt.Errorf("query waits: %w", err)
	}
	return out, nil
}
