package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// MaxSnapshotBytes bounds an alert snapshot; larger JPEGs are rejected.
const MaxSnapshotBytes = 2 << 20

// maxCommentBytes bounds an acknowledgement comment.
const maxCommentBytes = 4096

// Alert state errors; both match ErrConflict too.
var (
	ErrAlreadyAcknowledged = fmt.Errorf("alert already acknowledged: %w", ErrConflict)
	ErrAlreadyResolved     = fmt.Errorf("alert already resolved: %w", ErrConflict)
)

// AlertRecord is a new alert.
type AlertRecord struct {
	Kind     string // events.KindUnstaffed, KindCameraOffline or KindStorageFull
	District string
	Center   string
	Camera   string
	Window   string // required for unstaffed, empty for the camera's own alerts
	RaisedAt time.Time
	Snapshot []byte // JPEG, at most MaxSnapshotBytes; nil for none
}

// Alert is a stored alert. Its lifecycle is raised → acknowledged →
// resolved; acknowledging after resolution is allowed. Zero times mean
// "not yet".
type Alert struct {
	ID          int64
	Kind        string
	District    string
	Center      string
	Camera      string
	Window      string
	RaisedAt    time.Time
	AckedAt     time.Time
	AckedBy     string
	AckComment  string
	ResolvedAt  time.Time
	HasSnapshot bool // false when none was taken or retention removed it
	// HasVideo: the alert's clip was cut, or the recording still covers
	// part of the time it was open (a clip can be served from it).
	HasVideo bool
}

// Open reports whether the alert is not resolved.
func (a Alert) Open() bool { return a.ResolvedAt.IsZero() }

// Duration is how long the alert was open; 0 while it is open.
func (a Alert) Duration() time.Duration {
	if a.Open() {
		return 0
	}
	return a.ResolvedAt.Sub(a.RaisedAt)
}

// AlertQuery selects alerts, newest first. Empty lists and zero times do not filter.
type AlertQuery struct {
	// Centers limits the result; empty means all centers, so callers that
	// enforce a user's scope must always pass the user's centers.
	Centers []string
	Open    *bool     // true: unresolved only; false: resolved only
	From    time.Time // raised at or after
	To      time.Time // raised before
	Limit   int       // <= 0: no limit
}

// RaiseAlert stores a new alert (and its snapshot) and returns its id. Only
// one alert per kind, camera and window may be open at a time; a second one
// fails with ErrConflict.
func (s *SQLite) RaiseAlert(ctx context.Context, a AlertRecord) (int64, error) {
	if err := checkAlert(a); err != nil {
		return 0, fmt.Errorf("raise alert (%s, camera %q, window %q): %w", a.Kind, a.Camera, a.Window, err)
	}
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts (kind, district, center, camera, window_id, raised_us)
			VALUES (?, ?, ?, ?, ?, ?)`, a.Kind, a.District, a.Center, a.Camera, a.Window, us(a.RaisedAt))
		if isUnique(err) {
			return fmt.Errorf("an alert for this camera and window is already open: %w", ErrConflict)
		} else if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		if a.Snapshot != nil {
			_, err = tx.ExecContext(ctx, "INSERT INTO alert_snapshots (alert_id, jpeg) VALUES (?, ?)", id, a.Snapshot)
		}
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("raise alert (%s, camera %q, window %q): %w", a.Kind, a.Camera, a.Window, err)
	}
	return id, nil
}

func checkAlert(a AlertRecord) error {
	switch {
	case a.Kind != events.KindUnstaffed && a.Kind != events.KindCameraOffline && a.Kind != events.KindStorageFull:
		return fmt.Errorf("kind %q, want %q, %q or %q: %w", a.Kind, events.KindUnstaffed, events.KindCameraOffline, events.KindStorageFull, ErrInvalid)
	case a.Center == "" || a.Camera == "":
		return fmt.Errorf("center and camera are required: %w", ErrInvalid)
	case a.Kind == events.KindUnstaffed && a.Window == "":
		return fmt.Errorf("unstaffed alert without window: %w", ErrInvalid)
	case a.Kind != events.KindUnstaffed && a.Window != "":
		return fmt.Errorf("%s alert with window %q: %w", a.Kind, a.Window, ErrInvalid)
	case a.RaisedAt.IsZero():
		return fmt.Errorf("raised time is zero: %w", ErrInvalid)
	case len(a.Snapshot) > MaxSnapshotBytes:
		return fmt.Errorf("snapshot is %d bytes, limit %d: %w", len(a.Snapshot), MaxSnapshotBytes, ErrInvalid)
	case a.Snapshot != nil && !bytes.HasPrefix(a.Snapshot, []byte{0xFF, 0xD8, 0xFF}):
		return fmt.Errorf("snapshot is not a JPEG (no FF D8 FF start marker): %w", ErrInvalid)
	}
	return nil
}

// AckAlert records who acknowledged alert id, when, and why. An alert is
// acknowledged once: a second call fails with ErrAlreadyAcknowledged.
func (s *SQLite) AckAlert(ctx context.Context, id int64, by, comment string, at time.Time) error {
	switch {
	case by == "":
		return fmt.Errorf("ack alert %d: acknowledging user is empty: %w", id, ErrInvalid)
	case at.IsZero():
		return fmt.Errorf("ack alert %d: time is zero: %w", id, ErrInvalid)
	case len(comment) > maxCommentBytes:
		return fmt.Errorf("ack alert %d: comment is %d bytes, limit %d: %w", id, len(comment), maxCommentBytes, ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var acked sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT acked_us FROM alerts WHERE id = ?", id).Scan(&acked)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if acked.Valid {
			return ErrAlreadyAcknowledged
		}
		_, err = tx.ExecContext(ctx, "UPDATE alerts SET acked_us = ?, acked_by = ?, ack_comment = ? WHERE id = ?",
			us(at), by, comment, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("ack alert %d: %w", id, err)
	}
	return nil
}

// ResolveAlert closes alert id at the given time; the alert's duration is
// the time from RaisedAt to it. A second call fails with ErrAlreadyResolved.
func (s *SQLite) ResolveAlert(ctx context.Context, id int64, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("resolve alert %d: time is zero: %w", id, ErrInvalid)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var raised int64
		var resolved sql.NullInt64
		err := tx.QueryRowContext(ctx, "SELECT raised_us, resolved_us FROM alerts WHERE id = ?", id).Scan(&raised, &resolved)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		} else if err != nil {
			return err
		}
		if resolved.Valid {
			return ErrAlreadyResolved
		}
		if us(at) < raised {
			return fmt.Errorf("resolution time %s is before the alert was raised (%s): %w",
				at.UTC().Format(time.RFC3339), fromUS(raised).Format(time.RFC3339), ErrInvalid)
		}
		_, err = tx.ExecContext(ctx, "UPDATE alerts SET resolved_us = ? WHERE id = ?", us(at), id)
		return err
	})
	if err != nil {
		return fmt.Errorf("resolve alert %d: %w", id, err)
	}
	return nil
}

var alertColumns = `id, kind, district, center, camera, window_id, raised_us, acked_us, acked_by, ack_comment,
	resolved_us, EXISTS (SELECT 1 FROM alert_snapshots WHERE alert_id = alerts.id),
	EXISTS (SELECT 1 FROM clips WHERE clips.alert_id = alerts.id AND clips.bytes > 0) OR
	EXISTS (SELECT 1 FROM recordings r WHERE r.camera = alerts.camera
		AND r.start_us >= alerts.raised_us - ` + strconv.FormatInt(MaxSegmentSpan.Microseconds(), 10) + `
		AND r.start_us <= COALESCE(alerts.resolved_us, 9223372036854775807)
		AND r.end_us >= alerts.raised_us - ` + strconv.FormatInt(SegmentEndLag.Microseconds(), 10) + `)`

// SegmentEndLag is how far an open segment's end in the index may trail
// the file: the recorder updates the index at least this often.
const SegmentEndLag = 15 * time.Second

// Alert returns alert id, or ErrNotFound.
func (s *SQLite) Alert(ctx context.Context, id int64) (Alert, error) {
	as, err := s.queryAlerts(ctx, "SELECT "+alertColumns+" FROM alerts WHERE id = ?", id)
	if err != nil {
		return Alert{}, fmt.Errorf("alert %d: %w", id, err)
	}
	if len(as) == 0 {
		return Alert{}, fmt.Errorf("alert %d: %w", id, ErrNotFound)
	}
	return as[0], nil
}

// Alerts returns the alerts matching q, newest first.
func (s *SQLite) Alerts(ctx context.Context, q AlertQuery) ([]Alert, error) {
	var w where
	w.in("center", q.Centers)
	w.timeRange("raised_us", q.From, q.To)
	if q.Open != nil && *q.Open {
		w.add("resolved_us IS NULL")
	} else if q.Open != nil {
		w.add("resolved_us IS NOT NULL")
	}
	as, err := s.queryAlerts(ctx, "SELECT "+alertColumns+" FROM alerts"+w.String()+
		" ORDER BY raised_us DESC, id DESC"+limit(q.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("query alerts: %w", err)
	}
	return as, nil
}

// OpenAlerts returns every unresolved alert, oldest first: what an alert
// manager reloads after a restart.
func (s *SQLite) OpenAlerts(ctx context.Context) ([]Alert, error) {
	as, err := s.queryAlerts(ctx, "SELECT "+alertColumns+" FROM alerts WHERE resolved_us IS NULL ORDER BY raised_us, id")
	if err != nil {
		return nil, fmt.Errorf("query open alerts: %w", err)
	}
	return as, nil
}

// Snapshot returns alert id's JPEG, or ErrNotFound when the alert does not
// exist or has no snapshot (none taken, or removed by retention).
func (s *SQLite) Snapshot(ctx context.Context, id int64) ([]byte, error) {
	var jpeg []byte
	err := s.read.QueryRowContext(ctx, "SELECT jpeg FROM alert_snapshots WHERE alert_id = ?", id).Scan(&jpeg)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("snapshot of alert %d: %w", id, ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("snapshot of alert %d: %w", id, err)
	}
	return jpeg, nil
}

func (s *SQLite) queryAlerts(ctx context.Context, query string, args ...any) ([]Alert, error) {
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var as []Alert
	for rows.Next() {
		var (
			a               Alert
			raised          int64
			acked, resolved sql.NullInt64
		)
		if err := rows.Scan(&a.ID, &a.Kind, &a.District, &a.Center, &a.Camera, &a.Window, &raised, &acked,
			&a.AckedBy, &a.AckComment, &resolved, &a.HasSnapshot, &a.HasVideo); err != nil {
			return nil, err
		}
		a.RaisedAt, a.AckedAt, a.ResolvedAt = fromUS(raised), fromNullUS(acked), fromNullUS(resolved)
		as = append(as, a)
	}
	return as, rows.Err()
}
