package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/internal/browser"
)

// Recording targets (from the issue).
const (
	recordCameras       = 8 // measured together, reported per camera
	targetRecordCores   = 0.003
	targetRecordRSS     = 8 << 20
	targetBytesError    = 0.02
	targetPlaybackStart = 500 * time.Millisecond
	targetSeek          = 500 * time.Millisecond
	playbackTries       = 8
)

// runRecord measures what recording costs: the same cameras through one
// hallwatch without recording and one with it (cores, RSS), whether the
// files hold exactly the video received, and how fast headless Chromium
// starts playing and seeks in the recording.
func (b *bench) runRecord(ctx context.Context) ([]row, error) {
	const sc = "record"
	b.logf("record: encoding %d cameras' loops", recordCameras)
	var specs []demo.CameraSpec
	var ids []string
	p := b.profile
	p.Loop = b.relayOnlyLoop
	for i := range recordCameras {
		id := fmt.Sprintf("rec%d", i+1)
		specs = append(specs, spec(id, p, busyScene(int64(200+i))))
		ids = append(ids, id)
	}
	cams, err := startCameras(specs)
	if err != nil {
		return nil, err
	}
	defer cams.Close()

	base, _, err := b.recordPhase(ctx, cams, ids, false)
	if err != nil {
		return nil, err
	}
	used, res, err := b.recordPhase(ctx, cams, ids, true)
	if err != nil {
		return nil, err
	}
	perCore := (used.cores - base.cores) / recordCameras
	perRSS := (used.peak - base.peak) / recordCameras
	ratio := float64(res.written) / float64(res.received)
	rows := []row{
		{scenario: sc, measure: "cores per recorded camera", value: fmt.Sprintf("%+.4f", perCore), target: fmt.Sprintf("< %g", targetRecordCores),
			verdict: check(perCore < targetRecordCores),
			note:    fmt.Sprintf("%d cameras at %d kbit/s: %.4f cores recording vs %.4f not; %s", recordCameras, b.profile.BitrateKbps, used.cores, base.cores, used.note())},
		{scenario: sc, measure: "RSS per recorded camera", value: fmt.Sprintf("%+.1f MiB", float64(perRSS)/(1<<20)), target: "< " + mib(targetRecordRSS),
			verdict: check(perRSS < targetRecordRSS), note: fmt.Sprintf("peak %s recording vs %s not", mib(used.peak), mib(base.peak))},
		{scenario: sc, measure: "written / received video bytes", value: fmt.Sprintf("%.4f", ratio), target: fmt.Sprintf("1 ± %g%%", targetBytesError*100),
			verdict: check(ratio > 1-targetBytesError && ratio < 1+targetBytesError),
			note:    fmt.Sprintf("%d bytes received, %d in %d segment files (MP4 boxes included); graceful stop flushed the last GOP", res.received, res.written, res.files)},
	}
	return append(rows, res.playback...), nil
}

// recordResult is what the recording phase found besides its usage.
type recordResult struct {
	received, written int64
	files             int
	playback          []row
}

// recordPhase runs hallwatch on the cameras, recording or not, and measures
// it; the recording phase also measures playback in Chromium and, after
// a graceful stop, compares the files with the video received.
func (b *bench) recordPhase(ctx context.Context, cams *cameraSet, ids []string, recording bool) (usage, recordResult, error) {
	var res recordResult
	name := "record-off"
	if recording {
		name = "record-on"
	}
	dir, err := b.tempDir(name)
	if err != nil {
		return usage{}, res, err
	}
	cfg, err := newConfig(dir)
	if err != nil {
		return usage{}, res, err
	}
	cfg.Record.Enabled = recording
	cfg.Record.Path = filepath.Join(dir, "recordings")
	var cameras []config.Camera
	for _, id := range ids {
		cameras = append(cameras, config.Camera{ID: id, Name: id, URL: cams.cam.URL(id), Transport: "tcp"})
	}
	cfg.Districts = []config.District{{ID: "bench", Name: "bench", Centers: []config.Center{{ID: "rec", Name: "rec", Cameras: cameras}}}}
	b.logf("record: %d cameras, recording %v", len(ids), recording)
	ch, err := startChild(ctx, b.binary, dir, cfg)
	if err != nil {
		return usage{}, res, err
	}
	defer ch.Stop()
	if err := sleep(ctx, b.warmup); err != nil {
		return usage{}, res, err
	}
	u, err := ch.measure(ctx, b.window)
	if err != nil || !recording {
		return u, res, err
	}
	res.playback = b.measurePlayback(ctx, ch, ids[0])
	if res.received, err = ch.receivedBytes(ctx); err != nil {
		return u, res, err
	}
	ch.Stop() // SIGTERM: the recorders write what they hold
	res.written, res.files, err = mp4Bytes(cfg.Record.Path)
	return u, res, err
}

// receivedBytes is the video hallwatch received from all cameras.
func (c *child) receivedBytes(ctx context.Context) (int64, error) {
	st, err := c.cameraStates(ctx)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, s := range st {
		n += s.ReceivedBytes
	}
	return n, nil
}

// mp4Bytes sums the recording files under dir.
func mp4Bytes(dir string) (int64, int, error) {
	var n int64
	files := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if !fi.IsDir() && strings.HasSuffix(p, ".mp4") && !strings.Contains(p, string(filepath.Separator)+"clips"+string(filepath.Separator)) {
			n += fi.Size()
			files++
		}
		return nil
	})
	return n, files, err
}

// measurePlayback opens the playback page in headless Chromium and times,
// from the page's request to the first picture on screen: playback
// started at random moments of the recording, and seeks within it.
func (b *bench) measurePlayback(ctx context.Context, ch *child, camera string) []row {
	const sc = "playback"
	fail := func(err error) []row {
		return []row{{scenario: sc, measure: "headless Chromium", value: "-", verdict: missed, note: err.Error()}}
	}
	if _, err := os.Stat(browser.Path); err != nil {
		return []row{{scenario: sc, measure: "headless Chromium", value: "-", verdict: skipped, note: browser.Path + " not installed"}}
	}
	profileDir, err := b.tempDir("chromium")
	if err != nil {
		return fail(err)
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, browser.Options(profileDir)...)
	defer cancelAlloc()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	bctx, cancelT := context.WithTimeout(bctx, 3*time.Minute)
	defer cancelT()
	login := fmt.Sprintf(`fetch("/api/login", {method: "POST", headers: {"Content-Type": "application/json"},
		body: JSON.stringify({username: "bench", password: %q})}).then((r) => r.status)`, ch.password)
	if err := chromedp.Do(bctx, chromedp.Navigate(ch.base+"/healthz")); err != nil {
		return fail(err)
	}
	if code, err := chromedp.Run(bctx, chromedp.Evaluate[int](login, chromedp.EvalAwaitPromise)); err != nil || code != 200 {
		return fail(fmt.Errorf("login: %d, %v", code, err))
	}
	// What is recorded: from a few seconds after the start to a few
	// seconds before now, so every moment is inside a written fragment.
	first := time.Now().Add(-b.window - b.warmup + 4*time.Second)
	last := time.Now().Add(-6 * time.Second)
	if !last.After(first) {
		return fail(fmt.Errorf("recording too short to play (window + warm-up %v)", b.window+b.warmup))
	}
	// Starts in the first half, seeks in the second: inside the video the
	// start loaded.
	mid := first.Add(last.Sub(first) / 2)
	pick := func(from, to time.Time) time.Time { return from.Add(time.Duration(rand.Int64N(int64(to.Sub(from))))) }
	var starts, seeks []time.Duration
	for range playbackTries {
		at := pick(first, mid)
		if err := chromedp.Do(bctx, chromedp.Navigate(ch.base+"/playback.html?camera="+camera+"&t="+url.QueryEscape(at.UTC().Format(time.RFC3339Nano)))); err != nil {
			return fail(err)
		}
		d, err := pictureShown(bctx, false)
		if err != nil {
			return fail(fmt.Errorf("start at %v: %w", at.Format(time.TimeOnly), err))
		}
		starts = append(starts, d)
		// A seek inside the loaded video.
		to := pick(mid, last)
		if _, err := chromedp.Run(bctx, chromedp.Evaluate[bool](fmt.Sprintf(`(playAt(%d), true)`, to.UnixMilli()))); err != nil {
			return fail(err)
		}
		d, err = pictureShown(bctx, true)
		if err != nil {
			return fail(fmt.Errorf("seek to %v: %w", to.Format(time.TimeOnly), err))
		}
		seeks = append(seeks, d)
	}
	note := fmt.Sprintf("%d random moments of %s's recording: /api/…/playback, MP4 header and first range, decode, first picture (requestVideoFrameCallback)", playbackTries, camera)
	return []row{
		{scenario: sc, measure: "start: click → first picture (p50 / p90)", value: ms(percentile(starts, 50)) + " / " + ms(percentile(starts, 90)),
			target: "< " + ms(targetPlaybackStart), verdict: check(percentile(starts, 90) < targetPlaybackStart), note: note},
		{scenario: sc, measure: "seek → picture (p50 / p90)", value: ms(percentile(seeks, 50)) + " / " + ms(percentile(seeks, 90)),
			target: "< " + ms(targetSeek), verdict: check(percentile(seeks, 90) < targetSeek), note: "inside the loaded 30-minute window: one range request"},
	}
}

// pictureShown waits for the playback page's timing of its last playAt.
func pictureShown(ctx context.Context, seek bool) (time.Duration, error) {
	cond := `window.hwPlayback && window.hwPlayback.timing.shown ? window.hwPlayback.timing.shown - window.hwPlayback.timing.asked : -1`
	if seek {
		cond = `window.hwPlayback.timing.seek && ` + cond
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[float64]("("+cond+") || -1"))
		if err != nil {
			return 0, err
		}
		if v > 0 {
			return time.Duration(v * float64(time.Millisecond)), nil
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return 0, err
		}
	}
	return 0, fmt.Errorf("no picture within 20 s")
}
