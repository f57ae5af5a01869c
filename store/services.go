package store

import (
	"context"
	"fmt"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// Service is one visitor served at a window (a service event stored).
type Service struct {
	ID       int64
	District string
	Center   string
	Camera   string
	Window   string
	Track    int
	Start    time.Time // arrival in the service zone, UTC
	End      time.Time // departure, UTC
}

// ServiceQuery selects services by their start. Empty lists and zero
// times do not filter.
type ServiceQuery struct {
	Centers []string
	From    time.Time // inclusive
	To      time.Time // exclusive
}

// insertServices stores the service events of evs (AppendEvents).
func insertServices(ctx context.Context, tx conn, evs []EventRecord) error {
	const cols = `INSERT INTO services (start_us, end_us, district, center, camera, window_id, track) VALUES `
	return inRows(ctx, tx, cols, "", "(?, ?, ?, ?, ?, ?, ?)", len(evs), func(i int) []any {
		e := &evs[i]
		return []any{us(durationStart(e.Event)), us(e.Time), e.District, e.Center, e.Camera, e.Window, e.Track}
	})
}

// durationStart is the start of a service or wait event: its time (the
// departure, the arrival at the window) less its duration.
func durationStart(e events.Event) time.Time {
	return e.Time.Add(-time.Duration(e.Duration * float64(time.Second)))
}

// Services returns the services that started in the query's range, oldest
// first.
func (s *Store) Services(ctx context.Context, q ServiceQuery) ([]Service, error) {
	var w where
	w.in("center", q.Centers)
	w.timeRange("start_us", q.From, q.To)
	out, err := queryAll(ctx, s.reader(), func(r scanner) (Service, error) {
		var (
			v          Service
			start, end int64
		)
		err := r.Scan(&v.ID, &v.District, &v.Center, &v.Camera, &v.Window, &v.Track, &start, &end)
		v.Start, v.End = fromUS(start), fromUS(end)
		return v, err
	}, "SELECT id, district, center, camera, window_id, track, start_us, end_us FROM services"+w.String()+" ORDER BY start_us, id", w.args...)
	if err != nil {
		return nil, fmt.Errorf("query services: %w", err)
	}
	return out, nil
}
