package eval

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/config"
)

func TestZZZone(t *testing.T) {
	zi, _ := strconv.Atoi(os.Getenv("ZONE"))
	from, _ := strconv.Atoi(os.Getenv("FROM"))
	to, _ := strconv.Atoi(os.Getenv("TO"))
	z := PETSOwnZones[zi]
	seq, _ := LoadSequence(filepath.Join(TestdataDir(), "pets09-s2l1"))
	det := config.Default().Detector
	d, choice, _ := analytics.NewDetector(det, "")
	an, _ := analytics.NewAnalyzer(analytics.AnalyzerOptions{Camera: "p", Analytics: &config.Analytics{Windows: []config.Window{evalWindow(z.ID, z.Zone)}}, Detector: d, Tracker: choice.TrackerOptions(), ResolveConfirm: time.Second})
	counts := Occupancy(seq.Boxes, seq.Width, seq.Height, seq.Frames, z.Zone)
	vc, _ := gocv.VideoCaptureFile(seq.Video)
	m := gocv.NewMat()
	for f := 1; f <= to; f++ {
		vc.Read(&m)
		evs, _ := an.Process(m, f, float64(f-1)/10, time.Unix(0, 0))
		if f < from {
			continue
		}
		st := an.Windows()[0]
		s := fmt.Sprintf("f%d t%.1f truth %d pred %d %s", f, float64(f-1)/10, counts[f-1], st.Count, st.State)
		for _, tr := range an.Tracks() {
			if tr.Confirmed && z.Zone.Contains(tr.Feet) || (tr.Feet[0] > 0.2 && tr.Feet[0] < 0.9 && tr.Feet[1] > 0.3 && tr.Feet[1] < 0.7 && false) {
				s += fmt.Sprintf(" [%d %.3f,%.3f still%v seen%v miss%.1f]", tr.ID, tr.Feet[0], tr.Feet[1], tr.Still, tr.Seen, tr.Missed)
			}
		}
		for _, b := range seq.Boxes {
			if b.Frame == f && z.Zone.Contains(b.Feet(seq.Width, seq.Height)) {
				p := b.Feet(seq.Width, seq.Height)
				s += fmt.Sprintf(" gt%d(%.3f,%.3f)", b.ID, p[0], p[1])
			}
		}
		for _, e := range evs {
			s += fmt.Sprintf(" EV %s %s", e.Type, e.State)
		}
		fmt.Println(s)
	}
}
