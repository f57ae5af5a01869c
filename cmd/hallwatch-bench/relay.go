package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
)

// Relay targets (from the issue).
const (
	targetCoresPerViewer = 0.0045
	// targetVsMediaMTX: hallwatch's cores per viewer at most half of
	// MediaMTX's, measured in the same run on the same camera.
	targetVsMediaMTX = 0.5
	targetFirstKey   = 500 * time.Millisecond
	targetLatencyP99 = 5 * time.Millisecond
	latencyViewers   = 50
)

// runRelay measures the relay on one camera with the reference stream:
// first key frame with a long GOP (replayed GOP vs. waiting for the next
// IDR), cost per viewer at each count against the 0-viewer baseline, every
// viewer receiving every frame, and the added latency at 50 viewers; the
// same for MediaMTX (--mediamtx) and another hallwatch build (--compare)
// on the same cameras; and what an H.265 camera costs when browsers need
// it transcoded.
func (b *bench) runRelay(ctx context.Context) ([]row, error) {
	long := b.profile
	long.GOP = b.longGOP
	long.Loop = 3 * b.longGOP
	hevc := b.profile
	hevc.Loop = 2 * b.profile.GOP
	b.logf("relay: encoding the cameras' loops")
	hevcSpec := spec("hevc", hevc, busyScene(3))
	hevcSpec.Codec = "H265"
	cams, err := startCameras([]demo.CameraSpec{
		spec("relay", b.profile, busyScene(1)),
		spec("longgop", long, busyScene(2)),
		hevcSpec,
	})
	if err != nil {
		return nil, err
	}
	defer cams.Close()
	taps := map[string]*tap{}
	for _, id := range []string{"relay", "longgop"} {
		t, err := startTap(cams.cam.URL(id))
		if err != nil {
			return nil, err
		}
		defer t.Close()
		taps[id] = t
	}
	// A step that fails (a viewer that never starts on a starved machine)
	// ends its server's steps, not the others': the baseline and the
	// transcode are still measured, and the failures reported at the end.
	var failures []error
	keep := func(err error) bool {
		if err != nil {
			failures = append(failures, err)
		}
		return ctx.Err() == nil
	}
	rows, res, err := b.relayWith(ctx, b.hallwatchRelay(b.binary, cams), "relay", taps)
	if !keep(err) {
		return rows, errors.Join(failures...)
	}
	more, err := b.mediamtxBaseline(ctx, cams, taps, res)
	rows = append(rows, more...)
	if !keep(err) {
		return rows, errors.Join(failures...)
	}
	more, err = b.transcodeCost(ctx, cams)
	rows = append(rows, more...)
	if !keep(err) || b.compare == "" {
		return rows, errors.Join(failures...)
	}
	// The same cameras through another build, for a before/after ratio.
	more, old, err := b.relayWith(ctx, b.hallwatchRelay(b.compare, cams), "relay [--compare]", taps)
	rows = append(rows, more...)
	keep(err)
	return append(rows, ratioRows("relay: this / --compare", res, old, "")...), errors.Join(failures...)
}

// hallwatchRelay starts a hallwatch binary relaying the relay cameras.
func (b *bench) hallwatchRelay(binary string, cams *cameraSet) func(ctx context.Context, dir string) (*child, error) {
	return func(ctx context.Context, dir string) (*child, error) {
		cfg, err := newConfig(dir)
		if err != nil {
			return nil, err
		}
		cfg.Districts = []config.District{{ID: "bench", Name: "bench", Centers: []config.Center{{ID: "relay", Name: "relay",
			Cameras: []config.Camera{
				{ID: "relay", Name: "relay", URL: cams.cam.URL("relay"), Transport: "tcp"},
				{ID: "longgop", Name: "long GOP", URL: cams.cam.URL("longgop"), Transport: "tcp"},
			}}}}}
		b.logf("starting %s", binary)
		return startChild(ctx, binary, dir, cfg)
	}
}

// mediamtxBaseline measures MediaMTX (--mediamtx) relaying the same
// camera to the same viewers, and compares.
func (b *bench) mediamtxBaseline(ctx context.Context, cams *cameraSet, taps map[string]*tap, res relayResult) ([]row, error) {
	const sc = "relay: hallwatch / MediaMTX"
	if b.mediamtx == "" {
		return []row{{scenario: sc, measure: "cores per viewer", value: "-", verdict: skipped,
			note: "no MediaMTX: make mediamtx builds bin/mediamtx, or pass --mediamtx (README, Measuring what it costs)"}}, nil
	}
	startMTX := func(ctx context.Context, dir string) (*child, error) {
		b.logf("starting %s", b.mediamtx)
		return startMediaMTX(ctx, b.mediamtx, dir, map[string]string{"relay": cams.cam.URL("relay")})
	}
	rows, mtx, err := b.relayWith(ctx, startMTX, "relay [MediaMTX]", taps)
	return append(rows, ratioRows(sc, res, mtx, "MediaMTX")...), err
}

// ratioRows compare two relay runs; with a baseline name, cores per viewer
// have targetVsMediaMTX as target where the audience is large enough for
// the figure to mean something.
func ratioRows(sc string, this, other relayResult, baseline string) []row {
	var rows []row
	for _, n := range slices.Sorted(maps.Keys(this.perViewer)) {
		if _, ok := other.perViewer[n]; !ok {
			continue // a step of the other run failed
		}
		r := this.perViewer[n] / other.perViewer[n]
		rw := row{scenario: sc, measure: fmt.Sprintf("%d viewers: cores per viewer", n), value: fmt.Sprintf("×%.2f", r), verdict: info,
			note: fmt.Sprintf("%.5f vs %.5f cores per viewer; other processes %.2f vs %.2f cores meanwhile", this.perViewer[n], other.perViewer[n], this.others[n], other.others[n])}
		if baseline != "" && n >= 10 {
			rw.target, rw.verdict = fmt.Sprintf("≤ ×%.2f", targetVsMediaMTX), check(other.perViewer[n] > 0 && r <= targetVsMediaMTX)
		}
		rows = append(rows, rw)
	}
	return append(rows, row{scenario: sc, measure: fmt.Sprintf("%d viewers: latency p50 / p99", latencyViewers),
		value: fmt.Sprintf("×%.2f / ×%.2f", ratio(this.p50, other.p50), ratio(this.p99, other.p99)), verdict: info,
		note: fmt.Sprintf("%s / %s vs %s / %s", ms(this.p50), ms(this.p99), ms(other.p50), ms(other.p99))})
}

// relayResult is what the comparisons need of a relay run.
type relayResult struct {
	perViewer map[int]float64
	others    map[int]float64 // other processes' cores during each window
	p50, p99  time.Duration
}

// relayWith runs the relay measurements against one server.
func (b *bench) relayWith(ctx context.Context, startServer func(context.Context, string) (*child, error), sc string, taps map[string]*tap) ([]row, relayResult, error) {
	res := relayResult{perViewer: map[int]float64{}, others: map[int]float64{}}
	dir, err := b.tempDir(strings.NewReplacer(" ", "", "[", "", "]", "", "-", "").Replace(sc))
	if err != nil {
		return nil, res, err
	}
	ch, err := startServer(ctx, dir)
	if err != nil {
		return nil, res, err
	}
	defer ch.Stop()
	if err := sleep(ctx, b.warmup); err != nil {
		return nil, res, err
	}

	var rows []row
	if ch.name == "hallwatch" { // MediaMTX waits for the next IDR by design
		fk, err := b.firstKeyFrames(ctx, ch, sc, taps["longgop"])
		if err != nil {
			return nil, res, err
		}
		rows = append(rows, fk...)
	}

	b.logf("%s: 0 viewers, %v window", sc, b.window)
	t0 := time.Now()
	baseUse, err := ch.measure(ctx, b.window)
	if err != nil {
		return nil, res, err
	}
	base := baseUse.cores
	stream := describeStream(taps["relay"].between(t0, t0.Add(b.window)), b.window)
	rows = append(rows, row{scenario: sc, measure: "camera stream", value: stream, verdict: info,
		note: fmt.Sprintf("%dx%d, GOP %v; seen by the bench's RTSP tap", b.profile.Width, b.profile.Height, b.profile.GOP)})
	rows = append(rows, row{scenario: sc, measure: "0 viewers (baseline)", value: fmt.Sprintf("%.4f cores", base), verdict: info,
		note: "ingest + packetizing of the cameras; " + baseUse.note()})

	var viewers []*viewer
	defer func() {
		for _, v := range viewers {
			ch.closeViewer(v)
		}
	}()
	for _, n := range b.relayViewers {
		if n > len(viewers) {
			b.logf("%s: connecting viewers %d..%d", sc, len(viewers)+1, n)
			more, err := ch.connectViewers(ctx, "relay", n-len(viewers))
			if err != nil {
				return rows, res, err
			}
			viewers = append(viewers, more...)
			if err := waitFirstKey(ctx, viewers, 30*time.Second); err != nil {
				return rows, res, err
			}
		}
		if err := sleep(ctx, b.warmup); err != nil {
			return rows, res, err
		}
		b.logf("%s: %d viewers, %v window", sc, n, b.window)
		lost0 := make([]int, len(viewers))
		for i, v := range viewers {
			v.record(true)
			lost0[i] = v.lostPackets()
		}
		socks0 := ch.relayCounters(ctx)
		lat0, latErr := ch.histogram(ctx, "hallwatch_relay_latency_seconds")
		profiled := b.cpuProfile(ctx, ch, fmt.Sprintf("relay-%d.pprof", n))
		t0 := time.Now()
		u, err := ch.measure(ctx, b.window)
		if err != nil {
			return rows, res, err
		}
		used := u.cores
		profiled()
		time.Sleep(200 * time.Millisecond) // let the last frames of the window arrive
		t1 := t0.Add(b.window)
		got := make([][]received, len(viewers))
		lost := 0
		for i, v := range viewers {
			got[i] = v.record(false)
			lost += v.lostPackets() - lost0[i]
		}
		frames := taps["relay"].between(t0.Add(500*time.Millisecond), t1.Add(-500*time.Millisecond))
		missing, short := missingFrames(frames, got)
		per := (used - base) / float64(n)
		res.perViewer[n], res.others[n] = per, u.others
		// CPU time is counted in 10 ms ticks and the machine is shared: the
		// per-viewer figure of a small audience is mostly noise.
		resolution := 2 * float64(time.Second/clockTicks) / float64(b.window) / float64(n)
		verdict, target := check(per < targetCoresPerViewer), fmt.Sprintf("< %.4f", targetCoresPerViewer)
		if resolution > targetCoresPerViewer/10 {
			verdict, target = info, ""
		}
		rows = append(rows, row{scenario: sc, measure: fmt.Sprintf("%d viewers: cores per viewer", n),
			value: fmt.Sprintf("%.5f", per), target: target, verdict: verdict,
			note: joinNotes(fmt.Sprintf("%.3f cores total, %.3f over baseline (tick resolution ±%.4f per viewer); RSS %s",
				used, used-base, resolution, mib(u.peak)), ch.relayCounters(ctx).since(socks0), u.note())})
		rows = append(rows, row{scenario: sc, measure: fmt.Sprintf("%d viewers: every frame to every viewer", n),
			value:  fmt.Sprintf("%d of %d frame deliveries missing", missing, len(frames)*n),
			target: "0 missing", verdict: check(missing == 0),
			note: fmt.Sprintf("%d viewers short, %d RTP packets lost; frames matched by content to the camera's; %s",
				short, lost, u.note())})
		if n == latencyViewers {
			lat, keyLat, deltaLat := latencies(frames, got)
			p50, p99 := percentile(lat, 50), percentile(lat, 99)
			res.p50, res.p99 = p50, p99
			early := 0
			for _, d := range lat {
				if d < 0 {
					early++
				}
			}
			if lat1, err := ch.histogram(ctx, "hallwatch_relay_latency_seconds"); latErr == nil && err == nil {
				p99, units := quantile(lat0, lat1, 0.99)
				value := "≤ " + ms(time.Duration(p99*float64(time.Second)))
				if math.IsInf(p99, 1) {
					value = "> the largest bucket"
				}
				rows = append(rows, row{scenario: sc, measure: fmt.Sprintf("%d viewers: relay's own latency p99", n),
					value: value, verdict: info,
					note: fmt.Sprintf("%.0f access units; hallwatch_relay_latency_seconds: camera packet in → last viewer's packet written (the bucket p99 falls in); without the bench's viewers and tap; %s", units, u.note())})
			}
			rows = append(rows, row{scenario: sc, measure: fmt.Sprintf("%d viewers: added latency p50 / p99", n),
				value: ms(p50) + " / " + ms(p99), target: "p99 < " + ms(targetLatencyP99), verdict: check(len(lat) > 0 && p99 < targetLatencyP99),
				note: fmt.Sprintf("%d frames; camera RTP in (bench tap) → viewer frame complete; delta frames p99 %s, key frames p50 %s p99 %s, max %s; %d before the tap (scheduling); %s",
					len(lat), ms(percentile(deltaLat, 99)), ms(percentile(keyLat, 50)), ms(percentile(keyLat, 99)), ms(percentile(lat, 100)), early, u.note())})
		}
	}
	return rows, res, nil
}

// relayCounters are hallwatch's relay totals from /metrics (zero when the
// server has none: MediaMTX, or an older hallwatch).
type relayCounters struct {
	ok                                    bool
	datagrams, messages, syscalls, resent float64
}

func (c *child) relayCounters(ctx context.Context) relayCounters {
	var rc relayCounters
	var err1, err2, err3, err4 error
	rc.datagrams, err1 = c.metric(ctx, "hallwatch_webrtc_udp_datagrams_total")
	rc.messages, err2 = c.metric(ctx, "hallwatch_webrtc_udp_messages_total")
	rc.syscalls, err3 = c.metric(ctx, "hallwatch_webrtc_udp_syscalls_total")
	rc.resent, err4 = c.metric(ctx, "hallwatch_relay_resent_total")
	rc.ok = c.name == "hallwatch" && err1 == nil && err2 == nil && err3 == nil && err4 == nil
	return rc
}

// since describes the socket work between two readings.
func (rc relayCounters) since(before relayCounters) string {
	if !rc.ok || !before.ok || rc.datagrams <= before.datagrams {
		return ""
	}
	d := rc.datagrams - before.datagrams
	return fmt.Sprintf("%.0f datagrams in %.0f messages (GSO) in %.0f system calls (%.1f datagrams per call), %.0f resent on NACKs",
		d, rc.messages-before.messages, rc.syscalls-before.syscalls, d/max(1, rc.syscalls-before.syscalls), rc.resent-before.resent)
}

// firstKeyFrames joins the long-GOP camera b.joins times, one viewer at a
// time, and compares WHEP POST → first key frame with what a relay that
// waits for the camera's next IDR would give: the first IDR the camera
// sent after the viewer's connection was up.
func (b *bench) firstKeyFrames(ctx context.Context, ch *child, sc string, t *tap) ([]row, error) {
	b.logf("%s: %d joins of the %v-GOP camera", sc, b.joins, b.longGOP)
	var withCache, nextIDR []time.Duration
	var posted, connected []time.Time
	for range b.joins {
		v, err := ch.connectViewer(ctx, "longgop")
		if err != nil {
			return nil, err
		}
		err = waitFirstKey(ctx, []*viewer{v}, 3*b.longGOP)
		if err == nil {
			withCache = append(withCache, v.client.FirstKeyFrame().Sub(v.posted))
			posted, connected = append(posted, v.posted), append(connected, v.client.Connected())
		}
		ch.closeViewer(v)
		if err != nil {
			return nil, err
		}
		// Spread the joins over the GOP's phase.
		if err := sleep(ctx, 200*time.Millisecond+rand.N(b.longGOP/4)); err != nil {
			return nil, err
		}
	}
	if err := sleep(ctx, b.longGOP); err != nil { // the last join's next IDR
		return nil, err
	}
	for i := range posted {
		if idr, ok := t.nextIDR(connected[i]); ok {
			nextIDR = append(nextIDR, idr.Sub(posted[i]))
		}
	}
	p50, p95 := percentile(withCache, 50), percentile(withCache, 95)
	w50, w95 := percentile(nextIDR, 50), percentile(nextIDR, 95)
	return []row{
		{scenario: sc, measure: fmt.Sprintf("first key frame p50 / p95 (GOP %v)", b.longGOP), value: ms(p50) + " / " + ms(p95),
			target: "< " + ms(targetFirstKey), verdict: check(len(withCache) > 0 && p95 < targetFirstKey),
			note: fmt.Sprintf("WHEP POST → first key frame at the viewer, %d joins; cached GOP replayed", len(withCache))},
		{scenario: sc, measure: "  baseline: wait for next IDR, p50 / p95", value: ms(w50) + " / " + ms(w95), verdict: info,
			note: fmt.Sprintf("same joins: camera's next IDR after the viewer connected (MediaMTX/go2rtc behaviour); GOP cache ×%.1f / ×%.1f faster",
				ratio(w50, p50), ratio(w95, p95))},
	}, nil
}

func ratio(a, b time.Duration) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// missingFrames counts (viewer, frame) pairs where the viewer did not get
// the camera's frame within a second, and the viewers missing any.
func missingFrames(frames []sent, got [][]received) (missing, short int) {
	for _, g := range got {
		idx := index(g)
		m := 0
		for _, f := range frames {
			if _, ok := match(idx, f, time.Second); !ok {
				m++
			}
		}
		missing += m
		if m > 0 {
			short++
		}
	}
	return missing, short
}

// latencies is, per viewer and frame, viewer receive − camera send.
// latencies is, per viewer and frame, viewer receive − camera send; key
// frames' separately too (a key frame is ten times a delta frame's
// packets, each written to every viewer).
func latencies(frames []sent, got [][]received) (all, key, delta []time.Duration) {
	for _, g := range got {
		idx := index(g)
		for _, f := range frames {
			if at, ok := match(idx, f, time.Second); ok {
				all = append(all, at.Sub(f.at))
				if f.key1 {
					key = append(key, at.Sub(f.at))
				} else {
					delta = append(delta, at.Sub(f.at))
				}
			}
		}
	}
	return all, key, delta
}

func index(g []received) map[frameKey][]time.Time {
	idx := map[frameKey][]time.Time{}
	for _, r := range g {
		idx[r.key] = append(idx[r.key], r.at)
	}
	return idx
}

// tapLag bounds how much later than a viewer the bench's own RTSP tap may
// note a frame: both run in this process, and a busy scheduler can run the
// viewer's goroutine first.
const tapLag = 100 * time.Millisecond

// match finds the viewer's receipt of frame f: same content, received
// within limit after the tap saw it (or up to tapLag before).
func match(idx map[frameKey][]time.Time, f sent, limit time.Duration) (time.Time, bool) {
	for _, at := range idx[f.key] {
		if d := at.Sub(f.at); d > -tapLag && d < limit {
			return at, true
		}
	}
	return time.Time{}, false
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
