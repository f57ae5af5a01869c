package avcodec

import (
	"math/rand/v2"
	"strings"
	"testing"
)

const (
	testW, testH = 640, 360
	minPSNR      = 32.0 // dB against the source; x264 at 2 Mbit/s reaches ~40 on this content
)

func testOpts() EncoderOptions {
	return EncoderOptions{Width: testW, Height: testH, FPS: 15, GOP: 15, BitrateKbps: 2000}
}

func nalTypes(au [][]byte) []int {
	var ts []int
	for _, n := range au {
		ts = append(ts, int(n[0]&0x1f))
	}
	return ts
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	aus, keys := encodeSeq(t, testOpts(), 45)
	dec, err := NewDecoder("H264")
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out Image
	for i, au := range aus {
		wantKey := i%15 == 0
		if keys[i] != wantKey {
			t.Errorf("frame %d: key=%v, want %v (GOP 15)", i, keys[i], wantKey)
		}
		types := nalTypes(au)
		if wantKey {
			// SPS and PPS precede every IDR so that a viewer can join there.
			if !containsAll(types, 7, 8, 5) {
				t.Errorf("frame %d: IDR access unit has NAL types %v, want SPS(7), PPS(8), IDR(5)", i, types)
			}
		} else if containsAll(types, 5) {
			t.Errorf("frame %d: unexpected IDR slice in %v", i, types)
		}
		ok, err := dec.Decode(au)
		if err != nil || !ok {
			t.Fatalf("frame %d: Decode = %v, %v; want a picture", i, ok, err)
		}
		if err := dec.Frame(&out); err != nil {
			t.Fatal(err)
		}
		if p := psnr(t, &out, synthFrame(testW, testH, i)); p < minPSNR {
			t.Errorf("frame %d: PSNR %.1f dB against the source, want >= %.0f", i, p, minPSNR)
		}
	}
	// Constrained Baseline: profile_idc 66 with constraint_set1_flag.
	sps := aus[0][0]
	if sps[0]&0x1f != 7 || sps[1] != 66 || sps[2]&0x40 == 0 {
		t.Errorf("SPS profile bytes % x: want Constrained Baseline (66, constraint_set1)", sps[:4])
	}
}

func containsAll(have []int, want ...int) bool {
	for _, w := range want {
		found := false
		for _, h := range have {
			found = found || h == w
		}
		if !found {
			return false
		}
	}
	return true
}

func TestDecodeStartingMidGOPRecoversAtIDR(t *testing.T) {
	aus, _ := encodeSeq(t, testOpts(), 30)
	for _, primed := range []bool{false, true} {
		dec, err := NewDecoder("h264")
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		if primed {
			// As from an SDP: parameter sets known, but the first picture is a P-frame.
			if ok, err := dec.Decode(aus[0][:2]); ok || err != nil {
				t.Fatalf("SPS+PPS alone: Decode = %v, %v; want no picture, no error", ok, err)
			}
		}
		var out Image
		for i := 5; i < 30; i++ {
			ok, err := dec.Decode(aus[i])
			if i < 15 {
				// No reference picture yet: an error or no picture, never garbage.
				if ok {
					t.Errorf("primed=%v frame %d: picture reported before the first IDR", primed, i)
				}
				if err := dec.Frame(&out); err == nil {
					t.Errorf("primed=%v frame %d: Frame succeeded before any picture", primed, i)
				}
				continue
			}
			if err != nil || !ok {
				t.Fatalf("primed=%v frame %d: Decode = %v, %v; want a picture from the IDR at 15 on", primed, i, ok, err)
			}
			if err := dec.Frame(&out); err != nil {
				t.Fatal(err)
			}
			if p := psnr(t, &out, synthFrame(testW, testH, i)); p < minPSNR {
				t.Errorf("primed=%v frame %d: PSNR %.1f dB, want >= %.0f", primed, i, p, minPSNR)
			}
		}
	}
}

func TestDecodeGarbage(t *testing.T) {
	aus, _ := encodeSeq(t, testOpts(), 2)
	dec, err := NewDecoder("H264")
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()

	errCases := []struct {
		name string
		au   [][]byte
		want string
	}{
		{"no units", nil, "empty access unit"},
		{"empty unit", [][]byte{aus[0][0], {}}, "NAL unit 2 of 2 is empty"},
		{"forbidden bit", [][]byte{{0xe5, 1, 2, 3}}, "forbidden_zero_bit"},
		{"RTP aggregation type", [][]byte{{0x18, 0, 2, 0x65, 0}}, "invalid H264 type 24"},
		{"slice without parameter sets", [][]byte{{0x65, 0x88, 0x84, 0x21, 0xa0, 0x13, 0x37, 0xff}}, "rejected"},
	}
	for _, c := range errCases {
		ok, err := dec.Decode(c.au)
		if err == nil || !strings.Contains(err.Error(), c.want) || ok {
			t.Errorf("%s: Decode = %v, %v; want an error containing %q", c.name, ok, err, c.want)
		}
	}

	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		au := make([][]byte, 1+rng.IntN(4))
		for j := range au {
			au[j] = make([]byte, 1+rng.IntN(2000))
			for k := range au[j] {
				au[j][k] = byte(rng.Uint32())
			}
		}
		if ok, _ := dec.Decode(au); ok {
			t.Fatalf("random access unit %d produced a picture", i)
		}
	}

	// The decoder is still usable: a real IDR decodes to the right picture.
	ok, err := dec.Decode(aus[0])
	if err != nil || !ok {
		t.Fatalf("IDR after garbage: Decode = %v, %v", ok, err)
	}
	var out Image
	if err := dec.Frame(&out); err != nil {
		t.Fatal(err)
	}
	if p := psnr(t, &out, synthFrame(testW, testH, 0)); p < minPSNR {
		t.Errorf("IDR after garbage: PSNR %.1f dB, want >= %.0f", p, minPSNR)
	}
}

func TestScaledOutput(t *testing.T) {
	cases := []struct {
		w, h, want   int
		outW, outH   int
		compareToSrc bool
	}{
		{1280, 720, 640, 640, 360, true},
		{960, 540, 640, 640, 360, true},
		{1000, 562, 641, 640, 360, true}, // odd request, odd aspect: even dims
		{640, 360, 0, 640, 360, true},
		{640, 360, 1280, 640, 360, true}, // never upscales
	}
	for _, c := range cases {
		aus, _ := encodeSeq(t, EncoderOptions{Width: c.w, Height: c.h, BitrateKbps: 4000}, 1)
		dec, err := NewDecoder("H264")
		if err != nil {
			t.Fatal(err)
		}
		dec.SetOutputWidth(c.want)
		if ok, err := dec.Decode(aus[0]); err != nil || !ok {
			t.Fatalf("%dx%d: Decode = %v, %v", c.w, c.h, ok, err)
		}
		out := Image{Data: make([]byte, 10)} // too small: must be replaced
		if err := dec.Frame(&out); err != nil {
			t.Fatal(err)
		}
		dec.Close()
		if out.Width != c.outW || out.Height != c.outH || out.Stride != 3*c.outW || len(out.Data) != 3*c.outW*c.outH {
			t.Errorf("%dx%d scaled to width %d: got %dx%d stride %d len %d, want %dx%d packed",
				c.w, c.h, c.want, out.Width, out.Height, out.Stride, len(out.Data), c.outW, c.outH)
			continue
		}
		ref := boxScale(synthFrame(c.w, c.h, 0), c.outW, c.outH)
		if p := psnr(t, &out, ref); p < 25 {
			t.Errorf("%dx%d scaled to %dx%d: PSNR %.1f dB against a box-filtered source, want >= 25",
				c.w, c.h, c.outW, c.outH, p)
		}
	}
}

func TestFrameReusesBuffer(t *testing.T) {
	aus, _ := encodeSeq(t, testOpts(), 2)
	dec, err := NewDecoder("H264")
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out Image
	for i, au := range aus {
		if ok, err := dec.Decode(au); err != nil || !ok {
			t.Fatalf("frame %d: %v %v", i, ok, err)
		}
		prev := out.Data
		if err := dec.Frame(&out); err != nil {
			t.Fatal(err)
		}
		if i > 0 && &prev[0] != &out.Data[0] {
			t.Errorf("frame %d: Frame allocated a new buffer although the old one fits", i)
		}
	}
}

func TestDecodeWithThreads(t *testing.T) {
	aus, _ := encodeSeq(t, testOpts(), 30)
	dec, err := NewDecoder("H264", WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	pictures := 0
	var out Image
	for i, au := range aus {
		ok, err := dec.Decode(au)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if !ok {
			continue
		}
		pictures++
		if err := dec.Frame(&out); err != nil {
			t.Fatal(err)
		}
		// Frame threads delay pictures by one access unit at most.
		p0, p1 := psnr(t, &out, synthFrame(testW, testH, i)), psnr(t, &out, synthFrame(testW, testH, max(i-1, 0)))
		if max(p0, p1) < minPSNR {
			t.Errorf("frame %d: PSNR %.1f/%.1f dB against frames %d/%d", i, p0, p1, i, i-1)
		}
	}
	if pictures < len(aus)-1 {
		t.Errorf("%d pictures from %d access units with 2 threads, want at least %d", pictures, len(aus), len(aus)-1)
	}
}

func TestNewDecoderErrors(t *testing.T) {
	if _, err := NewDecoder("VP8"); err == nil || !strings.Contains(err.Error(), `"VP8"`) {
		t.Errorf("NewDecoder(VP8) error = %v, want one naming the codec", err)
	}
	if _, err := NewDecoder("H264", WithThreads(0)); err == nil {
		t.Error("NewDecoder with 0 threads succeeded")
	}
	dec, err := NewDecoder("HEVC", WithThreads(2))
	if err != nil {
		t.Fatal(err)
	}
	dec.Close()
	dec.Close()
	if _, err := dec.Decode([][]byte{{0x40, 1}}); err == nil {
		t.Error("Decode after Close succeeded")
	}
}

func TestEncoderErrors(t *testing.T) {
	bad := []struct {
		opts EncoderOptions
		want string
	}{
		{EncoderOptions{Width: 641, Height: 360}, "641x360"},
		{EncoderOptions{Width: 640, Height: 360, Profile: "extended"}, `"extended"`},
		{EncoderOptions{Width: 640, Height: 360, FPS: -1}, "FPS"},
		{EncoderOptions{Width: 640, Height: 360, Preset: "warp"}, "warp"},
	}
	for _, c := range bad {
		if _, err := NewEncoder(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewEncoder(%+v) error = %v, want one containing %q", c.opts, err, c.want)
		}
	}
	enc, err := NewEncoder(testOpts())
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	for _, img := range []*Image{nil, NewImage(320, 180), {Width: testW, Height: testH, Stride: 3 * testW, Data: make([]byte, 100)}} {
		if _, _, err := enc.Encode(img, 0); err == nil {
			t.Errorf("Encode(%v) of a wrong image succeeded", img != nil)
		}
	}
	// A padded stride is fine.
	src := synthFrame(testW, testH, 0)
	padded := &Image{Width: testW, Height: testH, Stride: 3*testW + 32, Data: make([]byte, (3*testW+32)*testH)}
	for y := range testH {
		copy(padded.Data[y*padded.Stride:], src.Data[y*src.Stride:(y+1)*src.Stride])
	}
	au, key, err := enc.Encode(padded, 0)
	if err != nil || !key || len(au) == 0 {
		t.Fatalf("Encode(padded) = %d units, key %v, %v", len(au), key, err)
	}
}

func TestSplitAnnexB(t *testing.T) {
	in := []byte{9, 9, 0, 0, 0, 1, 0x67, 1, 2, 0, 0, 1, 0x68, 3, 0, 0, 0, 0, 1, 0x65, 4, 5, 0}
	got := splitAnnexB(in)
	want := [][]byte{{0x67, 1, 2}, {0x68, 3}, {0x65, 4, 5}}
	if len(got) != len(want) {
		t.Fatalf("got %d units %x, want %x", len(got), got, want)
	}
	for i := range want {
		if string(got[i]) != string(want[i]) {
			t.Errorf("unit %d = %x, want %x", i, got[i], want[i])
		}
	}
}

func FuzzSplitAnnexB(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 0x67, 1, 0, 0, 1, 0x68})
	f.Add([]byte{0, 0, 1})
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		units := splitAnnexB(b)
		// Joining with start codes and splitting again is the identity.
		var joined []byte
		for _, u := range units {
			if len(u) == 0 || u[len(u)-1] == 0 {
				t.Fatalf("unit %x is empty or ends in a zero byte", u)
			}
			joined = append(append(joined, 0, 0, 0, 1), u...)
		}
		again := splitAnnexB(joined)
		if len(again) != len(units) {
			t.Fatalf("resplit gave %d units, want %d", len(again), len(units))
		}
		for i := range units {
			if string(again[i]) != string(units[i]) {
				t.Fatalf("resplit unit %d = %x, want %x", i, again[i], units[i])
			}
		}
	})
}

// FuzzDecode feeds arbitrary Annex-B data to a decoder primed with real
// parameter sets: it must answer with an error or a picture, never crash.
func FuzzDecode(f *testing.F) {
	aus, _ := encodeSeq(f, EncoderOptions{Width: 64, Height: 48, GOP: 2}, 3)
	for _, au := range aus {
		var b []byte
		for _, n := range au {
			b = append(append(b, 0, 0, 0, 1), n...)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		dec, err := NewDecoder("H264")
		if err != nil {
			t.Fatal(err)
		}
		defer dec.Close()
		if _, err := dec.Decode(aus[0]); err != nil {
			t.Fatal(err)
		}
		if ok, err := dec.Decode(splitAnnexB(b)); ok && err == nil {
			var out Image
			if err := dec.Frame(&out); err != nil {
				t.Fatal(err)
			}
		}
	})
}
