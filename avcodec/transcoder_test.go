package avcodec

import "testing"

// TestTranscodeH265ToH264 transcodes an H.265 stream made by ffmpeg's
// libx265 (key frames every 10 frames), joined mid-GOP, and checks that
// the output starts at the first key frame, has an IDR exactly where the
// input has a key frame, decodes with the H.264 decoder, looks like the
// source, and is scaled to MaxWidth.
func TestTranscodeH265ToH264(t *testing.T) {
	const w, h, frames = 320, 240, 40
	want, aus := h265Reference(t, frames)
	for _, maxWidth := range []int{0, 160} {
		tr, err := NewTranscoder(TranscoderOptions{Codec: CodecH265, MaxWidth: maxWidth, FPS: 10})
		if err != nil {
			t.Fatal(err)
		}
		dec, err := NewDecoder(CodecH264)
		if err != nil {
			t.Fatal(err)
		}
		var out, ref Image
		for i := 5; i < frames; i++ {
			nalus, idr, err := tr.Transcode(aus[i], i%10 == 0)
			if err != nil {
				t.Fatalf("frame %d: %v", i, err)
			}
			if i < 10 {
				if nalus != nil {
					t.Errorf("frame %d: output before the first key frame", i)
				}
				continue
			}
			if idr != (i%10 == 0) {
				t.Errorf("max width %d, frame %d: IDR %v, want %v (the input's key frames)", maxWidth, i, idr, i%10 == 0)
			}
			ok, err := dec.Decode(nalus)
			if err != nil || !ok {
				t.Fatalf("frame %d: H.264 decode = %v, %v", i, ok, err)
			}
			if err := dec.Frame(&out); err != nil {
				t.Fatal(err)
			}
			wantW := w
			if maxWidth > 0 {
				wantW = maxWidth
			}
			if out.Width != wantW || out.Height != h*wantW/w {
				t.Fatalf("frame %d: output %dx%d, want %dx%d", i, out.Width, out.Height, wantW, h*wantW/w)
			}
			if maxWidth == 0 {
				ref = Image{Width: w, Height: h, Stride: 3 * w, Data: want[i*3*w*h : (i+1)*3*w*h]}
				if p := psnr(t, &out, &ref); p < 25 {
					t.Errorf("frame %d: PSNR %.1f dB against the source, want >= 25", i, p)
				}
			}
		}
		tr.Close()
		tr.Close()
		dec.Close()
	}
}
