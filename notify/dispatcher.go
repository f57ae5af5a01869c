package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/internal/clock"
	"github.com/hallwatch/hallwatch/store"
)

// Outbox is the durable queue of messages (store.Store implements it).
type Outbox interface {
	EnqueueNotification(ctx context.Context, target string, payload []byte) (int64, error)
	PendingNotifications(ctx context.Context, target string, dueBy time.Time, n int) ([]store.Notification, error)
	MarkNotificationDone(ctx context.Context, id int64) error
	MarkNotificationFailed(ctx context.Context, id int64, errText string, nextAttempt time.Time) error
}

// Options tunes a Dispatcher; zero values take the defaults.
type Options struct {
	// Location is the time zone of texts for messages without one; default
	// Asia/Shanghai.
	Location *time.Location
	Log      *slog.Logger
	Clock    clock.Clock // default: the system clock
	// QueueSize is how many messages a target's worker holds in memory;
	// the rest wait in the outbox. Default 64.
	QueueSize int
	// MinBackoff and MaxBackoff bound the wait between attempts while a
	// target fails: MinBackoff doubling up to MaxBackoff, with jitter.
	// Defaults 2 s and 10 min.
	MinBackoff time.Duration
	MaxBackoff time.Duration
	// A message is given up after MaxAttempts failed attempts (default 20,
	// about 2 hours with the default backoff) or once older than MaxAge
	// (default 24 h). Given-up messages stay in the outbox for review.
	MaxAttempts int
	MaxAge      time.Duration
	// Shared: several hallwatch nodes share the outbox, and each target is
	// delivered by Deliver on the one node holding its lease (package
	// cluster) instead of by Run. Status then counts only what this node
	// delivers.
	Shared bool
}

func (o *Options) setDefaults() {
	if o.Location == nil {
		o.Location = defaultLocation()
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Clock == nil {
		o.Clock = clock.System{}
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 64
	}
	if o.MinBackoff <= 0 {
		o.MinBackoff = 2 * time.Second
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 10 * time.Minute
	}
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 20
	}
	if o.MaxAge <= 0 {
		o.MaxAge = 24 * time.Hour
	}
}

// defaultLocation is Asia/Shanghai, or its fixed offset (China has had no
// daylight saving time since 1991) where the zone database is missing.
func defaultLocation() *time.Location {
	if loc, err := time.LoadLocation(config.DefaultTimezone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}

// Dispatcher renders alert messages into the outbox and delivers them.
type Dispatcher struct {
	outbox  Outbox
	o       Options
	client  *http.Client
	workers []*worker // in configuration order
	started atomic.Bool

	// countMu keeps Queued's pending counts apart from the outbox scan at
	// the start of Run, so that no message is counted twice.
	countMu sync.Mutex
	scanned map[int64]bool // ids the scan counted; nil before it ran
}

// New checks the notifiers and compiles their templates; an error names
// the notifier. Nothing is sent before Run.
func New(targets []config.Notifier, outbox Outbox, opts Options) (*Dispatcher, error) {
	if outbox == nil {
		return nil, errors.New("notify: no outbox")
	}
	opts.setDefaults()
	d := &Dispatcher{outbox: outbox, o: opts, client: newClient()}
	seen := map[string]bool{}
	for _, n := range targets {
		t, err := newTarget(n)
		if err != nil {
			return nil, fmt.Errorf("notify: %w", err)
		}
		if seen[t.id] {
			return nil, fmt.Errorf("notify: duplicate notifier id %q", t.id)
		}
		seen[t.id] = true
		d.workers = append(d.workers, newWorker(t, d))
	}
	return d, nil
}

// newClient makes the HTTP client of all targets. Redirects are not
// followed: a webhook that redirects is misconfigured, and following would
// hand the message to another host.
func newClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// Messages renders m for every target whose filters match: the outbox
// messages (Target and Payload) to store, in the same transaction as the
// alert change they announce (store.Announce), then to pass to Queued. An
// error names the targets whose body could not be rendered; the others are
// returned.
func (d *Dispatcher) Messages(m Message) ([]store.Notification, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if m.Location == nil {
		m.Location = d.o.Location
	}
	m.At = m.At.In(m.Location)
	var (
		out  []store.Notification
		errs []error
	)
	for _, w := range d.workers {
		if !w.t.matches(m) {
			continue
		}
		body, err := w.t.body(m)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: alert %d to notifier %q: %w", m.AlertID, w.t.id, err))
			continue
		}
		out = append(out, store.Notification{Target: w.t.id, Payload: body})
	}
	return out, errors.Join(errs...)
}

// Queued tells the targets' workers about messages now committed to the
// outbox (with their ids), so they count and deliver them.
func (d *Dispatcher) Queued(ns []store.Notification) {
	d.countMu.Lock()
	defer d.countMu.Unlock()
	for _, n := range ns {
		if d.scanned[n.ID] {
			continue // committed before the scan of Run, which counted it
		}
		for _, w := range d.workers {
			if w.t.id != n.Target || (d.o.Shared && !w.delivering.Load()) {
				continue
			}
			w.update(func(st *TargetStatus) { st.Pending++ })
			w.wake()
		}
	}
}

// Notify queues m for every matching target in the outbox on its own (not
// with an alert change) and wakes the targets' workers; it does not wait
// for delivery. An error names the targets it failed for; the others are
// queued.
func (d *Dispatcher) Notify(ctx context.Context, m Message) error {
	msgs, err := d.Messages(m)
	errs := []error{err}
	var queued []store.Notification
	for _, n := range msgs {
		id, err := d.outbox.EnqueueNotification(ctx, n.Target, n.Payload)
		if err != nil {
			errs = append(errs, fmt.Errorf("notify: alert %d to notifier %q: %w", m.AlertID, n.Target, err))
			continue
		}
		n.ID = id
		queued = append(queued, n)
	}
	d.Queued(queued)
	return errors.Join(errs...)
}

// Run delivers messages until ctx ends, one worker per target, and returns
// nil once all of them have stopped. It first reads the outbox once to count
// what a previous run left (and gives up messages of notifiers no longer
// configured); it returns an error if it cannot. It may be called once.
func (d *Dispatcher) Run(ctx context.Context) error {
	if !d.started.CompareAndSwap(false, true) {
		return errors.New("notify: Run called twice")
	}
	defer d.client.CloseIdleConnections()
	if err := d.countOutbox(ctx); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	var wg sync.WaitGroup
	for _, w := range d.workers {
		wg.Go(func() { w.run(ctx) })
	}
	wg.Wait()
	return nil
}

// Deliver delivers one target's messages until ctx ends, for a node of a
// cluster holding the target's lease (Options.Shared): one node at a time
// sends a target's messages, so each goes out once and in order. Other
// nodes queue messages too, so while idle the worker reads the outbox
// again every poll. A target is delivered by one Deliver at a time.
func (d *Dispatcher) Deliver(ctx context.Context, target string, poll time.Duration) error {
	if !d.o.Shared {
		return errors.New("notify: Deliver needs Options.Shared (use Run on a single node)")
	}
	var w *worker
	for _, c := range d.workers {
		if c.t.id == target {
			w = c
		}
	}
	if w == nil {
		return fmt.Errorf("notify: no notifier %q", target)
	}
	if !w.delivering.CompareAndSwap(false, true) {
		return fmt.Errorf("notify: notifier %q is delivered already", target)
	}
	defer w.delivering.Store(false)
	// What a previous hold left in memory may have been sent since by
	// another node: start from the outbox.
	w.queue, w.failures, w.notBefore, w.poll = nil, 0, time.Time{}, poll
	w.update(func(st *TargetStatus) { st.Pending, st.Queued = 0, 0 })
	w.run(ctx)
	return nil
}

// everything is a due time later than any stored one: workers read
// messages whatever their next attempt, to keep them in order.
var everything = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// countOutbox counts the messages a previous run left for each target and
// gives up those for notifiers no longer configured, which nobody would
// ever deliver.
func (d *Dispatcher) countOutbox(ctx context.Context) error {
	d.countMu.Lock()
	defer d.countMu.Unlock()
	left, err := d.outbox.PendingNotifications(ctx, "", everything, 0)
	if err != nil {
		return fmt.Errorf("notify: read the outbox: %w", err)
	}
	d.scanned = make(map[int64]bool, len(left))
	counts := map[string]int{}
	for _, w := range d.workers {
		counts[w.t.id] = 0
	}
	orphans := 0
	for _, n := range left {
		d.scanned[n.ID] = true
		if _, ok := counts[n.Target]; ok {
			counts[n.Target]++
			continue
		}
		orphans++
		reason := fmt.Sprintf("notifier %q is no longer configured", n.Target)
		if err := d.outbox.MarkNotificationFailed(ctx, n.ID, reason, time.Time{}); err != nil {
			return fmt.Errorf("notify: give up message %d: %w", n.ID, err)
		}
	}
	// The scan saw every message Queued has counted so far: it replaces them.
	for _, w := range d.workers {
		w.update(func(st *TargetStatus) { st.Pending = counts[w.t.id] })
	}
	if orphans > 0 {
		d.o.Log.Warn("gave up messages of notifiers no longer configured", "messages", orphans)
	}
	return nil
}

// TargetStatus is a notifier's delivery state, for pages and metrics.
// Counters count since the dispatcher was made.
type TargetStatus struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	URL  string `json:"url"` // access keys masked
	// Pending messages are in the outbox, neither delivered nor given up;
	// Queued of them are held in memory by the worker.
	Pending       int   `json:"pending"`
	Queued        int   `json:"queued"`
	QueueCapacity int   `json:"queue_capacity"` // Options.QueueSize
	Delivered     int64 `json:"delivered"`
	Failed        int64 `json:"failed"`  // failed attempts
	GaveUp        int64 `json:"gave_up"` // messages abandoned
	// LastError is the last attempt's error (no secrets in it), empty when
	// it succeeded.
	LastError   string    `json:"last_error,omitempty"`
	LastAttempt time.Time `json:"last_attempt,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
	// RetryAt is when a failing target is tried next; zero when it is not
	// backing off.
	RetryAt time.Time `json:"retry_at,omitzero"`
}

// Status reports every target in configuration order.
func (d *Dispatcher) Status() []TargetStatus {
	out := make([]TargetStatus, len(d.workers))
	for i, w := range d.workers {
		out[i] = w.status()
	}
	return out
}
