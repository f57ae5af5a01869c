package service

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/store"
)

// busyHall is a small simulated hall where something happens every few
// seconds: clerks walk in at once, visitors keep coming.
var busyHall = demo.SceneOptions{Seed: 3, Width: 640, Height: 360, FPS: 10, Windows: 3,
	ClerksArrive:    demo.Range{Min: time.Second, Max: 3 * time.Second},
	VisitorInterval: demo.Range{Min: 2 * time.Second, Max: 4 * time.Second}}

// runDemoCamera serves the simulated hall until the test ends; onTruth,
// if given, receives its ground truth.
func runDemoCamera(t *testing.T, scene demo.SceneOptions, onTruth ...func(demo.TruthEvent)) *demo.Camera {
	t.Helper()
	spec := demo.CameraSpec{ID: "hall", Scene: scene, GOP: time.Second, BitrateKbps: 600}
	if len(onTruth) > 0 {
		spec.OnTruth = onTruth[0]
	}
	cam, err := demo.NewCamera(demo.CameraOptions{Addr: "127.0.0.1:0", Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Cameras: []demo.CameraSpec{spec}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cam.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return cam
}

// TestHungDatabaseDoesNotStallAnalysis runs the service on a simulated
// hall with a database whose writes hang: analysis goes on, its events
// wait in the writer's queue, and once the database answers they are
// stored. (Before the writer, the first event blocked the camera's
// analysis goroutine for as long as the disk did.)
func TestHungDatabaseDoesNotStallAnalysis(t *testing.T) {
	cam := runDemoCamera(t, busyHall)
	cfg := testConfig(t, filepath.Join(t.TempDir(), "hallwatch.db"))
	cam.AddTo(cfg, []demo.Hall{{District: "dongcheng", DistrictName: "东城区", Center: "jingshan", CenterName: "景山",
		Camera: "hall", CameraName: "大厅"}})
	var hung *hungStore
	r := startServiceConfig(t, cfg, func(s *Service) {
		hung = newHungStore(s.store)
		s.writer.store = hung
	})
	an := r.svc.cameras["hall"].analysis
	waitFor(t, "events waiting for the hung database", 90*time.Second, func() bool { return r.svc.writer.Stats().Queued >= 3 })
	queuedAt := an.Status().Analysed
	waitFor(t, "analysis going on while the database hangs", 90*time.Second, func() bool {
		return an.Status().Analysed >= queuedAt+50
	})
	for _, sub := range r.svc.cameras["hall"].hub.Subscribers() {
		t.Logf("hub consumer %s: %d units dropped, %d delivered", sub.Name, sub.Dropped, sub.Delivered)
	}
	waiting := r.svc.writer.Stats().Queued
	close(hung.release)
	waitFor(t, "the queued events written", 60*time.Second, func() bool { return r.svc.writer.Stats().Queued == 0 })
	// Services, queue minutes and waits have tables of their own.
	ctx := context.Background()
	evs, err := r.svc.store.Events(ctx, store.EventQuery{})
	svcs, err2 := r.svc.store.Services(ctx, store.ServiceQuery{})
	minutes, err3 := r.svc.store.QueueMinutes(ctx, store.QueueQuery{})
	waits, err4 := r.svc.store.Waits(ctx, store.QueueQuery{})
	if stored := len(evs) + len(svcs) + len(minutes) + len(waits); errors.Join(err, err2, err3, err4) != nil || stored < waiting {
		t.Fatalf("%d events stored after the database answered, %d were waiting (%v)", stored, waiting, errors.Join(err, err2, err3, err4))
	}
	t.Logf("%d events waited for the hung database; %d frames analysed meanwhile", waiting, an.Status().Analysed-queuedAt)
}
