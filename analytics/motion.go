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
	// MinArea and MaxArea bound a blob's box, as a share of the area of a
	// 4:3 frame of the same height (the frame's own area when it is 4:3):
	// people are as tall in a 16:9 frame, which shows more beside them.
	MinArea   float64 // smallest blob (default 0.0015)
	MaxArea   float64 // largest blob (default 0.25)
	MinAspect float64 // smallest height/width of a blob (default 0.8)
	MaxAspect float64 // largest height/width of a blob (default 5)
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
//
// Both backgrounds start from the first frame. Whoever stands there then is
// background until they move, and leaves a ghost when they do: the empty
// place differs from the learned picture of them. A held box that may be a
// ghost (Hold.MayBeGhost) is checked on every frame; once judged one, the
// reference takes the current picture there, the box is reported empty (its
// track ends) and MOG2 restarts from the reference, since it would keep the
// person as a background mode for minutes and miss them coming back to the
// same place.
type Motion struct {
	opts    MotionOptions
	mog     gocv.BackgroundSubtractorMOG2
	ref     gocv.Mat // float32 BGR running average of background pixels
	ref8    gocv.Mat
	small   gocv.Mat
	input   gocv.Mat
	mask    gocv.Mat
	fg      gocv.Mat // a held area's difference to the reference
	opened  gocv.Mat // mask before closing
	open    gocv.Mat // morphology kernels
	close   gocv.Mat
	held    []Hold  // full-resolution boxes to keep as foreground
	present []bool  // per held box: occupied in the last frame
	ghosts  []Hold  // held boxes judged ghosts in the last frame
	scale   float64 // full-resolution pixels per small pixel
	inited  bool
	// saved is a background saved by an earlier run (Restore), checked
	// against the first frame; restored says it was taken.
	saved    gocv.Mat
	restored bool
}

// NewMotion returns a motion detector.
func NewMotion(o MotionOptions) *Motion {
	o = o.withDefaults()
	return &Motion{
		opts:   o,
		mog:    gocv.NewBackgroundSubtractorMOG2WithParams(o.History, o.VarThreshold, true),
		ref:    gocv.NewMat(),
		ref8:   gocv.NewMat(),
		small:  gocv.NewMat(),
		input:  gocv.NewMat(),
		mask:   gocv.NewMat(),
		fg:     gocv.NewMat(),
		opened: gocv.NewMat(),
		open:   gocv.GetStructuringElement(gocv.MorphRect, image.Pt(3, 3)),
		close:  gocv.GetStructuringElement(gocv.MorphRect, image.Pt(5, 11)),
		saved:  gocv.NewMat(),
	}
}

// Hold is the box (full-resolution pixels) of a person whom the background
// must not absorb.
type Hold struct {
	Box image.Rectangle
	// MayBeGhost marks a track that was born where it stands and never
	// moved: it may be a ghost, the place where someone stood when the
	// background was learned and who has left since. Detect checks it.
	MayBeGhost bool
}

// HoldForeground sets the boxes of people whom the background must not
// absorb; it applies from the next frame.
func (m *Motion) HoldForeground(holds []Hold) {
	m.held = append(m.held[:0], holds...)
	m.present = m.present[:0]
}

// HeldPresent reports, for each box of the last HoldForeground, whether the
// last Detect found it occupied: at least heldPresentShare of its pixels
// differ from the reference background.
func (m *Motion) HeldPresent() []bool { return m.present }

// Ghosts returns the held boxes the last Detect judged ghosts: places
// someone left who was there when the background was learned. The
// reference shows them empty from now on.
func (m *Motion) Ghosts() []Hold { return m.ghosts }

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
		m.takeSaved()
	}
	m.ref.ConvertTo(&m.ref8, gocv.MatTypeCV8UC3)
	held := m.heldSmall(sw, sh)
	m.present, m.ghosts = m.present[:0], m.ghosts[:0]

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
	ghosts := false
	for i, hb := range held {
		present := false
		if !hb.box.Empty() {
			present = m.diffInto(hb) >= heldPresentShare
			if present && hb.mayBeGhost && m.isGhost(hb) {
				present, ghosts = false, true
				m.forget(hb)
				m.ghosts = append(m.ghosts, m.held[i])
			} else {
				dst := m.mask.Region(hb.area)
				gocv.BitwiseOr(dst, m.fg, &dst)
				dst.Close()
			}
		}
		m.present = append(m.present, present)
	}
	m.learnReference(held)
	if ghosts {
		m.restartModel()
	}

	gocv.MorphologyEx(m.mask, &m.mask, gocv.MorphOpen, m.open)
	m.mask.CopyTo(&m.opened)
	gocv.MorphologyEx(m.mask, &m.mask, gocv.MorphClose, m.close)
	var dets []Detection
	add := func(r image.Rectangle, score float32) {
		full := image.Rect(int(float64(r.Min.X)*m.scale), int(float64(r.Min.Y)*m.scale),
			int(float64(r.Max.X)*m.scale), int(float64(r.Max.Y)*m.scale))
		dets = append(dets, Detection{Box: clipRect(full, w, h), Score: score})
	}
	for _, r := range blobs(m.mask) {
		score, shape := m.judge(r, sh)
		switch {
		case shape == personShape:
			add(r, score)
		case shape == tooTall:
			// People in file, seen from ahead: the closing that rejoins
			// a person's parts joined them. Their parts apart, each
			// person's head and body is a blob of its own.
			reg := m.opened.Region(r)
			for _, p := range blobs(reg) {
				if _, shape := m.judge(p, sh); shape == personShape {
					add(p.Add(r.Min), WeakBlobScore)
				}
			}
			reg.Close()
		}
	}
	return dets, nil
}

// blobs returns the bounding boxes of the outer contours of a mask.
func blobs(mask gocv.Mat) []image.Rectangle {
	contours := gocv.FindContours(mask, gocv.RetrievalExternal, gocv.ChainApproxSimple)
	defer contours.Close()
	out := make([]image.Rectangle, contours.Size())
	for i := range out {
		out[i] = gocv.BoundingRect(contours.At(i))
	}
	return out
}

// Blob shapes.
const (
	personShape = iota
	notPerson
	tooTall // slim and taller than a person: several people in file
)

// judge classifies a blob of the small frame, sh pixels tall, and gives
// the score of a person-shaped one. Sizes are shares of a 4:3 frame of the
// same height: a wider frame shows more beside people, not bigger people.
func (m *Motion) judge(r image.Rectangle, sh int) (float32, int) {
	area := float64(sh*sh) * 4 / 3
	a := float64(r.Dx() * r.Dy())
	aspect := float64(r.Dy()) / float64(max(r.Dx(), 1))
	switch {
	case a < m.opts.MinArea*area*weakArea || a > m.opts.MaxArea*area || aspect < m.opts.MinAspect:
		return 0, notPerson
	case aspect > m.opts.MaxAspect:
		return 0, tooTall
	case a < m.opts.MinArea*area:
		return WeakBlobScore, personShape
	}
	return 1, personShape
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
type heldBox struct {
	box, area  image.Rectangle
	mayBeGhost bool
}

// heldSmall maps the held boxes to the small frame, one per held box (empty
// when it lies outside the frame).
func (m *Motion) heldSmall(sw, sh int) []heldBox {
	out := make([]heldBox, len(m.held))
	for i, h := range m.held {
		b := h.Box
		r := image.Rect(int(float64(b.Min.X)/m.scale), int(float64(b.Min.Y)/m.scale),
			int(float64(b.Max.X)/m.scale+0.5), int(float64(b.Max.Y)/m.scale+0.5))
		pad := image.Pt(max(1, r.Dx()/4), max(1, r.Dy()/10))
		out[i] = heldBox{clipRect(r, sw, sh), clipRect(image.Rectangle{r.Min.Sub(pad), r.Max.Add(pad)}, sw, sh), h.MayBeGhost}
	}
	return out
}

// diffInto sets m.fg to the pixels of the held area that differ from the
// reference by more than heldDiff in any colour channel, and returns their
// share of the box. The largest channel, not the grey level of the
// difference: a navy jacket over a dark chair differs mostly in blue.
func (m *Motion) diffInto(hb heldBox) float64 {
	r := hb.area
	cur := m.small.Region(r)
	ref := m.ref8.Region(r)
	diff := gocv.NewMat()
	defer func() {
		cur.Close()
		ref.Close()
		diff.Close()
	}()
	gocv.AbsDiff(cur, ref, &diff)
	maxChannel(diff, &m.fg)
	gocv.Threshold(m.fg, &m.fg, heldDiff, 255, gocv.ThresholdBinary)
	in := m.fg.Region(hb.box.Sub(r.Min))
	defer in.Close()
	return float64(gocv.CountNonZero(in)) / float64(hb.box.Dx()*hb.box.Dy())
}

// maxChannel sets dst to the largest channel of each pixel of the
// continuous 8-bit 3-channel src.
func maxChannel(src gocv.Mat, dst *gocv.Mat) {
	pixels := src.Reshape(1, src.Rows()*src.Cols()) // one row of B, G, R per pixel
	defer pixels.Close()
	most := gocv.NewMat()
	defer most.Close()
	gocv.Reduce(pixels, &most, 1, gocv.ReduceMax, -1)
	back := most.Reshape(1, src.Rows())
	defer back.Close()
	back.CopyTo(dst)
}

// isGhost tells a ghost from a person in the held area whose foreground
// is in m.fg. A person's outline is an edge of the current frame and seldom
// one of the reference; a ghost's outline is the edge of whoever left,
// which only the reference still shows, while the current frame continues
// the background across it.
func (m *Motion) isGhost(hb heldBox) bool {
	band := gocv.NewMat()
	defer band.Close()
	gocv.MorphologyEx(m.fg, &band, gocv.MorphGradient, m.open)
	if gocv.CountNonZero(band) == 0 {
		return false
	}
	cur := m.small.Region(hb.area)
	ref := m.ref8.Region(hb.area)
	defer cur.Close()
	defer ref.Close()
	ec, er := m.edgeStrength(cur, band), m.edgeStrength(ref, band)
	return er >= minGhostEdge && er >= ghostEdgeRatio*ec
}

// Ghost verdict: the reference's edges along the outline must be clear
// (mean gradient, 0-255 scale) and this many times the current frame's.
const (
	minGhostEdge   = 20
	ghostEdgeRatio = 2
)

// edgeStrength is the mean gradient magnitude (largest channel of |dx|+|dy|
// over two, Sobel 3x3) of img at the pixels of mask.
func (m *Motion) edgeStrength(img, mask gocv.Mat) float64 {
	dx, dy := gocv.NewMat(), gocv.NewMat()
	defer dx.Close()
	defer dy.Close()
	gocv.Sobel(img, &dx, gocv.MatTypeCV16S, 1, 0, 3, 1, 0, gocv.BorderReplicate)
	gocv.Sobel(img, &dy, gocv.MatTypeCV16S, 0, 1, 3, 1, 0, gocv.BorderReplicate)
	gocv.ConvertScaleAbs(dx, &dx, 0.25, 0)
	gocv.ConvertScaleAbs(dy, &dy, 0.25, 0)
	gocv.AddWeighted(dx, 1, dy, 1, 0, &dx)
	g := gocv.NewMat()
	defer g.Close()
	maxChannel(dx, &g)
	return g.MeanWithMask(mask).Val1
}

// forget takes what the held area's foreground now shows into the
// reference: it was the reference that was wrong there.
func (m *Motion) forget(hb heldBox) {
	cur := m.small.Region(hb.area)
	defer cur.Close()
	cur32 := gocv.NewMat()
	defer cur32.Close()
	cur.ConvertTo(&cur32, gocv.MatTypeCV32FC3)
	grown := gocv.NewMat()
	defer grown.Close()
	gocv.Dilate(m.fg, &grown, m.open)
	ref := m.ref.Region(hb.area)
	cur32.CopyToWithMask(&ref, grown)
	ref.Close()
	m.ref.ConvertTo(&m.ref8, gocv.MatTypeCV8UC3)
}

// restartModel replaces the background model by one that has seen only
// the reference, many times. MOG2 keeps every appearance a pixel had for
// long as a background mode: a clerk it learned, back in the same place a
// minute after a ghost of theirs was removed, would still match it and stay
// invisible. The warm-up brings the learning rate, which MOG2 starts high,
// to its steady value.
func (m *Motion) restartModel() {
	m.mog.Close()
	m.mog = gocv.NewBackgroundSubtractorMOG2WithParams(m.opts.History, m.opts.VarThreshold, true)
	m.warmUp((m.opts.History + 1) / 2)
}

func (m *Motion) warmUp(n int) {
	scratch := gocv.NewMat()
	defer scratch.Close()
	for range n {
		m.mog.Apply(m.ref8, &scratch)
	}
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

// Background returns a copy of the reference background (small BGR): the
// empty hall as far as the detector knows it, without the people it held.
// It is empty before the first frame.
func (m *Motion) Background() gocv.Mat {
	out := gocv.NewMat()
	if m.inited {
		m.ref.ConvertTo(&out, gocv.MatTypeCV8UC3)
	}
	return out
}

// Restore offers a background saved by an earlier run (Background): if the
// first frame agrees with it, the detector starts from it instead of from
// that frame, so that people sitting still now, whom the saved background
// shows empty, are foreground at once. Restored reports whether it was
// taken.
func (m *Motion) Restore(bg gocv.Mat) {
	m.saved.Close()
	m.saved = bg.Clone()
}

// Restored reports whether the first frame took the saved background.
func (m *Motion) Restored() bool { return m.restored }

// takeSaved starts from the saved background if the first frame (in
// m.small) agrees with it: at most restoreMismatch of its pixels differ by
// more than heldDiff. People come and go between runs; a camera moved, or
// a hall lit differently, changes most of the picture.
func (m *Motion) takeSaved() {
	defer func() {
		m.saved.Close()
		m.saved = gocv.NewMat()
	}()
	if m.saved.Empty() || m.saved.Rows() != m.small.Rows() || m.saved.Cols() != m.small.Cols() || m.saved.Type() != gocv.MatTypeCV8UC3 {
		return
	}
	diff, most := gocv.NewMat(), gocv.NewMat()
	defer diff.Close()
	defer most.Close()
	gocv.AbsDiff(m.small, m.saved, &diff)
	maxChannel(diff, &most)
	gocv.Threshold(most, &most, heldDiff, 255, gocv.ThresholdBinary)
	if float64(gocv.CountNonZero(most)) > restoreMismatch*float64(most.Rows()*most.Cols()) {
		return
	}
	m.saved.ConvertTo(&m.ref, gocv.MatTypeCV32FC3)
	m.ref.ConvertTo(&m.ref8, gocv.MatTypeCV8UC3)
	m.restartModel()
	m.restored = true
}

// restoreMismatch is the share of the picture that may differ from a saved
// background for it to be taken: the people in the hall now.
const restoreMismatch = 0.3

// Close frees the OpenCV objects.
func (m *Motion) Close() error {
	m.mog.Close()
	for _, mat := range []*gocv.Mat{&m.ref, &m.ref8, &m.small, &m.input, &m.mask, &m.fg, &m.opened, &m.open, &m.close, &m.saved} {
		mat.Close()
	}
	return nil
}
