package ingest

import (
	"sync"
	"sync/atomic"
)

// Hub defaults.
const (
	DefaultSubscriberBuffer = 64
	DefaultMaxGOPUnits      = 512
	DefaultMaxGOPBytes      = 16 << 20
)

// HubOption changes a Hub's defaults.
type HubOption func(*Hub)

// WithGOPLimit bounds the cached GOP. A GOP over either limit is not cached
// (late subscribers then wait for the next key frame) instead of growing
// without bound on a camera with a huge key-frame interval.
func WithGOPLimit(units, bytes int) HubOption {
	return func(h *Hub) {
		h.maxGOPUnits, h.maxGOPBytes = units, bytes
	}
}

// Hub fans one camera's access units out to its consumers (live relay,
// analytics). Publish never blocks: a consumer whose queue is full loses
// units (counted) and resumes at the next key frame, so a slow or stuck
// consumer harms no one else. Units are shared, never copied.
type Hub struct {
	camera                   string
	maxGOPUnits, maxGOPBytes int

	mu      sync.Mutex
	subs    []*Subscription
	gop     []*AccessUnit // from the last key frame; nil entries cleared
	gopSize int           // bytes in gop
	gopOK   bool          // gop starts at a key frame and is within limits
	info    StreamInfo
	changed chan struct{} // closed and replaced by SetStream
}

// NewHub returns the hub of one camera.
func NewHub(camera string, opts ...HubOption) *Hub {
	h := &Hub{
		camera:      camera,
		maxGOPUnits: DefaultMaxGOPUnits,
		maxGOPBytes: DefaultMaxGOPBytes,
		changed:     make(chan struct{}),
	}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Camera is the camera the hub belongs to.
func (h *Hub) Camera() string { return h.camera }

// SetStream announces what the camera sends now; the source calls it on
// every (re)connect and parameter change, before that stream's first unit.
// It bumps info.Generation, drops the cached GOP of the old stream and wakes
// StreamChanged waiters.
func (h *Hub) SetStream(info StreamInfo) {
	h.mu.Lock()
	defer h.mu.Unlock()
	info.Generation = h.info.Generation + 1
	h.info = info
	h.resetGOP(false)
	close(h.changed)
	h.changed = make(chan struct{})
}

// Stream returns the current stream description (Generation 0: none yet).
func (h *Hub) Stream() StreamInfo {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.info
}

// StreamChanged returns a channel closed at the next SetStream. Take it
// before reading Stream to never miss a change.
func (h *Hub) StreamChanged() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.changed
}

// Publish hands a unit to every subscriber without waiting for any.
func (h *Hub) Publish(au *AccessUnit) {
	if au == nil || len(au.NALUs) == 0 {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.cache(au)
	for _, s := range h.subs {
		s.offer(au)
	}
}

// cache keeps the units since the last key frame, within the limits.
func (h *Hub) cache(au *AccessUnit) {
	if au.Key {
		h.resetGOP(true)
	}
	if !h.gopOK {
		return
	}
	size := au.Size()
	if len(h.gop)+1 > h.maxGOPUnits || h.gopSize+size > h.maxGOPBytes {
		h.resetGOP(false)
		return
	}
	h.gop = append(h.gop, au)
	h.gopSize += size
}

func (h *Hub) resetGOP(ok bool) {
	clear(h.gop) // let the old units be collected; the array is reused
	h.gop = h.gop[:0]
	h.gopSize = 0
	h.gopOK = ok
}

// SubscribeOptions tune one consumer.
type SubscribeOptions struct {
	// Buffer is the number of live units the consumer may fall behind
	// before it loses units (default DefaultSubscriberBuffer).
	Buffer int
	// StartWithGOP first delivers the cached units since the last key
	// frame, so a new viewer shows a picture at once. Without it (or with
	// no GOP cached) delivery starts at the next key frame.
	StartWithGOP bool
}

// Subscribe adds a consumer. Read units from C until you Close it.
func (h *Hub) Subscribe(name string, opts SubscribeOptions) *Subscription {
	if opts.Buffer <= 0 {
		opts.Buffer = DefaultSubscriberBuffer
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	var gop []*AccessUnit
	if opts.StartWithGOP && h.gopOK {
		gop = h.gop
	}
	s := &Subscription{
		hub:     h,
		name:    name,
		ch:      make(chan *AccessUnit, opts.Buffer+len(gop)),
		waitKey: len(gop) == 0,
	}
	for _, au := range gop {
		s.ch <- au // fits: the channel was sized for it
	}
	h.subs = append(h.subs, s)
	return s
}

// SubscriberStats describe one consumer, for metrics.
type SubscriberStats struct {
	Name      string
	Queued    int    // units waiting in its queue
	Capacity  int    // queue length
	Delivered uint64 // units queued for it
	Dropped   uint64 // units it lost to a full queue or to the resync after one
}

// Subscribers lists the current consumers.
func (h *Hub) Subscribers() []SubscriberStats {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]SubscriberStats, 0, len(h.subs))
	for _, s := range h.subs {
		out = append(out, SubscriberStats{
			Name:      s.name,
			Queued:    len(s.ch),
			Capacity:  cap(s.ch),
			Delivered: s.delivered.Load(),
			Dropped:   s.dropped.Load(),
		})
	}
	return out
}

// Subscription is one consumer's queue of a hub's units.
type Subscription struct {
	hub  *Hub
	name string
	ch   chan *AccessUnit

	// Guarded by hub.mu.
	waitKey bool // deliver nothing until the next key frame
	resync  bool // waiting because units were lost (count what is skipped)
	closed  bool

	delivered, dropped atomic.Uint64
}

// offer queues au unless the queue is full; runs under hub.mu.
func (s *Subscription) offer(au *AccessUnit) {
	if s.waitKey {
		if !au.Key {
			if s.resync {
				s.dropped.Add(1)
			}
			return
		}
		s.waitKey, s.resync = false, false
	}
	select {
	case s.ch <- au:
		s.delivered.Add(1)
	default:
		// A decoder cannot use the deltas after a gap: skip to a key frame.
		s.dropped.Add(1)
		s.waitKey, s.resync = true, true
	}
}

// C delivers the units in order. It is closed by Close.
func (s *Subscription) C() <-chan *AccessUnit { return s.ch }

// Dropped counts the units this consumer lost.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close removes the consumer and closes C. Safe to call more than once.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	for i, x := range h.subs {
		if x == s {
			last := len(h.subs) - 1
			h.subs[i] = h.subs[last]
			h.subs[last] = nil
			h.subs = h.subs[:last]
			break
		}
	}
	close(s.ch)
}
