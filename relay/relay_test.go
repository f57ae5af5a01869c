package relay

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/leakcheck"
	"github.com/hallwatch/hallwatch/internal/testclip"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

func freePort(t *testing.T, network string) int {
	t.Helper()
	switch network {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port
	default:
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		return l.Addr().(*net.TCPAddr).Port
	}
}

type relayRig struct {
	relay   *Relay
	viewers *Sessions
	engine  *Engine
}

func newRelayRig(t *testing.T, ice ICEOptions) *relayRig {
	t.Helper()
	engine, err := NewEngine(ice)
	if err != nil {
		t.Fatal(err)
	}
	relay, err := New("hall1", Options{Batch: engine.Batcher()})
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(camera string, _ []ingest.Codec) (*Relay, error) {
		if camera != "hall1" {
			return nil, ErrUnknownCamera
		}
		return relay, nil
	}
	v := NewSessions(engine, lookup, Limits{Max: 50, PerUser: 50, ConnectTimeout: 30 * time.Second}, nil)
	t.Cleanup(func() {
		v.Close()
		engine.Close()
	})
	return &relayRig{relay: relay, viewers: v, engine: engine}
}

func (rig *relayRig) exchange(camera string) whepclient.Exchange {
	return func(ctx context.Context, offer string) (string, error) {
		_, answer, err := rig.viewers.Offer(ctx, camera, Viewer{User: "test"}, offer)
		return answer, err
	}
}

func loopbackICE(t *testing.T) ICEOptions {
	return ICEOptions{UDPPort: freePort(t, "udp"), IncludeLoopback: true, Interfaces: []string{"lo"}}
}

func TestRelayViewersStartOnKeyFrame(t *testing.T) {
	// GOP of 50 frames at 25 fps: a late viewer joins mid-GOP and must
	// still start with a key frame, from the cache, not the camera's next one.
	units := testclip.H264(t, testclip.Options{Width: 320, Height: 240, FPS: 25, GOP: 50, Frames: 100})
	rig := newRelayRig(t, loopbackICE(t))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); testclip.Play(ctx, t, rig.relay.Push, units, 25) }()
	defer func() { cancel(); wg.Wait() }()

	first, err := whepclient.Connect(ctx, rig.exchange("hall1"), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	got := first.Wait(t, 30, 20*time.Second)
	if !got[0].Key {
		t.Fatalf("first viewer's first unit is not a key frame")
	}

	time.Sleep(500 * time.Millisecond) // join in the middle of a GOP
	late, err := whepclient.Connect(ctx, rig.exchange("hall1"), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	lateGot := late.Wait(t, 30, 20*time.Second)
	if !lateGot[0].Key {
		t.Fatalf("late viewer's first unit is not a key frame")
	}
	// Both viewers keep receiving concurrently.
	first.Wait(t, 20, 20*time.Second)
	if n := rig.relay.Viewers(); n != 2 {
		t.Fatalf("relay has %d viewers, want 2", n)
	}
}

func TestRelayCatchUpIsContinuous(t *testing.T) {
	// The replayed GOP and the live packets that follow must form one
	// stream: timestamps never go backwards and every unit decodes in order.
	// A 10 s GOP makes any key frame seen after the PLI the cache's answer.
	units := testclip.H264(t, testclip.Options{Width: 320, Height: 240, FPS: 25, GOP: 250, Frames: 250})
	rig := newRelayRig(t, loopbackICE(t))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); testclip.Play(ctx, t, rig.relay.Push, units, 25) }()
	defer func() { cancel(); wg.Wait() }()

	time.Sleep(1200 * time.Millisecond) // the GOP partly cached
	c, err := whepclient.Connect(ctx, rig.exchange("hall1"), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := c.Wait(t, 60, 20*time.Second)
	for i := 1; i < len(got); i++ {
		if d := int32(got[i].RTPTime - got[i-1].RTPTime); d <= 0 {
			t.Fatalf("unit %d: RTP time went from %d to %d", i, got[i-1].RTPTime, got[i].RTPTime)
		}
	}
	// A PLI is answered from the cache with a key frame, not ignored (once
	// the replay rate limit since the catch-up has passed).
	time.Sleep(keyFrameRequestGap)
	drain(c)
	if err := c.SendPLI(); err != nil {
		t.Fatal(err)
	}
	for _, u := range c.Wait(t, 30, 20*time.Second) {
		if u.Key {
			return
		}
	}
	t.Fatal("no key frame within 30 units after PLI")
}

// TestRelayNoReplayWhileCameraSilent: when the camera stops sending, a
// viewer's key frame requests get nothing (the cached pictures are old):
// the viewer sees the video stop, not the last GOP again and again.
func TestRelayNoReplayWhileCameraSilent(t *testing.T) {
	units := testclip.H264(t, testclip.Options{Width: 320, Height: 240, FPS: 25, GOP: 25, Frames: 50})
	rig := newRelayRig(t, loopbackICE(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	camCtx, stopCam := context.WithCancel(ctx)
	played := make(chan struct{})
	go func() {
		defer close(played)
		testclip.Play(camCtx, t, rig.relay.Push, units[:25], 25)
	}()
	c, err := whepclient.Connect(ctx, rig.exchange("hall1"), whepclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Wait(t, 5, 20*time.Second)
	stopCam() // the camera stalls
	<-played
	time.Sleep(silentAfter + keyFrameRequestGap)
	drain(c)
	if err := c.SendPLI(); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-c.Units():
		t.Fatalf("a silent camera's viewer got a unit (key %v) after asking for a key frame", u.Key)
	case <-time.After(time.Second):
	}
	// The camera is back: video flows again.
	go testclip.Play(ctx, t, rig.relay.Push, units[25:], 25)
	c.Wait(t, 5, 20*time.Second)
}

func TestRelayNoGoroutineLeak(t *testing.T) {
	units := testclip.H264(t, testclip.Options{Width: 160, Height: 120, FPS: 25, GOP: 25, Frames: 50})
	base := leakcheck.Count()
	func() {
		rig := newRelayRig(t, loopbackICE(t))
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); testclip.Play(ctx, t, rig.relay.Push, units, 25) }()
		for i := 0; i < 3; i++ {
			c, err := whepclient.Connect(ctx, rig.exchange("hall1"), whepclient.Options{})
			if err != nil {
				t.Fatal(err)
			}
			c.Wait(t, 5, 20*time.Second)
			c.Close()
		}
		waitFor(t, "viewers unbound", func() bool { return rig.relay.Viewers() == 0 && rig.viewers.Count() == 0 })
		cancel()
		wg.Wait()
		rig.viewers.Close()
		rig.engine.Close()
	}()
	leakcheck.Wait(t, base)
}

func TestRelayRejectsBadRequests(t *testing.T) {
	rig := newRelayRig(t, loopbackICE(t))
	ctx := context.Background()
	if _, _, err := rig.viewers.Offer(ctx, "hall1", Viewer{User: "u"}, "not sdp"); err == nil {
		t.Fatal("garbage offer accepted")
	}
	audioOnly := "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=rtpmap:111 opus/48000/2\r\n"
	if _, _, err := rig.viewers.Offer(ctx, "hall1", Viewer{User: "u"}, audioOnly); err == nil {
		t.Fatal("offer without video accepted")
	}
	_, err := whepclient.Connect(ctx, rig.exchange("nope"), whepclient.Options{})
	if err == nil {
		t.Fatal("unknown camera accepted")
	}
	if rig.viewers.Count() != 0 {
		t.Fatalf("%d sessions left after rejected offers", rig.viewers.Count())
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func drain(c *whepclient.Client) {
	for {
		select {
		case <-c.Units():
		default:
			return
		}
	}
}

// TestRelayHoldsViewersUntilKeyFrame: whatever the camera sends, a
// viewer's first frame is a key frame of the current stream. One viewer
// connects before the camera's first key frame and starts at it; after a
// reconnect whose new stream begins with delta frames, neither it nor a
// viewer joining then gets those deltas, nor the previous stream's stale
// GOP: both start at the new stream's first key frame.
func TestRelayHoldsViewersUntilKeyFrame(t *testing.T) {
	units := testclip.H264(t, testclip.Options{Width: 160, Height: 120, FPS: 25, GOP: 25, Frames: 100})
	rig := newRelayRig(t, loopbackICE(t))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	hub := ingest.NewHub("hall1")
	hub.SetStream(ingest.StreamInfo{Codec: ingest.CodecH264})
	done := make(chan error)
	go func() { done <- rig.relay.Run(ctx, hub) }()
	defer func() { cancel(); <-done }()
	var pts time.Duration
	publish := func(from, to int) {
		for _, au := range units[from:to] {
			u := *au
			u.PTS, u.Received = pts, time.Now()
			pts += 40 * time.Millisecond
			hub.Publish(&u)
			time.Sleep(5 * time.Millisecond)
		}
	}
	keyOf := func(nalus [][]byte) string {
		last := nalus[len(nalus)-1]
		return fmt.Sprintf("%d:%x", len(last), last[:16])
	}
	first := func(c *whepclient.Client, who string, want *ingest.AccessUnit) {
		t.Helper()
		got := c.Wait(t, 1, 10*time.Second)[0]
		if !got.Key || keyOf(got.NALUs) != keyOf(want.NALUs) {
			t.Fatalf("%s: first frame is key=%v %s, want the key frame %s", who, got.Key, keyOf(got.NALUs), keyOf(want.NALUs))
		}
	}
	connect := func() *whepclient.Client {
		c, err := whepclient.Connect(ctx, rig.exchange("hall1"), whepclient.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		waitFor(t, "viewer connected", func() bool { return !c.Connected().IsZero() })
		return c
	}
	nothing := func(what string, cs ...*whepclient.Client) {
		t.Helper()
		for _, c := range cs {
			select {
			case u := <-c.Units():
				t.Fatalf("%s (key=%v %s)", what, u.Key, keyOf(u.NALUs))
			case <-time.After(200 * time.Millisecond):
			}
		}
	}

	early := connect()
	publish(10, 25) // the camera's stream starts mid-GOP
	nothing("a viewer got a frame before the camera's first key frame", early)
	publish(25, 40)
	first(early, "viewer joined before the first key frame", units[25])

	hub.SetStream(ingest.StreamInfo{Codec: ingest.CodecH264}) // reconnected; starts mid-GOP
	drain(early)
	publish(60, 65)
	late := connect()
	drain(early)
	publish(65, 75)
	nothing("a viewer got a frame of the new stream before its key frame, or the old stream's GOP", early, late)
	publish(75, 90)
	first(early, "watching viewer after the reconnect", units[75])
	first(late, "viewer joined after the reconnect", units[75])
}
