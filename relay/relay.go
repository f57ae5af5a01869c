package relay

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/ingest"
)

const (
	// gopPacketLimit bounds the packet history of one GOP (about 5 MB);
	// a longer GOP is not cached and new viewers wait for the next key frame.
	gopPacketLimit = 4500
	// keyFrameRequestGap rate-limits GOP replays triggered by viewers' PLI/FIR.
	keyFrameRequestGap = 2 * time.Second
	// silentAfter: a camera that has sent nothing for this long gets no
	// replays for viewers' key frame requests (a browser asks again and
	// again when its video stops): the cached pictures are old, and
	// replaying them would show a stalled camera as live, looping.
	silentAfter = time.Second
)

// Batcher groups the socket writes of one fan-out into few system calls
// (Engine.Batcher); Begin opens a batch, End sends it.
type Batcher interface {
	Begin()
	End()
}

// Demand is told when a relay gets its first viewer and loses its last,
// so that what feeds it (a sub-stream, a transcoder) runs only while
// someone watches.
type Demand interface {
	Acquire()
	Release()
}

// Options tune a Relay; the zero value relays H.264 without batching.
type Options struct {
	Codec  ingest.Codec // what the relay sends: CodecH264 (default) or CodecH265
	Batch  Batcher      // nil: one system call per packet
	Demand Demand       // nil: always fed
}

// Relay sends one camera stream (H.264 or H.265) to every WebRTC viewer of
// it. Access units are packetized once; each viewer's binding gets the
// same packets with its own SSRC, payload type and seq/timestamp offsets.
// A new viewer first receives the cached GOP (from the last key frame),
// then the live packets: it starts at once and at live delay, and the
// camera never sees a viewer's key frame request. No viewer is sent
// anything before a key frame.
type Relay struct {
	camera  string
	codec   ingest.Codec
	track   *sharedTrack
	batch   Batcher
	demand  Demand
	latency interface{ Observe(float64) } // optional, see ObserveLatency

	mu       sync.Mutex
	pk       packetizer
	clock    rtpClock
	rate     rateMeter
	gop      *segment // packets since the last key frame; nil until one arrives
	bindings map[webrtc.SSRC]*binding
	live     []*binding // bindings that receive live packets, rebuilt on change
	packets  uint64     // packets produced (not per viewer)
	lastPush time.Time  // when the camera's last access unit came

	packetizeErrors atomic.Uint64
	resent, refused atomic.Uint64 // NACKed packets sent again, and not (budget, age)
}

// segment is one GOP's packets. It only grows while it is the newest; a new
// key frame links the next segment, so catch-ups can jump straight to it.
type segment struct {
	packets  []*rtp.Packet
	overflow bool // exceeded gopPacketLimit: not replayable
	next     *segment
}

// usable reports whether a catch-up can replay the segment.
func (s *segment) usable() bool { return s != nil && !s.overflow }

// New makes the relay of one camera stream.
func New(camera string, opts Options) (*Relay, error) {
	if opts.Codec == "" {
		opts.Codec = ingest.CodecH264
	}
	pk, err := newPacketizer(opts.Codec)
	if err != nil {
		return nil, fmt.Errorf("relay %s: %w", camera, err)
	}
	r := &Relay{camera: camera, codec: opts.Codec, pk: pk, batch: opts.Batch, demand: opts.Demand, bindings: map[webrtc.SSRC]*binding{}}
	if r.batch == nil {
		r.batch = noBatch{}
	}
	r.track = &sharedTrack{relay: r}
	return r, nil
}

type noBatch struct{}

func (noBatch) Begin() {}
func (noBatch) End()   {}

// Codec is what the relay sends.
func (r *Relay) Codec() ingest.Codec { return r.codec }

// Track is the one TrackLocal of this stream, added to every viewer's
// PeerConnection.
func (r *Relay) Track() webrtc.TrackLocal { return r.track }

// Viewers returns the number of bound viewers.
func (r *Relay) Viewers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bindings)
}

// Stats are a relay's counters.
type Stats struct {
	Packets uint64 // RTP packets produced (each sent to every live viewer)
	Resent  uint64 // packets sent again on viewers' NACKs
	Refused uint64 // NACKed packets not sent again: too old, too often, over budget
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Stats{Packets: r.packets, Resent: r.resent.Load(), Refused: r.refused.Load()}
}

// Push packetizes one access unit and sends it to the live viewers. It is
// called by a single goroutine (the relay's feed).
func (r *Relay) Push(au *ingest.AccessUnit) error {
	pkts, err := r.pk.Encode(au.NALUs)
	if err != nil {
		return fmt.Errorf("relay %s: packetize: %w", r.camera, err)
	}
	ts := r.clock.timestamp(au.PTS)
	for _, p := range pkts {
		p.Timestamp = ts
	}

	r.mu.Lock()
	r.packets += uint64(len(pkts))
	r.rate.add(au.Size(), au.Received)
	r.lastPush = time.Now()
	if au.Key {
		seg := &segment{}
		if r.gop != nil {
			r.gop.next = seg
		}
		r.gop = seg
		r.startAwaitingLocked()
	}
	if r.gop == nil {
		r.mu.Unlock()
		return nil // nothing decodable yet
	}
	if !r.gop.overflow {
		if len(r.gop.packets)+len(pkts) > gopPacketLimit {
			r.gop.overflow, r.gop.packets = true, nil
		} else {
			r.gop.packets = append(r.gop.packets, pkts...)
		}
	}
	live := r.live
	r.mu.Unlock()

	r.batch.Begin()
	fanOut(live, pkts, au.Key)
	r.batch.End()
	if r.latency != nil && len(live) > 0 {
		r.latency.Observe(time.Since(au.Received).Seconds())
	}
	return nil
}

// NewStream forgets the cached GOP when the feed starts a new stream
// (camera reconnect): its pictures are stale and may not even match the
// new parameters. Viewers stay bound and continue at the new stream's
// first key frame (its delta frames before one would not decode); new
// viewers wait for it.
func (r *Relay) NewStream() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gop = nil // running catch-ups finish the segment they have
	for _, b := range r.bindings {
		b.mu.Lock()
		if b.state == stateLive {
			b.started = false
		}
		b.mu.Unlock()
	}
}

// ObserveLatency has the relay report, for every access unit sent to
// viewers, the time from its arrival from the camera to its last write.
// Call it before the first Push.
func (r *Relay) ObserveLatency(o interface{ Observe(float64) }) { r.latency = o }

// fanOutShard is the number of viewers one goroutine writes to. A key
// frame is a hundred packets per viewer, each an SRTP seal; a large
// audience is split across the cores and the last viewer waits less.
const fanOutShard = 16

// burstPackets is the most packets one viewer is sent in a row. A key
// frame goes out in rounds of this many packets to each viewer in turn,
// so no viewer's socket or link gets a whole key frame at line rate (on
// loopback a 100-packet burst alone overflows a default receive buffer),
// and every viewer's key frame completes at about the same time.
const burstPackets = 32

// fanOut writes pkts to the live bindings, in parallel shards when there
// are many, and returns when all are written: the next access unit never
// overtakes this one for any viewer.
func fanOut(live []*binding, pkts []*rtp.Packet, key bool) {
	shards := min(runtime.GOMAXPROCS(0), (len(live)+fanOutShard-1)/fanOutShard)
	if shards <= 1 {
		writeRounds(live, pkts, key)
		return
	}
	per := (len(live) + shards - 1) / shards
	var wg sync.WaitGroup
	for i := per; i < len(live); i += per {
		part := live[i:min(i+per, len(live))]
		wg.Go(func() { writeRounds(part, pkts, key) })
	}
	writeRounds(live[:per], pkts, key)
	wg.Wait()
}

// writeRounds writes pkts to each binding, burstPackets at a time.
func writeRounds(bs []*binding, pkts []*rtp.Packet, key bool) {
	for off := 0; off < len(pkts); off += burstPackets {
		round := pkts[off:min(off+burstPackets, len(pkts))]
		for _, b := range bs {
			b.writeLive(round, key, off == 0)
		}
	}
}

// startAwaitingLocked lets viewers that connected before any usable GOP
// existed start at the key frame being pushed now, with no offsets to keep.
func (r *Relay) startAwaitingLocked() {
	changed := false
	for _, b := range r.bindings {
		b.mu.Lock()
		if b.state == stateAwaitingKey {
			b.state = stateLive
			changed = true
		}
		b.mu.Unlock()
	}
	if changed {
		r.rebuildLiveLocked()
	}
}

func (r *Relay) rebuildLiveLocked() {
	live := make([]*binding, 0, len(r.bindings))
	for _, b := range r.bindings {
		if b.state == stateLive {
			live = append(live, b)
		}
	}
	r.live = live
}

// Activate starts sending to the viewer whose sender has this SSRC, once its
// transport is connected (writes before that would be dropped by pion).
func (r *Relay) Activate(ssrc webrtc.SSRC) error {
	return r.replay(ssrc, false)
}

// RequestKeyFrame answers a viewer's PLI/FIR from the GOP cache: the viewer
// gets the current GOP again. Requests closer than keyFrameRequestGap are
// ignored, and so are those while the camera is silent (silentAfter).
func (r *Relay) RequestKeyFrame(ssrc webrtc.SSRC) error {
	return r.replay(ssrc, true)
}

var errUnknownBinding = errors.New("no such viewer binding")

func (r *Relay) replay(ssrc webrtc.SSRC, onlyIfLive bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.bindings[ssrc]
	if !ok {
		return errUnknownBinding
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	switch {
	case onlyIfLive && (b.state != stateLive || now.Sub(b.lastReplay) < keyFrameRequestGap || now.Sub(r.lastPush) > silentAfter):
		return nil
	case !onlyIfLive && b.state != stateBound:
		return nil // already active
	}
	if onlyIfLive {
		b.lastReplay = now // the first catch-up does not count: a loss right after it is answered
	}
	if !r.gop.usable() {
		if b.state == stateBound {
			b.state = stateAwaitingKey
		}
		return nil
	}
	b.state = stateCatchingUp
	r.rebuildLiveLocked()
	go r.catchUp(b, r.gop)
	return nil
}

// bind registers a viewer's sender; called by pion during negotiation.
func (r *Relay) bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := pickCodec(r.codec, ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	b := newBinding(ctx.ID(), ctx.SSRC(), uint8(codec.PayloadType), ctx.WriteStream())
	r.mu.Lock()
	if _, dup := r.bindings[b.ssrc]; dup {
		r.mu.Unlock()
		return webrtc.RTPCodecParameters{}, fmt.Errorf("relay %s: SSRC %d bound twice", r.camera, b.ssrc)
	}
	r.bindings[b.ssrc] = b
	first := len(r.bindings) == 1
	r.mu.Unlock()
	if first && r.demand != nil {
		r.demand.Acquire()
	}
	return codec, nil
}

func (r *Relay) unbind(ctx webrtc.TrackLocalContext) error {
	r.mu.Lock()
	b, ok := r.bindings[ctx.SSRC()]
	if !ok || b.id != ctx.ID() {
		r.mu.Unlock()
		return webrtc.ErrUnbindFailed
	}
	b.mu.Lock()
	b.state = stateClosed
	b.mu.Unlock()
	delete(r.bindings, b.ssrc)
	r.rebuildLiveLocked()
	last := len(r.bindings) == 0
	r.mu.Unlock()
	if last && r.demand != nil {
		r.demand.Release()
	}
	return nil
}

// rtpClock maps access-unit PTS to a 90 kHz RTP timestamp that keeps
// advancing across camera reconnects (where PTS restarts).
type rtpClock struct {
	started bool
	base    uint32
	lastPTS time.Duration
	lastTS  uint32
}

// maxPTSJump is the largest forward PTS step taken at face value.
const maxPTSJump = 5 * time.Second

func (c *rtpClock) timestamp(pts time.Duration) uint32 {
	switch {
	case !c.started:
		c.started, c.base = true, rand.Uint32()
	case pts <= c.lastPTS || pts-c.lastPTS > maxPTSJump:
		// Stream restarted: continue one nominal frame after the last one.
		c.base = c.lastTS + 3000 - rtpTime(pts)
	}
	c.lastPTS = pts
	c.lastTS = c.base + rtpTime(pts)
	return c.lastTS
}

// rtpTime converts a duration to 90 kHz ticks (wrapping, as RTP does).
func rtpTime(d time.Duration) uint32 { return uint32(d.Microseconds() * 9 / 100) }

// rateMeter estimates the stream's bitrate (bytes per second, averaged
// over about two seconds), which paces catch-ups and bounds resends.
type rateMeter struct {
	perSecond float64
	last      time.Time
}

const rateWindow = 2 * time.Second

func (m *rateMeter) add(bytes int, at time.Time) {
	if at.IsZero() {
		at = time.Now()
	}
	if !m.last.IsZero() {
		if dt := at.Sub(m.last); dt > 0 {
			m.perSecond *= math.Exp(-dt.Seconds() / rateWindow.Seconds())
		}
	}
	m.perSecond += float64(bytes) / rateWindow.Seconds()
	m.last = at
}

// bytesPerSecond is the estimate, at least floor.
func (m *rateMeter) bytesPerSecond(floor float64) float64 { return max(m.perSecond, floor) }
