// Package transcode makes an H.264 stream of a camera for the browsers
// that cannot decode what it sends (H.265 in most of them). It reads the
// camera's hub, decodes and re-encodes with FFmpeg (avcodec.Transcoder:
// once per camera, however many such viewers) and publishes H.264 into a
// hub of its own, which the relay's fallback serves. The relay runs it
// only while someone watches (relay.Fallback).
package transcode

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"

	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/ingest"
)

// Source is the camera stream to transcode.
type Source interface {
	Subscribe(name string, opts ingest.SubscribeOptions) *ingest.Subscription
	Stream() ingest.StreamInfo
}

// Options tune a Transcoder.
type Options struct {
	MaxWidth int          // scale wider pictures down to this width; 0 keeps the size
	Log      *slog.Logger // default slog.Default()
}

// Transcoder turns one camera's stream into H.264.
type Transcoder struct {
	camera string
	in     Source
	out    *ingest.Hub
	opts   Options

	units, failed atomic.Uint64
}

// New makes the transcoder of camera from in into out.
func New(camera string, in Source, out *ingest.Hub, opts Options) *Transcoder {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	return &Transcoder{camera: camera, in: in, out: out, opts: opts}
}

// maxFailures in a row end Run with an error (the relay runs it again).
const maxFailures = 50

// Run transcodes until ctx ends. It starts from the camera's cached GOP,
// so the first viewer sees a picture as soon as its key frame is
// transcoded; a new camera stream (reconnect) restarts the codec. When it
// returns, the output stream ends, so that no later viewer is shown its
// last, stale pictures.
func (t *Transcoder) Run(ctx context.Context) error {
	sub := t.in.Subscribe("transcode", ingest.SubscribeOptions{StartWithGOP: true})
	defer sub.Close()
	defer t.out.SetStream(ingest.StreamInfo{})
	t.opts.Log.Info("transcoding to H.264 for browsers without the camera's codec", "camera", t.camera)
	defer t.opts.Log.Info("transcoding stopped", "camera", t.camera, "units", t.units.Load(), "failed", t.failed.Load())

	var tc *avcodec.Transcoder
	defer func() {
		if tc != nil {
			tc.Close()
		}
	}()
	var generation uint64
	fails := 0
	for {
		var au *ingest.AccessUnit
		select {
		case <-ctx.Done():
			return nil
		case au = <-sub.C():
			if au == nil {
				return nil
			}
		}
		info := t.in.Stream()
		if info.Codec == ingest.CodecH264 {
			continue // browsers get the camera's own stream
		}
		if tc == nil || info.Generation != generation {
			if tc != nil {
				tc.Close()
			}
			var err error
			if tc, err = avcodec.NewTranscoder(avcodec.TranscoderOptions{Codec: string(info.Codec), MaxWidth: t.opts.MaxWidth, FPS: nominalFPS}); err != nil {
				return fmt.Errorf("transcode %s: %w", t.camera, err)
			}
			generation = info.Generation
			t.out.SetStream(ingest.StreamInfo{Codec: ingest.CodecH264})
		}
		nalus, idr, err := tc.Transcode(au.NALUs, au.Key)
		if err != nil {
			t.failed.Add(1)
			if fails++; fails >= maxFailures {
				return fmt.Errorf("transcode %s: %d units in a row failed, the last: %w", t.camera, fails, err)
			}
			continue
		}
		fails = 0
		if len(nalus) == 0 {
			continue
		}
		t.units.Add(1)
		// Received stays the camera's: the relay's latency includes the transcode.
		t.out.Publish(&ingest.AccessUnit{PTS: au.PTS, Received: au.Received, Key: idr, NALUs: nalus})
	}
}

// nominalFPS sizes the encoder's bitrate per frame: streams rarely state
// their rate, and 25 is the usual hall camera setting.
const nominalFPS = 25

// Units is the number of access units transcoded so far.
func (t *Transcoder) Units() uint64 { return t.units.Load() }
