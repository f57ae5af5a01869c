package relay

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/ingest"
)

const (
	// rtpPayloadMax keeps SRTP packets under a 1280-byte path MTU.
	rtpPayloadMax = 1100
	// gopPacketLimit bounds the packet history of one GOP (about 5 MB);
	// a longer GOP is not cached and new viewers wait for the next key frame.
	gopPacketLimit = 4500
	// catchUpFrameStep is the RTP time (90 kHz) between catch-up frames:
	// cached frames are replayed 1 ms apart, so a new viewer reaches live
	// within milliseconds instead of playing the GOP at its original pace.
	catchUpFrameStep = 90
	// keyFrameRequestGap rate-limits GOP replays triggered by viewers' PLI/FIR.
	keyFrameRequestGap = 2 * time.Second
	// silentAfter: a camera that has sent nothing for this long gets no
	// replays for viewers' key frame requests (a browser asks again and
	// again when its video stops): the cached pictures are old, and
	// replaying them would show a stalled camera as live, looping.
	silentAfter = time.Second
)

// Relay sends one camera's H.264 to every WebRTC viewer of that camera.
// Access units are packetized once; each viewer's binding gets the same
// packets with its own SSRC, payload type and seq/timestamp offsets. A new
// viewer first receives the cached GOP (from the last key frame), replayed
// with compressed timestamps, then joins the live packets: it starts at once
// and at live delay, and the camera never sees a viewer's key frame request.
type Relay struct {
	camera  string
	track   *sharedTrack
	latency interface{ Observe(float64) } // optional, see ObserveLatency

	mu       sync.Mutex
	enc      *rtph264.Encoder
	clock    rtpClock
	gop      *segment // packets since the last key frame; nil until one arrives
	bindings map[webrtc.SSRC]*binding
	live     []*binding // bindings that receive live packets, rebuilt on change
	packets  uint64     // packets produced (not per viewer)
	lastPush time.Time  // when the camera's last access unit came

	packetizeErrors atomic.Uint64
}

// segment is one GOP's packets. It only grows while it is the newest; a new
// key frame links the next segment, so catch-ups can jump straight to it.
type segment struct {
	packets  []*rtp.Packet
	overflow bool // exceeded gopPacketLimit: not replayable
	next     *segment
}

// NewRelay makes the relay of one camera.
func New(camera string) (*Relay, error) {
	enc := &rtph264.Encoder{PayloadType: 96, PayloadMaxSize: rtpPayloadMax, PacketizationMode: 1}
	if err := enc.Init(); err != nil {
		return nil, fmt.Errorf("relay %s: %w", camera, err)
	}
	r := &Relay{camera: camera, enc: enc, bindings: map[webrtc.SSRC]*binding{}}
	r.track = &sharedTrack{relay: r}
	return r, nil
}

// Track is the one TrackLocal of this camera, added to every viewer's
// PeerConnection.
func (r *Relay) Track() webrtc.TrackLocal { return r.track }

// Viewers returns the number of bound viewers.
func (r *Relay) Viewers() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.bindings)
}

// Push packetizes one access unit and sends it to the live viewers. It is
// called by a single goroutine (the relay's hub subscription).
func (r *Relay) Push(au *ingest.AccessUnit) error {
	pkts, err := r.enc.Encode(au.NALUs)
	if err != nil {
		return fmt.Errorf("relay %s: packetize: %w", r.camera, err)
	}
	ts := r.clock.timestamp(au.PTS)
	for _, p := range pkts {
		p.Timestamp = ts
	}

	r.mu.Lock()
	r.packets += uint64(len(pkts))
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

	fanOut(live, pkts)
	if r.latency != nil && len(live) > 0 {
		r.latency.Observe(time.Since(au.Received).Seconds())
	}
	return nil
}

// ObserveLatency has the relay report, for every access unit sent to
// viewers, the time from its arrival from the camera to its last write.
// Call it before the first Push.
func (r *Relay) ObserveLatency(o interface{ Observe(float64) }) { r.latency = o }

// fanOutShard is the number of viewers one goroutine writes to. Each
// packet costs each viewer an SRTP seal and a syscall (some 10 µs), so a
// key frame to 50 viewers takes tens of milliseconds on one core; a larger
// audience is split across the cores and the last viewer waits less.
const fanOutShard = 16

// fanOut writes pkts to the live bindings, in parallel shards when there
// are many, and returns when all are written: the next access unit never
// overtakes this one for any viewer.
func fanOut(live []*binding, pkts []*rtp.Packet) {
	shards := min(runtime.GOMAXPROCS(0), (len(live)+fanOutShard-1)/fanOutShard)
	if shards <= 1 {
		for _, b := range live {
			b.writeLive(pkts)
		}
		return
	}
	per := (len(live) + shards - 1) / shards
	var wg sync.WaitGroup
	for i := per; i < len(live); i += per {
		part := live[i:min(i+per, len(live))]
		wg.Go(func() {
			for _, b := range part {
				b.writeLive(pkts)
			}
		})
	}
	for _, b := range live[:per] {
		b.writeLive(pkts)
	}
	wg.Wait()
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
	b.lastReplay = now
	if r.gop == nil || r.gop.overflow {
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

// catchUp replays seg (and any newer segment) to b, then makes b live. It
// runs on its own goroutine so a large GOP burst never delays other viewers.
func (r *Relay) catchUp(b *binding, seg *segment) {
	next := 0
	for {
		r.mu.Lock()
		if seg.next != nil && !seg.next.overflow {
			seg, next = seg.next, 0 // a newer key frame: start from it
		}
		chunk := seg.packets[next:]
		if len(chunk) == 0 {
			b.mu.Lock()
			if b.state == stateCatchingUp {
				b.goLive()
			}
			b.mu.Unlock()
			r.rebuildLiveLocked()
			r.mu.Unlock()
			return
		}
		next += len(chunk)
		r.mu.Unlock()

		b.mu.Lock()
		if b.state != stateCatchingUp {
			b.mu.Unlock()
			return // closed meanwhile
		}
		b.writeCatchUp(chunk)
		b.mu.Unlock()
	}
}

// bind registers a viewer's sender; called by pion during negotiation.
func (r *Relay) bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	codec, ok := pickH264(ctx.CodecParameters())
	if !ok {
		return webrtc.RTPCodecParameters{}, webrtc.ErrUnsupportedCodec
	}
	b := &binding{
		id:      ctx.ID(),
		ssrc:    ctx.SSRC(),
		pt:      uint8(codec.PayloadType),
		ws:      ctx.WriteStream(),
		state:   stateBound,
		lastSeq: uint16(rand.Uint32()),
		lastTS:  rand.Uint32(),
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.bindings[b.ssrc]; dup {
		return webrtc.RTPCodecParameters{}, fmt.Errorf("relay %s: SSRC %d bound twice", r.camera, b.ssrc)
	}
	r.bindings[b.ssrc] = b
	return codec, nil
}

func (r *Relay) unbind(ctx webrtc.TrackLocalContext) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	b, ok := r.bindings[ctx.SSRC()]
	if !ok || b.id != ctx.ID() {
		return webrtc.ErrUnbindFailed
	}
	b.mu.Lock()
	b.state = stateClosed
	b.mu.Unlock()
	delete(r.bindings, b.ssrc)
	r.rebuildLiveLocked()
	return nil
}

// pickH264 chooses the viewer's packetization-mode=1 H.264 payload type.
// Browsers decode any profile once H.264 is agreed, so the first fits.
func pickH264(codecs []webrtc.RTPCodecParameters) (webrtc.RTPCodecParameters, bool) {
	for _, c := range codecs {
		if c.MimeType == webrtc.MimeTypeH264 && fmtpHas(c.SDPFmtpLine, "packetization-mode=1") {
			return c, true
		}
	}
	return webrtc.RTPCodecParameters{}, false
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
