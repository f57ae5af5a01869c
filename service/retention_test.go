package service

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/store"
)

// TestRetentionRunsInServe starts `serve` on a database holding records
// older than a short retention and recent ones: at start the old events,
// snapshots and audit entries go, the recent ones and all hourly counts
// stay, and the metrics say what was removed.
func TestRetentionRunsInServe(t *testing.T) {
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "hallwatch.db")
	st, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skip("no zone database:", err)
	}
	now := time.Now()
	old, recent := now.Add(-3*time.Hour), now.Add(-10*time.Minute)
	var evs []store.EventRecord
	for i := range 35 {
		at := recent.Add(time.Duration(i) * time.Second)
		if i < 30 {
			at = old.Add(time.Duration(i) * time.Second)
		}
		evs = append(evs, store.EventRecord{Event: events.Event{Type: events.TypeCrossing, Camera: "hall", Line: "door",
			Direction: events.DirectionIn, Time: at}, District: "dongcheng", Center: "jingshan", Loc: sh})
	}
	if err := st.AppendEvents(ctx, evs); err != nil {
		t.Fatal(err)
	}
	jpeg := []byte{0xFF, 0xD8, 0xFF, 0xD9}
	var alertIDs []int64
	for i, at := range []time.Time{old, recent} {
		a, _, err := st.RaiseAlert(ctx, store.AlertRecord{Kind: events.KindUnstaffed, District: "dongcheng", Center: "jingshan",
			Camera: "hall", Window: fmt.Sprintf("w%d", i+1), RaisedAt: at, Snapshot: jpeg}, nil)
		if err != nil {
			t.Fatal(err)
		}
		alertIDs = append(alertIDs, a.ID)
	}
	for _, at := range []time.Time{old, old, recent} {
		if err := st.AppendAudit(ctx, store.AuditEntry{Time: at, User: "admin", Action: "login"}); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	cfg := testConfig(t, dbPath)
	cfg.Retention.Events, cfg.Retention.Snapshots, cfg.Retention.Audit = config.Duration(time.Hour), config.Duration(time.Hour), config.Duration(time.Hour)
	cfg.Districts = []config.District{{ID: "dongcheng", Name: "东城区", Centers: []config.Center{{ID: "jingshan", Name: "景山",
		Cameras: []config.Camera{{ID: "hall", Name: "大厅", URL: "rtsp://127.0.0.1:9/none"}}}}}}
	r := startServiceConfig(t, cfg)

	want := map[string]float64{"events": 30, "snapshots": 1, "audit": 2}
	waitFor(t, "retention's counts in the metrics", 30*time.Second, func() bool {
		got := r.metricValues(t, "hallwatch_retention_purged_total")
		for kind, n := range want {
			if got[`kind="`+kind+`"`] != n {
				return false
			}
		}
		return true
	})
	if ts := r.metricValues(t, "hallwatch_retention_last_run_timestamp_seconds")[""]; ts < float64(now.Unix()) {
		t.Errorf("last run timestamp %v, before the service started", ts)
	}
	left, err := r.svc.store.Events(ctx, store.EventQuery{})
	if err != nil || len(left) != 5 {
		t.Errorf("%d events left, want the 5 recent ones (%v)", len(left), err)
	}
	for i, id := range alertIDs {
		a, err := r.svc.store.Alert(ctx, id)
		if err != nil || a.HasSnapshot != (i == 1) {
			t.Errorf("alert %d: %+v, %v; only the recent one keeps its snapshot, both rows stay", id, a, err)
		}
	}
	audit, _ := r.svc.store.Audit(ctx, store.AuditQuery{To: now.Add(-time.Hour)})
	if len(audit) != 0 {
		t.Errorf("audit entries older than the retention left: %+v", audit)
	}
	days, _ := r.svc.store.Counts(ctx, store.CountQuery{Bucket: store.BucketDay})
	in := 0
	for _, d := range days {
		in += d.In
	}
	if in != 35 {
		t.Errorf("hourly counts say %d crossings after the purge, want all 35", in)
	}
}

// metricValues scrapes /metrics and returns the named metric's samples
// by label set ("" without labels).
func (r *rig) metricValues(t *testing.T, name string) map[string]float64 {
	t.Helper()
	resp := r.get(t, "/metrics")
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, name)
		if !ok || (rest != "" && rest[0] != '{' && rest[0] != ' ') {
			continue
		}
		labels := ""
		if strings.HasPrefix(rest, "{") {
			end := strings.Index(rest, "}")
			labels, rest = rest[1:end], rest[end+1:]
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64); err == nil {
			out[labels] = v
		}
	}
	return out
}

// fakePurger counts purges; the first ones fail as a database that is down.
type fakePurger struct {
	mu    sync.Mutex
	fails int
	runs  int
}

func (f *fakePurger) Purge(context.Context, store.PurgeBefore) (store.PurgeResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.runs++
	if f.fails > 0 {
		f.fails--
		return store.PurgeResult{Events: 1}, errors.New("database down")
	}
	return store.PurgeResult{Events: 10, Audit: 1}, nil
}

func (f *fakePurger) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs
}

// Retention runs again every period, and sooner after a failure.
func TestRetentionRepeats(t *testing.T) {
	p := &fakePurger{fails: 1}
	r := newRetention(p, config.Default().Retention, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.every, r.retry = 20*time.Millisecond, 10*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	waitFor(t, "four purges", 30*time.Second, func() bool { return p.count() >= 4 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	purged, last := r.stats()
	if runs := p.count(); purged["events"] != 1+10*int64(runs-1) || purged["audit"] != int64(runs-1) || last.IsZero() {
		t.Errorf("after %d runs (one failed): purged %v, last %v", runs, purged, last)
	}
}
