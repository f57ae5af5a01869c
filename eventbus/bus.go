// Package eventbus fans live messages (crossings, window states, alerts,
// camera states) out to the pages that show them over SSE. Publishing never
// blocks: a subscriber that cannot keep up loses messages and is told so.
package eventbus

import (
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"
)

// Message is one live update. Scope fields let the server deliver it only
// to users who may see that district and center.
type Message struct {
	Type     string          `json:"type"` // crossing, window, alert, camera
	District string          `json:"district"`
	Center   string          `json:"center"`
	Camera   string          `json:"camera,omitempty"`
	Time     time.Time       `json:"time"`
	Data     json.RawMessage `json:"data"`
	// Node is the cluster node the message comes from; empty for this
	// process's own (which the cluster's bridge sends to the others).
	Node string `json:"node,omitempty"`
}

// Bus is a bounded publish/subscribe hub.
type Bus struct {
	mu   sync.Mutex
	subs map[*Subscription]struct{}
}

// New makes an empty bus.
func New() *Bus { return &Bus{subs: map[*Subscription]struct{}{}} }

// Subscription receives the messages its filter accepts.
type Subscription struct {
	bus     *Bus
	accept  func(Message) bool
	ch      chan Message
	dropped atomic.Uint64
	once    sync.Once
}

// Subscribe adds a subscriber with a queue of buffer messages; accept (nil:
// all) decides what it gets.
func (b *Bus) Subscribe(buffer int, accept func(Message) bool) *Subscription {
	if buffer <= 0 {
		buffer = 64
	}
	s := &Subscription{bus: b, accept: accept, ch: make(chan Message, buffer)}
	b.mu.Lock()
	b.subs[s] = struct{}{}
	b.mu.Unlock()
	return s
}

// Publish delivers m to every interested subscriber without waiting.
func (b *Bus) Publish(m Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		if s.accept != nil && !s.accept(m) {
			continue
		}
		select {
		case s.ch <- m:
		default:
			s.dropped.Add(1)
		}
	}
}

// Subscribers returns the number of subscribers.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

// C delivers messages; it is closed by Close.
func (s *Subscription) C() <-chan Message { return s.ch }

// Dropped counts messages lost because the queue was full; a page seeing
// it grow reloads its state instead of trusting the stream.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// Close unsubscribes; safe to call more than once.
func (s *Subscription) Close() {
	s.once.Do(func() {
		s.bus.mu.Lock()
		delete(s.bus.subs, s)
		s.bus.mu.Unlock()
		close(s.ch)
	})
}
