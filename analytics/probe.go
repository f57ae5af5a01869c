package analytics

import (
	"image"
	"image/color"

	"gocv.io/x/gocv"
)

// changeProbe tells whether a picture differs from a reference picture.
// Both are shrunk to probeWidth first: averaging some 100 pixels into one
// removes sensor noise and coding artefacts, while a person stays a few
// dozen pixels. It looks at the whole picture, not only where analysis
// looks (Analyzer.Quiet): a visitor who crossed the door line between two
// key frames may be beyond it at the second, and the replay that counts
// them must still happen.
//
// People already known and still (a seated clerk's track) are left out:
// a clerk who types or turns their head changes their own box, which says
// nothing about anyone new.
type changeProbe struct {
	ref  gocv.Mat // grey, small
	cur  gocv.Mat
	mask gocv.Mat // 255 where changes count
	size image.Point
}

const (
	probeWidth = 128
	probeDiff  = 18 // grey levels a pixel must change by
	probeBlob  = 4  // changed pixels left after the opening: one 2x2 block, a head showing in a door
)

func newChangeProbe() *changeProbe {
	return &changeProbe{ref: gocv.NewMat(), cur: gocv.NewMat(), mask: gocv.NewMat()}
}

// shrink writes the small grey picture of frame into dst.
func (c *changeProbe) shrink(frame gocv.Mat, dst *gocv.Mat) {
	h := max(1, frame.Rows()*probeWidth/max(1, frame.Cols()))
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(frame, &small, image.Pt(probeWidth, h), 0, 0, gocv.InterpolationArea)
	gocv.CvtColor(small, dst, gocv.ColorBGRToGray)
	c.size = image.Pt(probeWidth, h)
}

// reset makes frame the reference, with the boxes (pixels of frame) of
// the people whose own movements do not count.
func (c *changeProbe) reset(frame gocv.Mat, known []image.Rectangle) {
	c.shrink(frame, &c.ref)
	c.mask.Close()
	c.mask = gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 0, 0, 0), c.size.Y, c.size.X, gocv.MatTypeCV8U)
	scale := float64(c.size.X) / float64(max(1, frame.Cols()))
	for _, b := range known {
		pad := image.Pt(b.Dx()/8, b.Dy()/8)
		r := image.Rect(int(float64(b.Min.X-pad.X)*scale), int(float64(b.Min.Y-pad.Y)*scale),
			int(float64(b.Max.X+pad.X)*scale+0.999), int(float64(b.Max.Y+pad.Y)*scale+0.999))
		gocv.Rectangle(&c.mask, r, color.RGBA{}, -1)
	}
}

// adopt makes the picture the last call to changed compared the new
// reference, mask kept: it need not be shrunk again.
func (c *changeProbe) adopt() {
	c.ref, c.cur = c.cur, c.ref
}

// changed compares frame with the reference.
func (c *changeProbe) changed(frame gocv.Mat) bool {
	c.shrink(frame, &c.cur)
	if c.ref.Empty() || c.ref.Rows() != c.cur.Rows() {
		return true
	}
	diff := gocv.NewMat()
	defer diff.Close()
	gocv.AbsDiff(c.cur, c.ref, &diff)
	gocv.Threshold(diff, &diff, probeDiff, 255, gocv.ThresholdBinary)
	gocv.BitwiseAnd(diff, c.mask, &diff)
	// Only changes of some extent: a seated clerk's hand or a flicker
	// leaves specks, someone new leaves a blob.
	kernel := gocv.GetStructuringElement(gocv.MorphRect, image.Pt(2, 2))
	defer kernel.Close()
	gocv.MorphologyEx(diff, &diff, gocv.MorphOpen, kernel)
	return gocv.CountNonZero(diff) >= probeBlob
}

func (c *changeProbe) Close() error {
	for _, m := range []*gocv.Mat{&c.ref, &c.cur, &c.mask} {
		m.Close()
	}
	return nil
}
