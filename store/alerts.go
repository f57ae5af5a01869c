package store

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"slices"
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
	Kind     string // events.KindUnstaffed, KindCameraOffline KindCameraBlocked or KindStorageFull
	District string
	Center   string
	Camera   string
	Window   string // required for unstaffed, empty for the camera's alerts
	RaisedAt time.Time
	Snapshot []byte // JPEG, at most MaxSnapshotBytes; nil for none
}

// Alert is a stored alert. Its lifecycle is raised → acknowledged →
// resolved; acknowledging after resolution is allowed. Zero times mean
// "not yet".
type Alert struct {
	ID         int64
	Kind       string
	District   string
	Center     string
	Camera     string
	Window     string
	RaisedAt   time.Time
	AckedAt    time.Time
	AckedBy    string
	AckComment string
	// Verdict and VerdictReason say what the acknowledging person found
	// (see Ack); empty for alerts acknowledged before verdicts existed.
	Verdict       string
	VerdictReason string
	ResolvedAt    time.Time
	HasSnapshot   bool // false when none was taken or retention removed it
	// HasVideo: the alert's clip was cut, or the recording still covers
	// part of the time it was open (a clip can be served from it).
	HasVideo bool
}

// Verdicts, and the reasons of a false alarm, as an acknowledgement
// records them.
const (
	VerdictConfirmed   = "confirmed"
	VerdictFalseAlarm  = "false_alarm"
	ReasonClerkPresent = "clerk_present" // the clerk was there
	ReasonViewBlocked  = "view_blocked"  // the camera could not see the window
	ReasonZoneWrong    = "zone_wrong"    // the window's zone is drawn wrong
	ReasonOther        = "other"
)

// Ack is a person's acknowledgement of an alert, with their verdict.
type Ack struct {
	By      string
	Verdict string // VerdictConfirmed or VerdictFalseAlarm
	// Reason is required for a false alarm and empty when confirmed.
	Reason  string
	Comment string
	At      time.Time
}

func (a Ack) check() error {
	switch {
	case a.By == "":
		return fmt.Errorf("acknowledging user is empty: %w", ErrInvalid)
	case a.At.IsZero():
		return fmt.Errorf("time is zero: %w", ErrInvalid)
	case len(a.Comment) > maxCommentBytes:
		return fmt.Errorf("comment is %d bytes, limit %d: %w", len(a.Comment), maxCommentBytes, ErrInvalid)
	case a.Verdict == VerdictConfirmed && a.Reason != "":
		return fmt.Errorf("verdict %s takes no reason, got %q: %w", a.Verdict, a.Reason, ErrInvalid)
	case a.Verdict == VerdictFalseAlarm:
		switch a.Reason {
		case ReasonClerkPresent, ReasonViewBlocked, ReasonZoneWrong, ReasonOther:
		default:
			return fmt.Errorf("false alarm reason %q, want %s, %s, %s or %s: %w", a.Reason,
				ReasonClerkPresent, ReasonViewBlocked, ReasonZoneWrong, ReasonOther, ErrInvalid)
		}
	case a.Verdict != VerdictConfirmed:
		return fmt.Errorf("verdict %q, want %s or %s: %w", a.Verdict, VerdictConfirmed, VerdictFalseAlarm, ErrInvalid)
	}
	return checkText("user", a.By, "comment", a.Comment)
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

// Announce renders the outbox messages that tell people about an alert
// change (raised or resolved), given the alert as stored. RaiseAlert and
// ResolveAlert call it inside their transaction, so the change and its
// messages commit together or not at all: a crash in between cannot lose
// a notification. It must not do I/O. Only Target and Payload of the
// messages it returns are used.
type Announce func(Alert) []Notification

// RaiseAlert stores a new alert (and its snapshot) together with the
// messages announce (if not nil) renders for it, and returns the alert and
// the messages as queued. Only one alert per kind, camera and window may be
// open at a time; a second one fails with ErrConflict.
func (s *Store) RaiseAlert(ctx context.Context, a AlertRecord, announce Announce) (Alert, []Notification, error) {
	if err := checkAlert(a); err != nil {
		return Alert{}, nil, fmt.Errorf("raise alert (%s, camera %q, window %q): %w", a.Kind, a.Camera, a.Window, err)
	}
	stored := Alert{Kind: a.Kind, District: a.District, Center: a.Center, Camera: a.Camera, Window: a.Window,
		RaisedAt: fromUS(us(a.RaisedAt)), HasSnapshot: a.Snapshot != nil}
	var queued []Notification
	err := s.tx(ctx, func(tx conn) error {
		var err error
		stored.ID, err = tx.insert(ctx, `INSERT INTO alerts (kind, district, center, camera, window_id, raised_us)
			VALUES (?, ?, ?, ?, ?, ?)`, a.Kind, a.District, a.Center, a.Camera, a.Window, us(a.RaisedAt))
		if isUnique(err) {
			return fmt.Errorf("an alert for this camera and window is already open: %w", ErrConflict)
		} else if err != nil {
			return err
		}
		if a.Snapshot != nil {
			if _, err := tx.exec(ctx, "INSERT INTO alert_snapshots (alert_id, jpeg) VALUES (?, ?)", stored.ID, a.Snapshot); err != nil {
				return err
			}
		}
		queued, err = enqueueAll(ctx, tx, stored, announce)
		return err
	})
	if err != nil {
		return Alert{}, nil, fmt.Errorf("raise alert (%s, camera %q, window %q): %w", a.Kind, a.Camera, a.Window, err)
	}
	return stored, queued, nil
}

// enqueueAll puts the messages announce renders for a into the outbox.
func enqueueAll(ctx context.Context, tx conn, a Alert, announce Announce) ([]Notification, error) {
	if announce == nil {
		return nil, nil
	}
	msgs := announce(a)
	now := time.Now()
	out := make([]Notification, 0, len(msgs))
	for _, m := range msgs {
		n, err := enqueue(ctx, tx, m.Target, m.Payload, now)
		if err != nil {
			return nil, fmt.Errorf("notification for %q: %w", m.Target, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// alertKinds are the alerts the store keeps.
var alertKinds = []string{events.KindUnstaffed, events.KindCameraOffline, events.KindCameraBlocked, events.KindStorageFull, events.KindQueueLong}

func checkAlert(a AlertRecord) error {
	switch {
	case !slices.Contains(alertKinds, a.Kind):
		return fmt.Errorf("kind %q, want one of %q: %w", a.Kind, alertKinds, ErrInvalid)
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
	return checkText("district", a.District, "center", a.Center, "camera", a.Camera, "window", a.Window)
}

// AckAlert records who acknowledged alert id, when, their verdict and
// why. An alert is acknowledged once, open or resolved: a second call
// fails with ErrAlreadyAcknowledged.
func (s *Store) AckAlert(ctx context.Context, id int64, a Ack) error {
	if err := a.check(); err != nil {
		return fmt.Errorf("ack alert %d: %w", id, err)
	}
	// The condition in the UPDATE makes the check and the change one step,
	// whatever the database's isolation.
	err := s.tx(ctx, func(tx conn) error {
		n, err := tx.count(ctx, `UPDATE alerts SET acked_us = ?, acked_by = ?, ack_comment = ?, verdict = ?, verdict_reason = ?
			WHERE id = ? AND acked_us IS NULL`, us(a.At), a.By, a.Comment, a.Verdict, a.Reason, id)
		if err != nil || n == 1 {
			return err
		}
		if _, err := alertByID(ctx, tx, id); err != nil {
			return err
		}
		return ErrAlreadyAcknowledged
	})
	if err != nil {
		return fmt.Errorf("ack alert %d: %w", id, err)
	}
	return nil
}

// VerdictCount is how many unstaffed alerts of a window were judged each
// way.
type VerdictCount struct {
	Camera, Window         string
	Confirmed, FalseAlarms int
	Unjudged               int // not acknowledged yet, or before verdicts existed
}

// FalseAlarmRate is the share of judged alerts that were false alarms; -1
// when none was judged.
func (v VerdictCount) FalseAlarmRate() float64 {
	if v.Confirmed+v.FalseAlarms == 0 {
		return -1
	}
	return float64(v.FalseAlarms) / float64(v.Confirmed+v.FalseAlarms)
}

// VerdictCounts counts the verdicts on the unstaffed alerts of centers
// raised in [from, to), per camera and window.
func (s *Store) VerdictCounts(ctx context.Context, centers []string, from, to time.Time) ([]VerdictCount, error) {
	var w where
	w.add("kind = ?", events.KindUnstaffed)
	w.in("center", centers)
	w.timeRange("raised_us", from, to)
	type row struct {
		camera, window, verdict string
		n                       int
	}
	rows, err := queryAll(ctx, s.reader(), func(r scanner) (x row, err error) {
		return x, r.Scan(&x.camera, &x.window, &x.verdict, &x.n)
	}, "SELECT camera, window_id, verdict, COUNT(*) FROM alerts"+w.String()+" GROUP BY camera, window_id, verdict ORDER BY camera, window_id", w.args...)
	if err != nil {
		return nil, fmt.Errorf("count verdicts: %w", err)
	}
	var out []VerdictCount
	for _, x := range rows {
		if n := len(out); n == 0 || out[n-1].Camera != x.camera || out[n-1].Window != x.window {
			out = append(out, VerdictCount{Camera: x.camera, Window: x.window})
		}
		v := &out[len(out)-1]
		switch x.verdict {
		case VerdictConfirmed:
			v.Confirmed += x.n
		case VerdictFalseAlarm:
			v.FalseAlarms += x.n
		default:
			v.Unjudged += x.n
		}
	}
	return out, nil
}

// ResolveAlert closes alert id at the given time, together with the
// messages announce (if not nil) renders for it, and returns the resolved
// alert and the messages as queued. The alert's duration is the time from
// RaisedAt to at. A second call fails with ErrAlreadyResolved.
func (s *Store) ResolveAlert(ctx context.Context, id int64, at time.Time, announce Announce) (Alert, []Notification, error) {
	if at.IsZero() {
		return Alert{}, nil, fmt.Errorf("resolve alert %d: time is zero: %w", id, ErrInvalid)
	}
	var (
		a      Alert
		queued []Notification
	)
	err := s.tx(ctx, func(tx conn) error {
		n, err := tx.count(ctx, "UPDATE alerts SET resolved_us = ? WHERE id = ? AND resolved_us IS NULL AND raised_us <= ?",
			us(at), id, us(at))
		if err != nil {
			return err
		}
		if a, err = alertByID(ctx, tx, id); err != nil {
			return err
		}
		switch {
		case n == 1:
		case !a.Open():
			return ErrAlreadyResolved
		default:
			return fmt.Errorf("resolution time %s is before the alert was raised (%s): %w",
				at.UTC().Format(time.RFC3339), a.RaisedAt.Format(time.RFC3339), ErrInvalid)
		}
		queued, err = enqueueAll(ctx, tx, a, announce)
		return err
	})
	if err != nil {
		return Alert{}, nil, fmt.Errorf("resolve alert %d: %w", id, err)
	}
	return a, queued, nil
}

var alertColumns = `id, kind, district, center, camera, window_id, raised_us, acked_us, acked_by, ack_comment,
	verdict, verdict_reason, resolved_us, EXISTS (SELECT 1 FROM alert_snapshots WHERE alert_id = alerts.id),
	EXISTS (SELECT 1 FROM clips WHERE clips.alert_id = alerts.id AND clips.bytes > 0) OR
	EXISTS (SELECT 1 FROM recordings r WHERE r.camera = alerts.camera
		AND r.start_us >= alerts.raised_us - ` + strconv.FormatInt(MaxSegmentSpan.Microseconds(), 10) + `
		AND r.start_us <= COALESCE(alerts.resolved_us, 9223372036854775807)
		AND r.end_us >= alerts.raised_us - ` + strconv.FormatInt(SegmentEndLag.Microseconds(), 10) + `)`

// SegmentEndLag is how far an open segment's end in the index may trail
// the file: the recorder updates the index at least this often.
const SegmentEndLag = 15 * time.Second

// Alert returns alert id, or ErrNotFound.
func (s *Store) Alert(ctx context.Context, id int64) (Alert, error) {
	a, err := alertByID(ctx, s.reader(), id)
	if err != nil {
		return Alert{}, fmt.Errorf("alert %d: %w", id, err)
	}
	return a, nil
}

func alertByID(ctx context.Context, c conn, id int64) (Alert, error) {
	return queryOne(ctx, c, scanAlert, "SELECT "+alertColumns+" FROM alerts WHERE id = ?", id)
}

// Alerts returns the alerts matching q, newest first.
func (s *Store) Alerts(ctx context.Context, q AlertQuery) ([]Alert, error) {
	var w where
	w.in("center", q.Centers)
	w.timeRange("raised_us", q.From, q.To)
	if q.Open != nil && *q.Open {
		w.add("resolved_us IS NULL")
	} else if q.Open != nil {
		w.add("resolved_us IS NOT NULL")
	}
	as, err := queryAll(ctx, s.reader(), scanAlert, "SELECT "+alertColumns+" FROM alerts"+w.String()+
		" ORDER BY raised_us DESC, id DESC"+limit(q.Limit), w.args...)
	if err != nil {
		return nil, fmt.Errorf("query alerts: %w", err)
	}
	return as, nil
}

// OpenAlerts returns every unresolved alert, oldest first: what an alert
// manager reloads after a restart.
func (s *Store) OpenAlerts(ctx context.Context) ([]Alert, error) {
	as, err := queryAll(ctx, s.reader(), scanAlert, "SELECT "+alertColumns+" FROM alerts WHERE resolved_us IS NULL ORDER BY raised_us, id")
	if err != nil {
		return nil, fmt.Errorf("query open alerts: %w", err)
	}
	return as, nil
}

// Snapshot returns alert id's JPEG, or ErrNotFound when the alert does not
// exist or has no snapshot (none taken, or removed by retention).
func (s *Store) Snapshot(ctx context.Context, id int64) ([]byte, error) {
	jpeg, err := queryOne(ctx, s.reader(), func(r scanner) (b []byte, err error) { return b, r.Scan(&b) },
		"SELECT jpeg FROM alert_snapshots WHERE alert_id = ?", id)
	if err != nil {
		return nil, fmt.Errorf("snapshot of alert %d: %w", id, err)
	}
	return jpeg, nil
}

func scanAlert(r scanner) (Alert, error) {
	var (
		a               Alert
		raised          int64
		acked, resolved sql.NullInt64
	)
	err := r.Scan(&a.ID, &a.Kind, &a.District, &a.Center, &a.Camera, &a.Window, &raised, &acked,
		&a.AckedBy, &a.AckComment, &a.Verdict, &a.VerdictReason, &resolved, &a.HasSnapshot, &a.HasVideo)
	a.RaisedAt, a.AckedAt, a.ResolvedAt = fromUS(raised), fromNullUS(acked), fromNullUS(resolved)
	return a, err
}
