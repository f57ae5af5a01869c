package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/config"
)

// runAnalyze is the offline analysis contract: events of a camera's
// analytics over a video file, as JSON Lines on stdout (or --out).
func runAnalyze(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("analyze", "analyze --config FILE --camera ID --input VIDEO_FILE [--out FILE] [--start TIME]", stderr)
	cfgPath := fs.String("config", "", "configuration file (YAML)")
	camera := fs.String("camera", "", "id of the camera whose analytics (lines, windows, detector) apply")
	input := fs.String("input", "", "video file (any container/codec FFmpeg reads)")
	out := fs.String("out", "", "write JSON Lines here instead of stdout")
	start := fs.String("start", "", "wall-clock time of the first frame, RFC 3339 (for opening hours; default now)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *cfgPath == "" || *camera == "" || *input == "" || fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	var startTime time.Time
	if *start != "" {
		var err error
		if startTime, err = time.Parse(time.RFC3339, *start); err != nil {
			return fmt.Errorf("--start %q: want RFC 3339 time such as 2026-11-27T09:00:00+08:00", *start)
		}
	}
	cfg, err := config.Load(*cfgPath)
	if err != nil {
		return err
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	sum, err := analytics.AnalyzeFile(ctx, analytics.AnalyzeOptions{
		Config: cfg, CameraID: *camera, Input: *input, Out: w, Progress: stderr, Start: startTime,
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "analyzed %d of %d frames with %s in %v: %d events\n",
		sum.Processed, sum.Frames, sum.Detector.Kind, sum.Elapsed.Round(time.Millisecond), sum.Events)
	return nil
}
