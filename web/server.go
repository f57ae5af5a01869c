// Package web is hallwatch's web side: the UI pages, the JSON API, server
// sent events and the HTTP end of WHEP signalling. The WebRTC sessions
// themselves belong to the relay package, reached through Viewers.
package web

import (
	"context"
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/filesystem"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/fdlimit"
	"github.com/hallwatch/hallwatch/notify"
	"github.com/hallwatch/hallwatch/relay"
	"github.com/hallwatch/hallwatch/store"
)

//go:embed ui
var uiFiles embed.FS

// Server serves the UI, the API and WHEP on one listener.
type Server struct {
	app    *fiber.App
	deps   Deps
	routes []route
	done   chan struct{} // closed at shutdown: ends live streams

	metricsHandler fiber.Handler
	// secure: TLS is configured; cookies get the Secure flag.
	secure bool
	// origins are the Origin values a write may come from.
	origins []string
	// streams are the open event streams; access ends them and WHEP
	// sessions when their login ends or loses access.
	streams *eventStreams
	access  accessWatch
	// lineCounts: today's crossings per line, for the overlays.
	lineCounts lineCountCache
	// watching pairs live viewings with their audit entries.
	watching watchLog
	// videos are the recorded-video responses being sent: they end, like
	// event streams, when their login does.
	videos *eventStreams
	// videoAudits keeps one audit entry per playback, not per range request.
	videoAudits recentKeys
}

// Deps is what the server needs from the rest of hallwatch.
type Deps struct {
	Log     *slog.Logger
	Config  *config.Config
	Viewers Viewers
	// Status returns a camera's ingest state.
	Status func(camera string) (ingest.Status, bool)
	// Analysis returns an analysed camera's analysis state (nil: none).
	Analysis func(camera string) (AnalysisStatus, bool)
	Store    Store
	Alerts   AlertDesk
	Bus      *eventbus.Bus
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int
	// Auth authenticates requests and manages accounts.
	Auth *auth.Service
	// Audit is where actions are recorded and read back by admins.
	Audit AuditLog
	// Geometry keeps the lines and zones drawn on cameras; Scenes shows
	// what analysis sees now (pictures, people, windows) to the editor
	// and the overlays.
	Geometry GeometryDesk
	Scenes   SceneSource
	// Recordings serves recorded video; nil when recording is not set up.
	Recordings Recordings
	// Views keeps the users' live-wall layouts.
	Views ViewStore
	// Notifiers reports the notification targets' delivery state.
	Notifiers func() []notify.TargetStatus
	// Metrics is served at /metrics; MetricsToken, when set, lets a
	// scraper read it without a user.
	Metrics      prometheus.Gatherer
	MetricsToken string
	// Cluster is this node's view of the others; nil on a single node.
	Cluster Cluster
}

// Cluster is what the web needs of a cluster's other nodes.
type Cluster interface {
	// Owner returns the public URL of the node running camera when that
	// is another node; false when this node runs it or none does now.
	Owner(camera string) (url string, elsewhere bool)
	// Base is this node's public URL: its WHEP sessions are addressed
	// there, so that a viewer's DELETE comes back to it.
	Base() string
	// Health is this node's part in the cluster (public, for /healthz);
	// View the cluster as it sees it (for admins and scrapers).
	Health() any
	View() any
}

// Viewers is the live relay's WHEP side as the web sees it.
type Viewers interface {
	Offer(ctx context.Context, camera string, who relay.Viewer, offer string) (relay.Session, string, error)
	Session(id string) (relay.Session, bool)
	Hangup(camera, id string) error
	CloseUser(user string)
	Sessions() []relay.Session
}

// Store is the stored data the API reads.
type Store interface {
	Counts(ctx context.Context, q store.CountQuery) ([]store.CountRow, error)
	Alerts(ctx context.Context, q store.AlertQuery) ([]store.Alert, error)
	Alert(ctx context.Context, id int64) (store.Alert, error)
	Snapshot(ctx context.Context, id int64) ([]byte, error)
	Events(ctx context.Context, q store.EventQuery) ([]store.StoredEvent, error)
	LastWindowStates(ctx context.Context, centers []string, before time.Time) ([]store.StoredEvent, error)
	VerdictCounts(ctx context.Context, centers []string, from, to time.Time) ([]store.VerdictCount, error)
	Coverage(ctx context.Context, cameras []string) (map[string]time.Time, error)
	Services(ctx context.Context, q store.ServiceQuery) ([]store.Service, error)
	QueueMinutes(ctx context.Context, q store.QueueQuery) ([]store.QueueMinute, error)
	Waits(ctx context.Context, q store.QueueQuery) ([]store.Wait, error)
}

// AlertDesk is the live alert side: window boards and acknowledgement.
type AlertDesk interface {
	Board(center string) []alerts.WindowView
	Ack(ctx context.Context, id int64, ack store.Ack) (store.Alert, error)
}

// New builds the server and registers every route.
func New(deps Deps) *Server {
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	s := &Server{deps: deps, done: make(chan struct{}), secure: deps.Config.HTTP.TLSCert != "",
		streams: newEventStreams(deps.Config.HTTP.MaxStreams, deps.Config.HTTP.MaxStreamsPerUser),
		videos:  newEventStreams(maxVideoStreams, maxVideoStreamsPerUser)}
	s.origins = allowedOrigins(deps.Config.HTTP.PublicURL)
	app := fiber.New(fiber.Config{
		BodyLimit:             deps.MaxBodyBytes,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		DisableStartupMessage: true,
		ErrorHandler:          s.errorHandler,
		// /API/ME must not reach /api/me past checks written in lower case.
		CaseSensitive: true,
		// Values from Params, Query, Get… stay valid after the handler:
		// fasthttp reuses its buffers otherwise, and a WHEP session keeps
		// its camera id for its lifetime.
		Immutable: true,
	})
	s.app = app
	app.Use(s.recoverPanics, s.securityHeaders)
	if deps.Metrics != nil {
		s.metricsHandler = newMetricsHandler(deps.Metrics)
	}
	s.routes = s.routeTable()
	for _, r := range s.routes {
		app.Add(r.method, r.path, s.guard(r), r.handler)
	}
	ui, _ := fs.Sub(uiFiles, "ui")
	app.Use("/", filesystem.New(filesystem.Config{Root: http.FS(ui), Index: "index.html"}))
	app.Use(func(c *fiber.Ctx) error {
		return jsonError(c, apiErr(fiber.StatusNotFound, "no_route", "no route for "+c.Method()+" "+c.Path()))
	})
	return s
}

// Run serves on ln until ctx ends, then shuts down gracefully. It fails
// only when it cannot start (a bad TLS key pair): once serving, errors of
// the HTTP server are logged and serving starts again, since nothing
// that happens to the web side may stop cameras, relay or analysis.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	max, perAddr := s.connectionCaps()
	var busy []byte
	if !s.secure {
		busy = s.busyAnswer()
	}
	ln = newLimitListener(ln, max, perAddr, busy, s.deps.Log)
	if s.secure {
		tlsLn, err := s.tlsListener(ln)
		if err != nil {
			return err
		}
		ln = tlsLn
	}
	go s.watchAccess(ctx)
	served := make(chan struct{})
	go func() {
		defer close(served)
		s.serve(ctx, ln)
	}()
	<-ctx.Done()
	close(s.done)
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.app.ShutdownWithContext(shutCtx); err != nil {
		s.deps.Log.Warn("web server shutdown", "err", err)
	}
	// Shutdown closes only the listeners Serve has registered; if ctx ended
	// before Serve got that far, Accept would wait forever.
	ln.Close()
	<-served
	return nil
}

// serve runs the HTTP server on ln until ln is closed or ctx ends; if the
// server fails meanwhile, it is started again after a pause.
func (s *Server) serve(ctx context.Context, ln net.Listener) {
	backoff := 100 * time.Millisecond
	for {
		err := s.app.Listener(ln)
		if ctx.Err() != nil || err == nil || errors.Is(err, net.ErrClosed) {
			return
		}
		s.deps.Log.Error("web server failed; serving again", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}

// connectionCaps are http.max_connections and its share per address,
// bounded by half the open-file limit: cameras, viewers' ICE-TCP and the
// database need descriptors too.
func (s *Server) connectionCaps() (max, perAddr int) {
	h := s.deps.Config.HTTP
	max, perAddr = h.MaxConnections, h.MaxConnectionsPerAddress
	if soft := fdlimit.Soft(); soft > 0 && uint64(max) > soft/2 {
		s.deps.Log.Warn("http.max_connections is more than half the open-file limit; lowered", "max_connections", max, "open_file_limit", soft, "now", soft/2)
		max = int(soft / 2)
	}
	return max, min(perAddr, max)
}

// Handler exposes the app for in-process tests (fiber's app.Test).
func (s *Server) Handler() *fiber.App { return s.app }

// errorHandler answers handler errors (see errors.go). Errors fasthttp
// meets while reading a request (413, 431) come here without passing the
// middleware, so the security headers are set here too.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	s.setSecurityHeaders(c)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return answerError(c, s.deps.Log, err)
}
