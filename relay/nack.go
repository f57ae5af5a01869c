package relay

import (
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Retransmission limits. A viewer that loses packets asks for them again
// (NACK); a viewer that loses many, because its socket or link overflows,
// asks for more than the stream itself, again and again (pion's NACK
// generator repeats every missing packet every 100 ms), and the resends
// overflow it further: a storm that costs the relay cores and leaves the
// viewer with a fraction of its frames. So each packet is sent again at
// most twice, not twice within minResendGap, and each viewer's resends are
// held to a share of the stream's own bitrate.
const (
	// historySize is how many of its last packets a viewer may ask for:
	// some seconds of video, more than any jitter buffer waits for.
	historySize  = 1024
	maxResends   = 2
	minResendGap = 30 * time.Millisecond
	// resendShare of the stream's bitrate may be resent to one viewer, in
	// bursts of at most burstPackets (a NACK of a whole lost key frame is
	// answered over several NACKs, not with another burst that overflows).
	resendShare = 0.5
	resendBurst = burstPackets * (rtpHeaderSize + rtpPayloadMax)
	// minStreamRate (bytes/s) is assumed for streams the meter has not
	// measured yet, so that a fresh viewer's first losses can be repaired.
	minStreamRate = 64 << 10
)

// history is a ring of the packets written to one viewer, by output
// sequence number.
type history struct {
	entries [historySize]historyEntry
}

type historyEntry struct {
	pkt        *rtp.Packet // the relay's shared packet
	lastResend int64       // unix ns, 0 if never resent
	ts         uint32
	seq        uint16
	resends    uint8
}

func (h *history) put(p *rtp.Packet, seq uint16, ts uint32) {
	h.entries[seq%historySize] = historyEntry{pkt: p, seq: seq, ts: ts}
}

func (h *history) get(seq uint16) *historyEntry {
	e := &h.entries[seq%historySize]
	if e.pkt == nil || e.seq != seq {
		return nil
	}
	return e
}

// tokenBucket limits a viewer's resent bytes.
type tokenBucket struct {
	tokens float64
	last   time.Time
}

func (t *tokenBucket) take(now time.Time, n int, rate, limit float64) bool {
	if t.last.IsZero() {
		t.tokens = limit
	} else {
		t.tokens = min(limit, t.tokens+rate*now.Sub(t.last).Seconds())
	}
	t.last = now
	if t.tokens < float64(n) {
		return false
	}
	t.tokens -= float64(n)
	return true
}

// Resend answers a viewer's NACK from what was written to it, within the
// limits above.
func (r *Relay) Resend(ssrc webrtc.SSRC, nack *rtcp.TransportLayerNack) {
	r.mu.Lock()
	b := r.bindings[ssrc]
	rate := resendShare * r.rate.bytesPerSecond(minStreamRate)
	r.mu.Unlock()
	if b == nil {
		return
	}
	now := time.Now()
	r.batch.Begin()
	defer r.batch.End()
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == stateClosed {
		return
	}
	var resent, refused uint64
	for _, pair := range nack.Nacks {
		pair.Range(func(seq uint16) bool {
			e := b.history.get(seq)
			if e == nil || e.resends >= maxResends || now.UnixNano()-e.lastResend < int64(minResendGap) ||
				!b.budget.take(now, rtpHeaderSize+len(e.pkt.Payload), rate, resendBurst) {
				refused++
				return true
			}
			if b.send(e.pkt, e.seq, e.ts) {
				e.resends++
				e.lastResend = now.UnixNano()
				resent++
			}
			return true
		})
	}
	r.resent.Add(resent)
	r.refused.Add(refused)
}

// rtpHeaderSize is a header without CSRCs or extensions.
const rtpHeaderSize = 12
