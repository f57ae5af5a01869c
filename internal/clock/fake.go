package clock

import (
	"slices"
	"sync"
	"time"
)

// Fake is a manual clock for tests: time moves only by Advance. Every
// timer made is reported on Timers (buffered; reports beyond its capacity
// are dropped), so a test can wait for the code under test to start
// waiting and see for how long.
type Fake struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
	made   chan time.Duration
}

type fakeTimer struct {
	at time.Time
	c  chan time.Time
}

// NewFake returns a clock stopped at start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, made: make(chan time.Duration, 1024)}
}

// Now returns the clock's time.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer makes a timer that fires when Advance reaches its time; one of
// d ≤ 0 fires at once.
func (c *Fake) NewTimer(d time.Duration) Timer {
	c.mu.Lock()
	t := &fakeTimer{at: c.now.Add(d), c: make(chan time.Time, 1)}
	if d <= 0 {
		t.c <- c.now
	} else {
		c.timers = append(c.timers, t)
	}
	c.mu.Unlock()
	select {
	case c.made <- d:
	default:
	}
	return t
}

// Timers reports the duration of every timer made.
func (c *Fake) Timers() <-chan time.Duration { return c.made }

// Advance moves the clock and fires the timers that are due.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.timers = slices.DeleteFunc(c.timers, func(t *fakeTimer) bool {
		if t.at.After(c.now) {
			return false
		}
		t.c <- c.now
		return true
	})
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }
func (t *fakeTimer) Stop() bool          { return true }
