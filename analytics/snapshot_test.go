package analytics

import (
	"image/color"
	"testing"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/geom"
)

func TestSnapshotMasksAndOutlinesZone(t *testing.T) {
	frame := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(200, 200, 200, 0), 200, 400, gocv.MatTypeCV8UC3)
	defer frame.Close()
	mask := geom.Polygon{{0, 0}, {0.25, 0}, {0.25, 0.5}, {0, 0.5}}
	zone := geom.Polygon{{0.5, 0.25}, {0.75, 0.25}, {0.75, 0.75}, {0.5, 0.75}}
	jpeg, err := Snapshot(frame, zone, []geom.Polygon{mask})
	if err != nil {
		t.Fatal(err)
	}
	img, err := gocv.IMDecode(jpeg, gocv.IMReadColor)
	if err != nil || img.Empty() {
		t.Fatalf("snapshot is not a JPEG: %v", err)
	}
	defer img.Close()
	at := func(x, y int) color.RGBA {
		v := img.GetVecbAt(y, x)
		return color.RGBA{B: v[0], G: v[1], R: v[2]}
	}
	if c := at(40, 40); c.R > 30 || c.G > 30 || c.B > 30 {
		t.Errorf("privacy mask not black: %v", c)
	}
	if c := at(200, 100); c.R < 180 || c.G > 120 {
		t.Errorf("zone outline not drawn on its left edge: %v", c)
	}
	if c := at(250, 30); c.R < 180 || c.G < 180 {
		t.Errorf("picture outside mask and zone changed: %v", c)
	}
	if c := frame.GetVecbAt(40, 40); c[0] != 200 {
		t.Error("Snapshot changed the caller's frame")
	}
	if _, err := Snapshot(gocv.NewMat(), zone, nil); err == nil {
		t.Error("empty frame accepted")
	}
}
