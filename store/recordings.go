package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// MaxSegmentSpan bounds how long one recording segment may last; queries
// by time rely on it to stay on the index. The recorder cuts far earlier
// (record.segment is at most an hour).
const MaxSegmentSpan = 2 * time.Hour

// Segment is one recording file in the index.
type Segment struct {
	ID     int64
	Camera string
	Root   string // storage path: the unit of a disk budget
	Path   string // the file, relative to Root (slash-separated)
	Codec  string
	Start  time.Time
	End    time.Time
	Bytes  int64
	// Closed: the file is complete. An open segment's End and Bytes lag
	// the file by a few seconds (and after a crash, until it is scanned).
	Closed bool
}

// SegmentQuery selects segments, oldest first. Empty fields do not filter.
type SegmentQuery struct {
	Camera string
	Root   string
	// From and To select the segments overlapping [From, To).
	From, To time.Time
	// EndBefore selects segments that ended before it (retention).
	EndBefore time.Time
	Closed    *bool
	Limit     int // <= 0: no limit
}

func checkSegment(sg Segment) error {
	switch {
	case sg.Camera == "" || sg.Root == "" || sg.Path == "" || sg.Codec == "":
		return fmt.Errorf("camera, root, path and codec are required: %w", ErrInvalid)
	case sg.Start.IsZero() || sg.End.Before(sg.Start):
		return fmt.Errorf("segment from %s to %s: %w", sg.Start.Format(time.RFC3339Nano), sg.End.Format(time.RFC3339Nano), ErrInvalid)
	case sg.Bytes < 0:
		return fmt.Errorf("negative size %d: %w", sg.Bytes, ErrInvalid)
	case strings.Contains(sg.Path, "..") || strings.HasPrefix(sg.Path, "/"):
		return fmt.Errorf("path %q must stay inside its root: %w", sg.Path, ErrInvalid)
	}
	return nil
}

// AddSegment indexes a new segment and returns its id. A second segment
// with the same root and path fails with ErrConflict.
func (s *SQLite) AddSegment(ctx context.Context, sg Segment) (int64, error) {
	if err := checkSegment(sg); err != nil {
		return 0, fmt.Errorf("add segment %s: %w", sg.Path, err)
	}
	res, err := s.write.ExecContext(ctx, `INSERT INTO recordings (camera, root, path, codec, start_us, end_us, bytes, closed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sg.Camera, sg.Root, sg.Path, sg.Codec, us(sg.Start), us(sg.End), sg.Bytes, sg.Closed)
	if isUnique(err) {
		return 0, fmt.Errorf("add segment %s: already indexed: %w", sg.Path, ErrConflict)
	} else if err != nil {
		return 0, fmt.Errorf("add segment %s: %w", sg.Path, err)
	}
	return res.LastInsertId()
}

// UpdateSegment records how far segment id has been written.
func (s *SQLite) UpdateSegment(ctx context.Context, id int64, end time.Time, bytes int64, closed bool) error {
	if bytes < 0 || end.IsZero() {
		return fmt.Errorf("update segment %d: end %v, %d bytes: %w", id, end, bytes, ErrInvalid)
	}
	err := affectedOne(s.write.ExecContext(ctx, "UPDATE recordings SET end_us = MAX(?, start_us), bytes = ?, closed = ? WHERE id = ?",
		us(end), bytes, closed, id))
	if err != nil {
		return fmt.Errorf("update segment %d: %w", id, err)
	}
	return nil
}

// DeleteSegment removes segment id from the index (the caller deletes the file).
func (s *SQLite) DeleteSegment(ctx context.Context, id int64) error {
	if err := affectedOne(s.write.ExecContext(ctx, "DELETE FROM recordings WHERE id = ?", id)); err != nil {
		return fmt.Errorf("delete segment %d: %w", id, err)
	}
	return nil
}

// Segments returns the segments matching q, oldest first.
func (s *SQLite) Segments(ctx context.Context, q SegmentQuery) ([]Segment, error) {
	var w where
	if q.Camera != "" {
		w.add("camera = ?", q.Camera)
	}
	if q.Root != "" {
		w.add("root = ?", q.Root)
	}
	if !q.From.IsZero() {
		// A segment lasts at most MaxSegmentSpan: the start bound keeps
		// the scan on the (camera, start) index.
		w.add("end_us > ? AND start_us >= ?", us(q.From), us(q.From.Add(-MaxSegmentSpan)))
	}
	if !q.To.IsZero() {
		w.add("start_us < ?", us(q.To))
	}
	if !q.EndBefore.IsZero() {
		w.add("end_us < ?", us(q.EndBefore))
	}
	if q.Closed != nil {
		w.add("closed = ?", *q.Closed)
	}
	rows, err := s.read.QueryContext(ctx, `SELECT id, camera, root, path, codec, start_us, end_us, bytes, closed
		FROM recordings`+w.String()+" ORDER BY start_us, id"+limit(q.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("query segments: %w", err)
	}
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		var (
			sg         Segment
			start, end int64
		)
		if err := rows.Scan(&sg.ID, &sg.Camera, &sg.Root, &sg.Path, &sg.Codec, &start, &end, &sg.Bytes, &sg.Closed); err != nil {
			return nil, fmt.Errorf("query segments: %w", err)
		}
		sg.Start, sg.End = fromUS(start), fromUS(end)
		out = append(out, sg)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query segments: %w", err)
	}
	return out, nil
}

// RecordingBytes is what a storage path holds: its segments and clips.
func (s *SQLite) RecordingBytes(ctx context.Context, root string) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT
		(SELECT COALESCE(SUM(bytes), 0) FROM recordings WHERE root = ?) +
		(SELECT COALESCE(SUM(bytes), 0) FROM clips WHERE root = ? AND bytes > 0)`, root, root).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("recording bytes of %s: %w", root, err)
	}
	return n, nil
}

// Clip is an alert's video, cut from the recording. Bytes 0 and an empty
// Path mean there is none: no recording covered the alert, or retention
// removed it.
type Clip struct {
	AlertID int64
	Camera  string
	Root    string
	Path    string // relative to Root
	Start   time.Time
	End     time.Time
	Bytes   int64
	Created time.Time
}

// SaveClip stores (or replaces) the clip of an alert.
func (s *SQLite) SaveClip(ctx context.Context, c Clip) error {
	switch {
	case c.AlertID <= 0 || c.Camera == "" || c.Root == "" || c.Created.IsZero():
		return fmt.Errorf("save clip of alert %d: alert, camera, root and creation time are required: %w", c.AlertID, ErrInvalid)
	case c.End.Before(c.Start) || c.Bytes < 0 || (c.Bytes > 0) != (c.Path != ""):
		return fmt.Errorf("save clip of alert %d: inconsistent span or size: %w", c.AlertID, ErrInvalid)
	case strings.Contains(c.Path, "..") || strings.HasPrefix(c.Path, "/"):
		return fmt.Errorf("save clip of alert %d: path %q must stay inside its root: %w", c.AlertID, c.Path, ErrInvalid)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO clips (alert_id, camera, root, path, start_us, end_us, bytes, created_us)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (alert_id) DO UPDATE SET camera = excluded.camera, root = excluded.root, path = excluded.path,
			start_us = excluded.start_us, end_us = excluded.end_us, bytes = excluded.bytes, created_us = excluded.created_us`,
		c.AlertID, c.Camera, c.Root, c.Path, us(c.Start), us(c.End), c.Bytes, us(c.Created))
	if err != nil {
		return fmt.Errorf("save clip of alert %d: %w", c.AlertID, err)
	}
	return nil
}

const clipColumns = "alert_id, camera, root, path, start_us, end_us, bytes, created_us"

// Clip returns alert id's clip, or ErrNotFound when none was cut yet.
func (s *SQLite) Clip(ctx context.Context, alertID int64) (Clip, error) {
	cs, err := s.queryClips(ctx, "SELECT "+clipColumns+" FROM clips WHERE alert_id = ?", alertID)
	if err != nil {
		return Clip{}, fmt.Errorf("clip of alert %d: %w", alertID, err)
	}
	if len(cs) == 0 {
		return Clip{}, fmt.Errorf("clip of alert %d: %w", alertID, ErrNotFound)
	}
	return cs[0], nil
}

// ExpiredClips returns up to limit clip files (bytes > 0) of alerts raised
// before cutoff.
func (s *SQLite) ExpiredClips(ctx context.Context, cutoff time.Time, n int) ([]Clip, error) {
	cs, err := s.queryClips(ctx, `SELECT c.alert_id, c.camera, c.root, c.path, c.start_us, c.end_us, c.bytes, c.created_us
		FROM clips c JOIN alerts a ON a.id = c.alert_id WHERE c.bytes > 0 AND a.raised_us < ? ORDER BY a.raised_us`+limit(n), us(cutoff))
	if err != nil {
		return nil, fmt.Errorf("expired clips: %w", err)
	}
	return cs, nil
}

// ClipsDue returns resolved alerts raised at or after since and resolved
// before resolvedBefore that have no clip yet, oldest first: the clips to
// cut now that the recording has passed their end.
func (s *SQLite) ClipsDue(ctx context.Context, since, resolvedBefore time.Time, n int) ([]Alert, error) {
	as, err := s.queryAlerts(ctx, "SELECT "+alertColumns+` FROM alerts
		WHERE raised_us >= ? AND resolved_us IS NOT NULL AND resolved_us < ?
			AND NOT EXISTS (SELECT 1 FROM clips WHERE clips.alert_id = alerts.id)
		ORDER BY raised_us, id`+limit(n), us(since), us(resolvedBefore))
	if err != nil {
		return nil, fmt.Errorf("clips due: %w", err)
	}
	return as, nil
}

func (s *SQLite) queryClips(ctx context.Context, query string, args ...any) ([]Clip, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Clip
	for rows.Next() {
		var (
			c                       Clip
			start, end, createdTime int64
		)
		if err := rows.Scan(&c.AlertID, &c.Camera, &c.Root, &c.Path, &start, &end, &c.Bytes, &createdTime); err != nil {
			return nil, err
		}
		c.Start, c.End, c.Created = fromUS(start), fromUS(end), fromUS(createdTime)
		out = append(out, c)
	}
	return out, rows.Err()
}
