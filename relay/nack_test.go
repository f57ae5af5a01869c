package relay

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

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
