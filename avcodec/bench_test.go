package avcodec

import "testing"

// bench720p is two seconds of the synthetic sequence at 1280x720, 15 fps,
// GOP 30 and 2 Mbit/s: a typical hall camera's main stream.
func bench720p(b *testing.B) [][][]byte {
	b.Helper()
	aus, _ := encodeSeq(b, EncoderOptions{Width: 1280, Height: 720, FPS: 15, GOP: 30, BitrateKbps: 2000}, 30)
	return aus
}

// benchDecode decodes and converts to BGR, cycling through the GOP.
func benchDecode(b *testing.B, outWidth int) {
	aus := bench720p(b)
	dec, err := NewDecoder("H264")
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	dec.SetOutputWidth(outWidth)
	var out Image
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		ok, err := dec.Decode(aus[i%len(aus)])
		if err != nil || !ok {
			b.Fatalf("access unit %d: %v %v", i%len(aus), ok, err)
		}
		if err := dec.Frame(&out); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecode720p(b *testing.B) { benchDecode(b, 0) }

func BenchmarkDecode720pScaledTo640(b *testing.B) { benchDecode(b, 640) }

func BenchmarkEncode720p(b *testing.B) {
	const n = 30
	frames := make([]*Image, n)
	for i := range frames {
		frames[i] = synthFrame(1280, 720, i)
	}
	enc, err := NewEncoder(EncoderOptions{Width: 1280, Height: 720, FPS: 15, GOP: 30, BitrateKbps: 2000})
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, err := enc.Encode(frames[i%n], int64(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTranscode720pH265 is the live fallback for browsers without
// H.265: a 720p H.265 access unit decoded and re-encoded as H.264
// (x264 ultrafast), cycling through the GOP.
func BenchmarkTranscode720pH265(b *testing.B) {
	aus, _ := encodeSeq(b, EncoderOptions{Codec: CodecH265, Width: 1280, Height: 720, FPS: 15, GOP: 30, BitrateKbps: 2000, Preset: "ultrafast"}, 30)
	tr, err := NewTranscoder(TranscoderOptions{Codec: CodecH265, FPS: 15})
	if err != nil {
		b.Fatal(err)
	}
	defer tr.Close()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, _, err := tr.Transcode(aus[i%len(aus)], i%len(aus) == 0); err != nil {
			b.Fatal(err)
		}
	}
}
