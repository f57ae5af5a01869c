package relay

import (
	"bytes"
	"context"
	"maps"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"

	"github.com/hallwatch/hallwatch/internal/testclip"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// TestRelayAnswersNACKWithTheSamePacket checks retransmission end to end:
// a viewer that reports a packet lost gets that packet again, with the
// header and payload it had the first time (the NACK responder keeps the
// relay's packets without copying them, so nothing may have changed them).
func TestRelayAnswersNACKWithTheSamePacket(t *testing.T) {
	units := testclip.H264(t, testclip.Options{Width: 320, Height: 240, FPS: 25, GOP: 50, Frames: 100})
	rig := newRelayRig(t, loopbackICE(t))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); testclip.Play(ctx, t, rig.relay.Push, units, 25) }()
	defer func() { cancel(); wg.Wait() }()

	type seen struct {
		ts      uint32
		payload []byte
		times   int
	}
	var mu sync.Mutex
	packets := map[uint16]*seen{}
	var order []uint16
	record := func(p *rtp.Packet, _ time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if s := packets[p.SequenceNumber]; s != nil {
			s.times++
			if s.ts != p.Timestamp || !bytes.Equal(s.payload, p.Payload) {
				t.Errorf("packet %d came again with timestamp %d and %d payload bytes, first %d and %d bytes (payload equal: %v)",
					p.SequenceNumber, p.Timestamp, len(p.Payload), s.ts, len(s.payload), bytes.Equal(s.payload, p.Payload))
			}
			return
		}
		packets[p.SequenceNumber] = &seen{ts: p.Timestamp, payload: bytes.Clone(p.Payload), times: 1}
		order = append(order, p.SequenceNumber)
	}
	c, err := whepclient.Connect(ctx, rig.exchange("hall1"), whepclient.Options{OnPacket: record, OnUnit: func(whepclient.Unit) {}, AcceptRepeats: true})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	count := func() int { mu.Lock(); defer mu.Unlock(); return len(order) }
	deadline := time.Now().Add(20 * time.Second)
	for count() < 200 {
		if time.Now().After(deadline) {
			t.Fatalf("received %d packets, want 200", count())
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	lost := []uint16{order[len(order)-40], order[len(order)-20]} // well inside the responder's history
	mu.Unlock()
	if err := c.SendNACK(lost...); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		done := packets[lost[0]].times > 1 && packets[lost[1]].times > 1
		mu.Unlock()
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("packets %v were not sent again within 5 s of the NACK", lost)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seqWriter stands in for a viewer's SRTP stream and counts each output
// sequence number written.
type seqWriter struct {
	mu     sync.Mutex
	counts map[uint16]int
	bytes  int
}

func (w *seqWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.counts[h.SequenceNumber]++
	w.bytes += rtpHeaderSize + len(payload)
	return rtpHeaderSize + len(payload), nil
}

func (w *seqWriter) Write(b []byte) (int, error) { return len(b), nil }

func (w *seqWriter) total() (bytes int, counts map[uint16]int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.bytes, maps.Clone(w.counts)
}

// TestRelayResendsWithinBudget is the storm of issue 16.5a in small: a
// viewer whose socket overflows NACKs a whole GOP again and again (as
// pion's generator does every 100 ms). It gets each packet at most
// maxResends times, and no more bytes than its budget (half the stream's
// rate, after a burst) allows, where pion's own responder answered every
// NACK, sending far more than the stream.
func TestRelayResendsWithinBudget(t *testing.T) {
	r, err := New("hall1", Options{})
	if err != nil {
		t.Fatal(err)
	}
	w := &seqWriter{counts: map[uint16]int{}}
	ctx := &fakeContext{id: "v", ssrc: 1000, ws: w}
	if _, err := r.bind(ctx); err != nil {
		t.Fatal(err)
	}
	if err := r.Activate(ctx.ssrc); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	pts := time.Duration(0)
	for _, au := range benchGOP() {
		pts += 40 * time.Millisecond
		u := *au
		u.PTS, u.Received = pts, start.Add(pts)
		if err := r.Push(&u); err != nil {
			t.Fatal(err)
		}
	}
	sentBytes, first := w.total()
	var seqs []uint16
	for seq := range first {
		seqs = append(seqs, seq)
	}
	if len(seqs) < 300 {
		t.Fatalf("the GOP went out as %d packets, want hundreds", len(seqs))
	}
	r.mu.Lock()
	rate := resendShare * r.rate.bytesPerSecond(minStreamRate)
	r.mu.Unlock()

	began := time.Now()
	nack := &rtcp.TransportLayerNack{MediaSSRC: uint32(ctx.ssrc), Nacks: rtcp.NackPairsFromSequenceNumbers(seqs)}
	for range 20 {
		r.Resend(ctx.ssrc, nack)
		time.Sleep(minResendGap + 5*time.Millisecond)
	}
	elapsed := time.Since(began)
	allBytes, counts := w.total()
	resentBytes := allBytes - sentBytes
	if resentBytes == 0 {
		t.Fatal("nothing resent: the viewer's losses are never repaired")
	}
	// The token bucket's bound, from the time the test took: not a timing
	// assertion, the longer the machine stalls the more it may send.
	if limit := resendBurst + rate*elapsed.Seconds() + rtpHeaderSize + rtpPayloadMax; float64(resentBytes) > limit {
		t.Errorf("resent %d bytes in %v, budget %.0f (stream %.0f bytes/s)", resentBytes, elapsed, limit, rate/resendShare)
	}
	for seq, n := range counts {
		if n > 1+maxResends {
			t.Errorf("packet %d written %d times, want at most 1 + %d resends", seq, n, maxResends)
		}
	}
	st := r.Stats()
	if st.Refused == 0 || st.Resent == 0 {
		t.Errorf("stats: %d resent, %d refused; want both counted", st.Resent, st.Refused)
	}
	t.Logf("GOP %d bytes in %d packets; NACKed 20 times in %v: %d bytes resent (%d packets), %d refused",
		sentBytes, len(seqs), elapsed.Round(time.Millisecond), resentBytes, st.Resent, st.Refused)
}
