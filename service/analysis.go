package service

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/geom"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/metrics"
)

// analysisWidth caps the width of frames handed to analysis: people in a
// hall stay tens of pixels tall, and converting 1080p to BGR costs 4× more.
const analysisWidth = 960

// recordFunc stores and announces a camera's events; snapshot renders the
// current frame for an alert on a window.
type recordFunc func(ctx context.Context, ref config.CameraRef, evs []analytics.Event, snapshot func(window string) []byte)

// analysis is one camera's live analytics: it decodes the hub's access
// units, converts frames at analytics.fps and runs the analyzer.
type analysis struct {
	ref      config.CameraRef
	hub      *ingest.Hub
	buffer   int
	status   func() ingest.Status
	analyzer *analytics.Analyzer
	choice   analytics.DetectorChoice
	interval time.Duration
	record   recordFunc
	windows  func(camera string, ws []analytics.WindowStatus)
	log      *slog.Logger
	// decodeTime and analyseTime observe each access unit's decode and
	// each frame's analysis (metrics).
	decodeTime, analyseTime prometheus.Observer

	decoded, analysed, decodeErrors, processErrors atomic.Uint64
	mu                                             sync.Mutex
	lag                                            time.Duration // receive → analysed, last frame
}

func newAnalysis(ref config.CameraRef, cfg *config.Config, hub *ingest.Hub, status func() ingest.Status,
	record recordFunc, windows func(string, []analytics.WindowStatus), m *metrics.Metrics, log *slog.Logger) (*analysis, error) {
	an, choice, err := analytics.NewCameraAnalyzer(ref, cfg.Detector, cfg.Alerts)
	if err != nil {
		return nil, err
	}
	log.Info("analytics detector", "camera", ref.Camera.ID, "detector", choice.Kind, "why", choice.Reason)
	return &analysis{
		ref: ref, hub: hub, buffer: cfg.Ingest.SubscriberBuf, status: status, analyzer: an, choice: choice,
		interval: time.Duration(float64(time.Second) / ref.Camera.Analytics.FPS),
		record:   record, windows: windows, log: log.With("camera", ref.Camera.ID),
		decodeTime:  m.DecodeSeconds.WithLabelValues(ref.Camera.ID),
		analyseTime: m.AnalyseSeconds.WithLabelValues(ref.Camera.ID, choice.Kind),
	}, nil
}

// Run analyses until ctx ends.
func (a *analysis) Run(ctx context.Context) error {
	defer a.analyzer.Close()
	sub := a.hub.Subscribe("analytics", ingest.SubscribeOptions{Buffer: a.buffer})
	defer sub.Close()
	var (
		dec      *avcodec.Decoder
		gen      uint64
		img      avcodec.Image
		mat      = gocv.NewMat()
		start    = time.Now()
		next     time.Time
		frame    int
		offline  bool
		lastWall time.Time
	)
	defer func() {
		if dec != nil {
			dec.Close()
		}
		mat.Close()
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			// Windows of a camera that is not live are unknown, not absent.
			if st := a.status(); st.State != ingest.StateLive && !offline {
				offline = true
				now := time.Now()
				a.emit(ctx, a.analyzer.SetOffline(frame, now.Sub(start).Seconds(), now), mat)
				a.windows(a.ref.Camera.ID, a.analyzer.Windows())
			}
		case au := <-sub.C():
			if info := a.hub.Stream(); info.Generation != gen || dec == nil {
				if dec != nil {
					dec.Close()
				}
				var err error
				if dec, err = avcodec.NewDecoder(string(info.Codec)); err != nil {
					return fmt.Errorf("camera %s: %w", a.ref.Camera.ID, err)
				}
				dec.SetOutputWidth(analysisWidth)
				gen = info.Generation
			}
			began := time.Now()
			got, err := dec.Decode(au.NALUs)
			a.decodeTime.Observe(time.Since(began).Seconds())
			if err != nil {
				a.decodeErrors.Add(1) // the decoder resumes at the next key frame
				continue
			}
			if !got {
				continue
			}
			frame++
			a.decoded.Add(1)
			wall := au.Received
			if wall.Before(next) || !wall.After(lastWall) {
				continue // decoded for reference only: analysis runs at analytics.fps
			}
			if next.IsZero() || wall.Sub(next) > a.interval {
				next = wall
			}
			next = next.Add(a.interval)
			lastWall = wall
			if err := toMat(dec, &img, &mat); err != nil {
				a.decodeErrors.Add(1)
				continue
			}
			offline = false
			began = time.Now()
			evs, err := a.analyzer.Process(mat, frame, wall.Sub(start).Seconds(), wall)
			a.analyseTime.Observe(time.Since(began).Seconds())
			if err != nil {
				a.processErrors.Add(1)
				a.log.Warn("analysis failed on a frame", "err", err)
				continue
			}
			a.analysed.Add(1)
			a.mu.Lock()
			a.lag = time.Since(wall)
			a.mu.Unlock()
			a.windows(a.ref.Camera.ID, a.analyzer.Windows())
			a.emit(ctx, evs, mat)
		}
	}
}

func (a *analysis) emit(ctx context.Context, evs []analytics.Event, mat gocv.Mat) {
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
	for _, w := range a.ref.Camera.Analytics.Windows {
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

// AnalysisStatus is what the camera status shows of its analysis.
type AnalysisStatus struct {
	Detector      string  `json:"detector"`
	Reason        string  `json:"reason"`
	FPS           float64 `json:"fps"`
	Decoded       uint64  `json:"decoded"`
	Analysed      uint64  `json:"analysed"`
	DecodeErrors  uint64  `json:"decode_errors"`
	ProcessErrors uint64  `json:"process_errors"`
	LagMillis     float64 `json:"lag_ms"`
}

func (a *analysis) Status() AnalysisStatus {
	a.mu.Lock()
	lag := a.lag
	a.mu.Unlock()
	return AnalysisStatus{
		Detector: a.choice.Kind, Reason: a.choice.Reason, FPS: float64(time.Second) / float64(a.interval),
		Decoded: a.decoded.Load(), Analysed: a.analysed.Load(), DecodeErrors: a.decodeErrors.Load(),
		ProcessErrors: a.processErrors.Load(), LagMillis: float64(lag) / float64(time.Millisecond),
	}
}
