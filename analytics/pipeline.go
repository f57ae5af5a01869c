package analytics

import (
	"errors"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/hallwatch/hallwatch/events"
)

// FrameDecoder decodes a camera's access units; Picture converts the last
// decoded picture to BGR into dst.
type FrameDecoder interface {
	Decode(nalus [][]byte) (bool, error)
	Picture(dst *gocv.Mat) error
}

// PipelineOptions configure a Pipeline.
type PipelineOptions struct {
	Analyzer *Analyzer
	FPS      float64 // analysis rate
	// IdleAfter is how long the scene must stay quiet before only key
	// frames are decoded (0: always decode every unit).
	IdleAfter time.Duration
	// Reverify is how often, while idle and unchanged, a key frame still
	// goes through the detector (default 10 s): people who keep a window
	// staffed are confirmed, not assumed.
	Reverify time.Duration
	// MaxReplay bounds the units buffered while idle (default 12 s): a
	// camera whose key frames are further apart is never idle.
	MaxReplay time.Duration
	// AnalyseTime observes each frame's analysis in seconds (optional).
	AnalyseTime interface{ Observe(float64) }
}

// Pipeline is a camera's live analysis from access units to events:
// decoding what analysis needs (see gate) and analysing at its rate.
// Push and SetDecoder are called from one goroutine, Stats from any.
type Pipeline struct {
	o        PipelineOptions
	onFrame  func(evs []events.Event, frame gocv.Mat, wall time.Time)
	dec      FrameDecoder
	gate     *gate
	probe    *changeProbe
	mat      gocv.Mat
	thin     *Thinner
	verified float64 // stream time of the last detection while idle
	seq      int

	mu    sync.Mutex
	stats PipelineStats
}

// PipelineStats are a Pipeline's totals.
type PipelineStats struct {
	Units, Decoded, Analysed, DecodeErrors, ProcessErrors uint64
	Idle                                                  bool
	Wakes                                                 uint64 // idle → active
}

// Add sums two pipelines' totals; Idle is o's, the later one's.
func (s PipelineStats) Add(o PipelineStats) PipelineStats {
	return PipelineStats{
		Units: s.Units + o.Units, Decoded: s.Decoded + o.Decoded, Analysed: s.Analysed + o.Analysed,
		DecodeErrors: s.DecodeErrors + o.DecodeErrors, ProcessErrors: s.ProcessErrors + o.ProcessErrors,
		Idle: o.Idle, Wakes: s.Wakes + o.Wakes,
	}
}

// NewPipeline returns a pipeline; it needs a decoder (SetDecoder) before
// the first Push.
func NewPipeline(o PipelineOptions) *Pipeline {
	if o.Reverify <= 0 {
		o.Reverify = 10 * time.Second
	}
	if o.MaxReplay <= 0 {
		o.MaxReplay = 12 * time.Second
	}
	return &Pipeline{
		o: o, gate: newGate(o.IdleAfter, o.MaxReplay), probe: newChangeProbe(),
		mat: gocv.NewMat(), thin: NewThinner(o.FPS),
	}
}

// SetOnFrame sets what gets each analysed frame's events and picture, and
// the time its unit was received; call it before the first Push.
func (p *Pipeline) SetOnFrame(f func(evs []events.Event, frame gocv.Mat, wall time.Time)) {
	p.onFrame = f
}

// SetDecoder starts a new stream (first, or after a reconnect).
func (p *Pipeline) SetDecoder(d FrameDecoder) {
	p.dec = d
	p.gate.reset()
	p.thin.Reset()
	p.setIdle(false)
}

// Push takes the stream's next unit and analyses what it completes. It
// returns analysis errors (the stream goes on); decode errors are counted,
// the decoder resumes at the next key frame.
func (p *Pipeline) Push(u Unit) error {
	p.seq++
	u.index = p.seq
	p.count(func(s *PipelineStats) { s.Units++ })
	var errs []error
	queue := p.gate.push(&u)
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		got, err := p.dec.Decode(s.u.NALUs)
		if err != nil {
			p.count(func(s *PipelineStats) { s.DecodeErrors++ })
			continue
		}
		if !got {
			continue
		}
		p.count(func(s *PipelineStats) { s.Decoded++ })
		switch s.do {
		case analyseAtRate:
			if !p.thin.Due(s.u.T) {
				continue
			}
			if err := p.picture(); err != nil {
				continue
			}
			errs = append(errs, p.process(s.u))
			p.gate.analysed(s.u.T, p.o.Analyzer.Quiet())
		case anchor:
			if err := p.picture(); err != nil {
				continue
			}
			errs = append(errs, p.process(s.u))
			p.probe.reset(p.mat, p.o.Analyzer.StillBoxes())
			p.verified = s.u.T
			p.thin.Took(s.u.T)
		case probe:
			if err := p.picture(); err != nil {
				continue
			}
			if p.probe.changed(p.mat) {
				p.count(func(s *PipelineStats) { s.Wakes++ })
				queue = append(p.gate.wake(s.u), queue...)
				continue
			}
			p.gate.unchanged(s.u)
			if s.u.T-p.verified >= p.o.Reverify.Seconds()-1e-9 {
				errs = append(errs, p.process(s.u))
				p.probe.reset(p.mat, p.o.Analyzer.StillBoxes())
				p.verified = s.u.T
			} else {
				p.advance(s.u)
			}
			p.thin.Took(s.u.T)
		}
	}
	p.setIdle(p.gate.idle)
	return errors.Join(errs...)
}

func (p *Pipeline) picture() error {
	if err := p.dec.Picture(&p.mat); err != nil {
		p.count(func(s *PipelineStats) { s.DecodeErrors++ })
		return err
	}
	return nil
}

func (p *Pipeline) process(u *Unit) error {
	began := time.Now()
	evs, err := p.o.Analyzer.Process(p.mat, u.index, u.T, u.Wall)
	if p.o.AnalyseTime != nil {
		p.o.AnalyseTime.Observe(time.Since(began).Seconds())
	}
	if err != nil {
		p.count(func(s *PipelineStats) { s.ProcessErrors++ })
		return err
	}
	p.count(func(s *PipelineStats) { s.Analysed++ })
	if p.onFrame != nil {
		p.onFrame(evs, p.mat, u.Wall)
	}
	return nil
}

func (p *Pipeline) advance(u *Unit) {
	evs := p.o.Analyzer.Advance(u.index, u.T, u.Wall)
	if p.onFrame != nil {
		p.onFrame(evs, p.mat, u.Wall)
	}
}

func (p *Pipeline) setIdle(idle bool) { p.count(func(s *PipelineStats) { s.Idle = idle }) }

func (p *Pipeline) count(f func(*PipelineStats)) {
	p.mu.Lock()
	f(&p.stats)
	p.mu.Unlock()
}

// Stats returns the totals so far.
func (p *Pipeline) Stats() PipelineStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Frame is the last decoded picture (for SetOffline's snapshot).
func (p *Pipeline) Frame() gocv.Mat { return p.mat }

// Close frees the picture; the analyzer and decoder are the caller's.
func (p *Pipeline) Close() error {
	p.mat.Close()
	return p.probe.Close()
}
