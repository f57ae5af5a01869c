// Package service wires hallwatch's parts together for `hallwatch serve`:
// one RTSP source and hub per camera, the WebRTC relay, analytics, storage
// and the web server, all stopped by one context.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"net"

	"github.com/pion/webrtc/v4"
	"golang.org/x/sync/errgroup"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/viewer"
)

// maxViewers caps concurrent WHEP sessions per process.
const maxViewers = 500

// Service is a running hallwatch.
type Service struct {
	cfg     *config.Config
	log     *slog.Logger
	cameras map[string]*camera
	order   []*camera
	engine  *viewer.Engine
	viewers *viewer.Viewers
	server  *viewer.Server
	ln      net.Listener
}

// camera is everything hallwatch runs for one camera.
type camera struct {
	ref    config.CameraRef
	hub    *ingest.Hub
	source *ingest.Source
	relay  *viewer.Relay
}

// New prepares the service and opens its listeners, so that Addr is known
// (and port conflicts reported) before Run.
func New(cfg *config.Config, log *slog.Logger) (*Service, error) {
	s := &Service{cfg: cfg, log: log, cameras: map[string]*camera{}}
	for _, ref := range cfg.Cameras() {
		hub := ingest.NewHub(ref.Camera.ID)
		relay, err := viewer.NewRelay(ref.Camera.ID)
		if err != nil {
			return nil, err
		}
		cam := &camera{
			ref:    ref,
			hub:    hub,
			source: ingest.NewSource(ingest.NewSourceConfig(*ref.Camera, cfg.Ingest), hub, ingest.WithLogger(log)),
			relay:  relay,
		}
		s.cameras[ref.Camera.ID] = cam
		s.order = append(s.order, cam)
	}

	engine, err := viewer.NewEngine(iceOptions(cfg.WebRTC))
	if err != nil {
		return nil, err
	}
	s.engine = engine
	s.viewers = viewer.NewViewers(engine, s.relayFor, maxViewers, nil)
	s.server = viewer.New(viewer.Deps{
		Log:          log,
		Config:       cfg,
		Viewers:      s.viewers,
		Status:       s.status,
		MaxBodyBytes: cfg.HTTP.MaxBodyBytes,
	})
	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		engine.Close()
		return nil, fmt.Errorf("http.listen %s: %w", cfg.HTTP.Listen, err)
	}
	s.ln = ln
	return s, nil
}

// Addr is the HTTP listener's address.
func (s *Service) Addr() net.Addr { return s.ln.Addr() }

// Run runs every part until ctx ends or one fails, then stops them all.
func (s *Service) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, cam := range s.order {
		g.Go(func() error { return cam.source.Run(ctx) })
		g.Go(func() error { return cam.relay.Run(ctx, cam.hub) })
	}
	g.Go(func() error { return s.server.Run(ctx, s.ln) })
	g.Go(func() error {
		<-ctx.Done()
		s.viewers.Close()
		return nil
	})
	err := g.Wait()
	s.engine.Close()
	return err
}

func (s *Service) relayFor(id string) (*viewer.Relay, error) {
	cam, ok := s.cameras[id]
	if !ok {
		return nil, viewer.ErrUnknownCamera
	}
	if err := viewer.Playable(cam.hub); err != nil {
		return nil, err
	}
	return cam.relay, nil
}

func (s *Service) status(id string) (ingest.Status, bool) {
	cam, ok := s.cameras[id]
	if !ok {
		return ingest.Status{}, false
	}
	return cam.source.Status(), true
}

func iceOptions(c config.WebRTC) viewer.ICEOptions {
	o := viewer.ICEOptions{
		UDPPort: c.UDPPort, TCPPort: c.TCPPort, AdditionalHosts: c.AdditionalHosts,
		Interfaces: c.Interfaces, IncludeLoopback: c.IncludeLoopback,
	}
	for _, srv := range c.ICEServers {
		o.ICEServers = append(o.ICEServers, webrtc.ICEServer{URLs: []string{srv.URL}, Username: srv.Username, Credential: srv.Password})
	}
	return o
}
