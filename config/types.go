// Package config loads hallwatch's YAML configuration: built-in defaults, then
// the file, then HALLWATCH_* environment overrides, then strict validation
// whose errors name the file, line and key.
package config

import (
	"path/filepath"
	"time"

	"github.com/hallwatch/hallwatch/geom"
)

// Config is the whole service configuration.
type Config struct {
	HTTP      HTTP       `yaml:"http"`
	WebRTC    WebRTC     `yaml:"webrtc"`
	Storage   Storage    `yaml:"storage"`
	Cluster   Cluster    `yaml:"cluster"`
	Retention Retention  `yaml:"retention"`
	Record    Record     `yaml:"record"`
	Detector  Detector   `yaml:"detector"`
	Ingest    Ingest     `yaml:"ingest"`
	Alerts    Alerts     `yaml:"alerts"`
	Auth      Auth       `yaml:"auth"`
	Notifiers []Notifier `yaml:"notifiers,omitempty"`
	Districts []District `yaml:"districts,omitempty"`
}

// HTTP is the web UI / API / WHEP listener.
type HTTP struct {
	Listen  string `yaml:"listen,omitempty"`   // host:port, default 127.0.0.1:8080
	TLSCert string `yaml:"tls_cert,omitempty"` // PEM path; TLS is on when both are set
	TLSKey  string `yaml:"tls_key,omitempty"`
	// PublicURL is how people reach hallwatch (https://hallwatch.example.gov.cn),
	// for links in notifications; empty leaves links out.
	PublicURL string `yaml:"public_url,omitempty"`
	// MaxBodyBytes bounds every request body (SDP offers, JSON).
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// MaxConnections caps open client connections, in all and per client
	// address; one over is answered 503 and closed at once.
	MaxConnections           int `yaml:"max_connections"`
	MaxConnectionsPerAddress int `yaml:"max_connections_per_address"`
	// MaxStreams caps live event streams (/api/events), in all and per user.
	MaxStreams        int `yaml:"max_streams"`
	MaxStreamsPerUser int `yaml:"max_streams_per_user"`
}

// WebRTC configures ICE the way MediaMTX does: one UDP port shared by all
// peers, an optional ICE-TCP port for viewers behind UDP-blocking firewalls,
// and the host addresses announced in candidates.
type WebRTC struct {
	UDPPort int `yaml:"udp_port"` // 0 disables UDP
	TCPPort int `yaml:"tcp_port"` // 0 disables ICE-TCP
	// AdditionalHosts are IPs or host names announced as host candidates in
	// addition to the interfaces' own addresses (e.g. a NAT's public side).
	AdditionalHosts []string `yaml:"additional_hosts,omitempty"`
	// Interfaces restricts gathering to these interface names (empty = all).
	Interfaces []string `yaml:"interfaces,omitempty"`
	// IncludeLoopback announces 127.0.0.1 too, so a viewer on the same host connects.
	IncludeLoopback bool        `yaml:"include_loopback"`
	ICEServers      []ICEServer `yaml:"ice_servers,omitempty"`
	// MaxSessions caps live video sessions (WHEP), in all and per user.
	MaxSessions        int `yaml:"max_sessions"`
	MaxSessionsPerUser int `yaml:"max_sessions_per_user"`
	// ConnectTimeout ends a session whose viewer has not connected by then.
	ConnectTimeout Duration `yaml:"connect_timeout"`
	// MaxTranscodes bounds the cameras transcoded to H.264 at once for
	// browsers that cannot decode a camera's H.265 (0: never transcode).
	MaxTranscodes int `yaml:"max_transcodes"`
	// TranscodeMaxWidth scales wider pictures down before encoding
	// (0: keep the camera's size).
	TranscodeMaxWidth int `yaml:"transcode_max_width"`
}

// ICEServer is a STUN or TURN server handed to pion.
type ICEServer struct {
	URL      string `yaml:"url,omitempty"`
	Username string `yaml:"username,omitempty"`
	Password string `yaml:"password,omitempty"`
}

// Storage is where events, alerts, users and snapshots live: an embedded
// SQLite file (one node), or a PostgreSQL database several nodes share.
type Storage struct {
	Driver string `yaml:"driver,omitempty"` // sqlite (default) | postgres
	Path   string `yaml:"path,omitempty"`   // SQLite file, default hallwatch.db
	// DSN is the PostgreSQL connection string. It holds the database
	// password: set it with HALLWATCH_STORAGE_DSN rather than in the file;
	// logs and messages show it through SafeDSN only.
	DSN string `yaml:"dsn,omitempty"`
	// StateDir holds what each camera's analysis keeps across restarts
	// (the motion detector's empty-hall background, the learned view);
	// empty: see StatePath.
	StateDir string `yaml:"state_dir,omitempty"`
}

// StatePath is where the analysis keeps its state: StateDir, or
// hallwatch-state next to storage.path, as the recordings (RecordPath):
// the local data stays together, with PostgreSQL too, where storage.path
// names no database but still places it (by default in the working
// directory). Tests that give storage.path a temporary directory thus
// never write into the source tree.
func (s Storage) StatePath() string {
	if s.StateDir != "" {
		return s.StateDir
	}
	return filepath.Join(filepath.Dir(s.Path), "hallwatch-state")
}

// Cluster joins this node to others that share one PostgreSQL database and
// one NATS server with JetStream: each camera is run by one node at a time,
// under a lease, and any node serves any user. Without nats_url hallwatch
// is a single node (the default).
type Cluster struct {
	// NATSURL is the NATS server (nats://host:4222), or several separated by
	// commas; it may hold user:password@, shown masked (SafeNATSURL).
	NATSURL string `yaml:"nats_url,omitempty"`
	// NodeID names this node among the others; unique and stable.
	NodeID string `yaml:"node_id,omitempty"`
	// PublicURL is where viewers reach this node (WHEP requests for its
	// cameras are redirected there), e.g. https://hallwatch.example.gov.cn/node/n1.
	PublicURL string `yaml:"public_url,omitempty"`
	// PeerURL is where the other nodes reach this node's HTTP, to tell
	// whether it still reaches NATS; default PublicURL.
	PeerURL string `yaml:"peer_url,omitempty"`
	// LeaseTTL is how long a camera stays with a node that stopped renewing
	// its lease: about what a failover takes.
	LeaseTTL Duration `yaml:"lease_ttl"`
	// Replicas is how many NATS servers keep hallwatch's key-value buckets.
	Replicas int `yaml:"replicas"`
}

// Enabled reports whether this node is one of several.
func (c Cluster) Enabled() bool { return c.NATSURL != "" }

// Retention says how long stored records are kept; a daily purge enforces it.
type Retention struct {
	Events    Duration `yaml:"events"`
	Snapshots Duration `yaml:"snapshots"`
	Audit     Duration `yaml:"audit"`
	// Clips: alert video clips, kept even after the continuous recording
	// they were cut from is gone.
	Clips Duration `yaml:"clips"`
}

// Record is continuous recording: the default of every camera, and the
// storage paths with their disk budgets.
type Record struct {
	Enabled bool     `yaml:"enabled"`
	Retain  Duration `yaml:"retain"` // segments older than this are deleted
	// Path is the default storage path (a directory); empty: "recordings"
	// next to storage.path. See Config.RecordPath.
	Path string `yaml:"path,omitempty"`
	// MaxSize is the budget of Path: when recordings (clips included) take
	// more, the oldest segments are deleted first. 0: no budget.
	MaxSize ByteSize `yaml:"max_size"`
	// MinFree is the space left for everything else on the file system:
	// below it recording on the path stops (storage_full) until space returns.
	MinFree ByteSize `yaml:"min_free"`
	// Segment is the length of one file; a new one starts at the first key
	// frame after it.
	Segment Duration `yaml:"segment"`
	// ClipBefore and ClipAfter widen an alert's clip around the time it
	// was open.
	ClipBefore Duration `yaml:"clip_before"`
	ClipAfter  Duration `yaml:"clip_after"`
	// Paths are further storage paths (another disk) with their own budget.
	Paths []RecordPath `yaml:"paths,omitempty"`
}

// RecordPath is a storage path for recordings other than record.path.
type RecordPath struct {
	Path    string   `yaml:"path,omitempty"`
	MaxSize ByteSize `yaml:"max_size"`
	MinFree ByteSize `yaml:"min_free"` // default record.min_free
}

// CameraRecord overrides record's defaults for one camera; keys left out
// take record's value.
type CameraRecord struct {
	Enabled bool     `yaml:"enabled"`
	Retain  Duration `yaml:"retain"`
	Path    string   `yaml:"path,omitempty"` // record.path or one of record.paths
}

// Detector selects the person detector. Kind "auto" uses yolo when the model
// files exist and falls back to motion otherwise.
type Detector struct {
	Kind           string  `yaml:"kind,omitempty"`    // auto|yolo|motion
	Model          string  `yaml:"model,omitempty"`   // Darknet .cfg
	Weights        string  `yaml:"weights,omitempty"` // Darknet .weights
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
	MetricsToken string `yaml:"metrics_token,omitempty"`
}

// Notifier is a webhook target for alerts.
type Notifier struct {
	ID     string `yaml:"id,omitempty"`
	Kind   string `yaml:"kind,omitempty"` // webhook|wecom|dingtalk
	URL    string `yaml:"url,omitempty"`
	Secret string `yaml:"secret,omitempty"` // DingTalk signing secret
	// Template is a Go text/template for the message text (wecom/dingtalk) or
	// empty for the default; generic webhooks always get JSON.
	Template  string   `yaml:"template,omitempty"`
	Districts []string `yaml:"districts,omitempty"` // empty = all
	Kinds     []string `yaml:"kinds,omitempty"`     // alert kinds, empty = all
	Timeout   Duration `yaml:"timeout"`
}

// District is one district of the city; it holds street service centers.
type District struct {
	ID      string   `yaml:"id,omitempty"`
	Name    string   `yaml:"name,omitempty"`
	Centers []Center `yaml:"centers,omitempty"`
}

// Center is one citizen service center (one hall).
type Center struct {
	ID       string   `yaml:"id,omitempty"`
	Name     string   `yaml:"name,omitempty"`
	Timezone string   `yaml:"timezone,omitempty"` // IANA name, default Asia/Shanghai
	Holidays []string `yaml:"holidays,omitempty"` // YYYY-MM-DD, all windows closed
	Cameras  []Camera `yaml:"cameras,omitempty"`

	loc *time.Location // Timezone, resolved during load
}

// Camera is one RTSP hall camera.
type Camera struct {
	ID        string `yaml:"id,omitempty"`
	Name      string `yaml:"name,omitempty"`
	URL       string `yaml:"url,omitempty"`       // rtsp:// or rtsps://, may hold user:pass@
	Transport string `yaml:"transport,omitempty"` // auto|tcp|udp
	// LiveURL is an H.264 sub-stream of the camera for browsers that
	// cannot decode its main stream (H.265); pulled only while such
	// viewers watch.
	LiveURL   string     `yaml:"live_url,omitempty"`
	Privacy   []Polygon  `yaml:"privacy_masks,omitempty"`
	Analytics *Analytics `yaml:"analytics,omitempty"` // nil: relayed only, never decoded
	// Record overrides the recording defaults; nil: record's defaults.
	Record *CameraRecord `yaml:"record,omitempty"`

	live *liveAnalytics // see Effective
}

// Analytics is a camera's analysis: counting lines and service windows.
type Analytics struct {
	FPS float64 `yaml:"fps"` // analysis rate, default 5
	// IdleAfter: once nothing has moved near the lines and windows for
	// this long, decode key frames only until one shows a change (default
	// 10s; 0s decodes every frame).
	IdleAfter Duration `yaml:"idle_after"`
	Detector  string   `yaml:"detector,omitempty"` // overrides detector.kind for this camera
	Lines     []Line   `yaml:"lines,omitempty"`
	Windows   []Window `yaml:"windows,omitempty"`
	// QueueZones are where visitors wait for a window (seats, a line in
	// front of the counter).
	QueueZones []QueueZone `yaml:"queue_zones,omitempty"`
	// QueueAlert, when set, raises a queue alert while the queue is too
	// long or the wait too long.
	QueueAlert *QueueAlert `yaml:"queue_alert,omitempty"`
}

// Point is a normalised image coordinate [x, y], 0..1, x right, y down.
type Point = geom.Point

// Polygon is a closed polygon of normalised points.
type Polygon = geom.Polygon

// Line is a counting line: crossing a→b towards Inside is "in".
type Line struct {
	ID     string `yaml:"id,omitempty" json:"id"`
	Name   string `yaml:"name,omitempty" json:"name,omitempty"` // display name, e.g. 正门
	A      Point  `yaml:"a" json:"a"`
	B      Point  `yaml:"b" json:"b"`
	Inside Point  `yaml:"inside" json:"inside"`
}

// Window is one service window's staff zone.
type Window struct {
	ID          string   `yaml:"id,omitempty"`
	Name        string   `yaml:"name,omitempty"`
	Zone        Polygon  `yaml:"zone"`
	AbsentAfter Duration `yaml:"absent_after"`       // default 60s
	MinStaff    int      `yaml:"min_staff"`          // default 1
	Schedule    Schedule `yaml:"schedule,omitempty"` // empty = always open
	Holidays    []string `yaml:"holidays,omitempty"` // in addition to the center's
	// ServiceZone is where a visitor stands or sits while served at this
	// window; empty: services are not counted.
	ServiceZone Polygon `yaml:"service_zone,omitempty"`
	// ServiceMin is how long a visitor stays in the service zone to count
	// as one service (default 20s).
	ServiceMin Duration `yaml:"service_min,omitempty"` // zero: the default
	// Backup is the window whose clerk covers this one while its own clerk
	// is away (the AB-post rule).
	Backup string `yaml:"backup,omitempty"`
}

// QueueZone is where visitors wait: waiting seats, a line in front of the
// counter.
type QueueZone struct {
	ID   string  `yaml:"id,omitempty" json:"id"`
	Name string  `yaml:"name,omitempty" json:"name,omitempty"`
	Zone Polygon `yaml:"zone" json:"zone"`
	// Windows are the windows this queue feeds (ids); empty: every window
	// of the camera.
	Windows []string `yaml:"windows,omitempty" json:"windows,omitempty"`
}

// QueueAlert raises a queue alert when, for For, more than People wait in
// a camera's queue zones or the longest current wait exceeds Wait (a zero
// value leaves its condition out).
type QueueAlert struct {
	People int      `yaml:"people"`
	Wait   Duration `yaml:"wait"`
	For    Duration `yaml:"for"` // default 2m
}
