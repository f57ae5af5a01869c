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
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/fdlimit"
	"github.com/hallwatch/hallwatch/metrics"
	"github.com/hallwatch/hallwatch/natsbus"
	"github.com/hallwatch/hallwatch/notify"
	"github.com/hallwatch/hallwatch/relay"
	"github.com/hallwatch/hallwatch/store"
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
	engine    *relay.Engine
	viewers   *relay.Sessions
	server    *web.Server
	ln        net.Listener

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
	relay    *relay.Relay
	analysis *analysis // nil when the camera has no analytics section
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
		Sessions: func() int { return s.viewers.Count() }, Storage: s.storageMetrics, Cluster: s.clusterMetrics})
	// Alerts watch the cameras running here; the others' nodes do theirs.
	s.alerts = alerts.New(alerts.Options{Config: cfg, Store: s.store, Bus: s.bus, Log: log, Status: s.localStatus,
		Announcer: announcer{cfg: cfg, notifier: s.notifier, log: log},
		Observe:   func(kind, event string) { s.metrics.Alerts.WithLabelValues(kind, event).Inc() }})
	if err := s.alerts.Restore(ctx); err != nil {
		return err
	}
	s.writer = newWriter(s.store, s.alerts, s.metrics, log)
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

	if s.engine, err = relay.NewEngine(iceOptions(cfg.WebRTC)); err != nil {
		return err
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
		Store:        s.store,
		Alerts:       s.alerts,
		Bus:          s.bus,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
		Auth:         s.auth,
		Audit:        s.store,
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
			cam.analysis.analyzer.Close()
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
	}
	g.Go(func() error { return s.writer.Run(ctx) })
	g.Go(func() error { return s.alerts.Run(ctx) })
	g.Go(func() error { return s.server.Run(ctx, s.ln) })
	g.Go(func() error { return s.auth.Run(ctx) })
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
	rel, err := relay.New(ref.Camera.ID)
	if err != nil {
		return nil, err
	}
	rel.ObserveLatency(s.metrics.RelayLatency)
	cam := &camera{
		ref:    ref,
		hub:    hub,
		source: ingest.NewSource(ingest.NewSourceConfig(*ref.Camera, s.cfg.Ingest), hub, ingest.WithLogger(s.log)),
		relay:  rel,
	}
	if ref.Camera.Analytics != nil {
		id := ref.Camera.ID
		cam.analysis, err = newAnalysis(ref, s.cfg, hub, func() ingest.Status { st, _ := s.localStatus(id); return st },
			s.writer.record, s.alerts.UpdateWindows, s.metrics, s.log)
		if err != nil {
			return nil, err
		}
	}
	return cam, nil
}

// runCamera runs a camera's ingest, relay and analysis until ctx ends or
// one of them fails.
func (s *Service) runCamera(ctx context.Context, cam *camera) error {
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cam.source.Run(ctx) })
	g.Go(func() error { return cam.relay.Run(ctx, cam.hub) })
	if cam.analysis != nil {
		g.Go(func() error { return cam.analysis.Run(ctx) })
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

func (s *Service) relayFor(id string) (*relay.Relay, error) {
	cam, ok := s.camera(id)
	if !ok {
		if _, configured := s.cfg.Camera(id); configured && s.node != nil {
			return nil, relay.ErrNotHere
		}
		return nil, relay.ErrUnknownCamera
	}
	if err := relay.Playable(cam.hub); err != nil {
		return nil, err
	}
	return cam.relay, nil
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
		m := metrics.Camera{Status: cam.source.Status(), Subscribers: cam.hub.Subscribers(), Viewers: cam.relay.Viewers()}
		if cam.analysis != nil {
			st := cam.analysis.Status()
			m.Analysis = &metrics.Analysis{Detector: st.Detector, Decoded: st.Decoded, Analysed: st.Analysed,
				DecodeErrors: st.DecodeErrors, ProcessErrors: st.ProcessErrors, Lag: time.Duration(st.LagMillis * float64(time.Millisecond)),
				Idle: st.Idle, Wakes: st.Wakes}
		}
		out = append(out, m)
	}
	return out
}
