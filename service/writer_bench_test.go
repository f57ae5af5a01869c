package service

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/store"
)

// slowDisk delays every write as a disk with a slow fsync does (SD cards,
// busy network storage), in front of a real SQLite store.
type slowDisk struct {
	inner eventStore
	delay time.Duration
}

func (d slowDisk) AppendEvents(ctx context.Context, evs []store.EventRecord) error {
	time.Sleep(d.delay)
	return d.inner.AppendEvents(ctx, evs)
}

// BenchmarkRecordSlowDisk measures what recording one frame's events
// costs the camera's analysis goroutine when every database write takes
// 20 ms more: "synchronous" writes on the caller as hallwatch did before
// the writer (the baseline), "writer" queues them for the writer goroutine.
// ns/op is the time analysis is held per frame with events.
func BenchmarkRecordSlowDisk(b *testing.B) {
	ref := writerRef(b)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	evs := []events.Event{crossingAt(1), crossingAt(2)}
	for _, mode := range []string{"synchronous", "writer"} {
		b.Run(mode, func(b *testing.B) {
			st, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "b.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			disk := slowDisk{inner: st, delay: 20 * time.Millisecond}
			alerts := &alertLog{}
			w := newWriter(disk, alerts, nil, log)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- w.Run(ctx) }()
			record := w.record
			if mode == "synchronous" {
				record = func(ctx context.Context, ref config.CameraRef, evs []events.Event, snapshot func(string) []byte) {
					recs := make([]store.EventRecord, len(evs))
					for i, ev := range evs {
						recs[i] = store.EventRecord{Event: ev, District: ref.District.ID, Center: ref.Center.ID, Loc: ref.Center.Location()}
					}
					disk.AppendEvents(ctx, recs)
					alerts.Record(ctx, ref, evs, snapshot)
				}
			}
			for b.Loop() {
				record(ctx, ref, evs, nil)
			}
			b.StopTimer()
			cancel()
			<-done
			b.ReportMetric(float64(w.Stats().Dropped), "dropped")
		})
	}
}
