package relay

import (
	"time"

	"github.com/pion/rtp"
)

// Catch-up pacing. The cached key frame is the new viewer's first
// picture: it goes out at once, in bursts of burstPackets at keyFrameRate.
// The frames after it follow at catchUpSpeed times the stream's bitrate:
// the viewer reaches live within a fraction of a GOP, and neither its
// socket nor its link has to absorb a whole GOP in one burst (a loss
// there would cost it the picture until it is repaired). Each replayed
// frame's timestamp advances by the time since the previous one was
// sent, so the viewer's jitter buffer sees frames arrive when their
// timestamps say.
const (
	catchUpSpeed   = 4
	minCatchUpRate = 1 << 20 // bytes/s (8 Mbit/s), for low-rate and unmeasured streams
	keyFrameRate   = 8 << 20 // bytes/s (64 Mbit/s): a 130 KB key frame in 16 ms
	minCatchUpStep = 90      // RTP ticks (1 ms) between replayed frames
	maxCatchUpWait = 100 * time.Millisecond
)

// catchUp replays seg (and any newer segment) to b, then makes b live. It
// runs on its own goroutine so a large GOP never delays other viewers.
func (r *Relay) catchUp(b *binding, seg *segment) {
	next := 0
	var pace pacer
	var lastSent time.Time
	for {
		r.mu.Lock()
		if seg.next.usable() {
			seg, next = seg.next, 0 // a newer key frame: start from it
		}
		if seg.overflow { // grew past the cache limit while being replayed
			r.endCatchUpLocked(b, stateAwaitingKey)
			r.mu.Unlock()
			return
		}
		key := next == 0
		frame := frameAt(seg.packets, next)
		if len(frame) == 0 {
			r.endCatchUpLocked(b, stateLive)
			r.mu.Unlock()
			return
		}
		next += len(frame)
		rate := r.rate.bytesPerSecond(minCatchUpRate/catchUpSpeed) * catchUpSpeed
		r.mu.Unlock()
		if key {
			rate = max(rate, keyFrameRate)
		}

		now := time.Now()
		step := uint32(minCatchUpStep)
		if !lastSent.IsZero() {
			step = max(step, rtpTime(now.Sub(lastSent)))
		}
		lastSent = now
		for off := 0; off < len(frame); off += burstPackets {
			burst := frame[off:min(off+burstPackets, len(frame))]
			r.batch.Begin()
			b.mu.Lock()
			ok := b.state == stateCatchingUp
			if ok {
				b.writeCatchUp(burst, step, off == 0)
			}
			b.mu.Unlock()
			r.batch.End()
			if !ok {
				return // closed, or replaced by a newer replay
			}
			pace.wait(payloadBytes(burst), rate)
		}
	}
}

// pacer spaces writes to a rate: each wait lets the bytes just sent take
// their time at that rate, counted from where the previous ones ended.
type pacer struct{ due time.Time }

func (p *pacer) wait(bytes int, rate float64) {
	now := time.Now()
	if p.due.Before(now) {
		p.due = now
	}
	p.due = p.due.Add(time.Duration(float64(bytes) / rate * float64(time.Second)))
	if wait := time.Until(p.due); wait > 0 {
		time.Sleep(min(wait, maxCatchUpWait))
	}
}

// endCatchUpLocked moves b on from catching up, to live or, when the GOP
// could not be replayed to its end, to wait for the next key frame.
func (r *Relay) endCatchUpLocked(b *binding, to bindingState) {
	b.mu.Lock()
	if b.state == stateCatchingUp {
		if to == stateLive {
			b.goLive()
		} else {
			b.state = to
		}
	}
	b.mu.Unlock()
	r.rebuildLiveLocked()
}

// frameAt returns the packets of the frame starting at index i: those with
// the same timestamp.
func frameAt(pkts []*rtp.Packet, i int) []*rtp.Packet {
	if i >= len(pkts) {
		return nil
	}
	j := i + 1
	for j < len(pkts) && pkts[j].Timestamp == pkts[i].Timestamp {
		j++
	}
	return pkts[i:j]
}

func payloadBytes(pkts []*rtp.Packet) int {
	n := 0
	for _, p := range pkts {
		n += len(p.Payload)
	}
	return n
}
