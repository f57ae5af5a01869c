// Package testclip makes real H.264 access units for tests by running the
// ffmpeg command (libx264), so relay tests carry a real encoder's output.
package testclip

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/hallwatch/hallwatch/ingest"
)

// Options describes the clip.
type Options struct {
	Width, Height int
	FPS           int
	GOP           int // frames between key frames
	Frames        int
}

// H264 encodes a test pattern and returns its access units with PTS set
// from the frame rate. It skips the test when ffmpeg is missing.
func H264(tb testing.TB, o Options) []*ingest.AccessUnit {
	tb.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		tb.Skip("ffmpeg not installed: apt-get install ffmpeg")
	}
	out := filepath.Join(tb.TempDir(), "clip.h264")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d", o.Width, o.Height, o.FPS),
		"-frames:v", fmt.Sprint(o.Frames), "-c:v", "libx264", "-profile:v", "baseline",
		"-pix_fmt", "yuv420p", "-bf", "0", "-g", fmt.Sprint(o.GOP), "-keyint_min", fmt.Sprint(o.GOP),
		"-sc_threshold", "0", "-x264-params", "aud=1:repeat-headers=1", "-f", "h264", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		tb.Fatal(err)
	}
	stream := splitAnnexB(data)
	var units []*ingest.AccessUnit
	var cur [][]byte
	flush := func() {
		if len(cur) == 0 {
			return
		}
		pts := time.Duration(len(units)) * time.Second / time.Duration(o.FPS)
		units = append(units, &ingest.AccessUnit{PTS: pts, Key: h264.IsRandomAccess(cur), NALUs: cur})
		cur = nil
	}
	for _, nalu := range stream {
		if len(nalu) == 0 {
			continue
		}
		if h264.NALUType(nalu[0]&0x1f) == h264.NALUTypeAccessUnitDelimiter {
			flush()
			continue
		}
		cur = append(cur, nalu)
	}
	flush()
	if len(units) != o.Frames {
		tb.Fatalf("clip has %d access units, want %d", len(units), o.Frames)
	}
	return units
}

// splitAnnexB cuts a byte stream at 00 00 01 start codes (a 4-byte code's
// leading zero ends up as a trailing zero of the previous NALU and is trimmed).
func splitAnnexB(b []byte) [][]byte {
	var nalus [][]byte
	start := -1
	for i := 0; i+2 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				nalus = append(nalus, bytes.TrimRight(b[start:i], "\x00"))
			}
			start = i + 3
			i += 2
		}
	}
	if start >= 0 && start < len(b) {
		nalus = append(nalus, b[start:])
	}
	return nalus
}

// Play pushes units in real time, looping, with PTS and arrival time of a
// live camera, until ctx ends or push fails (reported on tb).
func Play(ctx context.Context, tb testing.TB, push func(*ingest.AccessUnit) error, units []*ingest.AccessUnit, fps int) {
	tb.Helper()
	frame := time.Second / time.Duration(fps)
	tick := time.NewTicker(frame)
	defer tick.Stop()
	for i := 0; ; i++ {
		au := *units[i%len(units)]
		au.PTS = time.Duration(i) * frame
		au.Received = time.Now()
		if err := push(&au); err != nil {
			tb.Errorf("push: %v", err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
