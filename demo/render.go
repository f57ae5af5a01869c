package demo

import (
	"math"
	"math/rand/v2"
	"slices"

	"github.com/hallwatch/hallwatch/avcodec"
)

// bgr is a colour in the images' byte order.
type bgr [3]byte

// look is how a person is dressed.
type look struct{ shirt, trousers, skin, hair, collar bgr }

// Saturated shirts stand out from the grey and beige floors, so that a plain
// background-subtraction detector finds every person.
var (
	shirts = []bgr{
		{40, 40, 210}, {40, 170, 40}, {200, 90, 30}, {30, 140, 240}, {150, 40, 150},
		{30, 210, 230}, {200, 200, 40}, {140, 30, 200}, {60, 60, 150}, {120, 160, 20},
	}
	trousers = []bgr{{40, 40, 40}, {90, 50, 30}, {30, 50, 80}, {70, 70, 70}, {120, 100, 60}}
	skins    = []bgr{{150, 180, 225}, {120, 150, 200}, {90, 120, 170}, {170, 200, 235}}
	hairs    = []bgr{{20, 20, 20}, {30, 45, 70}, {110, 110, 110}}

	uniform     = bgr{110, 45, 20} // clerks: navy blue
	wallColour  = bgr{95, 90, 85}
	staffFloor  = bgr{150, 188, 212}
	hallFloor   = bgr{188, 190, 192}
	grout       = bgr{160, 162, 165}
	counterWood = bgr{40, 80, 130}
	counterEdge = bgr{25, 55, 95}
	glass       = bgr{215, 205, 185}
	chair       = bgr{70, 70, 75}
	monitor     = bgr{35, 35, 38}
	bench       = bgr{120, 110, 60}
	doorMat     = bgr{90, 95, 100}
	doorFrame   = bgr{60, 60, 60}
	staffDoor   = bgr{50, 90, 140}
	plate       = bgr{240, 240, 240}
	ink         = bgr{30, 30, 30}
)

func pick(rng *rand.Rand, cs []bgr) bgr { return cs[rng.IntN(len(cs))] }

func visitorLook(rng *rand.Rand) look {
	return look{shirt: pick(rng, shirts), trousers: pick(rng, trousers), skin: pick(rng, skins), hair: pick(rng, hairs)}
}

func clerkLook(rng *rand.Rand) look {
	return look{shirt: uniform, trousers: trousers[0], skin: pick(rng, skins), hair: pick(rng, hairs), collar: bgr{235, 235, 235}}
}

// canvas draws into a BGR image with clipping.
type canvas struct{ *avcodec.Image }

func (c canvas) rect(x0, y0, x1, y1 int, col bgr) {
	x0, y0 = max(x0, 0), max(y0, 0)
	x1, y1 = min(x1, c.Width), min(y1, c.Height)
	for y := y0; y < y1; y++ {
		row := c.Data[y*c.Stride:]
		for x := x0; x < x1; x++ {
			copy(row[3*x:3*x+3], col[:])
		}
	}
}

// drawBackground paints the empty hall, with a static floor texture.
func drawBackground(o SceneOptions, rng *rand.Rand) []byte {
	W, H := o.Width, o.Height
	img := avcodec.NewImage(W, H)
	c := canvas{img}
	X := func(x float64) int { return int(math.Round(x * float64(W))) }
	Y := func(y float64) int { return int(math.Round(y * float64(H))) }

	// Hall floor: tiles of slightly different shades with grout lines.
	c.rect(0, 0, W, H, grout)
	tile := max(H/12, 8)
	for ty := 0; ty*tile < H; ty++ {
		for tx := 0; tx*tile < W; tx++ {
			d := byte(rng.IntN(9))
			col := bgr{hallFloor[0] - d, hallFloor[1] - d, hallFloor[2] - d}
			c.rect(tx*tile, ty*tile, (tx+1)*tile-1, (ty+1)*tile-1, col)
		}
	}
	// Staff area: planks running across.
	c.rect(0, Y(wallBottom), W, Y(counterTop), staffFloor)
	plank := max(H/40, 3)
	for y := Y(wallBottom); y < Y(counterTop); y += plank {
		d := byte(rng.IntN(12))
		c.rect(0, y+1, W, y+plank, bgr{staffFloor[0] - d, staffFloor[1] - d, staffFloor[2] - d})
	}
	c.rect(0, 0, W, Y(wallBottom), wallColour)
	c.rect(0, Y(0.035), X(0.025), Y(corridorY), staffDoor)

	n := o.Windows
	span := (windowsRight - windowsLeft) / float64(n)
	for i := range n {
		// The chair back behind the clerk, from the desk up to mid-back,
		// and the monitor at the side of the desk.
		x := windowX(i, n)
		h := standingHeight(seatY)
		c.rect(X(x-0.11*h*float64(H)/float64(W)), Y(seatY-0.64*h), X(x+0.11*h*float64(H)/float64(W)), Y(counterTop), chair)
		c.rect(X(x+0.3*span), Y(counterTop-0.045), X(x+0.42*span), Y(counterTop-0.005), monitor)
	}
	// Glass partitions between windows, then the counter.
	for i := 0; i <= n; i++ {
		x := X(windowsLeft + float64(i)*span)
		c.rect(x-1, Y(0.17), x+2, Y(counterTop), glass)
	}
	c.rect(0, Y(counterTop), W, Y(counterBot), counterWood)
	c.rect(0, Y(counterTop), W, Y(counterTop)+max(H/180, 2), counterEdge)
	c.rect(0, Y(counterBot)-max(H/150, 2), W, Y(counterBot), counterEdge)
	for i := range n {
		x := X(windowX(i, n))
		s := max(H/180, 1)
		c.rect(x-4*s, Y(counterTop)+3*s, x+4*s, Y(counterTop)+10*s, plate)
		digits(c, x, Y(counterTop)+4*s, s, i+1, ink)
	}
	// Benches, the door mat and the door frame.
	for _, x := range benchXs {
		c.rect(X(x-0.022), Y(benchY-0.035), X(x+0.022), Y(benchY+0.005), bench)
	}
	c.rect(X(0.40), Y(0.92), X(0.60), H, doorMat)
	c.rect(X(0.385), Y(0.87), X(0.395), H, doorFrame)
	c.rect(X(0.605), Y(0.87), X(0.615), H, doorFrame)

	// A faint static grain, so the floor is textured but never changes.
	for i := range img.Data {
		img.Data[i] = byte(min(max(int(img.Data[i])+rng.IntN(7)-3, 0), 255))
	}
	return img.Data
}

// digitFont is a 3x5 bitmap font, one row per 3 bits.
var digitFont = [10][5]byte{
	{7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1},
	{7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7},
}

// digits writes n centred at x, top at y, with s-pixel cells.
func digits(c canvas, x, y, s, n int, col bgr) {
	str := []int{n % 10}
	if n >= 10 {
		str = []int{n / 10, n % 10}
	}
	x -= (len(str)*4 - 1) * s / 2
	for _, d := range str {
		for row, bits := range digitFont[d] {
			for b := range 3 {
				if bits&(4>>b) != 0 {
					c.rect(x+b*s, y+row*s, x+(b+1)*s, y+(row+1)*s, col)
				}
			}
		}
		x += 4 * s
	}
}

// makeNoise prepares a table of sensor noise, read at a random offset per frame.
func makeNoise(o SceneOptions, rng *rand.Rand) []byte {
	n := make([]byte, 2*3*o.Width*o.Height)
	for i := range n {
		n[i] = byte(rng.IntN(2*o.Noise + 1))
	}
	return n
}

// render draws the background and everybody, far ones first: the staff
// behind the counter (which hides a seated clerk below the counter top),
// then the hall.
func (s *Scene) render() {
	copy(s.img.Data, s.bg)
	order := slices.Clone(s.people)
	slices.SortStableFunc(order, func(a, b *person) int {
		if a.y != b.y {
			if a.y < b.y {
				return -1
			}
			return 1
		}
		return a.id - b.id
	})
	c := canvas{&s.img}
	for _, p := range order {
		if p.state != clerkAway {
			s.drawPerson(c, p)
		}
	}
	if s.noise != nil {
		off := s.rng.IntN(len(s.noise) - len(s.img.Data))
		a := s.opts.Noise
		for i, n := range s.noise[off : off+len(s.img.Data)] {
			s.img.Data[i] = byte(min(max(int(s.img.Data[i])+int(n)-a, 0), 255))
		}
	}
}

// behindCounter reports whether p is staff behind the counter.
func (p *person) behindCounter() bool { return p.id == 0 }

// box returns p's figure box in pixels as the camera sees it, [x0, x1) ×
// [y0, y1): below the counter top a clerk is hidden, so the box of a
// seated clerk ends there. Its bottom centre is p's feet point.
func (s *Scene) box(p *person) (x0, y0, x1, y1 int) {
	h := s.height(p)
	H := float64(s.opts.Height)
	fx := p.x + float64(p.fidget[0])
	top := p.y - figureTop(p.seated())*h
	bottom := p.y
	if p.behindCounter() {
		bottom = min(bottom, counterTop*H)
	}
	half := figureHalfWidth * h
	return int(math.Floor(fx - half)), int(math.Floor(top)), int(math.Ceil(fx + half)), int(math.Ceil(bottom))
}

// seated reports whether p sits (a clerk at the window, a visitor waiting).
func (p *person) seated() bool {
	return p.state == clerkSeated || p.state == clerkCovering || p.state == visitorWaiting
}

// height is p's standing height in pixels where p stands.
func (s *Scene) height(p *person) float64 {
	H := float64(s.opts.Height)
	return standingHeight(p.y/H) * H
}

// drawPerson draws p as a figure (see build).
func (s *Scene) drawPerson(c canvas, p *person) {
	ps := pose{seated: p.seated(), phase: p.stride / s.height(p) * 2 * math.Pi / strideLength, facing: 1}
	if hx, hy := heading(p); hx != 0 || hy != 0 {
		ps.across, ps.along = math.Abs(hx), math.Abs(hy)
		if hy < -0.5 {
			ps.facing = -1 // walking away from the camera
		}
	} else {
		ps.phase = 0
		if p.state == visitorServed || p.state == visitorToWindow {
			ps.facing = -1 // facing the clerk
		}
	}
	ps.headShift = float64(p.fidget[1]) / s.height(p)
	key := spriteKey{pose: ps, x: p.x + float64(p.fidget[0]), y: p.y, h: s.height(p)}
	if p.behindCounter() {
		key.clipY = int(counterTop * float64(s.opts.Height))
	} else {
		c.shadow(key.x, key.y, 0.17*key.h, 0.035*key.h)
	}
	if key != p.drawn {
		// Redrawn only when something changed: people who sit or stand
		// still cost a copy.
		f := build(p.look, ps)
		f.clipY = key.clipY
		f.render(key.x, key.y, key.h, s.opts.Width, s.opts.Height, &p.sprite)
		p.drawn = key
	}
	p.sprite.blit(c)
}

// spriteKey is what a person's rendered figure depends on.
type spriteKey struct {
	pose
	x, y, h float64
	clipY   int
}

// strideLength is a full walking cycle (two steps), in body heights.
const strideLength = 0.9
