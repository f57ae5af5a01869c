package analytics

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Appearance is a colour histogram of a person's torso (hue × saturation ×
// value, normalised to sum 1). It tells apart people who pass close to
// each other, where position alone would swap their tracks.
type Appearance []float32

const (
	hueBins = 8
	satBins = 3
	valBins = 3
)

// appearanceOf fills each detection's Appearance from the frame.
type appearanceOf struct {
	hsv gocv.Mat
}

func newAppearanceOf() *appearanceOf { return &appearanceOf{hsv: gocv.NewMat()} }

func (a *appearanceOf) fill(frame gocv.Mat, dets []Detection) {
	if len(dets) == 0 {
		return
	}
	gocv.CvtColor(frame, &a.hsv, gocv.ColorBGRToHSV)
	if !a.hsv.IsContinuous() {
		return
	}
	data, err := a.hsv.DataPtrUint8()
	if err != nil {
		return
	}
	w := a.hsv.Cols()
	for i := range dets {
		dets[i].Appearance = torsoHistogram(data, w, dets[i].Box)
	}
}

func (a *appearanceOf) close() { a.hsv.Close() }

// torsoHistogram bins the pixels of the box's torso (the middle 60 % of the
// width, 15-60 % of the height: little background, no legs that swing)
// of a packed HSV image w pixels wide (OpenCV ranges: H 0-179, S and V 0-255).
func torsoHistogram(hsv []uint8, w int, box image.Rectangle) Appearance {
	bw, bh := box.Dx(), box.Dy()
	r := image.Rect(box.Min.X+bw/5, box.Min.Y+bh*15/100, box.Max.X-bw/5, box.Min.Y+bh*60/100)
	if r.Empty() {
		return nil
	}
	step := max(1, min(r.Dx(), r.Dy())/24) // about 24 samples across the short side
	hist := make(Appearance, hueBins*satBins*valBins)
	var n float32
	for y := r.Min.Y; y < r.Max.Y; y += step {
		row := y * w * 3
		for x := r.Min.X; x < r.Max.X; x += step {
			p := hsv[row+x*3 : row+x*3+3]
			hb := int(p[0]) * hueBins / 180
			sb := int(p[1]) * satBins / 256
			vb := int(p[2]) * valBins / 256
			hist[(hb*satBins+sb)*valBins+vb]++
			n++
		}
	}
	if n == 0 {
		return nil
	}
	for i := range hist {
		hist[i] /= n
	}
	return hist
}

// appearanceDistance is the Hellinger (Bhattacharyya) distance of two
// normalised histograms: 0 identical, 1 disjoint.
func appearanceDistance(a, b Appearance) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var bc float64
	for i := range a {
		bc += math.Sqrt(float64(a[i]) * float64(b[i]))
	}
	return math.Sqrt(math.Max(0, 1-bc))
}

// blendAppearance moves the track's histogram towards an observation.
func blendAppearance(track, obs Appearance, rate float32) Appearance {
	if len(track) != len(obs) {
		return append(Appearance(nil), obs...)
	}
	for i := range track {
		track[i] += rate * (obs[i] - track[i])
	}
	return track
}
