package whepclient

import (
	"time"

	"github.com/pion/rtp"
)

// jitterBuffer puts packets back in sequence order, as a browser's does,
// so that a packet resent after a NACK fills its gap. A gap not filled
// within maxWait (or while maxPending packets wait behind it) is given up.
type jitterBuffer struct {
	maxWait time.Duration
	started bool
	want    uint16 // next sequence number to release
	pending map[uint16]waiting
}

type waiting struct {
	pkt     *rtp.Packet
	arrived time.Time
}

// released is a packet in order, or a gap of lost packets.
type released struct {
	pkt  *rtp.Packet
	lost int
}

const maxPending = 512

func newJitterBuffer(maxWait time.Duration) *jitterBuffer {
	return &jitterBuffer{maxWait: maxWait, pending: map[uint16]waiting{}}
}

// push takes an arriving packet and appends what can be released to out.
func (j *jitterBuffer) push(p *rtp.Packet, now time.Time, out []released) []released {
	if !j.started {
		j.started, j.want = true, p.SequenceNumber
	}
	switch d := int16(p.SequenceNumber - j.want); {
	case d < 0:
		return out // a duplicate, or a resend of a packet given up
	case d > 0:
		if _, dup := j.pending[p.SequenceNumber]; !dup {
			j.pending[p.SequenceNumber] = waiting{pkt: p, arrived: now}
		}
	default:
		out = append(out, released{pkt: p})
		j.want++
	}
	return j.expire(now, j.drain(out))
}

// expire gives up the gaps that waited too long, and appends what that
// releases to out.
func (j *jitterBuffer) expire(now time.Time, out []released) []released {
	for len(j.pending) > 0 && (len(j.pending) > maxPending || now.Sub(j.oldest()) > j.maxWait) {
		next := j.nearest()
		out = append(out, released{lost: int(next - j.want)})
		j.want = next
		out = j.drain(out)
	}
	return out
}

func (j *jitterBuffer) drain(out []released) []released {
	for {
		w, ok := j.pending[j.want]
		if !ok {
			return out
		}
		delete(j.pending, j.want)
		out = append(out, released{pkt: w.pkt})
		j.want++
	}
}

// oldest is when the longest-waiting packet arrived.
func (j *jitterBuffer) oldest() time.Time {
	var t time.Time
	for _, w := range j.pending {
		if t.IsZero() || w.arrived.Before(t) {
			t = w.arrived
		}
	}
	return t
}

// nearest is the pending sequence number closest after want.
func (j *jitterBuffer) nearest() uint16 {
	best := uint16(0xffff)
	for seq := range j.pending {
		best = min(best, seq-j.want)
	}
	return j.want + best
}
