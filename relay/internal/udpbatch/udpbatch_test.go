package udpbatch

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"
)

func listen(t testing.TB) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func newConn(t testing.TB, gso bool) (*Conn, *Group) {
	t.Helper()
	g := &Group{}
	c := New(listen(t), g)
	if gso && !c.gso.Load() {
		t.Skip("kernel without UDP GSO")
	}
	c.gso.Store(gso)
	return c, g
}

// datagram makes the i-th test datagram for a peer: mostly full-size,
// every seventh shorter, as the RTP packets of a frame are.
func datagram(peer, i int) []byte {
	n := 1122
	if i%7 == 6 {
		n = 100 + i
	}
	b := bytes.Repeat([]byte{byte(peer)}, n)
	b[0], b[1] = byte(i>>8), byte(i)
	return b
}

// TestBatchDeliversEveryDatagramInOrder writes interleaved runs of
// datagrams to several peers within one batch and checks each peer gets
// exactly its own, intact and in order, with and without GSO, and with
// far fewer system calls than datagrams.
func TestBatchDeliversEveryDatagramInOrder(t *testing.T) {
	for _, gso := range []bool{false, true} {
		t.Run(fmt.Sprintf("gso=%v", gso), func(t *testing.T) {
			c, g := newConn(t, gso)
			const peers, perPeer = 5, 300
			rx := make([]*net.UDPConn, peers)
			for p := range rx {
				rx[p] = listen(t)
				if err := rx[p].SetReadBuffer(4 << 20); err != nil {
					t.Fatal(err)
				}
			}
			g.Begin()
			for i := 0; i < perPeer; i += 10 { // runs of ten per peer, peers interleaved
				for p := range rx {
					for k := i; k < i+10; k++ {
						if _, err := c.WriteToAddrPort(datagram(p, k), rx[p].LocalAddr().(*net.UDPAddr).AddrPort()); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			g.End()
			for p, r := range rx {
				buf := make([]byte, 2048)
				for k := range perPeer {
					r.SetReadDeadline(time.Now().Add(5 * time.Second))
					n, err := r.Read(buf)
					if err != nil {
						t.Fatalf("peer %d: datagram %d: %v", p, k, err)
					}
					if want := datagram(p, k); !bytes.Equal(buf[:n], want) {
						t.Fatalf("peer %d: datagram %d: got %d bytes starting %x, want %d bytes starting %x", p, k, n, buf[:2], len(want), want[:2])
					}
				}
			}
			st := c.Stats()
			if st.Packets != peers*perPeer || st.Errors != 0 {
				t.Fatalf("stats %+v, want %d packets and no errors", st, peers*perPeer)
			}
			if st.Syscalls > st.Packets/maxQueued+peers {
				t.Errorf("%d system calls for %d datagrams", st.Syscalls, st.Packets)
			}
			if gso && st.Messages >= st.Packets/4 {
				t.Errorf("GSO sent %d messages for %d datagrams", st.Messages, st.Packets)
			}
		})
	}
}

// TestWriteWithoutBatchIsImmediate: outside a batch (STUN, DTLS, RTCP)
// a write leaves at once.
func TestWriteWithoutBatchIsImmediate(t *testing.T) {
	c, _ := newConn(t, false)
	r := listen(t)
	if _, err := c.WriteTo([]byte("hello"), r.LocalAddr()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := r.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
}

// TestClosedConnRefusesWrites: a write after Close fails instead of
// queueing forever.
func TestClosedConnRefusesWrites(t *testing.T) {
	c, g := newConn(t, false)
	g.Begin()
	defer g.End()
	c.Close()
	if _, err := c.WriteToAddrPort([]byte("x"), netip.MustParseAddrPort("127.0.0.1:9")); err == nil {
		t.Fatal("write to a closed conn succeeded")
	}
}

// BenchmarkFanOut is one key frame's fan-out on loopback: 100 packets of
// 1122 bytes to each of 50 peers, sent with one sendto per packet
// (pion's own socket), with sendmmsg, and with sendmmsg + GSO.
func BenchmarkFanOut(b *testing.B) {
	const peers, perPeer = 50, 100
	dst := make([]netip.AddrPort, peers)
	for p := range dst {
		dst[p] = listen(b).LocalAddr().(*net.UDPAddr).AddrPort() // never read: the receive side is the same for all
	}
	pkt := bytes.Repeat([]byte{1}, 1122)
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*peers*perPeer), "ns/packet")
	}
	b.Run("sendto", func(b *testing.B) {
		c := listen(b)
		for b.Loop() {
			for p := range peers {
				for range perPeer {
					c.WriteToUDPAddrPort(pkt, dst[p])
				}
			}
		}
		report(b)
	})
	for _, gso := range []bool{false, true} {
		b.Run(fmt.Sprintf("batch/gso=%v", gso), func(b *testing.B) {
			c, g := newConn(b, gso)
			for b.Loop() {
				g.Begin()
				for p := range peers {
					for range perPeer {
						c.WriteToAddrPort(pkt, dst[p])
					}
				}
				g.End()
			}
			report(b)
		})
	}
}
