package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/store"
)

// hungStore is a database whose writes hang until released: a disk that
// stopped answering, or a slow one at its worst.
type hungStore struct {
	inner   eventStore
	release chan struct{} // closed: writes go through
	mu      sync.Mutex
	written [][]store.EventRecord
}

func newHungStore(inner eventStore) *hungStore {
	return &hungStore{inner: inner, release: make(chan struct{})}
}

func (h *hungStore) AppendEvents(ctx context.Context, evs []store.EventRecord) error {
	select {
	case <-h.release:
	case <-ctx.Done():
		return ctx.Err()
	}
	if h.inner != nil {
		if err := h.inner.AppendEvents(ctx, evs); err != nil {
			return err
		}
	}
	h.mu.Lock()
	h.written = append(h.written, evs)
	h.mu.Unlock()
	return nil
}

func (h *hungStore) tracks() []int {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []int
	for _, b := range h.written {
		for _, e := range b {
			out = append(out, e.Track)
		}
	}
	return out
}

// alertLog records what the alert lifecycle is handed, in order.
type alertLog struct {
	mu     sync.Mutex
	tracks []int
	snaps  []string
}

func (a *alertLog) Record(_ context.Context, _ config.CameraRef, evs []events.Event, snapshot func(string) []byte) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range evs {
		a.tracks = append(a.tracks, e.Track)
		if e.Type == events.TypeAlert && e.State == events.AlertRaised {
			a.snaps = append(a.snaps, string(snapshot(e.Window)))
		}
	}
	return nil
}

func (a *alertLog) got() ([]int, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]int(nil), a.tracks...), append([]string(nil), a.snaps...)
}

func writerRef(t testing.TB) config.CameraRef {
	t.Helper()
	cfg := config.Default()
	cfg.Districts = []config.District{{ID: "d1", Centers: []config.Center{{ID: "c1", Timezone: "Asia/Shanghai",
		Cameras: []config.Camera{{ID: "cam1"}}}}}}
	ref, ok := cfg.Camera("cam1")
	if !ok {
		t.Fatal("no camera")
	}
	return ref
}

func crossingAt(track int) events.Event {
	return events.Event{Type: events.TypeCrossing, Camera: "cam1", Line: "door", Direction: events.DirectionIn,
		Track: track, Time: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC).Add(time.Duration(track) * time.Second)}
}

// bounded runs fn and fails the test if it has not returned within a
// bound far above any normal duration: it detects a call that hangs.
func bounded(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { fn(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatalf("%s hangs while the database does not answer", what)
	}
}

// With the database hung, recording (what the analysis goroutine does)
// still returns at once: events wait in a bounded queue, the overflow is
// dropped and counted, alerts keep a reserve; once the database answers,
// everything queued is written and handed to the alert lifecycle in order.
func TestWriterNeverBlocksAnalysis(t *testing.T) {
	ref := writerRef(t)
	db := newHungStore(nil)
	alerts := &alertLog{}
	w := newWriter(db, alerts, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	w.limit = 100
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()

	const recorded = 300
	bounded(t, "recording events", func() {
		for i := 1; i <= recorded; i++ {
			w.record(ctx, ref, []events.Event{crossingAt(i)}, nil)
		}
	})
	raise := events.Event{Type: events.TypeAlert, Kind: events.KindUnstaffed, State: events.AlertRaised,
		Camera: "cam1", Window: "w1", Track: recorded + 1, Time: time.Now()}
	bounded(t, "recording an alert", func() {
		w.record(ctx, ref, []events.Event{raise}, func(window string) []byte { return []byte("jpeg of " + window) })
	})
	st := w.Stats()
	if st.Queued != w.limit+1 || st.Dropped != recorded-uint64(w.limit) {
		t.Fatalf("with the database hung: %d queued, %d dropped; want %d queued (the bound and the alert), %d dropped",
			st.Queued, st.Dropped, w.limit+1, recorded-w.limit)
	}

	close(db.release)
	waitFor(t, "the queue written", 30*time.Second, func() bool { return w.Stats().Queued == 0 })
	var want []int
	for i := 1; i <= w.limit; i++ {
		want = append(want, i)
	}
	want = append(want, recorded+1)
	if got := db.tracks(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("written %v,\nwant %v", got, want)
	}
	waitFor(t, "the alert lifecycle handed everything", 30*time.Second, func() bool {
		got, _ := alerts.got()
		return len(got) == len(want)
	})
	got, snaps := alerts.got()
	if fmt.Sprint(got) != fmt.Sprint(want) || fmt.Sprint(snaps) != "[jpeg of w1]" {
		t.Errorf("alert lifecycle got %v with snapshots %q", got, snaps)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// flakyStore fails its first writes, as a database that is restarting.
type flakyStore struct {
	mu       sync.Mutex
	failures int
	written  int
}

func (f *flakyStore) AppendEvents(_ context.Context, evs []store.EventRecord) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failures > 0 {
		f.failures--
		return errors.New("connection refused")
	}
	f.written += len(evs)
	return nil
}

// Failed writes are retried until they succeed; invalid events are
// dropped alone, the others of their batch written; stopping writes what
// is queued.
func TestWriterRetriesAndFlushes(t *testing.T) {
	ref := writerRef(t)
	db := &flakyStore{failures: 3}
	w := newWriter(db, &alertLog{}, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	for i := 1; i <= 10; i++ {
		w.record(ctx, ref, []events.Event{crossingAt(i)}, nil)
	}
	waitFor(t, "written after the failures", 30*time.Second, func() bool { return w.Stats().Queued == 0 })
	if st := w.Stats(); st.Failures != 3 || !st.Up || st.Dropped != 0 {
		t.Errorf("stats after recovery: %+v", st)
	}
	cancel()
	<-done
	// Stopped: a record made now is written by the next Run's flush.
	w.record(context.Background(), ref, []events.Event{crossingAt(11)}, nil)
	stopped, stop := context.WithCancel(context.Background())
	stop()
	if err := w.Run(stopped); err != nil {
		t.Fatal(err)
	}
	if db.written != 11 || w.Stats().Queued != 0 {
		t.Errorf("written %d events, %d still queued; want 11 and 0", db.written, w.Stats().Queued)
	}
}

func TestWriterDropsOnlyInvalidEvents(t *testing.T) {
	ref := writerRef(t)
	st, err := store.Open(context.Background(), t.TempDir()+"/w.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	alerts := &alertLog{}
	w := newWriter(st, alerts, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	bad := crossingAt(2)
	bad.Direction = "sideways"
	for _, e := range []events.Event{crossingAt(1), bad, crossingAt(3)} {
		w.record(context.Background(), ref, []events.Event{e}, nil)
	}
	stopped, stop := context.WithCancel(context.Background())
	stop()
	w.Run(stopped) // flushes
	evs, err := st.Events(context.Background(), store.EventQuery{})
	if err != nil || len(evs) != 2 || evs[0].Track != 1 || evs[1].Track != 3 {
		t.Errorf("stored %+v, %v; want tracks 1 and 3", evs, err)
	}
	if got, _ := alerts.got(); fmt.Sprint(got) != "[1 3]" || w.Stats().Dropped != 1 {
		t.Errorf("alert lifecycle got %v, dropped %d", got, w.Stats().Dropped)
	}
}
