package relay

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

type bindingState int

const (
	stateBound       bindingState = iota // negotiated, transport not yet up
	stateAwaitingKey                     // up, but no GOP cached: starts at the next key frame
	stateCatchingUp                      // replaying the cached GOP
	stateLive                            // receiving live packets
	stateClosed
)

// binding is one viewer's sender of the shared track. Its output sequence
// numbers and timestamps are continuous whatever was replayed, so the
// viewer's jitter buffer sees one clean stream.
type binding struct {
	id   string
	ssrc webrtc.SSRC
	pt   uint8
	ws   webrtc.TrackLocalWriter

	mu         sync.Mutex
	state      bindingState
	started    bool // a key frame's first packet was written
	lastReplay time.Time
	// Output = input + offset for live packets.
	seqOff    uint16
	tsOff     uint32
	lastSeq   uint16 // last written, in output space
	lastTS    uint32
	lastInTS  uint32 // input timestamp of the last written packet
	lastInSeq uint16
	wroteAny  bool
	hdr       rtp.Header // scratch: no interceptor keeps it past WriteRTP
	history   history    // what was written, for NACKs
	budget    tokenBucket
	sent      uint64
	writeErrs uint64
}

func newBinding(id string, ssrc webrtc.SSRC, pt uint8, ws webrtc.TrackLocalWriter) *binding {
	return &binding{id: id, ssrc: ssrc, pt: pt, ws: ws, state: stateBound,
		lastSeq: uint16(rand.Uint32()), lastTS: rand.Uint32()}
}

// writeLive sends live packets of an access unit (from its first packet
// when first), if this binding is live. Until it has started, it waits
// for a key frame from its first packet: a decoder can do nothing with
// the delta frames before one.
func (b *binding) writeLive(pkts []*rtp.Packet, key, first bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != stateLive || !(b.started || key && first) {
		return
	}
	if !b.started && b.wroteAny {
		// Restarting after skipped units (a new stream): continue the
		// sequence numbers, or the viewer would wait for packets it was
		// never meant to get.
		b.seqOff = b.lastSeq + 1 - pkts[0].SequenceNumber
	}
	b.started = true
	for _, p := range pkts {
		b.write(p, p.SequenceNumber+b.seqOff, p.Timestamp+b.tsOff)
	}
}

// writeCatchUp replays cached packets of one frame (from its first packet
// when first): consecutive sequence numbers, the frame's timestamp a step
// after the previous frame's.
func (b *binding) writeCatchUp(frame []*rtp.Packet, step uint32, first bool) {
	ts := b.lastTS
	if b.wroteAny && first {
		ts += step
	}
	b.started = true
	for _, p := range frame {
		b.write(p, b.lastSeq+1, ts)
	}
}

// goLive sets the offsets that make the next live packet follow the last
// replayed one seamlessly.
func (b *binding) goLive() {
	if b.wroteAny {
		b.seqOff = b.lastSeq - b.lastInSeq
		b.tsOff = b.lastTS - b.lastInTS
	}
	b.state = stateLive
}

func (b *binding) write(p *rtp.Packet, seq uint16, ts uint32) {
	if !b.send(p, seq, ts) {
		return
	}
	b.history.put(p, seq, ts)
	b.wroteAny = true
	b.lastSeq, b.lastTS = seq, ts
	b.lastInSeq, b.lastInTS = p.SequenceNumber, p.Timestamp
}

// send writes one packet with this viewer's header; the payload is the
// relay's shared one, never modified.
func (b *binding) send(p *rtp.Packet, seq uint16, ts uint32) bool {
	b.hdr = p.Header
	b.hdr.SSRC = uint32(b.ssrc)
	b.hdr.PayloadType = b.pt
	b.hdr.SequenceNumber = seq
	b.hdr.Timestamp = ts
	if _, err := b.ws.WriteRTP(&b.hdr, p.Payload); err != nil {
		b.writeErrs++
		return false
	}
	b.sent++
	return true
}

// sharedTrack is the single TrackLocal of a relay; pion binds it once per
// viewer PeerConnection.
type sharedTrack struct{ relay *Relay }

func (t *sharedTrack) Bind(ctx webrtc.TrackLocalContext) (webrtc.RTPCodecParameters, error) {
	return t.relay.bind(ctx)
}
func (t *sharedTrack) Unbind(ctx webrtc.TrackLocalContext) error { return t.relay.unbind(ctx) }
func (t *sharedTrack) ID() string                                { return "video" }
func (t *sharedTrack) RID() string                               { return "" }
func (t *sharedTrack) StreamID() string                          { return t.relay.camera }
func (t *sharedTrack) Kind() webrtc.RTPCodecType                 { return webrtc.RTPCodecTypeVideo }
