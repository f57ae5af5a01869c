// Package viewer is hallwatch's web side: the UI pages, the JSON API and
// WHEP signalling for the WebRTC live relay.
package viewer

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

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/ingest"
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
}

// Deps is what the server needs from the rest of hallwatch.
type Deps struct {
	Log     *slog.Logger
	Config  *config.Config
	Viewers *Viewers
	// Status returns a camera's ingest state.
	Status func(camera string) (ingest.Status, bool)
	Store  Store
	Alerts AlertDesk
	Bus    *eventbus.Bus
	// MaxBodyBytes bounds every request body.
	MaxBodyBytes int
}

// Store is the stored data the API reads.
type Store interface {
	Counts(ctx context.Context, q store.CountQuery) ([]store.CountRow, error)
	Alerts(ctx context.Context, q store.AlertQuery) ([]store.Alert, error)
	Alert(ctx context.Context, id int64) (store.Alert, error)
	Snapshot(ctx context.Context, id int64) ([]byte, error)
	Events(ctx context.Context, q store.EventQuery) ([]store.StoredEvent, error)
	LastWindowStates(ctx context.Context, centers []string, before time.Time) ([]store.StoredEvent, error)
}

// AlertDesk is the live alert side: window boards and acknowledgement.
type AlertDesk interface {
	Board(center string) []alerts.WindowView
	Ack(ctx context.Context, id int64, user, comment string) (store.Alert, error)
}

// New builds the server and registers every route.
func New(deps Deps) *Server {
	if deps.Log == nil {
		deps.Log = slog.Default()
	}
	app := fiber.New(fiber.Config{
		BodyLimit:             deps.MaxBodyBytes,
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          30 * time.Second,
		IdleTimeout:           2 * time.Minute,
		DisableStartupMessage: true,
		ErrorHandler:          jsonErrorHandler,
	})
	s := &Server{app: app, deps: deps, done: make(chan struct{})}
	s.routes = s.routeTable()
	for _, r := range s.routes {
		app.Add(r.method, r.path, s.guard(r), r.handler)
	}
	ui, _ := fs.Sub(uiFiles, "ui")
	app.Use("/", filesystem.New(filesystem.Config{Root: http.FS(ui), Index: "index.html"}))
	app.Use(func(c *fiber.Ctx) error {
		return jsonError(c, fiber.StatusNotFound, "no route for "+c.Method()+" "+c.Path())
	})
	return s
}

// Run serves on ln until ctx ends, then shuts down gracefully.
func (s *Server) Run(ctx context.Context, ln net.Listener) error {
	errc := make(chan error, 1)
	go func() { errc <- s.app.Listener(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	close(s.done)
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.app.ShutdownWithContext(shutCtx); err != nil {
		return err
	}
	<-errc
	return nil
}

// Handler exposes the app for in-process tests (fiber's app.Test).
func (s *Server) Handler() *fiber.App { return s.app }

// jsonError answers with {"error": msg}: every API failure has this shape.
func jsonError(c *fiber.Ctx, status int, msg string) error {
	return c.Status(status).JSON(fiber.Map{"error": msg})
}

func jsonErrorHandler(c *fiber.Ctx, err error) error {
	status := fiber.StatusInternalServerError
	var fe *fiber.Error
	if errors.As(err, &fe) {
		status = fe.Code
	}
	return jsonError(c, status, err.Error())
}
