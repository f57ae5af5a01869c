package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/metrics"
	"github.com/hallwatch/hallwatch/web"
)

// analysisWidth caps the width of frames handed to analysis: people in a
// hall stay tens of pixels tall, and converting 1080p to BGR costs 4× more.
const analysisWidth = 960

// recordFunc stores and announces a camera's events; snapshot renders the
// current frame for an alert on a window.
type recordFunc func(ctx context.Context, ref config.CameraRef, evs []events.Event, snapshot func(window string) []byte)

// analysis is one camera's live analytics: an analytics.Pipeline fed
// with the hub's access units.
type analysis struct {
	ref    config.CameraRef
	hub    *ingest.Hub
	buffer int
	status func() ingest.Status
	// build makes the camera's analyzer: at start, and anew after a panic.
	build func() (*analytics.Analyzer, analytics.DetectorChoice, error)
	// fallback makes it with the motion detector, for why: after a panic,
	// when build fails (its model file removed or broken since start).
	fallback func(why string) (*analytics.Analyzer, analytics.DetectorChoice, error)
	record   recordFunc
	windows  func(camera string, ws []events.WindowStatus)
	log      *slog.Logger
	// decodeTime observes each access unit's decode, analyseTime each
	// frame's analysis (metrics, by detector).
	decodeTime  prometheus.Observer
	analyseTime *prometheus.HistogramVec
	// stateDir keeps the analysis's state across restarts (storage.state_dir).
	stateDir string

	mu sync.Mutex
	// analyzer, pipeline and choice are replaced by the run loop only,
	// under mu: other goroutines read them through parts.
	analyzer *analytics.Analyzer
	pipeline *analytics.Pipeline
	choice   analytics.DetectorChoice
	// past sums the pipelines and looks replaced after panics, so that the
	// status's totals never go back.
	past      analytics.PipelineStats
	pastLooks uint64
	// restarts counts the panics the analysis restarted after; lastPanic
	// is the last one's message, at lastPanicAt.
	restarts    uint64
	lastPanic   string
	lastPanicAt time.Time
	lag         time.Duration // receive → analysed, last frame
	// since is the camera time of the first analysed frame: what the
	// analysis can know of the hall starts there.
	since time.Time
	// frameAt is the camera time of the last analysed frame.
	frameAt time.Time
	// geometry is analytics saved in the editor, waiting for the run loop
	// to put it in force between frames (woken by regeometry).
	geometry   *config.Analytics
	regeometry chan struct{}
	// pictures are requests for the last analysed picture (the editor's).
	pictures chan chan picture
	// openAlerts lists the camera's windows whose unstaffed alert is open
	// (raised before this analysis started); nil: none.
	openAlerts func(camera string) []string
	// restarted tells live pages that the analysis restarted (nil: none).
	restarted func(camera string)
}

func newAnalysis(ref config.CameraRef, cfg *config.Config, hub *ingest.Hub, status func() ingest.Status,
	record recordFunc, windows func(string, []events.WindowStatus), m *metrics.Metrics, log *slog.Logger) (*analysis, error) {
	a := &analysis{
		ref: ref, hub: hub, buffer: cfg.Ingest.SubscriberBuf, status: status,
		build: func() (*analytics.Analyzer, analytics.DetectorChoice, error) {
			return analytics.NewCameraAnalyzer(ref, cfg.Detector, cfg.Alerts)
		},
		fallback: func(why string) (*analytics.Analyzer, analytics.DetectorChoice, error) {
			return analytics.NewMotionFallbackAnalyzer(ref, cfg.Alerts, why)
		},
		record: record, windows: windows, log: log.With("camera", ref.Camera.ID),
		decodeTime: m.DecodeSeconds.WithLabelValues(ref.Camera.ID), analyseTime: m.AnalyseSeconds, stateDir: cfg.Storage.StatePath(),
		regeometry: make(chan struct{}, 1), pictures: make(chan chan picture),
	}
	if err := a.start(a.build); err != nil {
		return nil, err
	}
	return a, nil
}

// start builds the analyzer and its pipeline and resumes from the saved
// state: at service start, and after a panic as if the service had
// restarted.
func (a *analysis) start(build func() (*analytics.Analyzer, analytics.DetectorChoice, error)) error {
	an, choice, err := build()
	if err != nil {
		return err
	}
	if choice.Fallback {
		a.log.Error("analytics detector: the person model failed to load, falling back", "detector", choice.Kind, "why", choice.Reason)
	} else {
		a.log.Info("analytics detector", "detector", choice.Kind, "why", choice.Reason)
	}
	if err := an.LoadState(a.stateDir); err != nil {
		a.log.Warn("analysis state not restored: starting afresh", "err", err)
	}
	p := analytics.NewPipeline(analytics.PipelineOptions{
		Analyzer: an, FPS: a.ref.Camera.Analytics.FPS, IdleAfter: a.ref.Camera.Analytics.IdleAfter.D(),
		AnalyseTime: a.analyseTime.WithLabelValues(a.ref.Camera.ID, choice.Kind),
	})
	a.mu.Lock()
	a.analyzer, a.pipeline, a.choice = an, p, choice
	a.since, a.lag = time.Time{}, 0
	a.mu.Unlock()
	return nil
}

// close releases the analyzer and pipeline in use: Run does at its end,
// Service.Close when Run never ran.
func (a *analysis) close() {
	an, p := a.parts()
	p.Close()
	an.Close()
}

// parts returns the analyzer and pipeline in use, for goroutines other
// than the run loop.
func (a *analysis) parts() (*analytics.Analyzer, *analytics.Pipeline) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.analyzer, a.pipeline
}

// Run analyses until ctx ends. A panic in the analysis (a bug, perhaps
// met only in this camera's scene) costs this camera's analysis alone, for
// a while: the analyzer it left half-updated is dropped and a new one
// starts from the saved state, as after a service restart, once a backoff
// has passed; ingest, live view, recording and the other cameras go on.
func (a *analysis) Run(ctx context.Context) error {
	defer a.close()
	backoff := ingest.NewBackoff(ingest.BackoffConfig{Min: time.Second, Max: time.Minute, StablePeriod: 10 * time.Minute}, nil, nil)
	for {
		backoff.Live()
		err := a.session(ctx)
		var crash *crashError
		if !errors.As(err, &crash) {
			a.saveState() // at shutdown; never the state a panic left
			return err
		}
		delay := backoff.Next()
		a.log.Error("analysis panicked: restarting it from the saved state; live view and recording go on",
			"panic", crash.value, "restart_in", delay, "stack", string(crash.stack))
		if err := a.restart(crash); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}

// restart replaces the analyzer a panic left with a new one, whose
// windows are unknown until it has analysed again. If the configured
// detector cannot be built again (its model files removed or broken since
// start), the motion detector watches instead, as kind auto would: one
// camera's detector is no reason to stop the others.
func (a *analysis) restart(crash *crashError) error {
	old, oldPipeline := a.parts()
	if err := a.start(a.build); err != nil {
		why := fmt.Sprintf("the configured detector failed to build again after a panic (%v)", err)
		if err := a.start(func() (*analytics.Analyzer, analytics.DetectorChoice, error) { return a.fallback(why) }); err != nil {
			return fmt.Errorf("camera %s: analysis cannot restart after a panic: %w", a.ref.Camera.ID, err)
		}
	}
	st := oldPipeline.Stats()
	a.mu.Lock()
	a.past = a.past.Add(st)
	a.pastLooks += looks(old, st)
	a.restarts++
	a.lastPanic, a.lastPanicAt = crash.value, time.Now()
	a.mu.Unlock()
	oldPipeline.Close()
	old.Close()
	a.windows(a.ref.Camera.ID, a.analyzer.Windows())
	if a.restarted != nil {
		a.restarted(a.ref.Camera.ID)
	}
	return nil
}

// session analyses until ctx ends, or until a panic, which it returns
// as a *crashError.
func (a *analysis) session(ctx context.Context) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &crashError{value: panicMessage(v), stack: debug.Stack()}
		}
	}()
	if a.openAlerts != nil {
		a.analyzer.AlertsOpen(a.openAlerts(a.ref.Camera.ID))
	}
	sub := a.hub.Subscribe("analytics", ingest.SubscribeOptions{Buffer: a.buffer})
	defer sub.Close()
	var (
		dec     *frameDecoder
		gen     uint64
		start   = time.Now()
		last    float64 // stream time of the last unit
		offline bool
	)
	defer func() {
		if dec != nil {
			dec.Close()
		}
	}()
	a.pipeline.SetOnFrame(func(evs []events.Event, frame gocv.Mat, wall time.Time) {
		offline = false
		a.mu.Lock()
		a.lag = time.Since(wall)
		if a.since.IsZero() {
			a.since = wall
		}
		a.frameAt = wall
		a.mu.Unlock()
		a.windows(a.ref.Camera.ID, a.analyzer.Windows())
		a.emit(ctx, evs, frame)
	})
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	save := time.NewTicker(stateEvery)
	defer save.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-save.C:
			a.saveState()
		case <-a.regeometry:
			now := time.Now()
			a.applyGeometry(ctx, int(a.pipeline.Stats().Units), max(now.Sub(start).Seconds(), last), now)
		case req := <-a.pictures:
			req <- a.picture()
		case <-tick.C:
			// Windows of a camera that is not live are unknown, not absent.
			if st := a.status(); st.State != ingest.StateLive && !offline {
				offline = true
				now := time.Now()
				a.emit(ctx, a.analyzer.SetOffline(int(a.pipeline.Stats().Units), now.Sub(start).Seconds(), now), a.pipeline.Frame())
				a.windows(a.ref.Camera.ID, a.analyzer.Windows())
			}
		case au := <-sub.C():
			if info := a.hub.Stream(); info.Generation != gen || dec == nil {
				if dec != nil {
					dec.Close()
					// The camera reconnected: whoever was there is checked
					// again, not assumed, however short the gap.
					if !offline {
						offline = true
						now := time.Now()
						a.emit(ctx, a.analyzer.SetOffline(int(a.pipeline.Stats().Units), now.Sub(start).Seconds(), now), a.pipeline.Frame())
					}
				}
				d, err := avcodec.NewDecoder(string(info.Codec))
				if err != nil {
					return fmt.Errorf("camera %s: %w", a.ref.Camera.ID, err)
				}
				d.SetOutputWidth(analysisWidth)
				dec = &frameDecoder{dec: d, observe: a.decodeTime}
				a.pipeline.SetDecoder(dec)
				gen = info.Generation
			}
			// Stream time from arrival; never backwards, so that a
			// clock step cannot confuse the analysis.
			t := max(au.Received.Sub(start).Seconds(), last)
			last = t
			if err := a.pipeline.Push(analytics.Unit{NALUs: au.NALUs, Key: au.Key, T: t, Wall: au.Received}); err != nil {
				a.log.Warn("analysis failed on a frame", "err", err)
			}
		}
	}
}

// stateEvery is how often the analysis state is saved besides at shutdown.
const stateEvery = time.Minute

// saveState writes the analysis state under storage.state_dir; failures
// are logged: analysis goes on.
func (a *analysis) saveState() {
	if err := a.analyzer.SaveState(a.stateDir, time.Now()); err != nil {
		a.log.Warn("analysis state not saved", "err", err)
	}
}

// frameDecoder is the pipeline's view of an FFmpeg decoder.
type frameDecoder struct {
	dec     *avcodec.Decoder
	img     avcodec.Image
	observe prometheus.Observer
}

func (d *frameDecoder) Decode(nalus [][]byte) (bool, error) {
	began := time.Now()
	got, err := d.dec.Decode(nalus)
	d.observe.Observe(time.Since(began).Seconds())
	return got, err
}

func (d *frameDecoder) Picture(dst *gocv.Mat) error { return toMat(d.dec, &d.img, dst) }

func (d *frameDecoder) Close() { d.dec.Close() }

func (a *analysis) emit(ctx context.Context, evs []events.Event, mat gocv.Mat) {
	if len(evs) == 0 {
		return
	}
	a.record(ctx, a.ref, evs, func(window string) []byte {
		jpeg, err := analytics.Snapshot(mat, a.zone(window), a.ref.Camera.Privacy)
		if err != nil {
			a.log.Warn("alert snapshot", "err", err)
			return nil
		}
		return jpeg
	})
}

func (a *analysis) zone(window string) geom.Polygon {
	for _, w := range a.ref.Camera.Effective().Windows {
		if w.ID == window {
			return w.Zone
		}
	}
	return nil
}

// toMat converts the decoder's picture straight into mat's memory, making
// mat anew only when the frame size changes.
func toMat(dec *avcodec.Decoder, img *avcodec.Image, mat *gocv.Mat) error {
	if !mat.Empty() {
		data, err := mat.DataPtrUint8()
		if err != nil {
			return err
		}
		img.Data = data
	}
	if err := dec.Frame(img); err != nil {
		return err
	}
	if !mat.Empty() && mat.Cols() == img.Width && mat.Rows() == img.Height {
		return nil // decoded in place
	}
	mat.Close()
	m, err := gocv.NewMatFromBytes(img.Height, img.Width, gocv.MatTypeCV8UC3, img.Data)
	if err != nil {
		return err
	}
	*mat = m.Clone() // own the memory: img.Data is Go memory here
	m.Close()
	return nil
}

// crashError is a panic of the analysis, recovered.
type crashError struct {
	value string // the panic's message, cut to its first line
	stack []byte
}

func (e *crashError) Error() string { return "analysis panicked: " + e.value }

// panicMessage is a panic's value as the status shows it: one line, at
// most 200 bytes (the stack goes to the log only).
func panicMessage(v any) string {
	msg, _, _ := strings.Cut(fmt.Sprint(v), "\n")
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "…"
	}
	return msg
}

// looks is how many of a pipeline's analysed frames its analyzer's
// detector looked at: all of them for a detector that does not skip any.
func looks(an *analytics.Analyzer, st analytics.PipelineStats) uint64 {
	if n, counted := an.Looks(); counted {
		return n
	}
	return st.Analysed
}

// Status is what the camera status shows of its analysis.
func (a *analysis) Status() web.AnalysisStatus {
	a.mu.Lock()
	lag, since, choice, past, pastLooks := a.lag, a.since, a.choice, a.past, a.pastLooks
	restarts, lastPanic, lastPanicAt := a.restarts, a.lastPanic, a.lastPanicAt
	an, p := a.analyzer, a.pipeline
	a.mu.Unlock()
	st := p.Stats()
	allLooks := pastLooks + looks(an, st)
	st = past.Add(st)
	return web.AnalysisStatus{
		Detector: choice.Kind, Reason: choice.Reason, Fallback: choice.Fallback, FPS: a.ref.Camera.Analytics.FPS,
		Units: st.Units, Decoded: st.Decoded, Analysed: st.Analysed, Looks: allLooks, DecodeErrors: st.DecodeErrors,
		ProcessErrors: st.ProcessErrors, LagMillis: float64(lag) / float64(time.Millisecond), Since: since,
		Idle: st.Idle, Wakes: st.Wakes, Restarts: restarts, LastPanic: lastPanic, LastPanicAt: lastPanicAt,
	}
}
