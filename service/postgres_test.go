package service

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/internal/pgtest"
	"github.com/hallwatch/hallwatch/internal/whepclient"
	"github.com/hallwatch/hallwatch/store"
)

// TestServeOnPostgresSurvivesOutage runs the service on PostgreSQL with a
// simulated hall and a viewer, then stops the database for a while: the
// viewer keeps watching, analysis goes on, its events wait in memory, and
// once PostgreSQL is back they are written; the service never stops.
func TestServeOnPostgresSurvivesOutage(t *testing.T) {
	srv := pgtest.Start(t)
	ctx := context.Background()
	dsn, err := srv.CreateDB(ctx, "hallwatch")
	if err != nil {
		t.Fatal(err)
	}
	cam := runDemoCamera(t, busyHall)
	cfg := testConfig(t, filepath.Join(t.TempDir(), "unused.db"))
	cfg.Storage.Driver, cfg.Storage.DSN = store.DriverPostgres, dsn
	cam.AddTo(cfg, []demo.Hall{{District: "dongcheng", DistrictName: "东城区", Center: "jingshan", CenterName: "景山",
		Camera: "hall", CameraName: "大厅"}})
	r := startServiceConfig(t, cfg)
	if d := r.svc.store.Driver(); d != store.DriverPostgres {
		t.Fatalf("service runs on %s", d)
	}
	waitFor(t, "camera live", 30*time.Second, func() bool { return r.cameraState(t, "hall")["state"] == "live" })
	viewer, err := whepclient.Connect(ctx, whepclient.HTTP(http.DefaultClient, r.base+"/whep/hall", r.admin, nil), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer viewer.Close()
	receive := func(n int) {
		t.Helper()
		for i := range n {
			select {
			case <-viewer.Units():
			case <-time.After(20 * time.Second):
				t.Fatalf("viewer stalled after %d units", i)
			}
		}
	}
	receive(10)
	waitFor(t, "first events stored", 90*time.Second, func() bool {
		evs, err := r.svc.store.Events(ctx, store.EventQuery{Limit: 1})
		return err == nil && len(evs) > 0
	})

	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	an := r.svc.cameras["hall"].analysis
	analysed := an.Status().Analysed
	waitFor(t, "events waiting while the database is down", 90*time.Second, func() bool {
		st := r.svc.writer.Stats()
		return st.Queued > 0 && st.Failures > 0 && !st.Up
	})
	receive(50) // live view goes on
	waitFor(t, "analysis going on", 60*time.Second, func() bool { return an.Status().Analysed > analysed+20 })
	waiting := r.svc.writer.Stats().Queued
	select {
	case err := <-r.done:
		t.Fatalf("service stopped while the database was down: %v", err)
	default:
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the waiting events written", 90*time.Second, func() bool {
		st := r.svc.writer.Stats()
		return st.Up && st.Queued == 0
	})
	receive(10)
	metrics := r.metricValues(t, "hallwatch_store_up")
	if metrics[""] != 1 {
		t.Errorf("hallwatch_store_up = %v after the database returned", metrics)
	}
	dropped := r.metricValues(t, "hallwatch_store_dropped_events_total")[""]
	failures := r.metricValues(t, "hallwatch_store_write_failures_total")[""]
	if dropped != 0 || failures == 0 {
		t.Errorf("dropped %v events, %v failed writes; want none dropped, failures counted", dropped, failures)
	}
	if logs := r.logs.String(); strings.Contains(logs, srv.Password()) || !strings.Contains(logs, "postgres://***@127.0.0.1") {
		t.Errorf("the log shows the DSN's password, or not the masked DSN:\n%s", logs)
	}
	t.Logf("%d events waited for PostgreSQL; %v failed write attempts", waiting, failures)
}

// A wrong DSN stops the service at start with an error naming
// storage.dsn and the reason, without the password.
func TestServeRefusesBadDSN(t *testing.T) {
	srv := pgtest.Start(t)
	cfg := testConfig(t, filepath.Join(t.TempDir(), "unused.db"))
	cfg.Storage.Driver = store.DriverPostgres
	for dsn, why := range map[string]string{
		strings.Replace(srv.DSN("postgres"), srv.Password(), "wrong-Pa55", 1): "password authentication failed",
		srv.DSN("no_such_db"):                     `database "no_such_db" does not exist`,
		"postgres://hw:wrong-Pa55@127.0.0.1:1/hw": "connection refused",
	} {
		cfg.Storage.DSN = dsn
		_, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil || !strings.HasPrefix(err.Error(), "storage.dsn: ") || !strings.Contains(err.Error(), why) {
			t.Errorf("DSN %s: error %v, want storage.dsn: … %s", cfg.Storage.SafeDSN(), err, why)
		}
		t.Logf("%v", err)
		if err != nil && (strings.Contains(err.Error(), "Pa55") || strings.Contains(err.Error(), srv.Password())) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}
