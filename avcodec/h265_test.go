package avcodec

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// ffmpegOutput runs the ffmpeg CLI, skipping the test when it is missing.
func ffmpegOutput(t *testing.T, args ...string) {
	t.Helper()
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg CLI not installed: it makes the H.265 reference stream")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, append([]string{"-hide_banner", "-loglevel", "error", "-y"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, out)
	}
}

// hevcAccessUnits groups an H.265 Annex-B stream into access units: a new one
// starts at a parameter set, AUD or prefix SEI following a picture, or at a
// slice that begins a new picture (first_slice_segment_in_pic_flag).
func hevcAccessUnits(stream []byte) [][][]byte {
	var aus [][][]byte
	var cur [][]byte
	curHasSlice := false
	for _, n := range splitAnnexB(stream) {
		if len(n) < 3 {
			continue
		}
		typ := n[0] >> 1 & 0x3f
		vcl := typ < 32
		startsAU := (vcl && n[2]&0x80 != 0 && curHasSlice) ||
			(!vcl && curHasSlice && (typ >= 32 && typ <= 35 || typ == 39))
		if startsAU {
			aus = append(aus, cur)
			cur, curHasSlice = nil, false
		}
		cur = append(cur, n)
		curHasSlice = curHasSlice || vcl
	}
	if len(cur) > 0 {
		aus = append(aus, cur)
	}
	return aus
}

// h265Reference has ffmpeg make frames of its 320x240 test source, as raw
// BGR and as an H.265 stream (libx265, a key frame every 10 frames), and
// returns the pictures and the stream's access units.
func h265Reference(t *testing.T, frames int) (bgr []byte, aus [][][]byte) {
	t.Helper()
	dir := t.TempDir()
	src := []string{"-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10", "-frames:v", strconv.Itoa(frames)}
	raw, stream := filepath.Join(dir, "src.bgr"), filepath.Join(dir, "out.hevc")
	ffmpegOutput(t, append(src, "-pix_fmt", "bgr24", "-f", "rawvideo", raw)...)
	ffmpegOutput(t, append(src, "-c:v", "libx265", "-x265-params", "keyint=10:min-keyint=10:scenecut=0:bframes=0:log-level=error",
		"-b:v", "1000k", "-f", "hevc", stream)...)
	bgr, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(stream)
	if err != nil {
		t.Fatal(err)
	}
	if aus = hevcAccessUnits(data); len(aus) != frames {
		t.Fatalf("split the H.265 stream into %d access units, want %d", len(aus), frames)
	}
	return bgr, aus
}

func TestDecodeH265(t *testing.T) {
	const w, h, frames = 320, 240, 20
	want, aus := h265Reference(t, frames)

	dec, err := NewDecoder("H265")
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	// Start mid-GOP: nothing until the IRAP at frame 10.
	var out Image
	for i := 3; i < frames; i++ {
		ok, err := dec.Decode(aus[i])
		if i < 10 {
			if ok {
				t.Errorf("frame %d: picture before the first IRAP", i)
			}
			continue
		}
		if err != nil || !ok {
			t.Fatalf("frame %d: Decode = %v, %v; want a picture", i, ok, err)
		}
		if err := dec.Frame(&out); err != nil {
			t.Fatal(err)
		}
		ref := &Image{Width: w, Height: h, Stride: 3 * w, Data: want[i*3*w*h : (i+1)*3*w*h]}
		if p := psnr(t, &out, ref); p < 28 {
			t.Errorf("frame %d: PSNR %.1f dB against ffmpeg's source, want >= 28", i, p)
		}
	}
}
