package eval

import (
	"context"
	"fmt"
	"image"
	"math"
	"sort"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geom"
)

// A still person is someone cut out of one PETS09-S2L1 frame (their
// annotated box) and pasted back in the same place into other frames:
// motionless, pixel for pixel, like a clerk who sits still for minutes,
// then gone from one frame to the next, and back. Where they stand is a
// window zone; its truth is the paste schedule together with the
// annotated people walking through it.

// stillPerson is one pasted person and when they are there.
type stillPerson struct {
	id    string
	from  int             // frame the patch is cut from
	box   image.Rectangle // pixels, where it is cut and pasted
	there [][2]int        // frame ranges [a, b] (inclusive) it is pasted in
	zone  geom.Polygon
	patch gocv.Mat
}

// stillSchedules are the pasted people's timetables at 10 fps over the
// clip's 795 frames: a long still stretch and a leave long enough for an
// alert, a leave too short for one, and someone who arrives after the
// start, sits, leaves and returns. Leaves and returns fall between
// analysed frames as well as on them.
var stillSchedules = [][][2]int{
	{{1, 400}, {551, 795}},
	{{1, 203}, {236, 497}, {648, 795}},
	{{97, 603}, {725, 795}},
}

// pickStillPeople chooses len(stillSchedules) annotated people to paste:
// boxes 70 px tall or more, whole in the picture, with no other annotated
// box nearby in that frame, at places at least two box widths apart,
// preferring places the walkers of the clip visit least.
func pickStillPeople(seq *Sequence) ([]*stillPerson, error) {
	byFrame := map[int][]Box{}
	for _, b := range seq.Boxes {
		if b.Conf != 0 {
			byFrame[b.Frame] = append(byFrame[b.Frame], b)
		}
	}
	type cand struct {
		b      Box
		visits int // annotated feet points in its zone over the clip
	}
	var cands []cand
	for f := 20; f <= seq.Frames; f += 25 {
		for _, b := range byFrame[f] {
			r := boxRect(b).Inset(-8)
			if b.Height < 70 || r.Min.X < 0 || r.Min.Y < 0 || r.Max.X > seq.Width || r.Max.Y > seq.Height {
				continue
			}
			alone := true
			for _, o := range byFrame[f] {
				if o.ID != b.ID && boxRect(o).Inset(-16).Overlaps(r) {
					alone = false
				}
			}
			if !alone {
				continue
			}
			zone := stillZone(b, seq.Width, seq.Height)
			n := 0
			for _, c := range Occupancy(seq.Boxes, seq.Width, seq.Height, seq.Frames, zone) {
				n += c
			}
			cands = append(cands, cand{b, n})
		}
	}
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].visits < cands[j].visits })
	var out []*stillPerson
	for _, c := range cands {
		if len(out) == len(stillSchedules) {
			break
		}
		r := boxRect(c.b)
		far := true
		for _, p := range out {
			if math.Abs(float64((r.Min.X+r.Max.X)-(p.box.Min.X+p.box.Max.X)))/2 < 2*float64(r.Dx()+p.box.Dx())/2 &&
				math.Abs(float64(r.Max.Y-p.box.Max.Y)) < float64(r.Dy()) {
				far = false
			}
		}
		if !far {
			continue
		}
		out = append(out, &stillPerson{id: fmt.Sprintf("still%d", len(out)+1), from: c.b.Frame, box: r.Inset(-2),
			there: stillSchedules[len(out)], zone: stillZone(c.b, seq.Width, seq.Height)})
	}
	if len(out) < len(stillSchedules) {
		return nil, fmt.Errorf("eval: only %d people of %s fit for pasting", len(out), seq.Name)
	}
	return out, nil
}

func boxRect(b Box) image.Rectangle {
	return image.Rect(int(b.Left), int(b.Top), int(b.Left+b.Width), int(b.Top+b.Height))
}

// stillZone is the window zone of a pasted person: around their feet, a
// box and a half wide, from a quarter of their height above the feet to a
// tenth below.
func stillZone(b Box, w, h int) geom.Polygon {
	cx, fy := (b.Left+b.Width/2)/float64(w), (b.Top+b.Height)/float64(h)
	hw, up, down := 0.75*b.Width/float64(w), 0.25*b.Height/float64(h), 0.1*b.Height/float64(h)
	return rect(math.Max(cx-hw, 0), math.Max(fy-up, 0), math.Min(cx+hw, 1), math.Min(fy+down, 1))
}

// present reports whether p is pasted into frame f.
func (p *stillPerson) present(f int) bool {
	for _, r := range p.there {
		if f >= r[0] && f <= r[1] {
			return true
		}
	}
	return false
}

// cutPatches reads the clip once and cuts each person's patch.
func cutPatches(seq *Sequence, people []*stillPerson) error {
	vc, err := gocv.VideoCaptureFileWithAPI(seq.Video, gocv.VideoCaptureFFmpeg)
	if err != nil {
		return fmt.Errorf("eval: %s: %w", seq.Video, err)
	}
	defer vc.Close()
	frame := gocv.NewMat()
	defer frame.Close()
	last := 0
	for _, p := range people {
		last = max(last, p.from)
	}
	for f := 1; f <= last; f++ {
		if !vc.Read(&frame) || frame.Empty() {
			return fmt.Errorf("eval: %s ends before frame %d", seq.Video, f)
		}
		for _, p := range people {
			if p.from == f {
				region := frame.Region(p.box)
				p.patch = region.Clone()
				region.Close()
			}
		}
	}
	return nil
}

// stillRun pastes the still people into PETS09-S2L1 and scores their zones.
func stillRun(ctx context.Context, o Options, det config.Detector, pets *Sequence, r *Report) error {
	people, err := pickStillPeople(pets)
	if err != nil {
		return err
	}
	if err := cutPatches(pets, people); err != nil {
		return err
	}
	defer func() {
		for _, p := range people {
			p.patch.Close()
		}
	}()
	var windows []config.Window
	for _, p := range people {
		windows = append(windows, evalWindow(p.id, p.zone))
	}
	paste := func(f int, img *gocv.Mat) {
		for _, p := range people {
			if p.present(f) {
				dst := img.Region(p.box)
				p.patch.CopyTo(&dst)
				dst.Close()
			}
		}
	}
	run, err := analyze(ctx, o, det, pets, &config.Analytics{Windows: windows}, paste)
	if err != nil {
		return err
	}
	r.Frames += run.sum.Processed
	r.Elapsed += run.sum.Elapsed
	r.Blocked += run.blocked()
	fps := run.sum.FileFPS
	for _, p := range people {
		counts := Occupancy(pets.Boxes, pets.Width, pets.Height, pets.Frames, p.zone)
		for i := range counts {
			if p.present(i + 1) {
				counts[i]++
			}
		}
		zr := scoreZone(p.id, windowTruth{counts: counts, first: 1, fps: fps}, run.window(p.id))
		zr.Zone = fmt.Sprintf("%s (cut from frame %d at %v)", p.id, p.from, p.box)
		r.Still = append(r.Still, zr)
	}
	return nil
}
