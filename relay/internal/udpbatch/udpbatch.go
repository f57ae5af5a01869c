// Package udpbatch is a UDP socket that sends the packets written to it
// during a batch with as few system calls as the kernel allows: one
// sendmmsg for many datagrams, and on Linux with UDP GSO one segmented
// datagram for each run of equal-sized packets to the same peer.
//
// The relay writes each video packet once per viewer through pion's SRTP
// and ICE stack, which ends in one WriteTo per packet on the shared ICE
// socket. Wrapping that socket here, and opening a batch (Group.Begin)
// around each fan-out of an access unit, turns the thousands of sendto
// calls of a key frame into a few dozen, without changing pion.
package udpbatch

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

// Queue limits: a queue is sent when either is reached, so a viewer's
// packets wait for at most a few hundred others of the same fan-out.
const (
	maxQueued      = 256
	maxQueuedBytes = 256 << 10
	// maxDatagram is the largest packet queued; anything larger is sent
	// on its own.
	maxDatagram = 64 << 10
)

// Group opens and closes batches on a set of sockets together: the relay
// does not know which socket a viewer's packets leave from.
type Group struct {
	open  atomic.Int32
	mu    sync.Mutex
	conns []*Conn
}

// Begin opens a batch: from now on writes to the group's sockets are
// queued until End (or until a queue is full).
func (g *Group) Begin() { g.open.Add(1) }

// End closes a batch and sends what is queued. Overlapping batches (two
// cameras' fan-outs) each send what is queued when they end.
func (g *Group) End() {
	g.open.Add(-1)
	g.mu.Lock()
	conns := g.conns
	g.mu.Unlock()
	for _, c := range conns {
		c.Flush()
	}
}

func (g *Group) add(c *Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.conns = append(slices.Clone(g.conns), c) // End iterates without the lock
}

func (g *Group) remove(c *Conn) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.conns = slices.DeleteFunc(slices.Clone(g.conns), func(x *Conn) bool { return x == c })
}

// Stats count what a socket sent.
type Stats struct {
	Packets  uint64 // datagrams written by callers
	Syscalls uint64 // sendmmsg calls that sent them
	Messages uint64 // messages in those calls (a GSO message holds several datagrams)
	Errors   uint64 // datagrams the kernel refused
	GSO      bool   // UDP segmentation offload in use
}

// Conn is a UDP socket for pion's ICE UDP mux (a net.PacketConn, and
// ice.AddrPortReaderWriter so that ICE writes without allocating).
type Conn struct {
	udp   *net.UDPConn
	pc    *ipv4.PacketConn
	group *Group

	mu     sync.Mutex
	q      *queue
	spare  []*queue
	closed bool

	sendMu sync.Mutex // held while a queue is sent: queues leave in order
	gso    atomic.Bool
	addrs  map[netip.AddrPort]*net.UDPAddr // guarded by sendMu

	packets, syscalls, messages, errs atomic.Uint64
}

// New wraps udp; its writes are batched while g has a batch open.
func New(udp *net.UDPConn, g *Group) *Conn {
	c := &Conn{udp: udp, pc: ipv4.NewPacketConn(udp), group: g, q: newQueue(), addrs: map[netip.AddrPort]*net.UDPAddr{}}
	c.gso.Store(gsoSupported(udp))
	g.add(c)
	return c
}

// Stats returns the socket's counters.
func (c *Conn) Stats() Stats {
	return Stats{Packets: c.packets.Load(), Syscalls: c.syscalls.Load(), Messages: c.messages.Load(),
		Errors: c.errs.Load(), GSO: c.gso.Load()}
}

// WriteToAddrPort queues b for addr, or sends it (with whatever is
// queued before it) when no batch is open or the queue is full. Errors of
// queued packets are not reported: UDP is best effort, and RTP repairs.
func (c *Conn) WriteToAddrPort(b []byte, addr netip.AddrPort) (int, error) {
	if len(b) > maxDatagram {
		c.Flush()
		c.packets.Add(1)
		return c.udp.WriteToUDPAddrPort(b, addr)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, net.ErrClosed
	}
	c.q.add(b, addr)
	c.packets.Add(1)
	if c.group.open.Load() > 0 && !c.q.full() {
		c.mu.Unlock()
		return len(b), nil
	}
	err := c.sendLocked()
	return len(b), err
}

// WriteTo is WriteToAddrPort for a *net.UDPAddr.
func (c *Conn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok {
		return 0, &net.OpError{Op: "write", Net: "udp", Addr: addr, Err: errors.New("not a UDP address")}
	}
	return c.WriteToAddrPort(b, ua.AddrPort())
}

// Flush sends what is queued.
func (c *Conn) Flush() {
	c.mu.Lock()
	if c.q.empty() {
		c.mu.Unlock()
		return
	}
	c.sendLocked()
}

// sendLocked takes the queue, lets writers go on with a fresh one, and
// sends it; called with c.mu held, returns with it released. sendMu is
// taken before c.mu is released, so queues are sent in the order filled.
func (c *Conn) sendLocked() error {
	q := c.q
	if n := len(c.spare); n > 0 {
		c.q, c.spare = c.spare[n-1], c.spare[:n-1]
	} else {
		c.q = newQueue()
	}
	c.sendMu.Lock()
	c.mu.Unlock()
	err := c.send(q)
	c.sendMu.Unlock()
	q.reset()
	c.mu.Lock()
	c.spare = append(c.spare, q)
	c.mu.Unlock()
	return err
}

// send writes q's datagrams with sendmmsg, as GSO messages where it can.
// It returns the error of the last datagram, for callers that wrote it
// without a batch (STUN, DTLS) and want to know.
func (c *Conn) send(q *queue) error {
	msgs := q.messages(c.gso.Load(), c.addr)
	var lastErr error
	for len(msgs) > 0 {
		n, err := c.pc.WriteBatch(msgs, 0)
		c.syscalls.Add(1)
		c.messages.Add(uint64(max(n, 0)))
		msgs = msgs[max(n, 0):]
		if err == nil {
			lastErr = nil
			continue
		}
		if len(msgs) == 0 {
			break
		}
		// msgs[0] failed. A GSO message may fail where the device cannot
		// segment (EIO): send datagrams one by one from now on.
		if len(msgs[0].OOB) > 0 && gsoError(err) {
			c.gso.Store(false)
			rest := q.ungroup(msgs)
			msgs = rest
			continue
		}
		c.errs.Add(uint64(q.datagramsIn(msgs[0])))
		lastErr = err
		msgs = msgs[1:]
	}
	return lastErr
}

// addr returns a cached *net.UDPAddr (x/net takes net.Addr); called under
// sendMu. The cache is dropped when it grows past any plausible audience.
func (c *Conn) addr(ap netip.AddrPort) net.Addr {
	if a, ok := c.addrs[ap]; ok {
		return a
	}
	if len(c.addrs) > 4096 {
		clear(c.addrs)
	}
	a := net.UDPAddrFromAddrPort(ap)
	c.addrs[ap] = a
	return a
}

// ReadFromAddrPort reads a datagram.
func (c *Conn) ReadFromAddrPort(b []byte) (int, netip.AddrPort, error) {
	return c.udp.ReadFromUDPAddrPort(b)
}

// ReadFrom reads a datagram.
func (c *Conn) ReadFrom(b []byte) (int, net.Addr, error) { return c.udp.ReadFrom(b) }

// Close drops what is queued and closes the socket.
func (c *Conn) Close() error {
	c.mu.Lock()
	c.closed = true
	c.q.reset()
	c.mu.Unlock()
	c.group.remove(c)
	return c.udp.Close()
}

// LocalAddr is the socket's address.
func (c *Conn) LocalAddr() net.Addr { return c.udp.LocalAddr() }

// SetDeadline sets the socket's deadlines.
func (c *Conn) SetDeadline(t time.Time) error { return c.udp.SetDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.udp.SetReadDeadline(t) }

// SetWriteDeadline sets the socket's write deadline (pion uses it to
// abort writes when it closes).
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.udp.SetWriteDeadline(t) }
