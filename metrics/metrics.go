// Package metrics exposes hallwatch's state and costs to Prometheus. Gauges
// and totals are read from the parts at scrape time (no bookkeeping on hot
// paths); durations are observed where they happen.
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/notify"
	"github.com/hallwatch/hallwatch/record"
)

// Camera is one camera's state at scrape time.
type Camera struct {
	Status      ingest.Status
	Subscribers []ingest.SubscriberStats
	Viewers     int
	Relay       Relay
	// Analysis is nil for cameras without analytics.
	Analysis *Analysis
	// Recording is nil for cameras not recorded.
	Recording *Recording
}

// Recording is a camera's recorder state and totals.
type Recording struct {
	State        string // record.State…
	WrittenBytes uint64
	Segments     uint64
}

// Relay is a camera's relay totals.
type Relay struct {
	Packets uint64 // RTP packets produced (each sent to every viewer)
	Resent  uint64 // packets sent again on viewers' NACKs
	Refused uint64 // NACKed packets not sent again (too often, over a viewer's budget, gone)
	// Fallback is 1 while the camera's H.264 fallback (sub-stream or
	// transcode) runs for browsers that cannot decode its own codec.
	Fallback bool
}

// Sockets are the WebRTC UDP sockets' totals.
type Sockets struct {
	Datagrams uint64 // written
	Messages  uint64 // sent, a GSO message carrying several datagrams
	Syscalls  uint64 // sendmmsg calls
}

// Analysis is a camera's analysis totals.
type Analysis struct {
	Detector                                       string
	Decoded, Analysed, DecodeErrors, ProcessErrors uint64
	Looks                                          uint64 // analysed frames the detector looked at
	Lag                                            time.Duration
	Idle                                           bool // key frames only (quiet scene)
	Wakes                                          uint64
	Restarts                                       uint64 // panics the analysis restarted after
}

// Storage is the event writer's and the retention's state at scrape time.
type Storage struct {
	Queued   int    // events waiting to be written
	Dropped  uint64 // events lost: the queue was full, or the database refused them
	Failures uint64 // failed write attempts (database down or refusing)
	Up       bool   // the last write attempt succeeded
	// Purged counts what retention removed since start, by kind (events,
	// snapshots, audit, notifications); LastPurge is its last successful run.
	Purged    map[string]int64
	LastPurge time.Time
}

// Cluster is this node's part in a cluster at scrape time.
type Cluster struct {
	Leases int  // held
	Nodes  int  // alive, this one included
	NATSUp bool // writes to NATS succeed
	// Lease changes since start: taken, handed over to the node placed for
	// them, lost (not renewed in time, or taken by another node).
	Gained, HandedOver, Lost uint64
	// Live messages shared with the other nodes: sent, received, waiting
	// for NATS, dropped while it was out of reach.
	Sent, Received uint64
	Queued         int
	Dropped        uint64
}

// Sources are read at every scrape.
type Sources struct {
	Cameras   func() []Camera
	Notifiers func() []notify.TargetStatus
	Sessions  func() int // WHEP sessions
	Sockets   func() Sockets
	Storage   func() Storage
	Cluster   func() *Cluster // nil: a single node
}

// Metrics holds the registry and the observed histograms and counters.
type Metrics struct {
	Registry *prometheus.Registry

	DecodeSeconds  *prometheus.HistogramVec // camera
	AnalyseSeconds *prometheus.HistogramVec // camera, detector: detect + track + count
	StoreWrite     prometheus.Histogram
	Events         *prometheus.CounterVec   // camera, type
	Alerts         *prometheus.CounterVec   // kind, state
	RelayLatency   prometheus.Histogram     // camera arrival → last viewer write
	NATSSeconds    *prometheus.HistogramVec // op: renew, acquire, heartbeat
}

// New registers everything on a fresh registry.
func New(src Sources) *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		DecodeSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hallwatch_decode_seconds", Help: "Time to decode one access unit for analysis.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 12),
		}, []string{"camera"}),
		AnalyseSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hallwatch_analyse_seconds", Help: "Time to analyse one frame (detect, track, count, presence).",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12),
		}, []string{"camera", "detector"}),
		StoreWrite: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hallwatch_store_write_seconds", Help: "Time to make a batch of events durable.",
			Buckets: prometheus.ExponentialBuckets(0.0002, 2, 14),
		}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hallwatch_events_total", Help: "Analysis events by camera and type (crossing, window, alert).",
		}, []string{"camera", "type"}),
		Alerts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hallwatch_alerts_total", Help: "Alert changes by kind and state (raised, resolved, acknowledged).",
		}, []string{"kind", "state"}),
		RelayLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hallwatch_relay_latency_seconds", Help: "Time from an access unit's arrival to its last packet written to viewers.",
			Buckets: prometheus.ExponentialBuckets(0.00005, 2, 14),
		}),
		NATSSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hallwatch_cluster_nats_seconds", Help: "Time of NATS JetStream operations: renew (all leases at once), acquire, heartbeat.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}, []string{"op"}),
	}
	reg.MustRegister(m.DecodeSeconds, m.AnalyseSeconds, m.StoreWrite, m.Events, m.Alerts, m.RelayLatency, m.NATSSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&stateCollector{src: src})
	return m
}

var (
	descCameraUp = prometheus.NewDesc("hallwatch_camera_state", "1 for the camera's current ingest state.",
		[]string{"camera", "state"}, nil)
	descBitrate    = prometheus.NewDesc("hallwatch_camera_bitrate_kbps", "Video bitrate received, last seconds.", []string{"camera"}, nil)
	descFPS        = prometheus.NewDesc("hallwatch_camera_fps", "Access units per second received, last seconds.", []string{"camera"}, nil)
	descReconnects = prometheus.NewDesc("hallwatch_camera_reconnects_total", "Connection attempts after the first.", []string{"camera"}, nil)
	descDropped    = prometheus.NewDesc("hallwatch_hub_dropped_units_total", "Access units a consumer lost because its queue was full.",
		[]string{"camera", "consumer"}, nil)
	descQueued   = prometheus.NewDesc("hallwatch_hub_queued_units", "Access units waiting in a consumer's queue.", []string{"camera", "consumer"}, nil)
	descViewers  = prometheus.NewDesc("hallwatch_viewers", "WebRTC viewers bound to the camera's relay.", []string{"camera"}, nil)
	descSessions = prometheus.NewDesc("hallwatch_whep_sessions", "WHEP sessions open.", nil, nil)
	descPackets  = prometheus.NewDesc("hallwatch_relay_packets_total", "RTP packets produced by the camera's relays (each sent to every viewer).", []string{"camera"}, nil)
	descResent   = prometheus.NewDesc("hallwatch_relay_resent_total", "RTP packets sent again on viewers' NACKs.", []string{"camera"}, nil)
	descRefused  = prometheus.NewDesc("hallwatch_relay_resend_refused_total", "NACKed packets not sent again (too often, over the viewer's budget, no longer kept).", []string{"camera"}, nil)
	descFallback = prometheus.NewDesc("hallwatch_relay_fallback_running", "1 while the camera's H.264 fallback (sub-stream or transcode) runs.", []string{"camera"}, nil)
	descDgrams   = prometheus.NewDesc("hallwatch_webrtc_udp_datagrams_total", "UDP datagrams written by the WebRTC sockets.", nil, nil)
	descMessages = prometheus.NewDesc("hallwatch_webrtc_udp_messages_total", "Messages that carried them (fewer than datagrams with UDP GSO).", nil, nil)
	descSyscalls = prometheus.NewDesc("hallwatch_webrtc_udp_syscalls_total", "System calls that sent them (batched: sendmmsg, GSO).", nil, nil)
	descDecoded  = prometheus.NewDesc("hallwatch_analysis_decoded_total", "Frames decoded for analysis.", []string{"camera"}, nil)
	descAnalysed = prometheus.NewDesc("hallwatch_analysis_frames_total", "Frames analysed.", []string{"camera", "detector"}, nil)
	descLooks    = prometheus.NewDesc("hallwatch_analysis_looks_total", "Analysed frames the detector looked at (the person model skips pictures unchanged since its last look).", []string{"camera", "detector"}, nil)
	descDecErrs  = prometheus.NewDesc("hallwatch_analysis_decode_errors_total", "Access units the decoder rejected.", []string{"camera"}, nil)
	descProcErrs = prometheus.NewDesc("hallwatch_analysis_errors_total", "Frames whose analysis failed.", []string{"camera"}, nil)
	descLag      = prometheus.NewDesc("hallwatch_analysis_lag_seconds", "Arrival of the last analysed frame to the end of its analysis.", []string{"camera"}, nil)
	descIdle     = prometheus.NewDesc("hallwatch_analysis_idle", "1 while the scene is quiet and only key frames are decoded.", []string{"camera"}, nil)
	descWakes    = prometheus.NewDesc("hallwatch_analysis_wakes_total", "Quiet scenes that changed: back to decoding every frame.", []string{"camera"}, nil)
	descRestarts = prometheus.NewDesc("hallwatch_analysis_restarts_total", "Panics (bugs) the analysis restarted after, from its saved state.", []string{"camera"}, nil)
	descRecState = prometheus.NewDesc("hallwatch_recording_state", "1 for the camera recorder's current state (recording, waiting, storage_full, error).",
		[]string{"camera", "state"}, nil)
	descRecBytes    = prometheus.NewDesc("hallwatch_recording_written_bytes_total", "Bytes written to recording segments.", []string{"camera"}, nil)
	descRecSegments = prometheus.NewDesc("hallwatch_recording_segments_total", "Recording segments started.", []string{"camera"}, nil)
	descPending     = prometheus.NewDesc("hallwatch_notifier_pending", "Notifications waiting in the outbox.", []string{"notifier"}, nil)
	descQueue       = prometheus.NewDesc("hallwatch_notifier_queue_depth", "Notifications held in memory by the notifier.", []string{"notifier"}, nil)
	descSent        = prometheus.NewDesc("hallwatch_notifier_delivered_total", "Notifications delivered.", []string{"notifier"}, nil)
	descFailed      = prometheus.NewDesc("hallwatch_notifier_failures_total", "Failed delivery attempts.", []string{"notifier"}, nil)
	descGaveUp      = prometheus.NewDesc("hallwatch_notifier_gave_up_total", "Notifications given up after retries.", []string{"notifier"}, nil)
	descStoreQ      = prometheus.NewDesc("hallwatch_store_queued_events", "Events waiting to be written to the database.", nil, nil)
	descStoreDrp    = prometheus.NewDesc("hallwatch_store_dropped_events_total", "Events lost: the write queue was full, or the database refused them.", nil, nil)
	descStoreErr    = prometheus.NewDesc("hallwatch_store_write_failures_total", "Failed attempts to write events (database down or refusing).", nil, nil)
	descStoreUp     = prometheus.NewDesc("hallwatch_store_up", "1 when the last write to the database succeeded.", nil, nil)
	descPurged      = prometheus.NewDesc("hallwatch_retention_purged_total", "Records removed by retention, by kind.", []string{"kind"}, nil)
	descPurgedAt    = prometheus.NewDesc("hallwatch_retention_last_run_timestamp_seconds", "When retention last ran successfully (Unix time).", nil, nil)
	descLeases      = prometheus.NewDesc("hallwatch_cluster_leases", "Leases (cameras, notifiers) this node holds.", nil, nil)
	descNodes       = prometheus.NewDesc("hallwatch_cluster_nodes", "Nodes alive as this node sees them, itself included.", nil, nil)
	descNATSUp      = prometheus.NewDesc("hallwatch_cluster_nats_up", "1 while writes to NATS succeed.", nil, nil)
	descMoves       = prometheus.NewDesc("hallwatch_cluster_lease_changes_total", "Leases gained, handed over and lost by this node.", []string{"change"}, nil)
	descLiveMsgs    = prometheus.NewDesc("hallwatch_cluster_live_messages_total", "Live messages sent to and received from the other nodes.", []string{"direction"}, nil)
	descLiveQ       = prometheus.NewDesc("hallwatch_cluster_live_queued", "Live messages waiting for NATS.", nil, nil)
	descLiveDrop    = prometheus.NewDesc("hallwatch_cluster_live_dropped_total", "Live messages dropped while NATS was out of reach.", nil, nil)
)

// stateCollector reads the parts' state at scrape time.
type stateCollector struct{ src Sources }

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descCameraUp, descBitrate, descFPS, descReconnects, descDropped, descQueued,
		descViewers, descSessions, descPackets, descResent, descRefused, descFallback, descDgrams, descMessages, descSyscalls,
		descDecoded, descAnalysed, descLooks, descIdle, descWakes, descRestarts, descDecErrs, descProcErrs, descLag,
		descRecState, descRecBytes, descRecSegments,
		descPending, descQueue, descSent, descFailed, descGaveUp,
		descStoreQ, descStoreDrp, descStoreErr, descStoreUp, descPurged, descPurgedAt,
		descLeases, descNodes, descNATSUp, descMoves, descLiveMsgs, descLiveQ, descLiveDrop} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, labels...)
	}
	if c.src.Cameras != nil {
		for _, cam := range c.src.Cameras() {
			id := cam.Status.Camera
			for _, st := range []ingest.State{ingest.StateConnecting, ingest.StateLive, ingest.StateOffline} {
				v := 0.0
				if cam.Status.State == st {
					v = 1
				}
				gauge(descCameraUp, v, id, string(st))
			}
			gauge(descBitrate, cam.Status.BitrateKbps, id)
			gauge(descFPS, cam.Status.FPS, id)
			counter(descReconnects, float64(cam.Status.Reconnects), id)
			gauge(descViewers, float64(cam.Viewers), id)
			counter(descPackets, float64(cam.Relay.Packets), id)
			counter(descResent, float64(cam.Relay.Resent), id)
			counter(descRefused, float64(cam.Relay.Refused), id)
			gauge(descFallback, boolValue(cam.Relay.Fallback), id)
			for _, s := range cam.Subscribers {
				counter(descDropped, float64(s.Dropped), id, s.Name)
				gauge(descQueued, float64(s.Queued), id, s.Name)
			}
			if a := cam.Analysis; a != nil {
				counter(descDecoded, float64(a.Decoded), id)
				counter(descAnalysed, float64(a.Analysed), id, a.Detector)
				counter(descLooks, float64(a.Looks), id, a.Detector)
				counter(descDecErrs, float64(a.DecodeErrors), id)
				counter(descProcErrs, float64(a.ProcessErrors), id)
				gauge(descLag, a.Lag.Seconds(), id)
				gauge(descIdle, boolValue(a.Idle), id)
				counter(descWakes, float64(a.Wakes), id)
				counter(descRestarts, float64(a.Restarts), id)
			}
			if r := cam.Recording; r != nil {
				for _, st := range []string{record.StateRecording, record.StateWaiting, record.StateStorageFull, record.StateFailed} {
					v := 0.0
					if r.State == st {
						v = 1
					}
					gauge(descRecState, v, id, st)
				}
				counter(descRecBytes, float64(r.WrittenBytes), id)
				counter(descRecSegments, float64(r.Segments), id)
			}
		}
	}
	if c.src.Sessions != nil {
		gauge(descSessions, float64(c.src.Sessions()))
	}
	if c.src.Sockets != nil {
		st := c.src.Sockets()
		counter(descDgrams, float64(st.Datagrams))
		counter(descMessages, float64(st.Messages))
		counter(descSyscalls, float64(st.Syscalls))
	}
	if c.src.Notifiers != nil {
		for _, n := range c.src.Notifiers() {
			gauge(descPending, float64(n.Pending), n.ID)
			gauge(descQueue, float64(n.Queued), n.ID)
			counter(descSent, float64(n.Delivered), n.ID)
			counter(descFailed, float64(n.Failed), n.ID)
			counter(descGaveUp, float64(n.GaveUp), n.ID)
		}
	}
	if c.src.Storage != nil {
		st := c.src.Storage()
		gauge(descStoreQ, float64(st.Queued))
		counter(descStoreDrp, float64(st.Dropped))
		counter(descStoreErr, float64(st.Failures))
		gauge(descStoreUp, boolValue(st.Up))
		for kind, n := range st.Purged {
			counter(descPurged, float64(n), kind)
		}
		if !st.LastPurge.IsZero() {
			gauge(descPurgedAt, float64(st.LastPurge.UnixMilli())/1000)
		}
	}
	if c.src.Cluster == nil {
		return
	}
	if cl := c.src.Cluster(); cl != nil {
		gauge(descLeases, float64(cl.Leases))
		gauge(descNodes, float64(cl.Nodes))
		gauge(descNATSUp, b2f(cl.NATSUp))
		counter(descMoves, float64(cl.Gained), "gained")
		counter(descMoves, float64(cl.HandedOver), "handed_over")
		counter(descMoves, float64(cl.Lost), "lost")
		counter(descLiveMsgs, float64(cl.Sent), "sent")
		counter(descLiveMsgs, float64(cl.Received), "received")
		gauge(descLiveQ, float64(cl.Queued))
		counter(descLiveDrop, float64(cl.Dropped))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
