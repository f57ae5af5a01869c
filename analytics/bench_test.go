package analytics_test

import (
	"fmt"
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/eval"
)

// petsFrames decodes the first n frames of PETS09-S2L1 or skips.
func petsFrames(b *testing.B, n int) []gocv.Mat {
	b.Helper()
	video := filepath.Join(eval.TestdataDir(), "pets09-s2l1", "pets09-s2l1.mp4")
	if _, err := os.Stat(video); err != nil {
		b.Skipf("test data absent (set HALLWATCH_TESTDATA): %v", err)
	}
	vc, err := gocv.VideoCaptureFile(video)
	if err != nil {
		b.Fatal(err)
	}
	defer vc.Close()
	var frames []gocv.Mat
	for len(frames) < n {
		m := gocv.NewMat()
		if !vc.Read(&m) {
			b.Fatalf("read only %d frames", len(frames))
		}
		frames = append(frames, m)
	}
	b.Cleanup(func() {
		for i := range frames {
			frames[i].Close()
		}
	})
	return frames
}

func BenchmarkYOLO(b *testing.B) {
	frames := petsFrames(b, 20)
	for _, size := range []int{320, 416} {
		b.Run(fmt.Sprintf("input%d", size), func(b *testing.B) {
			y, err := analytics.NewYOLO(analytics.YOLOOptions{
				Model: analytics.ShippedModel(), InputSize: size, ScoreThreshold: 0.2, NMSThreshold: 0.45,
			})
			if err != nil {
				b.Fatal(err)
			}
			defer y.Close()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := y.Detect(frames[i%len(frames)]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkMotion(b *testing.B) {
	frames := petsFrames(b, 100)
	m := analytics.NewMotion(analytics.MotionOptions{})
	defer m.Close()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Detect(frames[i%len(frames)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTracker tracks 8 people walking across a 768x576 frame, two of
// them with a missed detection every third frame.
func BenchmarkTracker(b *testing.B) {
	tk := analytics.NewTracker(analytics.TrackerOptions{BirthScore: 0.5})
	size := image.Pt(768, 576)
	dets := make([]analytics.Detection, 0, 8)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dets = dets[:0]
		for p := 0; p < 8; p++ {
			if p < 2 && i%3 == 0 {
				continue
			}
			x := (100 + 90*p + 5*i) % 700
			y := 150 + 45*p
			dets = append(dets, analytics.Detection{Box: image.Rect(x, y, x+30, y+80), Score: 0.9})
		}
		tk.Update(float64(i)/10, dets, size)
	}
}
