package notify

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hallwatch/hallwatch/store"
)

// bookkeepingTimeout bounds the outbox writes after an attempt. They run
// even while Run is stopping: a delivered message must not be sent again.
const bookkeepingTimeout = 5 * time.Second

// worker delivers one target's messages in order. It holds at most
// QueueSize of them in memory and reads more from the outbox when those
// are done. While the first message fails, the others wait behind it: the
// target is down for all of them, and a "resolved" must not arrive before
// its "raised".
type worker struct {
	t      *target
	d      *Dispatcher
	signal chan struct{} // Notify queued something; capacity 1
	// delivering: Deliver runs this worker (Options.Shared).
	delivering atomic.Bool

	// Used by run only.
	queue     []store.Notification
	failures  int           // consecutive failed attempts
	notBefore time.Time     // end of the current backoff
	poll      time.Duration // read the outbox this often while idle (Deliver); 0: wait to be woken

	mu sync.Mutex
	st TargetStatus
}

func newWorker(t *target, d *Dispatcher) *worker {
	return &worker{t: t, d: d, signal: make(chan struct{}, 1),
		st: TargetStatus{ID: t.id, Kind: t.kind, URL: t.redacted, QueueCapacity: d.o.QueueSize}}
}

func (w *worker) wake() {
	select {
	case w.signal <- struct{}{}:
	default: // a wake-up is pending already
	}
}

func (w *worker) run(ctx context.Context) {
	o := &w.d.o
	outboxFailures := 0
	for ctx.Err() == nil {
		if len(w.queue) == 0 {
			if err := w.fill(ctx); err != nil {
				if ctx.Err() != nil {
					return
				}
				outboxFailures++
				o.Log.Error("notifier cannot read its messages", "notifier", w.t.id, "err", err)
				w.update(func(st *TargetStatus) { st.LastError = err.Error() })
				w.sleep(ctx, backoff(outboxFailures, o.MinBackoff, o.MaxBackoff))
				continue
			}
			outboxFailures = 0
			if len(w.queue) == 0 {
				w.idle(ctx)
				continue
			}
		}
		if wait := w.dueAt(&w.queue[0]).Sub(o.Clock.Now()); wait > 0 {
			w.sleep(ctx, wait)
			continue
		}
		w.attempt(ctx, &w.queue[0])
	}
}

// idle waits for a message: a wake-up, or the next poll.
func (w *worker) idle(ctx context.Context) {
	var poll <-chan time.Time
	if w.poll > 0 {
		t := w.d.o.Clock.NewTimer(w.poll)
		defer t.Stop()
		poll = t.C()
	}
	select {
	case <-ctx.Done():
	case <-w.signal:
	case <-poll:
	}
}

// fill reads the target's oldest messages from the outbox, in the order
// they were queued. A previous run's failures carry on.
func (w *worker) fill(ctx context.Context) error {
	msgs, err := w.d.outbox.PendingNotifications(ctx, w.t.id, everything, w.d.o.QueueSize)
	if err != nil {
		return fmt.Errorf("read the outbox: %w", err)
	}
	slices.SortFunc(msgs, func(a, b store.Notification) int { return cmp.Compare(a.ID, b.ID) })
	w.queue = msgs
	if len(msgs) > 0 && w.failures == 0 {
		w.failures = msgs[0].Attempts
	}
	w.update(func(st *TargetStatus) {
		st.Queued = len(w.queue)
		// Shared outbox: other nodes queue messages this one never counted.
		if w.d.o.Shared && (len(msgs) < w.d.o.QueueSize || st.Pending < len(msgs)) {
			st.Pending = len(msgs)
		}
	})
	return nil
}

// dueAt is when n may be tried: after the target's backoff and, for a
// message that failed before, the retry time stored with it.
func (w *worker) dueAt(n *store.Notification) time.Time {
	if n.Attempts > 0 && n.NextAttempt.After(w.notBefore) {
		return n.NextAttempt
	}
	return w.notBefore
}

func (w *worker) sleep(ctx context.Context, d time.Duration) {
	t := w.d.o.Clock.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C():
	}
}

func (w *worker) attempt(ctx context.Context, n *store.Notification) {
	o := &w.d.o
	book, cancel := context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
	defer cancel()
	now := o.Clock.Now()
	if age := now.Sub(n.CreatedAt); age >= o.MaxAge {
		w.giveUp(book, n, fmt.Sprintf("not delivered within %v; last error: %s", o.MaxAge, cmp.Or(n.LastError, "none")))
		return
	}
	w.update(func(st *TargetStatus) { st.LastAttempt = now })
	err := w.t.send(ctx, w.d.client, now, n.Payload)
	if err != nil && ctx.Err() != nil {
		return // stopping: the attempt does not count, the message stays
	}
	if err == nil {
		if err := w.d.outbox.MarkNotificationDone(book, n.ID); err != nil {
			o.Log.Error("notification delivered but not marked done; it may be sent again",
				"notifier", w.t.id, "id", n.ID, "err", err)
		}
		w.failures, w.notBefore = 0, time.Time{}
		w.pop()
		w.update(func(st *TargetStatus) {
			st.Delivered++
			st.LastSuccess, st.LastError, st.RetryAt = now, "", time.Time{}
		})
		o.Log.Debug("notification delivered", "notifier", w.t.id, "id", n.ID)
		return
	}
	text := err.Error()
	w.failures++
	w.notBefore = now.Add(backoff(w.failures, o.MinBackoff, o.MaxBackoff))
	w.fail(text)
	n.Attempts++
	n.LastError = text
	if n.Attempts >= o.MaxAttempts {
		w.giveUp(book, n, fmt.Sprintf("%d attempts failed; last error: %s", n.Attempts, text))
		return
	}
	n.NextAttempt = w.notBefore
	if err := w.d.outbox.MarkNotificationFailed(book, n.ID, text, n.NextAttempt); err != nil {
		o.Log.Error("notification retry not recorded", "notifier", w.t.id, "id", n.ID, "err", err)
	}
	o.Log.Warn("notification failed, will retry", "notifier", w.t.id, "kind", w.t.kind, "id", n.ID,
		"attempt", n.Attempts, "retry_in", w.notBefore.Sub(now).Round(time.Millisecond), "err", text)
}

// giveUp abandons n; it stays in the outbox for review.
func (w *worker) giveUp(ctx context.Context, n *store.Notification, reason string) {
	if err := w.d.outbox.MarkNotificationFailed(ctx, n.ID, reason, time.Time{}); err != nil {
		w.d.o.Log.Error("giving up a notification not recorded", "notifier", w.t.id, "id", n.ID, "err", err)
	}
	w.d.o.Log.Error("notification given up", "notifier", w.t.id, "kind", w.t.kind, "id", n.ID, "reason", reason)
	w.pop()
	w.update(func(st *TargetStatus) { st.GaveUp++ })
}

// pop removes the first message, delivered or given up.
func (w *worker) pop() {
	w.queue[0] = store.Notification{} // release the payload
	w.queue = w.queue[1:]
	w.update(func(st *TargetStatus) {
		st.Queued = len(w.queue)
		st.Pending = max(st.Pending-1, 0)
	})
}

func (w *worker) fail(text string) {
	w.update(func(st *TargetStatus) {
		st.Failed++
		st.LastError, st.RetryAt = text, w.notBefore
	})
}

func (w *worker) update(fn func(*TargetStatus)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	fn(&w.st)
}

func (w *worker) status() TargetStatus {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st
}
