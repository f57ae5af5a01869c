// Package config loads hallwatch's YAML configuration: built-in defaults, then
// the file, then HALLWATCH_* environment overrides, then strict validation
// whose errors name the file, line and key.
package config

import (
	"time"

	"github.com/hallwatch/hallwatch/geom"
)

// Config is the whole service configuration.
type Config struct {
	HTTP      HTTP       `yaml:"http"`
	WebRTC    WebRTC     `yaml:"webrtc"`
	Storage   Storage    `yaml:"storage"`
	Retention Retention  `yaml:"retention"`
	Detector  Detector   `yaml:"detector"`
	Ingest    Ingest     `yaml:"ingest"`
	Alerts    Alerts     `yaml:"alerts"`
	Auth      Auth       `yaml:"auth"`
	Notifiers []Notifier `yaml:"notifiers"`
	Districts []District `yaml:"districts"`
}

// HTTP is the web UI / API / WHEP listener.
type HTTP struct {
	Listen  string `yaml:"listen"`   // host:port, default 127.0.0.1:8080
	TLSCert string `yaml:"tls_cert"` // PEM path; TLS is on when both are set
	TLSKey  string `yaml:"tls_key"`
	// MaxBodyBytes bounds every request body (SDP offers, JSON).
	MaxBodyBytes int `yaml:"max_body_bytes"`
}

// WebRTC configures ICE the way MediaMTX does: one UDP port shared by all
// peers, an optional ICE-TCP port for viewers behind UDP-blocking firewalls,
// and the host addresses announced in candidates.
type WebRTC struct {
	UDPPort int `yaml:"udp_port"` // 0 disables UDP
	TCPPort int `yaml:"tcp_port"` // 0 disables ICE-TCP
	// AdditionalHosts are IPs or host names announced as host candidates in
	// addition to the interfaces' own addresses (e.g. a NAT's public side).
	AdditionalHosts []string `yaml:"additional_hosts"`
	// Interfaces restricts gathering to these interface names (empty = all).
	Interfaces []string `yaml:"interfaces"`
	// IncludeLoopback announces 127.0.0.1 too, so a viewer on the same host connects.
	IncludeLoopback bool        `yaml:"include_loopback"`
	ICEServers      []ICEServer `yaml:"ice_servers"`
}

// ICEServer is a STUN or TURN server handed to pion.
type ICEServer struct {
	URL      string `yaml:"url"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
}

// Storage is where events, alerts, users and snapshots live.
type Storage struct {
	Path string `yaml:"path"` // SQLite file, default hallwatch.db
}

// Retention says how long stored records are kept; a daily purge enforces it.
type Retention struct {
	Events    Duration `yaml:"events"`
	Snapshots Duration `yaml:"snapshots"`
	Audit     Duration `yaml:"audit"`
}

// Detector selects the person detector. Kind "auto" uses yolo when the model
// files exist and falls back to motion otherwise.
type Detector struct {
	Kind           string  `yaml:"kind"`    // auto|yolo|motion
	Model          string  `yaml:"model"`   // Darknet .cfg
	Weights        string  `yaml:"weights"` // Darknet .weights
	InputSize      int     `yaml:"input_size"`
	ScoreThreshold float64 `yaml:"score_threshold"`
	NMSThreshold   float64 `yaml:"nms_threshold"`
}

// Ingest tunes camera pulling.
type Ingest struct {
	BackoffMin    Duration `yaml:"backoff_min"`
	BackoffMax    Duration `yaml:"backoff_max"`
	StablePeriod  Duration `yaml:"stable_period"`  // live this long resets the backoff
	ReadTimeout   Duration `yaml:"read_timeout"`   // no data this long = camera lost
	SubscriberBuf int      `yaml:"subscriber_buf"` // access units queued per consumer
}

// Alerts tunes the alert lifecycle.
type Alerts struct {
	CameraOfflineAfter Duration `yaml:"camera_offline_after"`
	ResolveConfirm     Duration `yaml:"resolve_confirm"` // staff back this long resolves
}

// Auth tunes login and sessions.
type Auth struct {
	SessionTTL      Duration `yaml:"session_ttl"`
	LockoutAttempts int      `yaml:"lockout_attempts"`
	LockoutDuration Duration `yaml:"lockout_duration"`
	// MetricsToken, when set, lets a scraper read /metrics without a session.
	MetricsToken string `yaml:"metrics_token"`
}

// Notifier is a webhook target for alerts.
type Notifier struct {
	ID     string `yaml:"id"`
	Kind   string `yaml:"kind"` // webhook|wecom|dingtalk
	URL    string `yaml:"url"`
	Secret string `yaml:"secret"` // DingTalk signing secret
	// Template is a Go text/template for the message text (wecom/dingtalk) or
	// empty for the default; generic webhooks always get JSON.
	Template  string   `yaml:"template"`
	Districts []string `yaml:"districts"` // empty = all
	Kinds     []string `yaml:"kinds"`     // alert kinds, empty = all
	Timeout   Duration `yaml:"timeout"`
}

// District is one district of the city; it holds street service centers.
type District struct {
	ID      string   `yaml:"id"`
	Name    string   `yaml:"name"`
	Centers []Center `yaml:"centers"`
}

// Center is one citizen service center (one hall).
type Center struct {
	ID       string   `yaml:"id"`
	Name     string   `yaml:"name"`
	Timezone string   `yaml:"timezone"` // IANA name, default Asia/Shanghai
	Holidays []string `yaml:"holidays"` // YYYY-MM-DD, all windows closed
	Cameras  []Camera `yaml:"cameras"`

	loc *time.Location // Timezone, resolved during load
}

// Camera is one RTSP hall camera.
type Camera struct {
	ID        string     `yaml:"id"`
	Name      string     `yaml:"name"`
	URL       string     `yaml:"url"`       // rtsp:// or rtsps://, may hold user:pass@
	Transport string     `yaml:"transport"` // auto|tcp|udp
	Privacy   []Polygon  `yaml:"privacy_masks"`
	Analytics *Analytics `yaml:"analytics"` // nil: relayed only, never decoded
}

// Analytics is a camera's analysis: counting lines and service windows.
type Analytics struct {
	FPS      float64  `yaml:"fps"`      // analysis rate, default 5
	Detector string   `yaml:"detector"` // overrides detector.kind for this camera
	Lines    []Line   `yaml:"lines"`
	Windows  []Window `yaml:"windows"`
}

// Point is a normalised image coordinate [x, y], 0..1, x right, y down.
type Point = geom.Point

// Polygon is a closed polygon of normalised points.
type Polygon = geom.Polygon

// Line is a counting line: crossing a→b towards Inside is "in".
type Line struct {
	ID     string `yaml:"id"`
	A      Point  `yaml:"a"`
	B      Point  `yaml:"b"`
	Inside Point  `yaml:"inside"`
}

// Window is one service window's staff zone.
type Window struct {
	ID          string   `yaml:"id"`
	Name        string   `yaml:"name"`
	Zone        Polygon  `yaml:"zone"`
	AbsentAfter Duration `yaml:"absent_after"` // default 60s
	MinStaff    int      `yaml:"min_staff"`    // default 1
	Schedule    Schedule `yaml:"schedule"`     // empty = always open
	Holidays    []string `yaml:"holidays"`     // in addition to the center's
}
