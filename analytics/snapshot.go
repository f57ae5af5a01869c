package analytics

import (
	"fmt"
	"image"
	"image/color"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/geom"
)

// snapshotQuality keeps an alert snapshot around 50-150 KB at 720p.
const snapshotQuality = 80

// Snapshot renders the JPEG stored with an alert: the frame with privacy
// masks blacked out and the window's zone outlined. frame is not changed.
func Snapshot(frame gocv.Mat, zone geom.Polygon, masks []geom.Polygon) ([]byte, error) {
	if frame.Empty() {
		return nil, fmt.Errorf("snapshot: empty frame")
	}
	img := frame.Clone()
	defer img.Close()
	ApplyPrivacyMasks(&img, masks)
	w, h := img.Cols(), img.Rows()
	if len(zone) > 0 {
		pts := gocv.NewPointsVectorFromPoints([][]image.Point{pixels(zone, w, h)})
		defer pts.Close()
		gocv.Polylines(&img, pts, true, color.RGBA{R: 255, G: 60, B: 0}, max(2, w/320))
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, img, []int{gocv.IMWriteJpegQuality, snapshotQuality})
	if err != nil {
		return nil, fmt.Errorf("snapshot: encode: %w", err)
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...), nil
}

// ApplyPrivacyMasks blacks out the masks in frame, in place.
func ApplyPrivacyMasks(frame *gocv.Mat, masks []geom.Polygon) {
	for _, m := range masks {
		pts := gocv.NewPointsVectorFromPoints([][]image.Point{pixels(m, frame.Cols(), frame.Rows())})
		gocv.FillPoly(frame, pts, color.RGBA{})
		pts.Close()
	}
}

func pixels(pg geom.Polygon, w, h int) []image.Point {
	out := make([]image.Point, len(pg))
	for i, p := range pg {
		out[i] = image.Pt(int(p[0]*float64(w)+0.5), int(p[1]*float64(h)+0.5))
	}
	return out
}
