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
	return checkText("camera", sg.Camera, "root", sg.Root, "path", sg.Path, "codec", sg.Codec)
}

// AddSegment indexes a new segment and returns its id. A second segment
// with the same root and path fails with ErrConflict.
func (s *Store) AddSegment(ctx context.Context, sg Segment) (int64, error) {
	if err := checkSegment(sg); err != nil {
		return 0, fmt.Errorf("add segment %s: %w", sg.Path, err)
	}
	id, err := s.writer().insert(ctx, `INSERT INTO recordings (camera, root, path, codec, start_us, end_us, bytes, closed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, sg.Camera, sg.Root, sg.Path, sg.Codec, us(sg.Start), us(sg.End), sg.Bytes, sg.Closed)
	if isUnique(err) {
		return 0, fmt.Errorf("add segment %s: already indexed: %w", sg.Path, ErrConflict)
	} else if err != nil {
		return 0, fmt.Errorf("add segment %s: %w", sg.Path, err)
	}
	return id, nil
}

// UpdateSegment records how far segment id has been written.
func (s *Store) UpdateSegment(ctx context.Context, id int64, end time.Time, bytes int64, closed bool) error {
	if bytes < 0 || end.IsZero() {
		return fmt.Errorf("update segment %d: end %v, %d bytes: %w", id, end, bytes, ErrInvalid)
	}
	err := s.writer().one(ctx, "UPDATE recordings SET end_us = CASE WHEN ? > start_us THEN ? ELSE start_us END, bytes = ?, closed = ? WHERE id = ?",
		us(end), us(end), bytes, closed, id)
	if err != nil {
		return fmt.Errorf("update segment %d: %w", id, err)
	}
	return nil
}

// DeleteSegment removes segment id from the index (the caller deletes the file).
func (s *Store) DeleteSegment(ctx context.Context, id int64) error {
	if err := s.writer().one(ctx, "DELETE FROM recordings WHERE id = ?", id); err != nil {
		return fmt.Errorf("delete segment %d: %w", id, err)
	}
	return nil
}

// Segments returns the segments matching q, oldest first.
func (s *Store) Segments(ctx context.Context, q SegmentQuery) ([]Segment, error) {
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
	out, err := queryAll(ctx, s.reader(), scanSegment, `SELECT id, camera, root, path, codec, start_us, end_us, bytes, closed
		FROM recordings`+w.String()+" ORDER BY start_us, id"+limit(q.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("query segments: %w", err)
	}
	return out, nil
}

func scanSegment(r scanner) (Segment, error) {
	var (
		sg         Segment
		start, end int64
	)
	err := r.Scan(&sg.ID, &sg.Camera, &sg.Root, &sg.Path, &sg.Codec, &start, &end, &sg.Bytes, &sg.Closed)
	sg.Start, sg.End = fromUS(start), fromUS(end)
	return sg, err
}

// RecordingBytes is what a storage path holds: its segments and clips.
func (s *Store) RecordingBytes(ctx context.Context, root string) (int64, error) {
	var n int64
	err := s.reader().queryRow(ctx, `SELECT
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
func (s *Store) SaveClip(ctx context.Context, c Clip) error {
	switch {
	case c.AlertID <= 0 || c.Camera == "" || c.Root == "" || c.Created.IsZero():
		return fmt.Errorf("save clip of alert %d: alert, camera, root and creation time are required: %w", c.AlertID, ErrInvalid)
	case c.End.Before(c.Start) || c.Bytes < 0 || (c.Bytes > 0) != (c.Path != ""):
		return fmt.Errorf("save clip of alert %d: inconsistent span or size: %w", c.AlertID, ErrInvalid)
	case strings.Contains(c.Path, "..") || strings.HasPrefix(c.Path, "/"):
		return fmt.Errorf("save clip of alert %d: path %q must stay inside its root: %w", c.AlertID, c.Path, ErrInvalid)
	}
	if err := checkText("camera", c.Camera, "root", c.Root, "path", c.Path); err != nil {
		return fmt.Errorf("save clip of alert %d: %w", c.AlertID, err)
	}
	_, err := s.writer().exec(ctx, `INSERT INTO clips (alert_id, camera, root, path, start_us, end_us, bytes, created_us)
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
func (s *Store) Clip(ctx context.Context, alertID int64) (Clip, error) {
	c, err := queryOne(ctx, s.reader(), scanClip, "SELECT "+clipColumns+" FROM clips WHERE alert_id = ?", alertID)
	if err != nil {
		return Clip{}, fmt.Errorf("clip of alert %d: %w", alertID, err)
	}
	return c, nil
}

// ExpiredClips returns up to limit clip files (bytes > 0) of alerts raised
// before cutoff.
func (s *Store) ExpiredClips(ctx context.Context, cutoff time.Time, n int) ([]Clip, error) {
	cs, err := queryAll(ctx, s.reader(), scanClip, `SELECT c.alert_id, c.camera, c.root, c.path, c.start_us, c.end_us, c.bytes, c.created_us
		FROM clips c JOIN alerts a ON a.id = c.alert_id WHERE c.bytes > 0 AND a.raised_us < ? ORDER BY a.raised_us`+limit(n), us(cutoff))
	if err != nil {
		return nil, fmt.Errorf("expired clips: %w", err)
	}
	return cs, nil
}

// ClipsDue returns resolved alerts raised at or after since and resolved
// before resolvedBefore that have no clip yet, oldest first: the clips to
// cut now that the recording has passed their end.
func (s *Store) ClipsDue(ctx context.Context, since, resolvedBefore time.Time, n int) ([]Alert, error) {
	as, err := queryAll(ctx, s.reader(), scanAlert, "SELECT "+alertColumns+` FROM alerts
		WHERE raised_us >= ? AND resolved_us IS NOT NULL AND resolved_us < ?
			AND NOT EXISTS (SELECT 1 FROM clips WHERE clips.alert_id = alerts.id)
		ORDER BY raised_us, id`+limit(n), us(since), us(resolvedBefore))
	if err != nil {
		return nil, fmt.Errorf("clips due: %w", err)
	}
	return as, nil
}

func scanClip(r scanner) (Clip, error) {
	var (
		c                       Clip
		start, end, createdTime int64
	)
	err := r.Scan(&c.AlertID, &c.Camera, &c.Root, &c.Path, &start, &end, &c.Bytes, &createdTime)
	c.Start, c.End, c.Created = fromUS(start), fromUS(end), fromUS(createdTime)
	return c, err
}
