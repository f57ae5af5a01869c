package ingest

import (
	"sync"
	"time"
)

// Status is a camera's ingest state, safe to show to users.
type Status struct {
	Camera        string
	State         State
	Since         time.Time // when State began: "offline since"
	LastError     string    // why the last attempt or connection ended; credentials redacted
	Transport     string    // "UDP" or "TCP" while connected
	Codec         Codec
	Width, Height int
	BitrateKbps   float64 // video payload, over the last few seconds
	ReceivedBytes uint64  // video payload published since start
	FPS           float64 // access units per second, same window
	Reconnects    uint64  // connection attempts after the first
	LastFrame     time.Time
}

// Rates are measured over rateBuckets × rateBucket.
const (
	rateBucket  = 250 * time.Millisecond
	rateBuckets = 20
)

// statusTracker is a Source's status, written by its goroutines and read by
// anyone.
type statusTracker struct {
	mu     sync.Mutex
	st     Status
	window rateWindow
}

func newStatusTracker(camera string, now time.Time) *statusTracker {
	t := &statusTracker{st: Status{Camera: camera, State: StateConnecting, Since: now}}
	t.window.base = now
	return t
}

// setState moves to state; Since changes only when the state does.
func (t *statusTracker) setState(state State, now time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.st.State == state {
		return
	}
	t.st.State, t.st.Since = state, now
	if state == StateLive {
		t.window.start = now
	}
}

// fail records an error (already redacted), marks the camera offline and
// returns the state it was in.
func (t *statusTracker) fail(msg string, now time.Time) State {
	t.mu.Lock()
	was := t.st.State
	t.st.LastError = msg
	t.mu.Unlock()
	t.setState(StateOffline, now)
	return was
}

func (t *statusTracker) reconnecting() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.Reconnects++
}

func (t *statusTracker) transport(name string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.Transport = name
}

func (t *statusTracker) stream(codec Codec, width, height int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.Codec, t.st.Width, t.st.Height = codec, width, height
}

// frame counts a published unit of size bytes.
func (t *statusTracker) frame(now time.Time, size int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.st.LastFrame = now
	t.st.ReceivedBytes += uint64(size)
	t.window.add(now, size)
}

func (t *statusTracker) snapshot(now time.Time) Status {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.st
	if st.State == StateLive {
		st.FPS, st.BitrateKbps = t.window.rates(now)
	}
	return st
}

// rateWindow counts units and bytes in time buckets, a ring indexed by
// bucket number since base (monotonic time).
type rateWindow struct {
	base, start time.Time // start: when counting began (went live)
	slot        [rateBuckets]int64
	units       [rateBuckets]int
	bytes       [rateBuckets]int
}

func (w *rateWindow) add(now time.Time, size int) {
	n := int64(now.Sub(w.base) / rateBucket)
	i := n % rateBuckets
	if w.slot[i] != n {
		w.slot[i], w.units[i], w.bytes[i] = n, 0, 0
	}
	w.units[i]++
	w.bytes[i] += size
}

// rates returns units/s and kbit/s over the window ending now, or over the
// time since start when that is shorter.
func (w *rateWindow) rates(now time.Time) (fps, kbps float64) {
	cur := int64(now.Sub(w.base) / rateBucket)
	units, bytes := 0, 0
	for i := range rateBuckets {
		if s := w.slot[i]; s > cur-rateBuckets && s <= cur {
			units += w.units[i]
			bytes += w.bytes[i]
		}
	}
	span := time.Duration(rateBuckets-1)*rateBucket + now.Sub(w.base) - time.Duration(cur)*rateBucket
	span = min(span, now.Sub(w.start))
	if span <= 0 {
		return 0, 0
	}
	sec := span.Seconds()
	return float64(units) / sec, float64(bytes) * 8 / 1000 / sec
}
