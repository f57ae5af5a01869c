package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"

	"github.com/hallwatch/hallwatch/avcodec"
)

// feed produces one camera's access units: live from the scene, or from a
// pre-encoded loop.
type feed struct {
	spec  CameraSpec
	scene *Scene
	fps   int
	enc   *avcodec.Encoder // live mode only
	first frameAU          // live: frame 1, encoded up front for the SDP
	loop  []frameAU        // replay mode
	desc  *description.Session
	forma format.Format

	stream *gortsplib.ServerStream // set by Camera.startServer under Camera.mu
}

type frameAU struct {
	nalus [][]byte
	truth []TruthEvent
}

func newFeed(spec CameraSpec) (*feed, error) {
	if spec.GOP == 0 {
		spec.GOP = 2 * time.Second
	}
	if spec.BitrateKbps == 0 {
		spec.BitrateKbps = 1500
	}
	if spec.Preset == "" {
		spec.Preset = "ultrafast" // ~60% of veryfast's CPU; the flat scene needs no more
	}
	switch {
	case spec.GOP < 0:
		return nil, fmt.Errorf("GOP %v is negative", spec.GOP)
	case spec.Replay < 0:
		return nil, fmt.Errorf("replay length %v is negative", spec.Replay)
	case spec.Replay > 10*time.Minute:
		return nil, fmt.Errorf("replay length %v exceeds 10m (it is held in memory)", spec.Replay)
	case spec.Replay > 0 && spec.OnTruth != nil:
		return nil, errors.New("ground truth (OnTruth) needs live mode: a replay loop has none")
	}
	scene, err := NewScene(spec.Scene)
	if err != nil {
		return nil, err
	}
	o := scene.Options()
	enc, err := avcodec.NewEncoder(avcodec.EncoderOptions{
		Codec: spec.Codec, Width: o.Width, Height: o.Height, FPS: o.FPS,
		GOP:         max(1, int(math.Round(spec.GOP.Seconds()*float64(o.FPS)))),
		BitrateKbps: spec.BitrateKbps,
		Preset:      spec.Preset,
	})
	if err != nil {
		return nil, err
	}
	f := &feed{spec: spec, scene: scene, fps: o.FPS, enc: enc}
	if f.first, err = f.encodeNext(0); err != nil {
		f.close()
		return nil, err
	}
	if f.desc, f.forma, err = describe(spec.Codec, f.first.nalus); err != nil {
		f.close()
		return nil, err
	}
	if spec.Replay > 0 {
		n := max(1, int(math.Round(spec.Replay.Seconds()*float64(f.fps))))
		f.loop = append(f.loop, frameAU{nalus: f.first.nalus})
		for k := 1; k < n; k++ {
			au, err := f.encodeNext(int64(k))
			if err != nil {
				f.close()
				return nil, err
			}
			f.loop = append(f.loop, frameAU{nalus: au.nalus})
		}
		f.enc.Close() // the loop is all that is sent
		f.enc = nil
	}
	return f, nil
}

// encodeNext renders and encodes the scene's next frame.
func (f *feed) encodeNext(pts int64) (frameAU, error) {
	img, truth := f.scene.Step()
	nalus, _, err := f.enc.Encode(img, pts)
	if err != nil {
		return frameAU{}, err
	}
	if len(nalus) == 0 {
		return frameAU{}, fmt.Errorf("encoder returned no access unit for frame %d", pts+1)
	}
	return frameAU{nalus: nalus, truth: truth}, nil
}

// next returns the access unit for the k-th frame sent (k from 0).
func (f *feed) next(k int64) (frameAU, error) {
	switch {
	case f.loop != nil:
		return f.loop[k%int64(len(f.loop))], nil
	case k == 0:
		return f.first, nil
	}
	return f.encodeNext(k)
}

// run sends frames in real time until ctx ends. RTP timestamps advance by
// exactly one frame per frame; the NTP time of sender reports is the wall
// clock at which the frame was due, which Wall in the truth events repeats.
func (f *feed) run(ctx context.Context, log *slog.Logger) error {
	snd, err := f.newSender()
	if err != nil {
		return err
	}
	period := time.Second / time.Duration(f.fps)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	start := time.Now()
	for k := int64(0); ; k++ {
		due := start.Add(time.Duration(k) * period)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return nil
			case <-timer.C:
			}
		} else if -wait > time.Second {
			log.Warn("demo camera cannot keep up with real time; skipping ahead",
				"camera", f.spec.ID, "late", -wait)
			start = time.Now().Add(-time.Duration(k) * period)
			due = start.Add(time.Duration(k) * period)
		}
		if ctx.Err() != nil {
			return nil
		}
		truth, err := snd.send(k, due)
		if err != nil {
			return err
		}
		if f.spec.OnTruth != nil {
			for _, e := range truth {
				e.Camera, e.Wall = f.spec.ID, due
				f.spec.OnTruth(e)
			}
		}
	}
}

// sender packetizes a feed's access units onto its stream.
type sender struct {
	f   *feed
	rtp interface {
		Encode([][]byte) ([]*rtp.Packet, error)
	}
	tsBase uint32
}

func (f *feed) newSender() (*sender, error) {
	s := &sender{f: f, tsBase: rand.Uint32()}
	var err error
	switch forma := f.forma.(type) {
	case *format.H264:
		s.rtp, err = forma.CreateEncoder()
	case *format.H265:
		s.rtp, err = forma.CreateEncoder()
	default:
		err = fmt.Errorf("no RTP encoder for %T", f.forma)
	}
	return s, err
}

// send writes the k-th frame (k from 0), due at wall time due, and returns
// its ground truth.
func (s *sender) send(k int64, due time.Time) ([]TruthEvent, error) {
	au, err := s.f.next(k)
	if err != nil {
		return nil, err
	}
	pkts, err := s.rtp.Encode(au.nalus)
	if err != nil {
		return nil, err
	}
	ts := s.tsBase + uint32(k*90000/int64(s.f.fps))
	for _, p := range pkts {
		p.Timestamp = ts
		if err := s.f.stream.WritePacketRTPWithNTP(s.f.desc.Medias[0], p, due); err != nil {
			return nil, err
		}
	}
	return au.truth, nil
}

func (f *feed) close() {
	if f.enc != nil {
		f.enc.Close()
		f.enc = nil
	}
}
