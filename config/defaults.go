package config

import "time"

// Default returns the built-in configuration: no cameras, everything else
// set to values that suit one service hall on one machine.
func Default() *Config {
	const day = 24 * time.Hour
	return &Config{
		HTTP: HTTP{Listen: "127.0.0.1:8080", MaxBodyBytes: 1 << 20,
			MaxConnections: 4096, MaxConnectionsPerAddress: 256, MaxStreams: 1000, MaxStreamsPerUser: 16},
		WebRTC: WebRTC{UDPPort: 8189, TCPPort: 8189, IncludeLoopback: true,
			MaxSessions: 500, MaxSessionsPerUser: 32, ConnectTimeout: Duration(10 * time.Second),
			MaxTranscodes: 2, TranscodeMaxWidth: 1280},
		Storage: Storage{Driver: "sqlite", Path: "hallwatch.db"},
		Cluster: Cluster{LeaseTTL: Duration(5 * time.Second), Replicas: 1},
		Retention: Retention{
			Events:    Duration(400 * day),
			Snapshots: Duration(90 * day),
			Audit:     Duration(365 * day),
			Clips:     Duration(90 * day),
		},
		Record: Record{
			Enabled: true, Retain: Duration(30 * day), MinFree: 1 << 30, Segment: Duration(10 * time.Minute),
			ClipBefore: Duration(10 * time.Second), ClipAfter: Duration(10 * time.Second),
		},
		Detector: Detector{Kind: "auto", InputSize: 416, ScoreThreshold: 0.4, NMSThreshold: 0.45},
		Ingest: Ingest{
			BackoffMin:    Duration(time.Second),
			BackoffMax:    Duration(30 * time.Second),
			StablePeriod:  Duration(time.Minute),
			ReadTimeout:   Duration(10 * time.Second),
			SubscriberBuf: 64,
		},
		Alerts: Alerts{CameraOfflineAfter: Duration(2 * time.Minute), ResolveConfirm: Duration(5 * time.Second)},
		Auth: Auth{
			SessionTTL:      Duration(12 * time.Hour),
			LockoutAttempts: 5,
			LockoutDuration: Duration(15 * time.Minute),
		},
	}
}

// DefaultIdleAfter is analytics.idle_after when a camera leaves it out.
const DefaultIdleAfter = Duration(10 * time.Second)

// Per-item defaults, applied to keys a list item leaves out.
const (
	defaultTransport       = "auto"
	defaultFPS             = 5
	defaultAbsentAfter     = Duration(60 * time.Second)
	defaultMinStaff        = 1
	defaultServiceMin      = Duration(20 * time.Second)
	defaultQueueAlertFor   = Duration(2 * time.Minute)
	defaultNotifierTimeout = Duration(5 * time.Second)
)

// fillItemDefaults sets the defaults of list items (cameras, windows…) for
// keys absent from the file. A key written with an explicit zero keeps it,
// so that validation can reject it instead of silently replacing it.
func fillItemDefaults(cfg *Config, o *origins) {
	for i := range cfg.Record.Paths {
		if !o.present(indexKey("record.paths", i) + ".min_free") {
			cfg.Record.Paths[i].MinFree = cfg.Record.MinFree
		}
	}
	for i := range cfg.Notifiers {
		if !o.present(indexKey("notifiers", i) + ".timeout") {
			cfg.Notifiers[i].Timeout = defaultNotifierTimeout
		}
	}
	for di := range cfg.Districts {
		dk := indexKey("districts", di)
		for ci := range cfg.Districts[di].Centers {
			ck := indexKey(dk+".centers", ci)
			center := &cfg.Districts[di].Centers[ci]
			if !o.present(ck + ".timezone") {
				center.Timezone = DefaultTimezone
			}
			for ki := range center.Cameras {
				kk := indexKey(ck+".cameras", ki)
				cam := &center.Cameras[ki]
				if !o.present(kk + ".transport") {
					cam.Transport = defaultTransport
				}
				if cam.Record != nil {
					if !o.present(kk + ".record.enabled") {
						cam.Record.Enabled = cfg.Record.Enabled
					}
					if !o.present(kk + ".record.retain") {
						cam.Record.Retain = cfg.Record.Retain
					}
				}
				if cam.Analytics == nil {
					continue
				}
				if !o.present(kk + ".analytics.fps") {
					cam.Analytics.FPS = defaultFPS
				}
				if !o.present(kk + ".analytics.idle_after") {
					cam.Analytics.IdleAfter = DefaultIdleAfter
				}
				for wi := range cam.Analytics.Windows {
					wk := indexKey(kk+".analytics.windows", wi)
					w := &cam.Analytics.Windows[wi]
					if !o.present(wk + ".absent_after") {
						w.AbsentAfter = defaultAbsentAfter
					}
					if !o.present(wk + ".min_staff") {
						w.MinStaff = defaultMinStaff
					}
					if !o.present(wk + ".service_min") {
						w.ServiceMin = defaultServiceMin
					}
				}
				if qa := cam.Analytics.QueueAlert; qa != nil && !o.present(kk+".analytics.queue_alert.for") {
					qa.For = defaultQueueAlertFor
				}
			}
		}
	}
}
