package whepclient

import (
	"testing"
	"time"

	"github.com/pion/rtp"
)

func pkt(seq uint16) *rtp.Packet { return &rtp.Packet{Header: rtp.Header{SequenceNumber: seq}} }

// describe renders released items as sequence numbers, -n for a gap of n.
func describe(out []released) []int {
	var s []int
	for _, r := range out {
		if r.lost > 0 {
			s = append(s, -r.lost)
		} else {
			s = append(s, int(r.pkt.SequenceNumber))
		}
	}
	return s
}

func TestJitterBufferReordersAndGivesUp(t *testing.T) {
	j := newJitterBuffer(100 * time.Millisecond)
	t0 := time.Now()
	var got []int
	push := func(seq uint16, at time.Duration) { got = append(got, describe(j.push(pkt(seq), t0.Add(at), nil))...) }
	push(65534, 0)
	push(65535, 0)
	push(1, 0) // 0 is late: 1 waits
	push(0, 10*time.Millisecond)
	push(0, 11*time.Millisecond) // duplicate
	push(3, 20*time.Millisecond) // 2 lost for good
	push(4, 30*time.Millisecond)
	got = append(got, describe(j.expire(t0.Add(200*time.Millisecond), nil))...)
	push(2, 210*time.Millisecond) // too late: given up already
	push(5, 220*time.Millisecond)
	want := []int{65534, 65535, 0, 1, -1, 3, 4, 5}
	if len(got) != len(want) {
		t.Fatalf("released %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("released %v, want %v", got, want)
		}
	}
}
