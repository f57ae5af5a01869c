package transcode

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/ingest"
)

// h265Units encodes n frames of a moving pattern with libx265, a key
// frame every gop frames.
func h265Units(t *testing.T, n, gop int) []*ingest.AccessUnit {
	t.Helper()
	const w, h = 320, 180
	enc, err := avcodec.NewEncoder(avcodec.EncoderOptions{Codec: avcodec.CodecH265, Width: w, Height: h, FPS: 25, GOP: gop, BitrateKbps: 500, Preset: "ultrafast"})
	if err != nil {
		t.Skipf("no H.265 encoder: %v", err)
	}
	defer enc.Close()
	var units []*ingest.AccessUnit
	for i := range n {
		img := avcodec.NewImage(w, h)
		for y := range h {
			for x := range w {
				o := y*img.Stride + 3*x
				img.Data[o], img.Data[o+1], img.Data[o+2] = byte(x+4*i), byte(y), byte(x+y)
			}
		}
		nalus, key, err := enc.Encode(img, int64(i))
		if err != nil {
			t.Fatal(err)
		}
		units = append(units, &ingest.AccessUnit{PTS: time.Duration(i) * 40 * time.Millisecond, Received: time.Now(), Key: key, NALUs: nalus})
	}
	return units
}

// TestTranscoderFollowsTheCameraStream feeds an H.265 camera hub, joined
// mid-GOP, and reads the H.264 hub: output starts at the camera's key
// frame, has a key frame exactly where the camera has one, decodes as
// H.264; a reconnect starts a new output stream at the new key frame, and
// stopping ends the output stream.
func TestTranscoderFollowsTheCameraStream(t *testing.T) {
	units := h265Units(t, 60, 20)
	for i, u := range units {
		if u.Key != (i%20 == 0) {
			t.Fatalf("input unit %d key=%v", i, u.Key)
		}
	}
	in, out := ingest.NewHub("cam"), ingest.NewHub("cam-h264")
	in.SetStream(ingest.StreamInfo{Codec: ingest.CodecH265})
	read := out.Subscribe("test", ingest.SubscribeOptions{Buffer: 256})
	tr := New("cam", in, out, Options{MaxWidth: 160, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- tr.Run(ctx) }()
	time.Sleep(100 * time.Millisecond) // subscribed

	dec, err := avcodec.NewDecoder(avcodec.CodecH264)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	expect := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			select {
			case au := <-read.C():
				if au.Key != (i%20 == 0) {
					t.Fatalf("output of input unit %d: key=%v, want %v", i, au.Key, i%20 == 0)
				}
				if ok, err := dec.Decode(au.NALUs); err != nil || !ok {
					t.Fatalf("output of input unit %d does not decode as H.264: %v, %v", i, ok, err)
				}
				var img avcodec.Image
				if err := dec.Frame(&img); err != nil || img.Width != 160 || img.Height != 90 {
					t.Fatalf("output of input unit %d: %dx%d, %v; want 160x90", i, img.Width, img.Height, err)
				}
			case <-time.After(10 * time.Second):
				t.Fatalf("no output for input unit %d", i)
			}
		}
	}
	for _, u := range units[5:30] { // joined mid-GOP
		in.Publish(u)
	}
	expect(20, 30)
	gen := out.Stream().Generation
	if out.Stream().Codec != ingest.CodecH264 {
		t.Fatalf("output stream %+v, want H.264", out.Stream())
	}

	in.SetStream(ingest.StreamInfo{Codec: ingest.CodecH265}) // the camera reconnected
	for _, u := range units[40:] {
		in.Publish(u)
	}
	expect(40, 60)
	if g := out.Stream().Generation; g <= gen {
		t.Errorf("output generation %d after the camera's reconnect, was %d: the relay would keep the old GOP", g, gen)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if st := out.Stream(); st.Codec != "" {
		t.Errorf("output stream %+v after stopping, want ended", st)
	}
	if tr.Units() != 30 {
		t.Errorf("%d units transcoded, want 30", tr.Units())
	}
}
