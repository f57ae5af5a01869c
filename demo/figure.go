package demo

import (
	"math"
)

// A figure is a person drawn as a camera sees one: shaded, rounded body
// parts (head and hair, neck, torso, arms, hands, legs, shoes) in human
// proportions, anti-aliased, with a soft shadow on the floor. Flat
// rectangles are found by a background subtractor but not by a person
// detector trained on photographs (Yolo-Fastest finds none of the seated
// ones); these are.
//
// Parts are laid out in figure units: u to the right, v up from the feet,
// 1 = the standing height. Drawing maps them to pixels at the person's
// feet point and height.

// part is one body part: a tapered capsule (a segment with a radius at
// each end, the limbs and torso) or an ellipse (head, hair, hands, shoes).
type part struct {
	ellipse        bool
	x0, y0, r0     float64 // capsule: one end and its radius; ellipse: centre and rx
	x1, y1, r1     float64 // capsule: other end and its radius; ellipse: ry in r1
	col            bgr
	box            [4]float64
	dx, dy, length float64 // capsule axis, for the inner loop
}

// bounds returns the part's box in figure units.
func (p *part) bounds() [4]float64 {
	if p.ellipse {
		return [4]float64{p.x0 - p.r0, p.y0 - p.r1, p.x0 + p.r0, p.y0 + p.r1}
	}
	r := max(p.r0, p.r1)
	return [4]float64{min(p.x0, p.x1) - r, min(p.y0, p.y1) - r, max(p.x0, p.x1) + r, max(p.y0, p.y1) + r}
}

func (p *part) prepare() {
	p.box = p.bounds()
	p.dx, p.dy = p.x1-p.x0, p.y1-p.y0
	p.length = p.dx*p.dx + p.dy*p.dy
}

// hit reports whether (u, v) lies in the part and, if so, the position
// across it, -1 (left edge) to 1 (right edge), for the shading.
func (p *part) hit(u, v float64) (float64, bool) {
	if u < p.box[0] || u > p.box[2] || v < p.box[1] || v > p.box[3] {
		return 0, false
	}
	if p.ellipse {
		a, b := (u-p.x0)/p.r0, (v-p.y0)/p.r1
		if a*a+b*b > 1 {
			return 0, false
		}
		return a, true
	}
	t := 0.0
	if p.length > 0 {
		t = min(max(((u-p.x0)*p.dx+(v-p.y0)*p.dy)/p.length, 0), 1)
	}
	cx, cy := p.x0+t*p.dx, p.y0+t*p.dy
	r := p.r0 + t*(p.r1-p.r0)
	du, dv := u-cx, v-cy
	if du*du+dv*dv > r*r {
		return 0, false
	}
	// Across the axis: the signed distance perpendicular to it.
	across := du
	if p.length > 0 {
		l := math.Sqrt(p.length)
		across = (du*p.dy - dv*p.dx) / l
		if p.dy > 0 {
			across = -across
		}
	}
	return across / r, true
}

// shade lights a colour at position across (-1..1) of a rounded part:
// light from the front and upper left, darker towards the edges.
func shade(c bgr, across float64) [3]float64 {
	nz := math.Sqrt(max(0, 1-across*across))
	k := 0.58 + 0.42*nz - 0.16*across
	return [3]float64{float64(c[0]) * k, float64(c[1]) * k, float64(c[2]) * k}
}

// figure is the parts of one person in one frame, back to front.
type figure struct {
	parts []part
	top   float64 // highest v of any part
	// clipY, when positive, hides everything below this image row (a
	// counter in front of a seated clerk).
	clipY int
}

func (f *figure) add(p part) {
	p.prepare()
	f.parts = append(f.parts, p)
	f.top = max(f.top, p.box[3])
}

func capsule(x0, y0, r0, x1, y1, r1 float64, col bgr) part {
	return part{x0: x0, y0: y0, r0: r0, x1: x1, y1: y1, r1: r1, col: col}
}

func ellipse(cx, cy, rx, ry float64, col bgr) part {
	return part{ellipse: true, x0: cx, y0: cy, r0: rx, r1: ry, col: col}
}

// build lays out a person's parts for the pose.
//
// Standing, the proportions are an adult's: the head an eighth of the
// height, shoulders a quarter wide, hips at half height. Walking swings the
// legs and arms in opposition; across the picture the legs part sideways,
// towards or away from the camera a foot lifts. Seated, the thighs point
// at the camera (foreshortened into the lap) and the body is lower.
func build(l look, ps pose) figure {
	var f figure
	side := math.Sin(ps.phase) // -1..1 through the stride
	swingU := 0.07 * side * ps.across
	lift := 0.05 * math.Abs(side) * ps.along
	hip, shoulder, headV := 0.50, 0.80, headHeight(ps.seated)
	if ps.seated {
		hip, shoulder = 0.27, 0.56
	}
	// Back arm, legs, torso, front arm, neck, head.
	armSwing := -0.04 * side * ps.across
	hand := hip - 0.04
	if ps.seated {
		hand = hip + 0.02
	}
	f.add(capsule(-0.118, shoulder-0.02, 0.036, -0.135+armSwing, hand+0.02, 0.028, l.shirt))
	f.add(capsule(0.118, shoulder-0.02, 0.036, 0.135-armSwing, hand+0.02, 0.028, l.shirt))
	f.add(ellipse(-0.135+armSwing, hand, 0.026, 0.032, l.skin))
	f.add(ellipse(0.135-armSwing, hand, 0.026, 0.032, l.skin))
	if ps.seated {
		// Lap: thighs towards the camera, then the shins down to the feet.
		f.add(capsule(-0.05, hip, 0.06, -0.055, hip-0.05, 0.058, l.trousers))
		f.add(capsule(0.05, hip, 0.06, 0.055, hip-0.05, 0.058, l.trousers))
		f.add(capsule(-0.055, hip-0.06, 0.045, -0.06, 0.04, 0.034, l.trousers))
		f.add(capsule(0.055, hip-0.06, 0.045, 0.06, 0.04, 0.034, l.trousers))
		f.add(ellipse(-0.062, 0.022, 0.04, 0.022, shoeColour))
		f.add(ellipse(0.062, 0.022, 0.04, 0.022, shoeColour))
	} else {
		for _, s := range []float64{-1, 1} {
			foot := s*0.05 + s*swingU
			up := 0.0
			if s*side > 0 {
				up = lift
			}
			f.add(capsule(s*0.048, hip, 0.052, foot, 0.05+up, 0.034, l.trousers))
			f.add(ellipse(foot+0.008*s, 0.024+up, 0.042, 0.024, shoeColour))
		}
	}
	// Torso: hips to shoulders, shoulders rounded.
	f.add(capsule(0, hip+0.03, 0.088, 0, shoulder-0.05, 0.112, l.shirt))
	f.add(capsule(-0.085, shoulder-0.025, 0.04, 0.085, shoulder-0.025, 0.04, l.shirt))
	if l.collar != (bgr{}) && ps.facing > 0 {
		f.add(capsule(0, shoulder-0.02, 0.03, 0, shoulder-0.09, 0.004, l.collar))
	}
	f.add(capsule(0, shoulder, 0.028, 0, shoulder+0.04, 0.026, l.skin))
	// Head: hair behind and on top, the face in front when facing the camera.
	hx := ps.headShift
	if ps.facing > 0 {
		f.add(ellipse(hx, headV+0.015, 0.061, 0.064, l.hair))
		f.add(ellipse(hx, headV-0.006, 0.052, 0.062, l.skin))
	} else {
		f.add(ellipse(hx, headV-0.004, 0.052, 0.062, l.skin))
		f.add(ellipse(hx, headV+0.015, 0.059, 0.064, l.hair))
	}
	return f
}

// headHeight is where the centre of the head is, standing or seated.
func headHeight(seated bool) float64 {
	if seated {
		return 0.675
	}
	return 0.915
}

// figureTop is the top of the hair, standing or seated.
func figureTop(seated bool) float64 { return headHeight(seated) + 0.079 }

// figureHalfWidth is half a figure's width with its arms, standing still.
const figureHalfWidth = 0.165

var shoeColour = bgr{25, 25, 30}

// pose is how a person holds themselves in one frame.
type pose struct {
	seated bool
	phase  float64 // stride phase, radians (0 standing)
	// across and along split the walking direction: sideways in the
	// picture, or towards/away from the camera (0..1 each).
	across, along float64
	facing        int     // 1: towards the camera (face visible), -1: away
	headShift     float64 // the head turned or tilted sideways
}

// sprite is a rendered figure: BGR and coverage (0..255) per pixel of a
// box of the image.
type sprite struct {
	x0, y0, w, h int
	px           []byte // 4 bytes a pixel: B, G, R, coverage
}

// render draws f with its feet at (fx, fy) pixels, h pixels tall, in an
// image of size (W, H), anti-aliased: a pixel whose four corners show the
// same part is inside it and shaded at its centre, the others are edges,
// sampled ss×ss.
func (f *figure) render(fx, fy, h float64, W, H int, sp *sprite) {
	sp.w, sp.h = 0, 0
	if h < 4 || len(f.parts) == 0 {
		return
	}
	lo := [2]float64{math.Inf(1), math.Inf(1)}
	hi := [2]float64{math.Inf(-1), math.Inf(-1)}
	for i := range f.parts {
		b := f.parts[i].box
		lo[0], lo[1] = min(lo[0], b[0]), min(lo[1], b[1])
		hi[0], hi[1] = max(hi[0], b[2]), max(hi[1], b[3])
	}
	x0, x1 := max(int(math.Floor(fx+lo[0]*h)), 0), min(int(math.Ceil(fx+hi[0]*h)), W)
	y0, y1 := max(int(math.Floor(fy-hi[1]*h)), 0), min(int(math.Ceil(fy-lo[1]*h)), H)
	if f.clipY > 0 {
		y1 = min(y1, f.clipY)
	}
	w, hh := x1-x0, y1-y0
	if w <= 0 || hh <= 0 {
		return
	}
	sp.x0, sp.y0, sp.w, sp.h = x0, y0, w, hh
	sp.px = append(sp.px[:0], make([]byte, 4*w*hh)...)
	inv := 1 / h
	at := func(x, y float64) (int, float64) {
		u, v := (x-fx)*inv, (fy-y)*inv
		for i := len(f.parts) - 1; i >= 0; i-- {
			if a, ok := f.parts[i].hit(u, v); ok {
				return i, a
			}
		}
		return -1, 0
	}
	corner := make([]int16, (w+1)*(hh+1))
	for y := 0; y <= hh; y++ {
		for x := 0; x <= w; x++ {
			i, _ := at(float64(x0+x), float64(y0+y))
			corner[y*(w+1)+x] = int16(i)
		}
	}
	const ss = 3
	for y := range hh {
		for x := range w {
			k := corner[y*(w+1)+x]
			out := sp.px[4*(y*w+x) : 4*(y*w+x)+4]
			if k == corner[y*(w+1)+x+1] && k == corner[(y+1)*(w+1)+x] && k == corner[(y+1)*(w+1)+x+1] {
				if k < 0 {
					continue
				}
				a, _ := f.parts[k].hit((float64(x0+x)+0.5-fx)*inv, (fy-float64(y0+y)-0.5)*inv)
				col := shade(f.parts[k].col, a)
				out[0], out[1], out[2], out[3] = toByte(col[0]), toByte(col[1]), toByte(col[2]), 255
				continue
			}
			var sum [3]float64
			n := 0
			for sy := range ss {
				for sx := range ss {
					i, a := at(float64(x0+x)+(float64(sx)+0.5)/ss, float64(y0+y)+(float64(sy)+0.5)/ss)
					if i < 0 {
						continue
					}
					col := shade(f.parts[i].col, a)
					sum[0] += col[0]
					sum[1] += col[1]
					sum[2] += col[2]
					n++
				}
			}
			if n > 0 {
				k := 1 / float64(n)
				out[0], out[1], out[2] = toByte(sum[0]*k), toByte(sum[1]*k), toByte(sum[2]*k)
				out[3] = byte(255 * n / (ss * ss))
			}
		}
	}
}

func toByte(v float64) byte { return byte(min(255, max(0, v+0.5))) }

// blit draws the sprite over the canvas.
func (sp *sprite) blit(c canvas) {
	for y := range sp.h {
		row := c.Data[(sp.y0+y)*c.Stride+3*sp.x0:]
		src := sp.px[4*y*sp.w:]
		for x := range sp.w {
			a := int(src[4*x+3])
			if a == 0 {
				continue
			}
			px := row[3*x : 3*x+3]
			if a == 255 {
				px[0], px[1], px[2] = src[4*x], src[4*x+1], src[4*x+2]
				continue
			}
			for k := range 3 {
				px[k] = byte((int(src[4*x+k])*a + int(px[k])*(255-a) + 127) / 255)
			}
		}
	}
}

// shadow darkens a soft ellipse of the floor centred at (cx, cy).
func (c canvas) shadow(cx, cy, rx, ry float64) {
	x0, x1 := max(int(cx-rx), 0), min(int(cx+rx)+1, c.Width)
	y0, y1 := max(int(cy-ry), 0), min(int(cy+ry)+1, c.Height)
	for y := y0; y < y1; y++ {
		row := c.Data[y*c.Stride:]
		for x := x0; x < x1; x++ {
			a, b := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			d := a*a + b*b
			if d >= 1 {
				continue
			}
			k := 1 - 0.35*(1-d)
			px := row[3*x : 3*x+3]
			for i := range 3 {
				px[i] = byte(float64(px[i]) * k)
			}
		}
	}
}
