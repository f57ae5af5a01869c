package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/config"
)

// transcodeViewers is the audience of the transcode's second step: the
// transcode runs once per camera, however many watch it.
const transcodeViewers = 10

// transcodeCost measures what an H.265 camera (the replay camera "hevc",
// the reference profile in H.265) costs: relayed to a browser that decodes
// H.265, and transcoded to H.264 for browsers that do not (once, however
// many watch), against the camera unwatched.
func (b *bench) transcodeCost(ctx context.Context, cams *cameraSet) ([]row, error) {
	const sc = "H.265 camera"
	dir, err := b.tempDir("transcode")
	if err != nil {
		return nil, err
	}
	cfg, err := newConfig(dir)
	if err != nil {
		return nil, err
	}
	cfg.Districts = []config.District{{ID: "bench", Name: "bench", Centers: []config.Center{{ID: "hevc", Name: "hevc",
		Cameras: []config.Camera{{ID: "hevc", Name: "H.265", URL: cams.cam.URL("hevc"), Transport: "tcp"}}}}}}
	b.logf("%s: starting %s", sc, b.binary)
	ch, err := startChild(ctx, b.binary, dir, cfg)
	if err != nil {
		return nil, err
	}
	defer ch.Stop()
	if err := sleep(ctx, b.warmup); err != nil {
		return nil, err
	}
	b.logf("%s: 0 viewers, %v window", sc, b.window)
	base, err := ch.measure(ctx, b.window)
	if err != nil {
		return nil, err
	}
	rows := []row{{scenario: sc, measure: "0 viewers (baseline)", value: fmt.Sprintf("%.4f cores", base.cores), verdict: info,
		note: fmt.Sprintf("%dx%d %d fps, %d kbit/s H.265 (libx265); %s", b.profile.Width, b.profile.Height, b.profile.FPS, b.profile.BitrateKbps, base.note())}}

	var viewers []*viewer
	prev := base.cores
	defer func() {
		for _, v := range viewers {
			ch.closeViewer(v)
		}
	}()
	step := func(what string, codecs []string, add int) error {
		var first time.Duration
		for range add {
			v, err := ch.connectViewer(ctx, "hevc", codecs...)
			if err != nil {
				return err
			}
			viewers = append(viewers, v)
			if err := waitFirstKey(ctx, []*viewer{v}, 30*time.Second); err != nil {
				return err
			}
			if first == 0 {
				first = v.client.FirstKeyFrame().Sub(v.posted)
			}
		}
		if err := sleep(ctx, b.warmup); err != nil {
			return err
		}
		b.logf("%s: %s, %v window", sc, what, b.window)
		units0 := make([]int, len(viewers))
		for i, v := range viewers {
			units0[i] = v.unitCount()
		}
		u, err := ch.measure(ctx, b.window)
		if err != nil {
			return err
		}
		slowest := -1.0
		for i, v := range viewers {
			fps := float64(v.unitCount()-units0[i]) / b.window.Seconds()
			if slowest < 0 || fps < slowest {
				slowest = fps
			}
		}
		rows = append(rows, row{scenario: sc, measure: what, value: fmt.Sprintf("+%.3f cores", u.cores-prev), verdict: info,
			note: fmt.Sprintf("%.3f cores over the baseline in all; the slowest viewer got %.1f frames/s of %d; first frame %s after the WHEP POST; RSS %s; %s",
				u.cores-base.cores, slowest, b.profile.FPS, ms(first), mib(u.peak), u.note())})
		prev = u.cores
		return nil
	}
	if err := step("1 viewer decoding H.265: relayed as is", []string{webrtc.MimeTypeH265, webrtc.MimeTypeH264}, 1); err != nil {
		return rows, err
	}
	if err := step("+1 viewer without H.265: transcode to H.264", []string{webrtc.MimeTypeH264}, 1); err != nil {
		return rows, err
	}
	err = step(fmt.Sprintf("+%d more without H.265: the same transcode", transcodeViewers-1), []string{webrtc.MimeTypeH264}, transcodeViewers-1)
	return rows, err
}
