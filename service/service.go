// Package service wires hallwatch's parts together for `hallwatch serve`:
// one RTSP source and hub per camera, the WebRTC relay, analytics, storage
// and the web server, all stopped by one context.
//
// A camera's parts form a unit (camera) that runs under its own context.
// A single node runs every camera from start to end. A node of a cluster
// (cluster.nats_url) runs a camera while it holds the camera's lease
// (package cluster): it builds the unit when it gains the lease and takes
// it down when it loses it; see cluster.go.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pion/webrtc/v4"
	"golang.org/x/sync/errgroup"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/cluster"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geometry"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/fdlimit"
	"github.com/hallwatch/hallwatch/metrics"
	"github.com/hallwatch/hallwatch/natsbus"
	"github.com/hallwatch/hallwatch/notify"
	"github.com/hallwatch/hallwatch/record"
	"github.com/hallwatch/hallwatch/relay"
	"github.com/hallwatch/hallwatch/store"
	"github.com/hallwatch/hallwatch/transcode"
	"github.com/hallwatch/hallwatch/web"
)

// Service is a running hallwatch.
type Service struct {
	cfg       *config.Config
	log       *slog.Logger
	store     *store.Store
	writer    *writer
	retention *retention
	bus       *eventbus.Bus
	alerts    *alerts.Manager
	notifier  *notify.Dispatcher
	metrics   *metrics.Metrics
	auth      *auth.Service
	geometry  *geometry.Manager
	// transcodes bound the H.265 cameras transcoded for browsers at once.
	transcodes *relay.Slots
	engine     *relay.Engine
	viewers    *relay.Sessions
	server     *web.Server
	ln         net.Listener
	rec        *recording

	// node, bridge and mirror exist in a cluster only: this node's leases,
	// the event bus shared with the other nodes, and what they say of the
	// cameras they run.
	node   *cluster.Node
	bridge *natsbus.Bridge
	mirror *mirror

	// cameras are the units running here. A single node makes them all in
	// New, once; a node of a cluster adds and removes them as it gains and
	// loses leases, under mu.
	mu      sync.Mutex
	cameras map[string]*camera
}

// camera is everything hallwatch runs for one camera: a unit started and
// stopped as a whole (runCamera).
type camera struct {
	ref      config.CameraRef
	hub      *ingest.Hub
	source   *ingest.Source
	live     *relay.Camera
	analysis *analysis        // nil when the camera has no analytics section
	rec      *record.Recorder // nil when the camera is not recorded
}

// New prepares the service: opens the database, restores open alerts,
// loads detectors and opens the listeners, so that Addr is known (and
// port conflicts reported) before Run. Close releases it if Run is never called.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger) (*Service, error) {
	s := &Service{cfg: cfg, log: log, cameras: map[string]*camera{}, bus: eventbus.New()}
	if err := s.open(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

func (s *Service) open(ctx context.Context) (err error) {
	cfg, log := s.cfg, s.log
	// Every connection, camera and viewer socket takes a descriptor.
	if limit, err := fdlimit.Raise(); err != nil {
		log.Warn("could not raise the open-file limit", "limit", limit, "err", err)
	} else {
		log.Debug("open-file limit", "limit", limit)
	}
	if s.store, err = OpenStore(ctx, cfg.Storage); err != nil {
		return err
	}
	log.Info("database", "driver", s.store.Driver(), "path", cfg.Storage.Path, "dsn", cfg.Storage.SafeDSN())
	if s.notifier, err = notify.New(cfg.Notifiers, s.store, notify.Options{Log: log, Shared: cfg.Cluster.Enabled()}); err != nil {
		return err
	}
	s.retention = newRetention(s.store, cfg.Retention, log)
	s.metrics = metrics.New(metrics.Sources{Cameras: s.cameraMetrics, Notifiers: s.notifier.Status,
		Sessions: func() int { return s.viewers.Count() }, Storage: s.storageMetrics, Cluster: s.clusterMetrics,
		Sockets: func() metrics.Sockets {
			st := s.engine.SocketStats()
			return metrics.Sockets{Datagrams: st.Packets, Messages: st.Messages, Syscalls: st.Syscalls}
		}})
	// Alerts watch the cameras running here; the others' nodes do theirs.
	s.alerts = alerts.New(alerts.Options{Config: cfg, Store: s.store, Bus: s.bus, Log: log, Status: s.localStatus,
		Announcer: announcer{cfg: cfg, notifier: s.notifier, log: log},
		Observe:   func(kind, event string) { s.metrics.Alerts.WithLabelValues(kind, event).Inc() }})
	if err := s.alerts.Restore(ctx); err != nil {
		return err
	}
	s.writer = newWriter(s.store, s.alerts, s.metrics, log)
	if s.engine, err = relay.NewEngine(iceOptions(cfg.WebRTC)); err != nil {
		return err
	}
	s.transcodes = relay.NewSlots(cfg.WebRTC.MaxTranscodes)
	// Saved geometry is in force before analysis starts; later saves reach
	// the running analysis.
	s.geometry = geometry.New(geometry.Options{Config: cfg, Store: s.store, Log: log,
		Apply: func(ref config.CameraRef, an *config.Analytics) {
			if cam, ok := s.camera(ref.Camera.ID); ok && cam.analysis != nil {
				cam.analysis.setGeometry(an)
			}
		}})
	if err := s.geometry.Load(ctx); err != nil {
		return err
	}
	// Recording is set up before the cameras: each unit has its recorder.
	if s.rec, err = newRecording(ctx, cfg, s.store, s.alerts, log); err != nil {
		return err
	}
	if cfg.Cluster.Enabled() {
		if err := s.joinCluster(ctx); err != nil {
			return err
		}
	} else {
		for _, ref := range cfg.Cameras() {
			cam, err := s.newCamera(ref)
			if err != nil {
				return err
			}
			s.cameras[ref.Camera.ID] = cam
		}
	}

	authOpts := auth.OptionsFrom(cfg.Auth)
	authOpts.Log = log
	s.auth = auth.New(s.store, authOpts)
	// The server exists before any session can end.
	s.viewers = relay.NewSessions(s.engine, s.relayFor, sessionLimits(cfg.WebRTC), func(v relay.Session) { s.server.ViewerEnded(v) })
	s.server = web.New(web.Deps{
		Log:          log,
		Config:       cfg,
		Viewers:      s.viewers,
		Status:       s.status,
		Analysis:     s.analysisStatus,
		Store:        s.store,
		Alerts:       s.alerts,
		Bus:          s.bus,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		Auth:         s.auth,
		Audit:        s.store,
		Geometry:     s.geometry,
		Scenes:       scenes{s},
		Recordings:   s.rec,
		Views:        s.store,
		Notifiers:    s.notifier.Status,
		Metrics:      s.metrics.Registry,
		MetricsToken: cfg.Auth.MetricsToken,
		Cluster:      s.clusterView(),
	})
	if s.ln, err = net.Listen("tcp", cfg.HTTP.Listen); err != nil {
		return fmt.Errorf("http.listen %s: %w", cfg.HTTP.Listen, err)
	}
	return nil
}

// Close releases what New opened; Run does it itself on return.
func (s *Service) Close() {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.engine != nil {
		s.engine.Close()
	}
	for _, cam := range s.cameras {
		if cam.analysis != nil {
			cam.analysis.close()
		}
	}
	if s.node != nil {
		s.node.Close()
	}
	if s.store != nil {
		s.store.Close()
	}
}

// Auth is the account service: serve creates the first admin with it, the
// demo its ready-made users.
func (s *Service) Auth() *auth.Service { return s.auth }

// Addr is the HTTP listener's address.
func (s *Service) Addr() net.Addr { return s.ln.Addr() }

// Run runs every part until ctx ends or one fails, then stops them all.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	if s.node != nil {
		g.Go(func() error { return s.node.Run(ctx) })
		g.Go(func() error { return s.bridge.Run(ctx) })
	} else {
		for _, cam := range s.cameras {
			g.Go(func() error { return s.runCamera(ctx, cam) })
		}
		g.Go(func() error { return s.notifier.Run(ctx) })
		g.Go(func() error { return s.retention.Run(ctx) })
		g.Go(func() error { return s.rec.clips(ctx) })
	}
	for _, run := range s.rec.runners() {
		g.Go(func() error { return run(ctx) })
	}
	g.Go(func() error { return s.writer.Run(ctx) })
	g.Go(func() error { return s.alerts.Run(ctx) })
	g.Go(func() error { return s.server.Run(ctx, s.ln) })
	g.Go(func() error { return s.auth.Run(ctx) })
	g.Go(func() error { return s.geometry.Run(ctx) })
	g.Go(func() error {
		<-ctx.Done()
		s.viewers.Close()
		return nil
	})
	err := g.Wait()
	s.engine.Close()
	s.store.Close()
	return err
}

// newCamera builds a camera's unit; runCamera runs it.
func (s *Service) newCamera(ref config.CameraRef) (*camera, error) {
	hub := ingest.NewHub(ref.Camera.ID)
	live, err := relay.NewCamera(ref.Camera.ID, hub, s.engine.Batcher(), s.fallback(ref.Camera, hub, s.transcodes))
	if err != nil {
		return nil, err
	}
	live.ObserveLatency(s.metrics.RelayLatency)
	cam := &camera{
		ref:    ref,
		hub:    hub,
		source: ingest.NewSource(ingest.NewSourceConfig(*ref.Camera, s.cfg.Ingest), hub, ingest.WithLogger(s.log)),
		live:   live,
	}
	if ref.Camera.Analytics != nil {
		id := ref.Camera.ID
		cam.analysis, err = newAnalysis(ref, s.cfg, hub, func() ingest.Status { st, _ := s.localStatus(id); return st },
			s.writer.record, s.alerts.UpdateWindows, s.metrics, s.log)
		if err != nil {
			return nil, err
		}
		// The alerts restored before the unit started (Restore,
		// RestoreCamera) are the analysis's own to continue.
		cam.analysis.openAlerts = func(camera string) []string { return s.alerts.OpenWindows(camera, events.KindUnstaffed) }
		cam.analysis.restarted = s.alerts.Reannounce
	}
	cam.rec = s.rec.recorder(ref.Camera.ID, hub)
	return cam, nil
}

// runCamera runs a camera's ingest, relay, analysis and recording until
// ctx ends or one of them fails.
func (s *Service) runCamera(ctx context.Context, cam *camera) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cam.source.Run(ctx) })
	g.Go(func() error { return cam.live.Run(ctx) })
	if cam.analysis != nil {
		g.Go(func() error { return cam.analysis.Run(ctx) })
	}
	if cam.rec != nil {
		defer s.rec.release(cam.ref.Camera.ID, cam.rec)
		g.Go(func() error { return cam.rec.Run(ctx) })
	}
	return g.Wait()
}

// camera returns the unit of a camera running here.
func (s *Service) camera(id string) (*camera, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cam, ok := s.cameras[id]
	return cam, ok
}

// running lists the units running here, in configuration order.
func (s *Service) running() []*camera {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*camera, 0, len(s.cameras))
	for _, ref := range s.cfg.Cameras() {
		if cam, ok := s.cameras[ref.Camera.ID]; ok {
			out = append(out, cam)
		}
	}
	return out
}

func (s *Service) relayFor(id string, offered []ingest.Codec) (*relay.Relay, error) {
	cam, ok := s.camera(id)
	if !ok {
		if _, configured := s.cfg.Camera(id); configured && s.node != nil {
			return nil, relay.ErrNotHere
		}
		return nil, relay.ErrUnknownCamera
	}
	return cam.live.Pick(offered)
}

// Fallback lingers: how long a camera's H.264 fallback keeps running
// after its last viewer left (a reload or a wall cycling through cameras
// does not restart it). A sub-stream costs the camera a connection, a
// transcode costs a core.
const (
	subStreamLinger = 30 * time.Second
	transcodeLinger = 10 * time.Second
)

// fallback is what a camera serves browsers that cannot decode its main
// stream: its live_url sub-stream, pulled only while such a browser
// watches (a camera allows few RTSP sessions, and most of the day nobody
// watches), or else a transcode of the main stream, within
// webrtc.max_transcodes.
func (s *Service) fallback(cam *config.Camera, main *ingest.Hub, transcodes *relay.Slots) *relay.Fallback {
	onError := func(kind string) func(error) {
		return func(err error) {
			s.log.Warn("live fallback failed; retrying while watched", "camera", cam.ID, "kind", kind, "err", err)
		}
	}
	if cam.LiveURL != "" {
		out := ingest.NewHub(cam.ID + "/live")
		sub := *cam
		sub.URL = cam.LiveURL
		return &relay.Fallback{Kind: "sub-stream", Feed: out, Linger: subStreamLinger, OnError: onError("sub-stream"),
			Produce: func(ctx context.Context) error {
				defer out.SetStream(ingest.StreamInfo{}) // no stale GOP for the next viewer
				return ingest.NewSource(ingest.NewSourceConfig(sub, s.cfg.Ingest), out, ingest.WithLogger(s.log.With("stream", "live_url"))).Run(ctx)
			}}
	}
	if s.cfg.WebRTC.MaxTranscodes == 0 {
		return nil
	}
	out := ingest.NewHub(cam.ID + "/h264")
	tr := transcode.New(cam.ID, main, out, transcode.Options{MaxWidth: s.cfg.WebRTC.TranscodeMaxWidth, Log: s.log})
	return &relay.Fallback{Kind: "transcode", Feed: out, Produce: tr.Run, Linger: transcodeLinger, Slots: transcodes, OnError: onError("transcode")}
}

// localStatus is the ingest state of a camera running here.
func (s *Service) localStatus(id string) (ingest.Status, bool) {
	cam, ok := s.camera(id)
	if !ok {
		return ingest.Status{}, false
	}
	return cam.source.Status(), true
}

// status is a camera's ingest state: here, or as the node running it
// says (in a cluster).
func (s *Service) status(id string) (ingest.Status, bool) {
	if st, ok := s.localStatus(id); ok || s.node == nil {
		return st, ok
	}
	if _, configured := s.cfg.Camera(id); !configured {
		return ingest.Status{}, false
	}
	return s.mirror.status(id), true
}

// analysisStatus is a camera's analysis for the camera status; false when
// the camera is not analysed (or, in a cluster, not analysed here).
func (s *Service) analysisStatus(id string) (web.AnalysisStatus, bool) {
	cam, ok := s.camera(id)
	if !ok || cam.analysis == nil {
		return web.AnalysisStatus{}, false
	}
	return cam.analysis.Status(), true
}

func iceOptions(c config.WebRTC) relay.ICEOptions {
	o := relay.ICEOptions{
		UDPPort: c.UDPPort, TCPPort: c.TCPPort, AdditionalHosts: c.AdditionalHosts,
		Interfaces: c.Interfaces, IncludeLoopback: c.IncludeLoopback,
	}
	for _, srv := range c.ICEServers {
		o.ICEServers = append(o.ICEServers, webrtc.ICEServer{URLs: []string{srv.URL}, Username: srv.Username, Credential: srv.Password})
	}
	return o
}

func sessionLimits(c config.WebRTC) relay.Limits {
	return relay.Limits{Max: c.MaxSessions, PerUser: c.MaxSessionsPerUser, ConnectTimeout: c.ConnectTimeout.D()}
}

// storageMetrics is the event writer's and the retention's state for a
// metrics scrape.
func (s *Service) storageMetrics() metrics.Storage {
	st := s.writer.Stats()
	st.Purged, st.LastPurge = s.retention.stats()
	return st
}

// cameraMetrics is every camera's state for a metrics scrape.
func (s *Service) cameraMetrics() []metrics.Camera {
	cams := s.running()
	out := make([]metrics.Camera, 0, len(cams))
	for _, cam := range cams {
		rs := cam.live.Stats()
		m := metrics.Camera{Status: cam.source.Status(), Subscribers: cam.hub.Subscribers(), Viewers: cam.live.Viewers(),
			Relay: metrics.Relay{Packets: rs.Packets, Resent: rs.Resent, Refused: rs.Refused, Fallback: cam.live.FallbackRunning()}}
		if st, ok := s.rec.Status(cam.ref.Camera.ID); ok {
			m.Recording = &metrics.Recording{State: st.State, WrittenBytes: st.WrittenBytes, Segments: st.Segments}
		}
		if cam.analysis != nil {
			st := cam.analysis.Status()
			m.Analysis = &metrics.Analysis{Detector: st.Detector, Decoded: st.Decoded, Analysed: st.Analysed, Looks: st.Looks,
				DecodeErrors: st.DecodeErrors, ProcessErrors: st.ProcessErrors, Lag: time.Duration(st.LagMillis * float64(time.Millisecond)),
				Idle: st.Idle, Wakes: st.Wakes, Restarts: st.Restarts}
		}
		out = append(out, m)
	}
	return out
}
