package relay

import (
	"strings"
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
	lastReplay time.Time
	// Output = input + offset for live packets.
	seqOff    uint16
	tsOff     uint32
	lastSeq   uint16 // last written, in output space
	lastTS    uint32
	lastInTS  uint32 // input timestamp of the last written packet
	lastInSeq uint16
	wroteAny  bool
	sent      uint64
	writeErrs uint64
}

// writeLive sends live packets, if this binding is live.
func (b *binding) writeLive(pkts []*rtp.Packet) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != stateLive {
		return
	}
	for _, p := range pkts {
		b.write(p, p.SequenceNumber+b.seqOff, p.Timestamp+b.tsOff)
	}
}

// writeCatchUp replays cached packets: consecutive sequence numbers, and
// frames catchUpFrameStep apart.
func (b *binding) writeCatchUp(pkts []*rtp.Packet) {
	for _, p := range pkts {
		ts := b.lastTS
		if !b.wroteAny || p.Timestamp != b.lastInTS {
			ts += catchUpFrameStep
		}
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
	// A header of its own (the packet is shared by every viewer), never
	// reused: the NACK responder keeps it for retransmission.
	h := &rtp.Header{}
	*h = p.Header
	h.SSRC = uint32(b.ssrc)
	h.PayloadType = b.pt
	h.SequenceNumber = seq
	h.Timestamp = ts
	if _, err := b.ws.WriteRTP(h, p.Payload); err != nil {
		b.writeErrs++
		return
	}
	b.sent++
	b.wroteAny = true
	b.lastSeq, b.lastTS = seq, ts
	b.lastInSeq, b.lastInTS = p.SequenceNumber, p.Timestamp
}

// sharedTrack is the single TrackLocal of a camera; pion binds it once per
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

func fmtpHas(fmtp, param string) bool {
	for _, kv := range strings.Split(fmtp, ";") {
		if strings.TrimSpace(kv) == param {
			return true
		}
	}
	return false
}
