package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/notify"
)

func TestScrapeReadsPartsState(t *testing.T) {
	m := New(Sources{
		Cameras: func() []Camera {
			return []Camera{{
				Status:      ingest.Status{Camera: "hall1", State: ingest.StateLive, BitrateKbps: 1800, FPS: 25, Reconnects: 3},
				Subscribers: []ingest.SubscriberStats{{Name: "relay", Queued: 2, Dropped: 7}},
				Viewers:     4,
				Relay:       Relay{Packets: 1000, Resent: 12, Refused: 3, Fallback: true},
				Analysis:    &Analysis{Detector: "yolo", Decoded: 100, Analysed: 20, Looks: 14, Lag: 30 * time.Millisecond},
			}}
		},
		Notifiers: func() []notify.TargetStatus { return []notify.TargetStatus{{ID: "wecom", Pending: 5, Failed: 2}} },
		Sessions:  func() int { return 4 },
		Sockets:   func() Sockets { return Sockets{Datagrams: 4000, Syscalls: 90} },
		Storage: func() Storage {
			return Storage{Queued: 12, Dropped: 3, Up: false, Purged: map[string]int64{"events": 1200, "audit": 4}}
		},
	})
	want := `
# HELP hallwatch_camera_state 1 for the camera's current ingest state.
# TYPE hallwatch_camera_state gauge
hallwatch_camera_state{camera="hall1",state="connecting"} 0
hallwatch_camera_state{camera="hall1",state="live"} 1
hallwatch_camera_state{camera="hall1",state="offline"} 0
# HELP hallwatch_hub_dropped_units_total Access units a consumer lost because its queue was full.
# TYPE hallwatch_hub_dropped_units_total counter
hallwatch_hub_dropped_units_total{camera="hall1",consumer="relay"} 7
# HELP hallwatch_notifier_pending Notifications waiting in the outbox.
# TYPE hallwatch_notifier_pending gauge
hallwatch_notifier_pending{notifier="wecom"} 5
# HELP hallwatch_viewers WebRTC viewers bound to the camera's relay.
# TYPE hallwatch_viewers gauge
hallwatch_viewers{camera="hall1"} 4
# HELP hallwatch_relay_resent_total RTP packets sent again on viewers' NACKs.
# TYPE hallwatch_relay_resent_total counter
hallwatch_relay_resent_total{camera="hall1"} 12
# HELP hallwatch_relay_fallback_running 1 while the camera's H.264 fallback (sub-stream or transcode) runs.
# TYPE hallwatch_relay_fallback_running gauge
hallwatch_relay_fallback_running{camera="hall1"} 1
# HELP hallwatch_webrtc_udp_syscalls_total System calls that sent them (batched: sendmmsg, GSO).
# TYPE hallwatch_webrtc_udp_syscalls_total counter
hallwatch_webrtc_udp_syscalls_total 90
# HELP hallwatch_analysis_looks_total Analysed frames the detector looked at (the person model skips pictures unchanged since its last look).
# TYPE hallwatch_analysis_looks_total counter
hallwatch_analysis_looks_total{camera="hall1",detector="yolo"} 14
# HELP hallwatch_analysis_lag_seconds Arrival of the last analysed frame to the end of its analysis.
# TYPE hallwatch_analysis_lag_seconds gauge
hallwatch_analysis_lag_seconds{camera="hall1"} 0.03
# HELP hallwatch_store_queued_events Events waiting to be written to the database.
# TYPE hallwatch_store_queued_events gauge
hallwatch_store_queued_events 12
# HELP hallwatch_store_dropped_events_total Events lost: the write queue was full, or the database refused them.
# TYPE hallwatch_store_dropped_events_total counter
hallwatch_store_dropped_events_total 3
# HELP hallwatch_store_up 1 when the last write to the database succeeded.
# TYPE hallwatch_store_up gauge
hallwatch_store_up 0
# HELP hallwatch_retention_purged_total Records removed by retention, by kind.
# TYPE hallwatch_retention_purged_total counter
hallwatch_retention_purged_total{kind="audit"} 4
hallwatch_retention_purged_total{kind="events"} 1200
`
	err := testutil.GatherAndCompare(m.Registry, strings.NewReader(want),
		"hallwatch_camera_state", "hallwatch_hub_dropped_units_total", "hallwatch_notifier_pending", "hallwatch_viewers", "hallwatch_analysis_lag_seconds", "hallwatch_analysis_looks_total",
		"hallwatch_relay_resent_total", "hallwatch_relay_fallback_running", "hallwatch_webrtc_udp_syscalls_total",
		"hallwatch_store_queued_events", "hallwatch_store_dropped_events_total", "hallwatch_store_up", "hallwatch_retention_purged_total")
	if err != nil {
		t.Fatal(err)
	}
	m.Alerts.WithLabelValues("unstaffed", "raised").Inc()
	if n := testutil.ToFloat64(m.Alerts.WithLabelValues("unstaffed", "raised")); n != 1 {
		t.Fatalf("alerts counter %v", n)
	}
	if problems, err := testutil.GatherAndLint(m.Registry); err != nil || len(problems) > 0 {
		t.Fatalf("metric lint: %v %v", problems, err)
	}
}
