package analytics

import (
	"fmt"
	"image"

	"gocv.io/x/gocv"
)

// MotionOptions tunes the background-subtraction detector. Zero fields take
// defaults that suit people 40-300 px tall in a 576-768 px frame.
type MotionOptions struct {
	Width        int     // frames are scaled to this width first (default 384)
	History      int     // MOG2 history in frames (default 300)
	VarThreshold float64 // MOG2 variance threshold (default 25)
	MinArea      float64 // smallest blob, share of the frame area (default 0.0015)
	MaxArea      float64 // largest blob, share of the frame area (default 0.25)
	MinAspect    float64 // smallest height/width of a blob (default 0.8)
	MaxAspect    float64 // largest height/width of a blob (default 5)
}

func (o MotionOptions) withDefaults() MotionOptions {
	if o.Width <= 0 {
		o.Width = 384
	}
	if o.History <= 0 {
		o.History = 300
	}
	if o.VarThreshold <= 0 {
		o.VarThreshold = 25
	}
	if o.MinArea <= 0 {
		o.MinArea = 0.0015
	}
	if o.MaxArea <= 0 {
		o.MaxArea = 0.25
	}
	if o.MinAspect <= 0 {
		o.MinAspect = 0.8
	}
	if o.MaxAspect <= 0 {
		o.MaxAspect = 5
	}
	return o
}

// Motion finds moving people as foreground blobs (MOG2 background
// subtraction, morphology, size and shape filters); it needs no model.
//
// A background model fades whatever stops moving, a seated clerk included
// (MOG2 within about a tenth of its history). So the analyzer names the
// boxes of the people it tracks in window zones (HoldForeground): there MOG2
// is shown a reference background instead of the frame, so it never learns
// the person, foreground is the difference to that reference, and
// HeldPresent tells whether each box still differs from it: the evidence
// that keeps a motionless clerk's track alive, or ends it once they left.
type Motion struct {
	opts    MotionOptions
	mog     gocv.BackgroundSubtractorMOG2
	ref     gocv.Mat // float32 BGR running average of background pixels
	ref8    gocv.Mat
	small   gocv.Mat
	input   gocv.Mat
	mask    gocv.Mat
	open    gocv.Mat // morphology kernels
	close   gocv.Mat
	held    []image.Rectangle // full-resolution boxes to keep as foreground
	present []bool            // per held box: occupied in the last frame
	scale   float64           // full-resolution pixels per small pixel
	inited  bool
}

// NewMotion returns a motion detector.
func NewMotion(o MotionOptions) *Motion {
	o = o.withDefaults()
	return &Motion{
		opts:  o,
		mog:   gocv.NewBackgroundSubtractorMOG2WithParams(o.History, o.VarThreshold, true),
		ref:   gocv.NewMat(),
		ref8:  gocv.NewMat(),
		small: gocv.NewMat(),
		input: gocv.NewMat(),
		mask:  gocv.NewMat(),
		open:  gocv.GetStructuringElement(gocv.MorphRect, image.Pt(3, 3)),
		close: gocv.GetStructuringElement(gocv.MorphRect, image.Pt(5, 11)),
	}
}

// HoldForeground sets the boxes (full-resolution pixels) of people whom the
// background must not absorb; it applies from the next frame.
func (m *Motion) HoldForeground(boxes []image.Rectangle) {
	m.held = append(m.held[:0], boxes...)
	m.present = m.present[:0]
}

// HeldPresent reports, for each box of the last HoldForeground, whether the
// last Detect found it occupied: at least heldPresentShare of its pixels
// differ from the reference background.
func (m *Motion) HeldPresent() []bool { return m.present }

// heldPresentShare is the share of a held box that must differ from the
// background for the person to count as still there: a seated person fills
// well over half of their box, the noise of an empty one a few per cent.
const heldPresentShare = 0.2

// Detect returns the foreground blobs shaped like people.
func (m *Motion) Detect(frame gocv.Mat) ([]Detection, error) {
	if err := checkFrame(frame); err != nil {
		return nil, fmt.Errorf("motion: %w", err)
	}
	w, h := frame.Cols(), frame.Rows()
	sw := min(m.opts.Width, w)
	sh := max(1, h*sw/w)
	m.scale = float64(w) / float64(sw)
	gocv.Resize(frame, &m.small, image.Pt(sw, sh), 0, 0, gocv.InterpolationArea)
	if !m.inited || m.ref.Rows() != sh || m.ref.Cols() != sw {
		m.small.ConvertTo(&m.ref, gocv.MatTypeCV32FC3)
		m.inited = true
	}
	m.ref.ConvertTo(&m.ref8, gocv.MatTypeCV8UC3)
	held := m.heldSmall(sw, sh)
	m.present = m.present[:0]

	m.small.CopyTo(&m.input)
	for _, hb := range held {
		r := hb.area
		if r.Empty() {
			continue
		}
		src := m.ref8.Region(r)
		dst := m.input.Region(r)
		src.CopyTo(&dst)
		src.Close()
		dst.Close()
	}
	m.mog.Apply(m.input, &m.mask)
	gocv.Threshold(m.mask, &m.mask, 200, 255, gocv.ThresholdBinary) // drop shadows (127)
	for _, hb := range held {
		m.present = append(m.present, !hb.box.Empty() && m.diffInto(hb) >= heldPresentShare)
	}
	m.learnReference(held)

	gocv.MorphologyEx(m.mask, &m.mask, gocv.MorphOpen, m.open)
	gocv.MorphologyEx(m.mask, &m.mask, gocv.MorphClose, m.close)
	contours := gocv.FindContours(m.mask, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	area := float64(sw * sh)
	var dets []Detection
	for i := 0; i < contours.Size(); i++ {
		r := gocv.BoundingRect(contours.At(i))
		a := float64(r.Dx() * r.Dy())
		aspect := float64(r.Dy()) / float64(max(r.Dx(), 1))
		if a < m.opts.MinArea*area*weakArea || a > m.opts.MaxArea*area || aspect < m.opts.MinAspect || aspect > m.opts.MaxAspect {
			continue
		}
		score := float32(1)
		if a < m.opts.MinArea*area {
			score = WeakBlobScore
		}
		full := image.Rect(int(float64(r.Min.X)*m.scale), int(float64(r.Min.Y)*m.scale),
			int(float64(r.Max.X)*m.scale), int(float64(r.Max.Y)*m.scale))
		dets = append(dets, Detection{Box: clipRect(full, w, h), Score: score})
	}
	return dets, nil
}

// Blobs down to weakArea of MinArea are reported with WeakBlobScore: they
// only extend tracks (set the tracker's BirthScore above it). MOG2 takes a
// darker shade of the background for a shadow, so dark trousers on a grey
// floor vanish and leave the shirt and head; such a person stays tracked,
// and new tracks still need a whole blob.
const (
	weakArea      = 0.6
	WeakBlobScore = 0.5
)

// heldBox is a held box in the small frame, and the area around it that
// the background model does not learn: wide enough for the arms and a
// sway, and for the blob of a person whose box came from a smaller blob.
type heldBox struct{ box, area image.Rectangle }

// heldSmall maps the held boxes to the small frame, one per held box (empty
// when it lies outside the frame).
func (m *Motion) heldSmall(sw, sh int) []heldBox {
	out := make([]heldBox, len(m.held))
	for i, b := range m.held {
		r := image.Rect(int(float64(b.Min.X)/m.scale), int(float64(b.Min.Y)/m.scale),
			int(float64(b.Max.X)/m.scale+0.5), int(float64(b.Max.Y)/m.scale+0.5))
		pad := image.Pt(max(1, r.Dx()/4), max(1, r.Dy()/10))
		out[i] = heldBox{clipRect(r, sw, sh), clipRect(image.Rectangle{r.Min.Sub(pad), r.Max.Add(pad)}, sw, sh)}
	}
	return out
}

// diffInto marks as foreground the pixels of the held area that differ
// from the reference by more than heldDiff in any colour channel, and
// returns their share of the box. The largest channel, not the grey level
// of the difference: a navy jacket over a dark chair differs mostly in blue.
func (m *Motion) diffInto(hb heldBox) float64 {
	r := hb.area
	cur := m.small.Region(r)
	ref := m.ref8.Region(r)
	diff := gocv.NewMat()
	most := gocv.NewMat()
	defer func() {
		cur.Close()
		ref.Close()
		diff.Close()
		most.Close()
	}()
	gocv.AbsDiff(cur, ref, &diff) // continuous: one row of B, G, R per pixel below
	pixels := diff.Reshape(1, r.Dx()*r.Dy())
	gocv.Reduce(pixels, &most, 1, gocv.ReduceMax, -1)
	pixels.Close()
	fg := most.Reshape(1, r.Dy())
	defer fg.Close()
	gocv.Threshold(fg, &fg, heldDiff, 255, gocv.ThresholdBinary)
	dst := m.mask.Region(r)
	gocv.BitwiseOr(dst, fg, &dst)
	dst.Close()
	in := fg.Region(hb.box.Sub(r.Min))
	defer in.Close()
	return float64(gocv.CountNonZero(in)) / float64(hb.box.Dx()*hb.box.Dy())
}

// heldDiff is the colour difference (0-255, largest channel) from the
// reference background that makes a held pixel foreground: above sensor
// noise and compression artefacts, below a dark person on a dark chair.
const heldDiff = 20

// learnReference blends background pixels (not foreground, not held) into
// the reference.
func (m *Motion) learnReference(held []heldBox) {
	bg := gocv.NewMat()
	defer bg.Close()
	gocv.BitwiseNot(m.mask, &bg)
	for _, hb := range held {
		if hb.area.Empty() {
			continue
		}
		reg := bg.Region(hb.area)
		reg.SetTo(gocv.NewScalar(0, 0, 0, 0))
		reg.Close()
	}
	gocv.AccumulatedWeightedWithMask(m.small, &m.ref, 0.02, bg)
}

// Close frees the OpenCV objects.
func (m *Motion) Close() error {
	m.mog.Close()
	for _, mat := range []*gocv.Mat{&m.ref, &m.ref8, &m.small, &m.input, &m.mask, &m.open, &m.close} {
		mat.Close()
	}
	return nil
}
