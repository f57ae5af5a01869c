package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"go.yaml.in/yaml/v3"
	"golang.org/x/sync/errgroup"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/service"
)

// demoHalls are the demo's simulated cameras, one per center.
var demoHalls = []demo.Hall{
	{District: "dongcheng", DistrictName: "东城区（演示）", Center: "jingshan", CenterName: "景山街道市民服务中心",
		Camera: "jingshan-hall", CameraName: "景山 一楼大厅"},
	{District: "dongcheng", DistrictName: "东城区（演示）", Center: "donghuamen", CenterName: "东华门街道市民服务中心",
		Camera: "donghuamen-hall", CameraName: "东华门 一楼大厅"},
}

// demoUsers are the demo's ready-made logins, one per role. They are
// reset at every start; a real installation never has fixed passwords.
var demoUsers = []struct {
	name, role, password, what string
	scope                      auth.UserScope
}{
	{"admin", auth.RoleAdmin, "demo-admin-pass", "admin: everything, users and audit", auth.UserScope{}},
	{"supervisor", auth.RoleDistrictSupervisor, "demo-super-pass", "district supervisor of 东城区: live wall, alerts, counts", auth.UserScope{Districts: []string{"dongcheng"}}},
	{"manager", auth.RoleCenterManager, "demo-manager-pass", "center manager of 景山: board, acknowledgement", auth.UserScope{Centers: []string{"jingshan"}}},
	{"planner", auth.RolePlanner, "demo-planner-pass", "planner of 东城区: counts and reports", auth.UserScope{Districts: []string{"dongcheng"}}},
}

func runDemo(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", "demo [--listen ADDR] [--data DIR] [--truth FILE]", stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "web UI address")
	rtspAddr := fs.String("rtsp", "127.0.0.1:0", "address of the simulated cameras' RTSP server (port 0: any free port)")
	data := fs.String("data", "hallwatch-demo", "directory for the demo's database and configuration")
	truth := fs.String("truth", "", "write the simulation's ground truth (JSON Lines) to this file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := os.MkdirAll(*data, 0o750); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	onTruth, closeTruth, err := truthWriter(*truth)
	if err != nil {
		return err
	}
	defer closeTruth()
	var specs []demo.CameraSpec
	for i, h := range demoHalls {
		// Clerks walk in after opening, as in the morning: a motion detector
		// cannot see people who were there before its first frame.
		scene := demo.SceneOptions{Seed: int64(i + 1), ClerksArrive: demo.Range{Min: time.Second, Max: 5 * time.Second}}
		if i == 0 {
			scene.Covered = 1 // the AB post: window 2's clerk covers window 1
		}
		specs = append(specs, demo.CameraSpec{ID: h.Camera, Scene: scene, OnTruth: onTruth})
	}
	cams, err := demo.NewCamera(demo.CameraOptions{Addr: *rtspAddr, Cameras: specs, Log: log})
	if err != nil {
		return err
	}

	path := filepath.Join(*data, "hallwatch-demo.yaml")
	if err := writeDemoConfig(path, cams, *listen, filepath.Join(*data, "hallwatch-demo.db")); err != nil {
		cams.Close()
		return err
	}
	cfg, err := config.Load(path)
	if err != nil {
		cams.Close()
		return fmt.Errorf("demo configuration: %w", err)
	}
	svc, err := service.New(ctx, cfg, log)
	if err != nil {
		cams.Close()
		return err
	}
	for _, u := range demoUsers {
		if _, err := svc.Auth().EnsureUser(ctx, u.name, u.role, u.scope, u.password); err != nil {
			svc.Close()
			cams.Close()
			return fmt.Errorf("demo user %s: %w", u.name, err)
		}
	}
	fmt.Fprintf(stdout, "hallwatch demo: %d simulated hall cameras, configuration in %s\n", len(demoHalls), path)
	fmt.Fprintf(stdout, "open http://%s/ in a browser and log in as one of (Ctrl-C stops):\n", svc.Addr())
	for _, u := range demoUsers {
		fmt.Fprintf(stdout, "  %-10s password %-18s %s\n", u.name, u.password, u.what)
	}

	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return cams.Run(ctx) })
	g.Go(func() error { return svc.Run(ctx) })
	if err := g.Wait(); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}

// truthWriter returns the OnTruth callback writing JSON Lines to path (none
// when path is empty); the cameras call it from their own goroutines.
func truthWriter(path string) (func(demo.TruthEvent), func(), error) {
	if path == "" {
		return nil, func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	write := func(ev demo.TruthEvent) {
		mu.Lock()
		defer mu.Unlock()
		demo.WriteTruth(f, ev)
	}
	return write, func() { mu.Lock(); f.Close(); mu.Unlock() }, nil
}

// writeDemoConfig saves the demo's configuration as a file, so the user
// can read it, copy it and run `hallwatch serve` on it.
func writeDemoConfig(path string, cams *demo.Camera, listen, db string) error {
	cfg := config.Default()
	cfg.HTTP.Listen = listen
	cfg.Storage.Path = db
	cfg.Alerts.CameraOfflineAfter = config.Duration(30 * time.Second)
	// The demo records too (playback, alert clips), within a small budget
	// (its halls are ~1 Mbit/s: about 10 GB per camera and day).
	cfg.Record.Retain = config.Duration(7 * 24 * time.Hour)
	cfg.Record.MaxSize = 4 << 30
	cams.AddTo(cfg, demoHalls)
	data, err := yaml.Marshal(cfg)
	if err != nil {
		return err
	}
	header := "# Written by `hallwatch demo`; copy it and run `hallwatch serve --config` on the copy.\n"
	return os.WriteFile(path, append([]byte(header), data...), 0o640)
}
