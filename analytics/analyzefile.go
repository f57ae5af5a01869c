package analytics

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/config"
)

// DefaultFPS is the analysis rate when analytics.fps is not set.
const DefaultFPS = 5

// AnalyzeOptions is the input of `hallwatch analyze`.
type AnalyzeOptions struct {
	Config   *config.Config
	CameraID string    // camera whose analytics (lines, windows, detector) apply
	Input    string    // video file path, anything FFmpeg reads
	Out      io.Writer // JSON Lines, one event per line, in frame order
	// Progress receives the detector choice and progress (stderr); nil for none.
	Progress io.Writer
	// IsTerminal draws a progress bar instead of periodic lines. When false
	// and Progress is a character device (*os.File), it is detected.
	IsTerminal bool
	// Start is the wall-clock time of the first frame, for opening hours;
	// zero means now.
	Start time.Time
	// Edit, when set, changes each analysed frame (1-based input frame
	// number) in place before analysis: the evaluation pastes people into
	// clips with it.
	Edit func(frame int, img *gocv.Mat)
}

// AnalyzeSummary describes a finished run.
type AnalyzeSummary struct {
	Frames    int     // frames decoded
	Processed int     // frames analysed
	FileFPS   float64 // the file's frame rate
	Events    int
	Detector  DetectorChoice
	Elapsed   time.Duration
}

// AnalyzeFile runs a camera's analysis over a video file and writes the
// events as JSON Lines. Every frame is analysed when analytics.fps is at
// least the file's rate, otherwise the frames closest to that rate (frame
// numbers stay those of the input). An event's frame is the 1-based input
// frame, t = (frame-1)/file rate.
//
// Nothing is written to Out before the camera, the input, the model and the
// first frame have been checked, so a bad invocation leaves Out empty. A file
// that ends early (truncated or corrupt mid-way: fewer frames decode than the
// container announces, with 1 % slack for containers that estimate the
// count) yields the complete event lines up to the damage, then an error
// naming the last good frame; the CLI should exit non-zero.
func AnalyzeFile(ctx context.Context, o AnalyzeOptions) (AnalyzeSummary, error) {
	var sum AnalyzeSummary
	if o.Config == nil {
		return sum, fmt.Errorf("analyze: no configuration")
	}
	ref, ok := o.Config.Camera(o.CameraID)
	if !ok {
		return sum, fmt.Errorf("analyze: unknown camera id %q (not in the configuration)", o.CameraID)
	}
	if ref.Camera.Analytics == nil {
		return sum, fmt.Errorf("analyze: camera %q has no analytics section (lines/windows): nothing to analyse", o.CameraID)
	}
	src, err := openVideo(o.Input)
	if err != nil {
		return sum, err
	}
	defer src.close()
	sum.FileFPS = src.fps

	an, choice, err := NewCameraAnalyzer(ref, o.Config.Detector, o.Config.Alerts)
	if err != nil {
		return sum, fmt.Errorf("analyze: %w", err)
	}
	defer an.Close()
	sum.Detector = choice
	progress := newProgress(o.Progress, o.IsTerminal, src.count)
	progress.note("analyze: camera %s, detector %s (%s), %s at %.4g fps", o.CameraID, choice.Kind, choice.Reason, o.Input, src.fps)

	fps := ref.Camera.Analytics.FPS
	if fps <= 0 {
		fps = DefaultFPS
	}
	start := o.Start
	if start.IsZero() {
		start = time.Now()
	}
	out := bufio.NewWriter(o.Out)
	enc := json.NewEncoder(out)
	began := time.Now()
	thin := NewThinner(fps)
	var runErr error
	for n := 1; ; n++ {
		if n > 1 && !src.read() {
			break
		}
		if err := ctx.Err(); err != nil {
			runErr = err
			break
		}
		sum.Frames = n
		t := float64(n-1) / src.fps
		if !thin.Due(t) {
			progress.update(n, sum.Processed, time.Since(began))
			continue
		}
		if o.Edit != nil {
			o.Edit(n, &src.frame)
		}
		evs, err := an.Process(src.frame, n, t, start.Add(time.Duration(t*float64(time.Second))))
		if err != nil {
			runErr = fmt.Errorf("analyze %s: %w", o.Input, err)
			break
		}
		sum.Processed++
		for _, e := range evs {
			if err := enc.Encode(e); err != nil {
				return sum, fmt.Errorf("analyze: writing events: %w", err)
			}
		}
		sum.Events += len(evs)
		progress.update(n, sum.Processed, time.Since(began))
	}
	sum.Elapsed = time.Since(began)
	if err := out.Flush(); err != nil {
		return sum, fmt.Errorf("analyze: writing events: %w", err)
	}
	progress.done(sum.Frames, sum.Processed, sum.Elapsed)
	if runErr != nil {
		return sum, runErr
	}
	if src.count > 0 && sum.Frames < src.count-max(2, src.count/100) {
		return sum, fmt.Errorf("analyze %s: video ends after frame %d of the %d its header announces (truncated or corrupt file); events up to there were written", o.Input, sum.Frames, src.count)
	}
	return sum, nil
}

// video is an opened input with its first frame already decoded.
type video struct {
	cap   *gocv.VideoCapture
	frame gocv.Mat
	fps   float64
	count int // frames announced by the container, 0 when unknown
}

func openVideo(path string) (*video, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("analyze: input video: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("analyze: input video %s is a directory", path)
	}
	c, err := gocv.VideoCaptureFileWithAPI(path, gocv.VideoCaptureFFmpeg)
	if err != nil || !c.IsOpened() {
		if c != nil {
			c.Close()
		}
		return nil, fmt.Errorf("analyze: input video %s: FFmpeg cannot open it as a video (corrupt or not a video file)", path)
	}
	v := &video{cap: c, frame: gocv.NewMat(), fps: c.Get(gocv.VideoCaptureFPS)}
	if n := c.Get(gocv.VideoCaptureFrameCount); n > 0 && n < math.MaxInt32 {
		v.count = int(n)
	}
	if math.IsNaN(v.fps) || v.fps <= 0 || v.fps > 1000 {
		v.close()
		return nil, fmt.Errorf("analyze: input video %s: no usable frame rate (%v)", path, v.fps)
	}
	if !v.read() {
		v.close()
		return nil, fmt.Errorf("analyze: input video %s: no frame could be decoded (corrupt or truncated file)", path)
	}
	return v, nil
}

func (v *video) read() bool {
	return v.cap.Read(&v.frame) && !v.frame.Empty()
}

func (v *video) close() {
	v.frame.Close()
	v.cap.Close()
}
