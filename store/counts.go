package store

import (
	"context"
	"fmt"
	"time"
)

// Count bucket sizes.
const (
	BucketHour = "hour"
	BucketDay  = "day" // the center's local calendar day
)

// CountQuery selects visitor counts from the hourly aggregates.
type CountQuery struct {
	// Centers limits the result; empty means all centers, so callers that
	// enforce a user's scope must always pass the user's centers.
	Centers []string
	// From and To select buckets whose start lies in [From, To). For days,
	// pass local midnights (a day in Asia/Shanghai starts at 16:00 UTC the
	// day before); zero bounds are open.
	From, To time.Time
	Bucket   string // BucketHour or BucketDay
	// PerLine splits each center's row by camera and counting line; by
	// default the center's lines are summed.
	PerLine bool
}

// CountRow is one bucket's crossings. Buckets without crossings are absent.
type CountRow struct {
	Center string
	Camera string // PerLine only
	Line   string // PerLine only
	// Start is the bucket start in the center's zone: a local hour, or local
	// midnight. A DST fall-back gives two rows with the same wall-clock hour
	// and different offsets.
	Start time.Time
	In    int
	Out   int
}

// Counts returns crossings per center (or per line) and bucket, ordered by
// center, start (and camera, line). The counts survive event retention.
func (s *Store) Counts(ctx context.Context, q CountQuery) ([]CountRow, error) {
	var startCol string
	switch q.Bucket {
	case BucketHour:
		startCol = "hour_start_us"
	case BucketDay:
		startCol = "day_start_us"
	default:
		return nil, fmt.Errorf("counts: bucket %q, want %q or %q: %w", q.Bucket, BucketHour, BucketDay, ErrInvalid)
	}
	var w where
	w.in("center", q.Centers)
	w.timeRange(startCol, q.From, q.To)
	lineCols, group, order := "'', ''", "center, "+startCol+", zone", "center, "+startCol
	if q.PerLine {
		lineCols, group, order = "camera, line_id", "center, camera, line_id, "+startCol+", zone", "center, "+startCol+", camera, line_id"
	}
	out, err := queryAll(ctx, s.reader(), s.scanCount, "SELECT center, "+lineCols+", "+startCol+", zone, SUM(in_count), SUM(out_count) FROM crossings_hourly"+
		w.String()+" GROUP BY "+group+" ORDER BY "+order, w.args...)
	if err != nil {
		return nil, fmt.Errorf("counts: %w", err)
	}
	return out, nil
}

func (s *Store) scanCount(r scanner) (CountRow, error) {
	var (
		c     CountRow
		start int64
		zone  string
	)
	if err := r.Scan(&c.Center, &c.Camera, &c.Line, &start, &zone, &c.In, &c.Out); err != nil {
		return c, err
	}
	loc, err := s.location(zone)
	if err != nil {
		return c, fmt.Errorf("center %q: zone %q: %w", c.Center, zone, err)
	}
	c.Start = fromUS(start).In(loc)
	return c, nil
}
