package demo

import (
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/avcodec"
)

// benchScene is the default demo camera: 960x540 at 15 fps, 6 windows, with
// visitors often enough that people are always moving.
func benchScene(b *testing.B) *Scene {
	s := newScene(b, SceneOptions{Seed: 1, VisitorInterval: Range{3 * time.Second, 6 * time.Second}})
	for range 15 * 60 { // a minute in: clerks fidget, visitors walk
		s.Step()
	}
	return s
}

// BenchmarkSceneStep is the simulation and rendering cost of one frame.
func BenchmarkSceneStep(b *testing.B) {
	s := benchScene(b)
	b.ReportAllocs()
	for b.Loop() {
		s.Step()
	}
}

// BenchmarkLiveFrame is what a live demo camera spends per frame: Step and
// H.264 encoding (2 s GOP, 1.5 Mbit/s). At 15 fps, ns/op × 15 is the share of
// one core.
func BenchmarkLiveFrame(b *testing.B) {
	for _, preset := range []string{"ultrafast", "veryfast"} {
		b.Run(preset, func(b *testing.B) {
			s := benchScene(b)
			enc, err := avcodec.NewEncoder(avcodec.EncoderOptions{Width: 960, Height: 540, FPS: 15, GOP: 30,
				BitrateKbps: 1500, Preset: preset})
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			b.ReportAllocs()
			var bytes int
			for i := 0; b.Loop(); i++ {
				img, _ := s.Step()
				au, _, err := enc.Encode(img, int64(i))
				if err != nil {
					b.Fatal(err)
				}
				for _, n := range au {
					bytes += len(n)
				}
			}
			b.ReportMetric(float64(bytes*8*15)/float64(b.N)/1000, "kbit/s")
		})
	}
}

// BenchmarkReplayFrame is the fixed per-frame cost of a replay camera: the
// stored access unit, RTP packetization and the stream write, with no
// reader (each reader adds its TCP write).
func BenchmarkReplayFrame(b *testing.B) {
	cam, err := NewCamera(CameraOptions{Addr: "127.0.0.1:0", Cameras: []CameraSpec{
		{ID: "loop", Scene: SceneOptions{Seed: 1}, Replay: 4 * time.Second},
	}})
	if err != nil {
		b.Fatal(err)
	}
	defer cam.Close()
	_, stop, err := cam.startServer() // no feed goroutine: the benchmark sends
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	snd, err := cam.feeds["loop"].newSender()
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	for k := int64(0); b.Loop(); k++ {
		if _, err := snd.send(k, now); err != nil {
			b.Fatal(err)
		}
	}
}
