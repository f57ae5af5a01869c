package relay

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Slots bounds how many on-demand producers of one kind (transcoders) run
// at once across cameras: a crowd of viewers must not take the cores the
// relay and the analysis need. A nil *Slots is unbounded.
type Slots struct{ free chan struct{} }

// NewSlots allows n producers at once.
func NewSlots(n int) *Slots {
	s := &Slots{free: make(chan struct{}, n)}
	for range n {
		s.free <- struct{}{}
	}
	return s
}

func (s *Slots) take() bool {
	if s == nil {
		return true
	}
	select {
	case <-s.free:
		return true
	default:
		return false
	}
}

func (s *Slots) give() {
	if s != nil {
		s.free <- struct{}{}
	}
}

var errNoSlot = errors.New("no free slot")

// retryAfter is the pause before a producer that failed is run again
// (while it is still wanted).
const retryAfter = time.Second

// onDemand runs a producer while its relay has viewers, and for linger
// after the last one left (a page reload or a wall cycling through its
// cameras does not restart it). It is a Demand.
type onDemand struct {
	produce func(context.Context) error
	linger  time.Duration
	slots   *Slots
	onError func(error)

	mu       sync.Mutex
	parent   context.Context // Run's; nil before Run and after it ends
	users    int
	reserved bool // holds a slot: running or about to
	cancel   context.CancelFunc
	done     chan struct{} // closed when the running producer returned
	timer    *time.Timer
}

// reserve makes sure the producer may run (taking a slot), before a viewer
// binds; if none does within linger, the slot is given back.
func (d *onDemand) reserve() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.reserved {
		return nil
	}
	if !d.slots.take() {
		return errNoSlot
	}
	d.reserved = true
	if d.users == 0 {
		d.armLocked()
	}
	return nil
}

// Acquire is called at the relay's first viewer.
func (d *onDemand) Acquire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users++
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if !d.reserved && d.slots.take() {
		d.reserved = true
	}
	d.launchLocked()
}

// Release is called when the relay's last viewer left.
func (d *onDemand) Release() {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.users--
	if d.users == 0 {
		d.armLocked()
	}
}

// running reports whether the producer runs (or is reserved to).
func (d *onDemand) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.reserved
}

func (d *onDemand) armLocked() {
	if d.timer != nil {
		d.timer.Stop()
	}
	d.timer = time.AfterFunc(d.linger, d.stopIfUnused)
}

func (d *onDemand) stopIfUnused() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.users > 0 || !d.reserved {
		return
	}
	d.timer = nil
	d.reserved = false
	d.slots.give()
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
}

// launchLocked starts the producer if it is wanted, allowed and not running.
func (d *onDemand) launchLocked() {
	if d.parent == nil || d.cancel != nil || !d.reserved || d.users == 0 {
		return
	}
	ctx, cancel := context.WithCancel(d.parent)
	prev, done := d.done, make(chan struct{})
	d.cancel, d.done = cancel, done
	go func() {
		defer close(done)
		if prev != nil {
			<-prev // the previous run, just stopped, publishes no more
		}
		for {
			err := d.produce(ctx)
			if ctx.Err() != nil {
				return
			}
			if err != nil && d.onError != nil {
				d.onError(err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryAfter):
			}
		}
	}()
}

// run lets producers start until ctx ends, then stops the running one and
// waits for it.
func (d *onDemand) run(ctx context.Context) {
	d.mu.Lock()
	d.parent = ctx
	d.launchLocked()
	d.mu.Unlock()
	<-ctx.Done()
	d.mu.Lock()
	d.parent = nil
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	if d.reserved {
		d.reserved = false
		d.slots.give()
	}
	done := d.done
	if d.cancel != nil {
		d.cancel()
		d.cancel = nil
	}
	d.mu.Unlock()
	if done != nil {
		<-done
	}
}
