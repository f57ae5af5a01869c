package avcodec

import (
	"math"
	"testing"
)

// synthFrame draws frame i of a deterministic test sequence: a smooth
// background with a static texture and three shapes moving at different
// speeds, so that consecutive frames differ like a real scene does.
func synthFrame(w, h, i int) *Image {
	img := NewImage(w, h)
	for y := range h {
		for x := range w {
			o := y*img.Stride + 3*x
			tex := byte((x/8*7 + y/8*13) % 23) // static, blocky texture
			img.Data[o] = byte(60+120*x/w) + tex
			img.Data[o+1] = byte(80+100*y/h) + tex
			img.Data[o+2] = byte(100+50*(x+y)/(w+h)) + tex
		}
	}
	shapes := []struct {
		x, y, vx, vy, size int
		b, g, r            byte
	}{
		{w / 8, h / 4, 5, 2, h / 6, 20, 20, 220},
		{w / 2, h / 2, -4, 3, h / 5, 30, 200, 40},
		{w / 3, h / 3, 3, -5, h / 8, 210, 60, 30},
	}
	for _, s := range shapes {
		x0 := mod(s.x+s.vx*i, w-s.size)
		y0 := mod(s.y+s.vy*i, h-s.size)
		for y := y0; y < y0+s.size; y++ {
			for x := x0; x < x0+s.size; x++ {
				o := y*img.Stride + 3*x
				img.Data[o], img.Data[o+1], img.Data[o+2] = s.b, s.g, s.r
			}
		}
	}
	return img
}

func mod(a, m int) int { return ((a % m) + m) % m }

// psnr compares two equally sized BGR images.
func psnr(t testing.TB, a, b *Image) float64 {
	t.Helper()
	if a.Width != b.Width || a.Height != b.Height {
		t.Fatalf("psnr: sizes differ: %dx%d vs %dx%d", a.Width, a.Height, b.Width, b.Height)
	}
	var sum float64
	for y := range a.Height {
		ra := a.Data[y*a.Stride : y*a.Stride+3*a.Width]
		rb := b.Data[y*b.Stride : y*b.Stride+3*b.Width]
		for i := range ra {
			d := float64(ra[i]) - float64(rb[i])
			sum += d * d
		}
	}
	mse := sum / float64(3*a.Width*a.Height)
	if mse == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/mse)
}

// boxScale downsizes src to w×h by averaging the source pixels each output
// pixel covers: an independent reference for the decoder's scaled output.
func boxScale(src *Image, w, h int) *Image {
	dst := NewImage(w, h)
	for y := range h {
		y0, y1 := y*src.Height/h, max((y+1)*src.Height/h, y*src.Height/h+1)
		for x := range w {
			x0, x1 := x*src.Width/w, max((x+1)*src.Width/w, x*src.Width/w+1)
			for c := range 3 {
				var s, n int
				for sy := y0; sy < y1; sy++ {
					for sx := x0; sx < x1; sx++ {
						s += int(src.Data[sy*src.Stride+3*sx+c])
						n++
					}
				}
				dst.Data[y*dst.Stride+3*x+c] = byte((s + n/2) / n)
			}
		}
	}
	return dst
}

// encodeSeq encodes frames 0..n-1 of the synthetic sequence.
func encodeSeq(t testing.TB, opts EncoderOptions, n int) (aus [][][]byte, keys []bool) {
	t.Helper()
	enc, err := NewEncoder(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	for i := range n {
		au, key, err := enc.Encode(synthFrame(opts.Width, opts.Height, i), int64(i))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if len(au) == 0 {
			t.Fatalf("frame %d: encoder returned no access unit (zero latency expected)", i)
		}
		aus = append(aus, au)
		keys = append(keys, key)
	}
	return aus, keys
}
