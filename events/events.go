// Package events holds what analysis reports: crossings, window states and
// alerts. It is a leaf (standard library only), so that storage, alerts,
// notifications and the web never link the analysis (and OpenCV) just to
// name an event.
package events

import "time"

// Event types and values, as written by `hallwatch analyze` (JSON Lines).
const (
	TypeCrossing = "crossing"
	TypeWindow   = "window"
	TypeAlert    = "alert"
	// TypeService is one visitor served at a window: present in its
	// service zone for at least service_min; Time is the departure,
	// Duration the seconds from arrival.
	TypeService = "service"
	// TypeQueue is a queue zone's people over one minute (Time, the
	// minute's start): Count the most at once, Mean the average.
	TypeQueue = "queue"
	// TypeWait is one visitor's wait in a queue zone: Duration seconds
	// from entering Zone to reaching Window's service zone (Time);
	// Estimated when the track was lost on the way and the wait is the
	// people ahead of them over the windows' service rate.
	TypeWait = "wait"

	DirectionIn  = "in"
	DirectionOut = "out"

	KindUnstaffed     = "unstaffed"
	KindCameraOffline = "camera_offline"
	// KindStorageFull: a camera's recording stopped because its storage
	// path is full.
	KindStorageFull = "storage_full"
	// KindCameraBlocked: the camera streams but its picture shows nothing
	// analysis can use (covered lens, turned away, black, frozen). Raised
	// instead of unstaffed alerts, which cannot be judged meanwhile.
	KindCameraBlocked = "camera_blocked"
	// KindQueueLong: a camera's queue stayed longer (people or wait) than
	// its analytics.queue_alert allows.
	KindQueueLong = "queue_long"

	AlertRaised   = "raised"
	AlertResolved = "resolved"
)

// Window states, as written in window events and shown on the live board.
const (
	StateStaffed = "staffed"
	StateAbsent  = "absent"
	StateClosed  = "closed"  // outside opening hours
	StateUnknown = "unknown" // cannot be known: camera offline or blocked, or the detector cannot tell (Reason says which)
	// StateChecking: analysis (re)started and the detector has not had
	// its look yet; never counted as absent.
	StateChecking = "checking"
	// StateStaffedByBackup: the window's own clerk is away and the clerk
	// of its backup window (config windows[].backup, the AB-post rule)
	// covers it. Staffed: no unstaffed alert.
	StateStaffedByBackup = "staffed_by_backup"
	// StateCovering: the window's clerk is covering the window they are
	// the backup of (Reason names it) and nobody waits here to be served:
	// away by the AB-post rule, not unstaffed, no alert.
	StateCovering = "covering"
)

// Staffed reports whether a window state counts as staffed: by its own
// clerk or by its backup's.
func Staffed(state string) bool { return state == StateStaffed || state == StateStaffedByBackup }

// Event is one analysis result. The JSON form is a contract used by external
// evaluation: keep field names and meaning stable.
type Event struct {
	Type      string  `json:"type"`
	Kind      string  `json:"kind,omitempty"`
	Camera    string  `json:"camera"`
	Line      string  `json:"line,omitempty"`
	Direction string  `json:"direction,omitempty"`
	Track     int     `json:"track,omitempty"`
	Window    string  `json:"window,omitempty"`
	State     string  `json:"state,omitempty"`
	Count     *int    `json:"count,omitempty"`     // window events only; 0 is written
	Duration  float64 `json:"duration,omitempty"`  // service events: seconds in the service zone; wait events: seconds waited
	Zone      string  `json:"zone,omitempty"`      // queue and wait events: the queue zone
	Mean      float64 `json:"mean,omitempty"`      // queue events: mean people over the minute
	Estimated bool    `json:"estimated,omitempty"` // wait events: estimated, not followed
	// Reason says why a window is unknown, which window its clerk covers
	// (covering), why a camera_blocked alert was raised, or why a
	// queue_long one was.
	Reason string  `json:"reason,omitempty"`
	Frame  int     `json:"frame"` // 1-based input frame index
	T      float64 `json:"t"`     // seconds from the start of input
	// Time is the wall-clock time of the frame (live pipeline; the offline
	// CLI derives it from --start). Not part of the JSON Lines contract.
	Time time.Time `json:"-"`
}

// WindowStatus is a window's current state for the live board.
type WindowStatus struct {
	Window string
	State  string
	Count  int       // people in the zone at the last analysed frame
	Since  time.Time // wall-clock time the state began
	// Alerting is true while an unstaffed alert is raised.
	Alerting bool
	// Reason says why the state is unknown, or (covering) which window
	// the clerk covers.
	Reason string
}

// CoveredWindows lists the windows of ws staffed by their backup's clerk
// (AB post), as a board shows them.
func CoveredWindows(ws []WindowStatus) []string {
	var out []string
	for _, w := range ws {
		if w.State == StateStaffedByBackup {
			out = append(out, w.Window)
		}
	}
	return out
}
