package notify

import (
	"encoding/json"
	"fmt"
	"time"
)

// Alert kinds and states, as the alert manager names them.
const (
	kindUnstaffed     = "unstaffed"
	kindCameraOffline = "camera_offline"
	kindStorageFull   = "storage_full"
	kindCameraBlocked = "camera_blocked"
	kindQueueLong     = "queue_long"
	stateRaised       = "raised"
	stateResolved     = "resolved"
)

// Message is one alert change to announce. Ids are configuration ids, the
// other names are display names for people.
type Message struct {
	AlertID    int64
	Kind       string // unstaffed | camera_offline | camera_blocked | storage_full | queue_long
	State      string // raised | resolved
	DistrictID string
	District   string
	CenterID   string
	Center     string
	CameraID   string
	Camera     string
	WindowID   string // empty for the camera's alerts
	Window     string
	// At is when the alert was raised or resolved.
	At time.Time
	// Grace is how long the cause lasted before the alert was raised: the
	// window's absent_after, alerts.camera_offline_after, or how long a
	// view must stay blocked.
	Grace time.Duration
	// Duration is how long the alert was open (resolved messages).
	Duration time.Duration
	// BoardURL links to the center's live board; may be empty.
	BoardURL string
	// Location is the center's time zone for texts; nil means the
	// dispatcher's Options.Location.
	Location *time.Location
}

// Since is when the cause began: the window became unstaffed or the camera
// was lost.
func (m Message) Since() time.Time { return m.At.Add(-m.Lasted()) }

// Lasted is how long the cause has lasted: the grace time, plus the time
// the alert was open once it is resolved.
func (m Message) Lasted() time.Duration {
	if m.State == stateResolved {
		return m.Grace + m.Duration
	}
	return m.Grace
}

// Title is a short headline, used where the chat shows one (DingTalk's
// notification preview).
func (m Message) Title() string {
	if m.State == stateResolved {
		return "已恢复 · " + m.Center
	}
	return kindName(m.Kind) + " · " + m.Center
}

func (m Message) check() error {
	switch {
	case m.Kind == "":
		return fmt.Errorf("notify: alert %d: kind is empty", m.AlertID)
	case m.State != stateRaised && m.State != stateResolved:
		return fmt.Errorf("notify: alert %d: state %q, want %s or %s", m.AlertID, m.State, stateRaised, stateResolved)
	case m.At.IsZero():
		return fmt.Errorf("notify: alert %d: time is not set", m.AlertID)
	}
	return nil
}

// wireVersion is the generic webhook schema version (see the package doc).
const wireVersion = 1

// wireMessage is the JSON form of a Message.
type wireMessage struct {
	Version         int       `json:"version"`
	AlertID         int64     `json:"alert_id"`
	Kind            string    `json:"kind"`
	State           string    `json:"state"`
	DistrictID      string    `json:"district_id"`
	District        string    `json:"district"`
	CenterID        string    `json:"center_id"`
	Center          string    `json:"center"`
	CameraID        string    `json:"camera_id"`
	Camera          string    `json:"camera"`
	WindowID        string    `json:"window_id,omitempty"`
	Window          string    `json:"window,omitempty"`
	At              time.Time `json:"at"`
	Since           time.Time `json:"since"`
	GraceSeconds    float64   `json:"grace_seconds"`
	DurationSeconds float64   `json:"duration_seconds"`
	BoardURL        string    `json:"board_url,omitempty"`
	Text            string    `json:"text,omitempty"`
}

func (m Message) wire(text string) wireMessage {
	return wireMessage{Version: wireVersion, AlertID: m.AlertID, Kind: m.Kind, State: m.State,
		DistrictID: m.DistrictID, District: m.District, CenterID: m.CenterID, Center: m.Center,
		CameraID: m.CameraID, Camera: m.Camera, WindowID: m.WindowID, Window: m.Window,
		At: m.At, Since: m.Since(), GraceSeconds: m.Grace.Seconds(), DurationSeconds: m.Duration.Seconds(),
		BoardURL: m.BoardURL, Text: text}
}

// MarshalJSON writes the generic webhook schema (without "text"), times in
// the message's zone when Location is set.
func (m Message) MarshalJSON() ([]byte, error) {
	if m.Location != nil {
		m.At = m.At.In(m.Location)
	}
	return json.Marshal(m.wire(""))
}
