package alerts

import (
	"time"

	"github.com/hallwatch/hallwatch/store"
)

// AlertView is an alert as the API and live pages show it.
type AlertView struct {
	ID         int64      `json:"id"`
	Kind       string     `json:"kind"`
	State      string     `json:"state"` // raised, acknowledged, resolved
	Event      string     `json:"event,omitempty"`
	District   string     `json:"district"`
	Center     string     `json:"center"`
	Camera     string     `json:"camera"`
	Window     string     `json:"window,omitempty"`
	RaisedAt   time.Time  `json:"raised_at"`
	AckedAt    *time.Time `json:"acked_at,omitempty"`
	AckedBy    string     `json:"acked_by,omitempty"`
	AckComment string     `json:"ack_comment,omitempty"`
	// Verdict is confirmed or false_alarm, VerdictReason why it was false
	// (clerk_present, view_blocked, zone_wrong, other); both empty until
	// acknowledged.
	Verdict       string     `json:"verdict,omitempty"`
	VerdictReason string     `json:"verdict_reason,omitempty"`
	ResolvedAt    *time.Time `json:"resolved_at,omitempty"`
	DurationSec   float64    `json:"duration_seconds,omitempty"`
	HasSnapshot   bool       `json:"has_snapshot"`
	// HasVideo: a clip can be played (see store.Alert.HasVideo).
	HasVideo bool `json:"has_video"`
}

// View renders a stored alert; event names what just happened to it (for
// live messages), or is empty.
func View(a store.Alert, event string) AlertView {
	v := AlertView{ID: a.ID, Kind: a.Kind, State: "raised", Event: event, District: a.District, Center: a.Center,
		Camera: a.Camera, Window: a.Window, RaisedAt: a.RaisedAt, AckedBy: a.AckedBy, AckComment: a.AckComment,
		Verdict: a.Verdict, VerdictReason: a.VerdictReason, HasSnapshot: a.HasSnapshot, HasVideo: a.HasVideo}
	if !a.AckedAt.IsZero() {
		v.State, v.AckedAt = "acknowledged", &a.AckedAt
	}
	if !a.ResolvedAt.IsZero() {
		v.State, v.ResolvedAt = "resolved", &a.ResolvedAt
		v.DurationSec = a.Duration().Seconds()
	}
	return v
}

// WindowView is one service window on a center's live board.
type WindowView struct {
	Camera string `json:"camera"`
	Window string `json:"window"`
	Name   string `json:"name"`
	State  string `json:"state"`            // staffed, staffed_by_backup, covering, absent, closed, unknown, checking
	Reason string `json:"reason,omitempty"` // why unknown; covering: the window covered
	// Backup is the window whose clerk covers this one (AB post); "" none.
	Backup    string    `json:"backup,omitempty"`
	Count     int       `json:"count"`
	Since     time.Time `json:"since,omitempty"`
	Alerting  bool      `json:"alerting"`
	AlertID   int64     `json:"alert_id,omitempty"`
	MinStaff  int       `json:"min_staff"`
	AbsentFor float64   `json:"absent_after_seconds"`
}
