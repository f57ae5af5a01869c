package analytics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// clip encodes a test pattern with ffmpeg (H.264 in MP4, moov first) and
// returns its path; it skips when ffmpeg is missing.
func clip(t *testing.T, frames, fps int) string {
	t.Helper()
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	out := filepath.Join(t.TempDir(), "clip.mp4")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error",
		"-f", "lavfi", "-i", "testsrc2=size=320x240:rate="+strconv.Itoa(fps),
		"-frames:v", strconv.Itoa(frames), "-c:v", "libx264", "-pix_fmt", "yuv420p", "-g", "10",
		"-movflags", "+faststart", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, msg)
	}
	return out
}

// hall returns a configuration with one camera "hall1" using the motion
// detector, a door line and a window covering the left third.
func hall(fps float64) *config.Config {
	cfg := config.Default()
	cfg.Detector.Kind = analytics.KindMotion
	cfg.Districts = []config.District{{ID: "d", Name: "D", Centers: []config.Center{{ID: "c", Name: "C", Cameras: []config.Camera{
		{ID: "hall1", Analytics: &config.Analytics{
			FPS:   fps,
			Lines: []config.Line{{ID: "door", A: geom.Point{0.5, 0}, B: geom.Point{0.5, 1}, Inside: geom.Point{0.9, 0.5}}},
			Windows: []config.Window{{ID: "w1", Zone: geom.Polygon{{0, 0}, {0.3, 0}, {0.3, 1}, {0, 1}},
				AbsentAfter: config.Duration(60 * time.Second), MinStaff: 1}},
		}},
		{ID: "relay-only"},
	}}}}}
	return cfg
}

// contractKeys are the JSON keys `hallwatch analyze` may write.
var contractKeys = map[string]bool{"type": true, "kind": true, "camera": true, "line": true, "direction": true,
	"track": true, "window": true, "state": true, "count": true, "reason": true, "frame": true, "t": true}

// readEvents checks every line is one contract event, frames never go back
// and t = (frame-1)/fps, and returns the events.
func readEvents(t *testing.T, out []byte, fps float64) []events.Event {
	t.Helper()
	var evs []events.Event
	last := 0
	for i, line := range bytes.Split(bytes.TrimSuffix(out, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			if len(out) == 0 {
				break
			}
			t.Fatalf("line %d is empty", i+1)
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %d %q: %v", i+1, line, err)
		}
		for k := range m {
			if !contractKeys[k] {
				t.Fatalf("line %d has key %q outside the contract: %s", i+1, k, line)
			}
		}
		var e events.Event
		if err := json.Unmarshal(line, &e); err != nil {
			t.Fatal(err)
		}
		if e.Frame < last {
			t.Fatalf("line %d: frame %d after frame %d", i+1, e.Frame, last)
		}
		last = e.Frame
		if want := float64(e.Frame-1) / fps; e.T < want-1e-9 || e.T > want+1e-9 {
			t.Fatalf("line %d: t %v for frame %d, want %v", i+1, e.T, e.Frame, want)
		}
		if e.Type == events.TypeWindow && e.Count == nil {
			t.Fatalf("line %d: window event without count: %s", i+1, line)
		}
		evs = append(evs, e)
	}
	return evs
}

func TestAnalyzeFileReducedRateKeepsInputFrameNumbers(t *testing.T) {
	in := clip(t, 100, 25)
	var out, progress bytes.Buffer
	sum, err := analytics.AnalyzeFile(context.Background(), analytics.AnalyzeOptions{
		Config: hall(5), CameraID: "hall1", Input: in, Out: &out, Progress: &progress,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Frames != 100 || sum.Processed != 20 || sum.FileFPS != 25 || sum.Detector.Kind != analytics.KindMotion {
		t.Fatalf("summary %+v: want 100 frames, 20 analysed at 25 fps with motion", sum)
	}
	evs := readEvents(t, out.Bytes(), 25)
	// Nobody seen in the window: checking from the first frame, then, on
	// the first analysed frame at t ≥ 2 s (input frame 51), unknown: the
	// motion detector cannot tell an empty window from a clerk sitting
	// still since before the first frame.
	var unknown *events.Event
	for i := range evs {
		if evs[i].Type == events.TypeWindow && evs[i].State != events.StateChecking {
			unknown = &evs[i]
			break
		}
	}
	if unknown == nil || unknown.State != events.StateUnknown || unknown.Reason == "" || unknown.Frame != 51 || unknown.T != 2 ||
		unknown.Camera != "hall1" || unknown.Window != "w1" || *unknown.Count != 0 {
		t.Fatalf("first state after checking %+v, want unknown with a reason at frame 51, t 2 (events %+v)", unknown, evs)
	}
	for _, e := range evs {
		if (e.Frame-1)%5 != 0 {
			t.Fatalf("event at frame %d: only frames 1, 6, 11… are analysed at 5 of 25 fps", e.Frame)
		}
	}
	if !strings.Contains(progress.String(), "detector motion") || !strings.Contains(progress.String(), "frame 100/100") {
		t.Fatalf("progress output %q", progress.String())
	}
	if strings.Contains(progress.String(), "\r") {
		t.Fatal("progress bar drawn on a non-terminal")
	}
}

func TestAnalyzeFileProgressBarOnTerminal(t *testing.T) {
	in := clip(t, 20, 25)
	var out, progress bytes.Buffer
	if _, err := analytics.AnalyzeFile(context.Background(), analytics.AnalyzeOptions{
		Config: hall(25), CameraID: "hall1", Input: in, Out: &out, Progress: &progress, IsTerminal: true,
	}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "\r[") || !strings.HasSuffix(progress.String(), "\n") {
		t.Fatalf("progress %q: want a redrawn bar ending in a newline", progress.String())
	}
}

func TestAnalyzeFileBadInput(t *testing.T) {
	good := clip(t, 30, 25)
	dir := t.TempDir()
	notVideo := filepath.Join(dir, "notes.mp4")
	if err := os.WriteFile(notVideo, []byte("these are not the frames you are looking for\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	headerOnly := filepath.Join(dir, "header.mp4")
	if err := os.WriteFile(headerOnly, data[:200], 0o644); err != nil {
		t.Fatal(err)
	}
	yolo := hall(5)
	yolo.Detector = config.Detector{Kind: analytics.KindYOLO, Model: filepath.Join(dir, "missing.cfg"),
		Weights: filepath.Join(dir, "missing.weights"), InputSize: 416, ScoreThreshold: 0.4, NMSThreshold: 0.45}
	cases := []struct {
		name   string
		cfg    *config.Config
		camera string
		input  string
		want   string
	}{
		{"missing file", hall(5), "hall1", filepath.Join(dir, "nope.mp4"), "nope.mp4"},
		{"directory", hall(5), "hall1", dir, "is a directory"},
		{"not a video", hall(5), "hall1", notVideo, "notes.mp4"},
		{"cut inside the header", hall(5), "hall1", headerOnly, "header.mp4"},
		{"unknown camera", hall(5), "hall9", good, `unknown camera id "hall9"`},
		{"camera without analytics", hall(5), "relay-only", good, `"relay-only" has no analytics`},
		{"missing model", yolo, "hall1", good, "missing.cfg"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			_, err := analytics.AnalyzeFile(context.Background(), analytics.AnalyzeOptions{
				Config: c.cfg, CameraID: c.camera, Input: c.input, Out: &out,
			})
			t.Log(err)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one naming %q", err, c.want)
			}
			if out.Len() != 0 {
				t.Fatalf("wrote %q to the output before failing", out.String())
			}
		})
	}
}

func TestAnalyzeFileTruncatedMidway(t *testing.T) {
	good := clip(t, 100, 25)
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.mp4")
	if err := os.WriteFile(cut, data[:len(data)*6/10], 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	sum, err := analytics.AnalyzeFile(context.Background(), analytics.AnalyzeOptions{
		Config: hall(25), CameraID: "hall1", Input: cut, Out: &out,
	})
	if err == nil || !strings.Contains(err.Error(), "cut.mp4") || !strings.Contains(err.Error(), "of the 100") {
		t.Fatalf("error %v, want one saying the file ends before its 100 frames", err)
	}
	if sum.Frames == 0 || sum.Frames >= 100 {
		t.Fatalf("decoded %d frames of a cut file", sum.Frames)
	}
	readEvents(t, out.Bytes(), 25) // what was written is whole, valid lines
}

func TestAnalyzeFileStopsOnCancel(t *testing.T) {
	in := clip(t, 30, 25)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out bytes.Buffer
	_, err := analytics.AnalyzeFile(ctx, analytics.AnalyzeOptions{Config: hall(25), CameraID: "hall1", Input: in, Out: &out})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
}
