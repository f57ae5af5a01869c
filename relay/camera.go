package relay

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/ingest"
)

// Fallback is an H.264 stream of a camera for the browsers that cannot
// decode what the camera sends (H.265 in most of them): the camera's
// sub-stream, or a transcode of its main stream. Produce makes it and
// runs only while such viewers watch, and Linger after the last left.
type Fallback struct {
	Kind    string // "sub-stream" or "transcode": for logs and errors
	Feed    Feed   // where Produce publishes the H.264
	Produce func(context.Context) error
	Linger  time.Duration
	// Slots, if set, bounds how many fallbacks of this kind run at once.
	Slots   *Slots
	OnError func(error) // Produce failed (it is run again while wanted)
}

// Camera is what the relay serves of one camera: a relay per codec of
// its main stream, and for browsers that cannot decode the camera's
// codec, an H.264 relay of its fallback.
type Camera struct {
	id       string
	main     Feed
	relays   []*Relay // of the main stream: H.264, H.265
	fallback *Fallback
	fbRelay  *Relay
	demand   *onDemand
}

// NewCamera makes the relays of camera id; fallback may be nil.
func NewCamera(id string, main Feed, batch Batcher, fallback *Fallback) (*Camera, error) {
	c := &Camera{id: id, main: main, fallback: fallback}
	for _, codec := range []ingest.Codec{ingest.CodecH264, ingest.CodecH265} {
		r, err := New(id, Options{Codec: codec, Batch: batch})
		if err != nil {
			return nil, err
		}
		c.relays = append(c.relays, r)
	}
	if fallback != nil {
		c.demand = &onDemand{produce: fallback.Produce, linger: fallback.Linger, slots: fallback.Slots, onError: fallback.OnError}
		r, err := New(id, Options{Codec: ingest.CodecH264, Batch: batch, Demand: c.demand})
		if err != nil {
			return nil, err
		}
		c.fbRelay = r
	}
	return c, nil
}

// ObserveLatency has every relay of the camera report its latency.
func (c *Camera) ObserveLatency(o interface{ Observe(float64) }) {
	for _, r := range c.all() {
		r.ObserveLatency(o)
	}
}

func (c *Camera) all() []*Relay {
	if c.fbRelay != nil {
		return append(slices.Clone(c.relays), c.fbRelay)
	}
	return c.relays
}

// Run relays the camera until ctx ends; the fallback is produced only
// while it has viewers.
func (c *Camera) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { runFeed(ctx, c.main, c.relays...) })
	if c.fallback != nil {
		wg.Go(func() { runFeed(ctx, c.fallback.Feed, c.fbRelay) })
		wg.Go(func() { c.demand.run(ctx) })
	}
	wg.Wait()
	return nil
}

// Viewers is the number of viewers of all the camera's relays.
func (c *Camera) Viewers() int {
	n := 0
	for _, r := range c.all() {
		n += r.Viewers()
	}
	return n
}

// FallbackRunning reports whether the fallback is being produced.
func (c *Camera) FallbackRunning() bool { return c.demand != nil && c.demand.running() }

// Stats adds up the counters of the camera's relays.
func (c *Camera) Stats() Stats {
	var s Stats
	for _, r := range c.all() {
		st := r.Stats()
		s.Packets += st.Packets
		s.Resent += st.Resent
		s.Refused += st.Refused
	}
	return s
}

// Pick chooses the relay for a viewer that can decode the offered codecs:
// the camera's own stream when the viewer decodes its codec, else the
// H.264 fallback. The errors wrap ErrNotPlayable or ErrTooManyViewers.
func (c *Camera) Pick(offered []ingest.Codec) (*Relay, error) {
	codec := c.main.Stream().Codec
	if codec == "" {
		codec = ingest.CodecH264 // not connected yet: most cameras send H.264
	}
	if slices.Contains(offered, codec) {
		return c.relayOf(codec), nil
	}
	if !slices.Contains(offered, ingest.CodecH264) {
		return nil, fmt.Errorf("%w: the camera sends %s and the browser offers neither it nor H.264", ErrNotPlayable, codec)
	}
	if c.fallback == nil {
		return nil, fmt.Errorf("%w: the camera sends %s, which this browser cannot decode; configure the camera's live_url (an H.264 sub-stream) or allow transcoding (webrtc.max_transcodes)", ErrNotPlayable, codec)
	}
	if fb := c.fallback.Feed.Stream().Codec; fb != "" && fb != ingest.CodecH264 {
		return nil, fmt.Errorf("%w: the camera sends %s and its %s sends %s; browsers without %s need H.264", ErrNotPlayable, codec, c.fallback.Kind, fb, codec)
	}
	if err := c.demand.reserve(); err != nil {
		return nil, fmt.Errorf("%w: every %s slot is in use (webrtc.max_transcodes); the camera sends %s, which this browser cannot decode", ErrTooManyViewers, c.fallback.Kind, codec)
	}
	return c.fbRelay, nil
}

func (c *Camera) relayOf(codec ingest.Codec) *Relay {
	for _, r := range c.relays {
		if r.codec == codec {
			return r
		}
	}
	return nil
}
