package service

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/metrics"
	"github.com/hallwatch/hallwatch/store"
)

// Bounds of the event writer.
const (
	// writerQueue is how many events wait in memory for the database at
	// most (a few MB): at a busy hall's few events a minute per camera, a
	// district's 50 cameras fill it in hours, not seconds.
	writerQueue = 20000
	// alertReserve is room kept beyond a full queue for jobs that raise or
	// resolve alerts: losing a crossing costs a count, losing an alert
	// costs a citizen.
	alertReserve = 1000
	// writerBatch bounds the events of one transaction.
	writerBatch = 500
	// writerBackoffMin and writerBackoffMax bound the wait between
	// attempts while the database fails.
	writerBackoffMin = 200 * time.Millisecond
	writerBackoffMax = 10 * time.Second
	// flushTimeout bounds writing what is left when the service stops.
	flushTimeout = 5 * time.Second
)

// eventStore is where events become durable.
type eventStore interface {
	AppendEvents(ctx context.Context, evs []store.EventRecord) error
}

// alertRecorder is the alert lifecycle, which learns of events once they
// are stored (and publishes them to live pages).
type alertRecorder interface {
	Record(ctx context.Context, ref config.CameraRef, evs []events.Event, snapshot func(window string) []byte) error
}

// writer takes database writes off the cameras' analysis goroutines.
// record queues a camera's events and returns at once, whatever the
// database does; Run stores them in batches (one transaction each), then
// hands them to the alert lifecycle in order. While the database is slow
// or down, events wait in a bounded queue and are written when it
// returns; what does not fit is dropped, counted and logged. So a slow
// disk or a database outage never stalls analysis, and the hub never
// drops the camera's units because of it.
type writer struct {
	store   eventStore
	alerts  alertRecorder
	metrics *metrics.Metrics // nil in tests: nothing observed
	log     *slog.Logger
	limit   int // events queued at most (plus alertReserve for alerts)

	wake chan struct{} // capacity 1

	mu       sync.Mutex
	queue    []writeJob
	queued   int // events in queue
	dropped  uint64
	dropping bool // logged the current run of drops
	failures uint64
	up       bool
	// unsettled counts, per camera, the jobs queued and not yet handed to
	// the alert lifecycle (settled).
	unsettled map[string]int
}

// writeJob is one camera's events of one analysed frame.
type writeJob struct {
	ref       config.CameraRef
	evs       []events.Event
	snapshots map[string][]byte // JPEG per window of the alerts it raises
	alert     bool              // raises or resolves an alert
}

func (j *writeJob) snapshot(window string) []byte { return j.snapshots[window] }

func newWriter(st eventStore, alerts alertRecorder, m *metrics.Metrics, log *slog.Logger) *writer {
	return &writer{store: st, alerts: alerts, metrics: m, log: log, limit: writerQueue,
		wake: make(chan struct{}, 1), up: true, unsettled: map[string]int{}}
}

// record queues a camera's events; it never blocks on the database. It
// renders the snapshots of raised alerts now, while the frame exists.
func (w *writer) record(_ context.Context, ref config.CameraRef, evs []events.Event, snapshot func(window string) []byte) {
	if len(evs) == 0 {
		return
	}
	j := writeJob{ref: ref, evs: slices.Clone(evs)}
	for _, ev := range evs {
		if w.metrics != nil {
			w.metrics.Events.WithLabelValues(ref.Camera.ID, ev.Type).Inc()
		}
		if ev.Type != events.TypeAlert {
			continue
		}
		j.alert = true
		if ev.State == events.AlertRaised {
			if j.snapshots == nil {
				j.snapshots = map[string][]byte{}
			}
			j.snapshots[ev.Window] = snapshot(ev.Window)
		}
	}
	w.mu.Lock()
	room := w.limit - w.queued
	if j.alert {
		room += alertReserve
	}
	if len(j.evs) > room {
		w.dropped += uint64(len(j.evs))
		first := !w.dropping
		w.dropping = true
		w.mu.Unlock()
		if first {
			w.log.Error("event queue full: events are dropped until the database catches up",
				"camera", ref.Camera.ID, "queued", w.limit)
		}
		return
	}
	w.queue = append(w.queue, j)
	w.queued += len(j.evs)
	w.unsettled[ref.Camera.ID]++
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run writes queued events until ctx ends, then tries for flushTimeout
// to write what is left.
func (w *writer) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), flushTimeout)
			defer cancel()
			w.drain(flush)
			if n := w.Stats().Queued; n > 0 {
				w.log.Error("stopping with events not written: the database did not take them in time", "events", n)
			}
			return nil
		case <-w.wake:
			w.drain(ctx)
		}
	}
}

// drain writes the queue, batch by batch, until it is empty or ctx ends.
func (w *writer) drain(ctx context.Context) {
	for ctx.Err() == nil {
		batch := w.next()
		if len(batch) == 0 {
			return
		}
		written, ok := w.write(ctx, batch)
		if !ok {
			return
		}
		w.done(len(batch))
		for i := range written {
			j := &written[i]
			if err := w.alerts.Record(ctx, j.ref, j.evs, j.snapshot); err != nil {
				w.log.Error("alert handling failed", "camera", j.ref.Camera.ID, "err", err)
			}
		}
		w.settle(batch)
	}
}

// settle marks jobs handed to the alert lifecycle, or dropped.
func (w *writer) settle(jobs []writeJob) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, j := range jobs {
		id := j.ref.Camera.ID
		if w.unsettled[id]--; w.unsettled[id] <= 0 {
			delete(w.unsettled, id)
		}
	}
}

// settled waits until every event of camera queued so far has been
// stored and handled (its alerts raised or resolved), or ctx ends: a node
// handing a camera over lets the next one find its alerts in the database.
func (w *writer) settled(ctx context.Context, camera string) bool {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		w.mu.Lock()
		n := w.unsettled[camera]
		w.mu.Unlock()
		if n == 0 {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-t.C:
		}
	}
}

// next returns the oldest jobs, up to writerBatch events (at least one
// job); they stay queued, and counted against the bound, until written.
func (w *writer) next() []writeJob {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, events := 0, 0
	for n < len(w.queue) && (n == 0 || events+len(w.queue[n].evs) <= writerBatch) {
		events += len(w.queue[n].evs)
		n++
	}
	return slices.Clone(w.queue[:n])
}

// done removes the first n jobs, written or given up.
func (w *writer) done(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, j := range w.queue[:n] {
		w.queued -= len(j.evs)
	}
	clear(w.queue[:n])
	w.queue = w.queue[n:]
	if w.queued < w.limit {
		w.dropping = false
	}
}

// write stores batch in one transaction, retrying while the database
// fails, and returns the jobs stored; false when ctx ended first. Jobs
// the store refuses as invalid are dropped, alone: one bad event must not
// hold up the others.
func (w *writer) write(ctx context.Context, batch []writeJob) ([]writeJob, bool) {
	var recs []store.EventRecord
	for _, j := range batch {
		for _, ev := range j.evs {
			recs = append(recs, store.EventRecord{Event: ev, District: j.ref.District.ID, Center: j.ref.Center.ID, Loc: j.ref.Center.Location()})
		}
	}
	for attempt := 1; ; attempt++ {
		began := time.Now()
		err := w.store.AppendEvents(ctx, recs)
		if err == nil {
			if w.metrics != nil {
				w.metrics.StoreWrite.Observe(time.Since(began).Seconds())
			}
			w.setUp(true, len(recs))
			return batch, true
		}
		if ctx.Err() != nil {
			return nil, false
		}
		if errors.Is(err, store.ErrInvalid) {
			return w.writeEach(ctx, batch, err)
		}
		w.setUp(false, 0)
		if attempt == 1 {
			w.log.Error("writing events failed; they wait in memory and are retried", "events", len(recs), "err", err)
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(backoff(attempt)):
		}
	}
}

// writeEach writes a batch the store refused job by job.
func (w *writer) writeEach(ctx context.Context, batch []writeJob, err error) ([]writeJob, bool) {
	if len(batch) == 1 {
		w.mu.Lock()
		w.dropped += uint64(len(batch[0].evs))
		w.mu.Unlock()
		w.log.Error("events refused by the database, dropped", "camera", batch[0].ref.Camera.ID, "events", len(batch[0].evs), "err", err)
		return nil, true
	}
	var written []writeJob
	for i := range batch {
		ok, more := w.write(ctx, batch[i:i+1])
		if !more {
			return nil, false
		}
		written = append(written, ok...)
	}
	return written, true
}

func (w *writer) setUp(up bool, wrote int) {
	w.mu.Lock()
	was := w.up
	w.up = up
	if !up {
		w.failures++
	}
	w.mu.Unlock()
	if up && !was {
		w.log.Info("writing events again", "events", wrote)
	}
}

// backoff doubles from writerBackoffMin up to writerBackoffMax, with
// jitter so that nodes sharing a database do not retry in step.
func backoff(attempt int) time.Duration {
	d := writerBackoffMin << min(attempt-1, 10)
	d = min(d, writerBackoffMax)
	return d/2 + rand.N(d/2+1)
}

// Stats is the writer's state for metrics and tests.
func (w *writer) Stats() metrics.Storage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return metrics.Storage{Queued: w.queued, Dropped: w.dropped, Failures: w.failures, Up: w.up}
}
