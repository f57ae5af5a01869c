package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/geom"
)

func TestZZRaw(t *testing.T) {
	from, _ := strconv.Atoi(os.Getenv("FROM"))
	to, _ := strconv.Atoi(os.Getenv("TO"))
	seq, _ := LoadSequence(filepath.Join(TestdataDir(), "pets09-s2l1"))
	y, _ := analytics.NewYOLO(analytics.YOLOOptions{Model: analytics.ShippedModel(), InputSize: 416, ScoreThreshold: 0.1, NMSThreshold: 0.45})
	vc, _ := gocv.VideoCaptureFile(seq.Video)
	m := gocv.NewMat()
	for f := 1; f <= to; f++ {
		vc.Read(&m)
		if f < from {
			continue
		}
		dets, _ := y.Detect(m)
		s := fmt.Sprintf("f%d", f)
		for _, d := range dets {
			p := geom.Point{float64(d.Box.Min.X+d.Box.Max.X) / 2 / 768, float64(d.Box.Max.Y) / 576}
			if p[0] > 0.55 && p[0] < 0.8 && p[1] > 0.45 && p[1] < 0.65 {
				s += fmt.Sprintf(" (%.3f,%.3f %.2f h%d)", p[0], p[1], d.Score, d.Box.Dy())
			}
		}
		for _, b := range seq.Boxes {
			if b.Frame == f {
				p := b.Feet(768, 576)
				if p[0] > 0.55 && p[0] < 0.8 && p[1] > 0.45 && p[1] < 0.65 {
					s += fmt.Sprintf(" gt%d(%.3f,%.3f)", b.ID, p[0], p[1])
				}
			}
		}
		fmt.Println(s)
	}
}
