package udpbatch

import (
	"net"
	"net/netip"
	"slices"

	"golang.org/x/net/ipv4"
)

// GSO limits: the kernel's segment count per send (UDP_MAX_SEGMENTS on
// older kernels) and an IPv4 datagram's largest payload.
const (
	maxSegments = 64
	maxGSOBytes = 65000
)

// queue holds datagrams copied out of the writers' buffers (pion's SRTP
// reuses them once WriteTo returns) until they are sent.
type queue struct {
	data    []byte
	entries []entry

	// Scratch for messages, reused from send to send.
	order []int
	msgs  []ipv4.Message
	bufs  [][]byte
	oob   []byte
}

type entry struct {
	addr   netip.AddrPort
	off, n int
}

func newQueue() *queue {
	return &queue{
		data:    make([]byte, 0, maxQueuedBytes+maxDatagram),
		entries: make([]entry, 0, maxQueued),
		order:   make([]int, 0, maxQueued),
		msgs:    make([]ipv4.Message, 0, maxQueued),
		bufs:    make([][]byte, 0, maxQueued),
		oob:     make([]byte, 0, maxQueued*cmsgSpace),
	}
}

func (q *queue) add(b []byte, addr netip.AddrPort) {
	q.entries = append(q.entries, entry{addr: addr, off: len(q.data), n: len(b)})
	q.data = append(q.data, b...)
}

func (q *queue) full() bool {
	return len(q.entries) >= maxQueued || len(q.data) >= maxQueuedBytes
}

func (q *queue) empty() bool { return len(q.entries) == 0 }

func (q *queue) reset() {
	q.data, q.entries = q.data[:0], q.entries[:0]
	clear(q.msgs) // drop the addresses
	q.msgs = q.msgs[:0]
}

// messages groups the datagrams by destination, keeping each
// destination's order (packets to different viewers may swap, a viewer's
// own never do), and with gso makes each run of equal-sized datagrams to
// one destination a single segmented message; the last of a run may be
// shorter, as the kernel allows.
func (q *queue) messages(gso bool, addrOf func(netip.AddrPort) net.Addr) []ipv4.Message {
	q.order = q.order[:0]
	for i := range q.entries {
		q.order = append(q.order, i)
	}
	slices.SortStableFunc(q.order, func(a, b int) int { return q.entries[a].addr.Compare(q.entries[b].addr) })
	q.msgs, q.bufs, q.oob = q.msgs[:0], q.bufs[:0], q.oob[:0]
	for i := 0; i < len(q.order); {
		first := q.entries[q.order[i]]
		start := len(q.bufs)
		q.bufs = append(q.bufs, q.data[first.off:first.off+first.n])
		total, j := first.n, i+1
		for gso && j < len(q.order) && j-i < maxSegments {
			e := q.entries[q.order[j]]
			if e.addr != first.addr || e.n > first.n || total+e.n > maxGSOBytes {
				break
			}
			q.bufs = append(q.bufs, q.data[e.off:e.off+e.n])
			total += e.n
			j++
			if e.n < first.n {
				break // a shorter datagram ends the message
			}
		}
		m := ipv4.Message{Buffers: q.bufs[start:len(q.bufs):len(q.bufs)], Addr: addrOf(first.addr)}
		if j-i > 1 {
			o := len(q.oob)
			q.oob = appendSegmentSize(q.oob, uint16(first.n))
			m.OOB = q.oob[o:len(q.oob):len(q.oob)]
		}
		q.msgs = append(q.msgs, m)
		i = j
	}
	return q.msgs
}

// ungroup splits segmented messages into one message per datagram.
func (q *queue) ungroup(msgs []ipv4.Message) []ipv4.Message {
	var out []ipv4.Message
	for _, m := range msgs {
		for _, b := range m.Buffers {
			out = append(out, ipv4.Message{Buffers: [][]byte{b}, Addr: m.Addr})
		}
	}
	return out
}

// datagramsIn is the number of datagrams a message carries.
func (q *queue) datagramsIn(m ipv4.Message) int { return len(m.Buffers) }
