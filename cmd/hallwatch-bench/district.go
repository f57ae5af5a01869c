package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/demo"
	"github.com/hallwatch/hallwatch/internal/tcpproxy"
)

// District targets (from the issue).
const (
	districtCameras   = 24
	districtAnalysed  = 8
	districtViewers   = 10
	targetDistCores   = 1.0
	targetDistRSS     = 1 << 30
	targetCameraRSS   = 40 << 20
	targetRecovery    = 15 * time.Second
	targetSpread      = 500 * time.Millisecond
	stormSettle       = 10 * time.Second
	goroutineSlack    = 10
	rssGrowthFraction = 0.10
)

// districtCams are the district's cameras, served in two halves (encoded
// in parallel), each camera behind its own proxy so the bench can cut it.
type districtCams struct {
	sets    []*cameraSet
	proxies map[string]*tcpproxy.Proxy
	order   []string
	anal    map[string]*config.Analytics
}

func (d *districtCams) Close() {
	for _, s := range d.sets {
		s.Close() // cameras first: their closing ends the proxies' pipes
	}
	for _, p := range d.proxies {
		p.Close()
	}
}

func (b *bench) startDistrict() (*districtCams, error) {
	b.logf("district: encoding %d cameras' loops", districtCameras)
	var halves [2][]demo.CameraSpec
	d := &districtCams{proxies: map[string]*tcpproxy.Proxy{}, anal: map[string]*config.Analytics{}}
	for i := range districtCameras {
		id := fmt.Sprintf("cam%02d", i+1)
		p := b.profile
		p.Loop = b.relayOnlyLoop
		if i < districtAnalysed {
			p.Loop = b.analyticsLoop
		}
		halves[i%2] = append(halves[i%2], spec(id, p, busyScene(int64(100+i))))
		d.order = append(d.order, id)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	d.sets = make([]*cameraSet, 2)
	for h := range halves {
		wg.Go(func() { d.sets[h], errs[h] = startCameras(halves[h]) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		d.Close()
		return nil, err
	}
	for i, id := range d.order {
		set := d.sets[i%2]
		u, err := url.Parse(set.cam.URL(id))
		if err != nil {
			d.Close()
			return nil, err
		}
		p, err := tcpproxy.New(u.Host)
		if err != nil {
			d.Close()
			return nil, err
		}
		d.proxies[id] = p
		if i < districtAnalysed {
			d.anal[id] = set.cam.Analytics(id)
		}
	}
	return d, nil
}

// runDistrict runs 24 cameras (8 analysed) with 10 viewers through one
// hallwatch, then cuts every camera at once and watches the recovery.
func (b *bench) runDistrict(ctx context.Context) ([]row, error) {
	const sc = "district"
	cams, err := b.startDistrict()
	if err != nil {
		return nil, err
	}
	defer cams.Close()
	dir, err := b.tempDir("district")
	if err != nil {
		return nil, err
	}
	cfg, err := newConfig(dir)
	if err != nil {
		return nil, err
	}
	b.setDetector(cfg)
	cfg.Record.Enabled = true // the district: every camera recorded too
	cfg.Record.Path = filepath.Join(dir, "recordings")
	var centers []config.Center
	for i, id := range cams.order {
		if i%4 == 0 {
			centers = append(centers, config.Center{ID: fmt.Sprintf("center%d", i/4+1), Name: fmt.Sprintf("center %d", i/4+1)})
		}
		cam := config.Camera{ID: id, Name: id, URL: "rtsp://" + cams.proxies[id].Addr() + "/" + id, Transport: "tcp"}
		if a := cams.anal[id]; a != nil {
			cam.Analytics = a
			if b.districtDetector != "" {
				cam.Analytics.Detector = b.districtDetector
			}
		}
		centers[len(centers)-1].Cameras = append(centers[len(centers)-1].Cameras, cam)
	}
	cfg.Districts = []config.District{{ID: "district", Name: "district", Centers: centers}}
	b.logf("district: starting hallwatch")
	ch, err := startChild(ctx, b.binary, dir, cfg)
	if err != nil {
		return nil, err
	}
	defer ch.Stop()

	var viewers []*viewer
	defer func() {
		for _, v := range viewers {
			ch.closeViewer(v)
		}
	}()
	for i := range districtViewers {
		v, err := ch.connectViewer(ctx, cams.order[i*len(cams.order)/districtViewers])
		if err != nil {
			return nil, err
		}
		viewers = append(viewers, v)
	}
	if err := waitFirstKey(ctx, viewers, 30*time.Second); err != nil {
		return nil, err
	}
	b.logf("district: warm-up %v, window %v", b.analyticsWarmup, b.window)
	if err := sleep(ctx, b.analyticsWarmup); err != nil {
		return nil, err
	}
	units0 := unitCounts(viewers)
	u, err := ch.measure(ctx, b.window)
	if err != nil {
		return nil, err
	}
	used, peak := u.cores, u.peak
	minFPS := minRate(units0, unitCounts(viewers), b.window)
	detector := "motion"
	if b.districtDetector != "" {
		detector = b.districtDetector
	}
	rows := []row{
		{scenario: sc, measure: "cores", value: fmt.Sprintf("%.3f", used), target: fmt.Sprintf("< %.1f", targetDistCores),
			verdict: check(used < targetDistCores),
			note:    fmt.Sprintf("%d cameras (%d analysed, %s, all recorded), %d viewers; slowest viewer %.1f fps; %s", districtCameras, districtAnalysed, detector, districtViewers, minFPS, u.note())},
		{scenario: sc, measure: "RSS (peak in window)", value: mib(peak), target: "< " + mib(targetDistRSS), verdict: check(peak < targetDistRSS)},
		{scenario: sc, measure: "RSS per camera", value: mib(peak / districtCameras), target: "< " + mib(targetCameraRSS),
			verdict: check(peak/districtCameras < targetCameraRSS), note: "whole process RSS / cameras"},
	}
	storm, err := b.storm(ctx, ch, cams, viewers)
	return append(rows, storm...), err
}

func unitCounts(vs []*viewer) []int {
	out := make([]int, len(vs))
	for i, v := range vs {
		v.mu.Lock()
		out[i] = v.units
		v.mu.Unlock()
	}
	return out
}

func minRate(before, after []int, window time.Duration) float64 {
	lo := math.Inf(1)
	for i := range before {
		lo = min(lo, float64(after[i]-before[i])/window.Seconds())
	}
	return lo
}

// storm cuts all cameras at once for b.outage and measures the recovery:
// time until all are live again, how the reconnects spread (jitter, no
// thundering herd), and goroutines and RSS before vs after.
func (b *bench) storm(ctx context.Context, ch *child, cams *districtCams, viewers []*viewer) ([]row, error) {
	const sc = "reconnect storm"
	ids := cams.order
	g0, gErr := ch.goroutines(ctx)
	s0, err := ch.sample()
	if err != nil {
		return nil, err
	}
	st0, err := ch.cameraStates(ctx)
	if err != nil {
		return nil, err
	}
	b.logf("storm: cutting %d cameras for %v", len(ids), b.outage)
	cut := time.Now()
	back := cut.Add(b.outage)
	for _, id := range ids {
		cams.proxies[id].CutUntil(back)
	}
	// Poll until every camera has reconnected and is live again.
	liveAt := map[string]time.Time{}
	deadline := back.Add(60 * time.Second)
	for len(liveAt) < len(ids) && time.Now().Before(deadline) {
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return nil, err
		}
		st, err := ch.cameraStates(ctx)
		if err != nil {
			continue
		}
		now := time.Now()
		for _, id := range ids {
			if _, done := liveAt[id]; !done && now.After(back) && st[id].State == "live" && st[id].Reconnects > st0[id].Reconnects {
				liveAt[id] = now
			}
		}
	}
	var firstOK []time.Duration
	var tries []time.Time
	refused := 0
	for _, id := range ids {
		first := time.Duration(-1)
		for _, a := range cams.proxies[id].AttemptsSince(cut) {
			tries = append(tries, a.At)
			if !a.Accepted {
				refused++
			} else if first < 0 {
				first = a.At.Sub(cut)
			}
		}
		if first >= 0 {
			firstOK = append(firstOK, first)
		}
	}
	var recovery time.Duration
	for _, at := range liveAt {
		recovery = max(recovery, at.Sub(back))
	}
	slices.Sort(firstOK)
	spread, firstRange := time.Duration(0), "no camera reconnected"
	if len(firstOK) > 0 {
		spread = percentile(firstOK, 90) - percentile(firstOK, 10)
		firstRange = fmt.Sprintf("first accepted connection per camera %.1f..%.1f s after the cut", firstOK[0].Seconds(), firstOK[len(firstOK)-1].Seconds())
	}
	peak := peakPer(tries, 100*time.Millisecond)

	b.logf("storm: settling %v", stormSettle)
	units0 := unitCounts(viewers)
	if err := sleep(ctx, stormSettle); err != nil {
		return nil, err
	}
	minFPS := minRate(units0, unitCounts(viewers), stormSettle)
	g1, _ := ch.goroutines(ctx)
	s1, err := ch.sample()
	if err != nil {
		return nil, err
	}
	rows := []row{
		{scenario: sc, measure: "all live again after the cameras return", value: fmt.Sprintf("%.1f s (%d/%d)", recovery.Seconds(), len(liveAt), len(ids)),
			target: fmt.Sprintf("< %v, all", targetRecovery), verdict: check(len(liveAt) == len(ids) && recovery < targetRecovery),
			note: fmt.Sprintf("%d cameras cut at once for %v", len(ids), b.outage)},
		{scenario: sc, measure: "reconnect spread p10→p90", value: fmt.Sprintf("%.2f s", spread.Seconds()),
			target: fmt.Sprintf("> %v (jitter)", targetSpread), verdict: check(spread > targetSpread),
			note: fmt.Sprintf("%s; %d attempts refused while down; at most %d attempts in any 100 ms", firstRange, refused, peak)},
		{scenario: sc, measure: "viewers after the storm", value: fmt.Sprintf("slowest %.1f fps", minFPS), target: "> 0", verdict: check(minFPS > 0),
			note: "same WHEP sessions, over the settle period"},
	}
	if gErr != nil {
		rows = append(rows, row{scenario: sc, measure: "goroutines before → after", value: "-", verdict: skipped,
			note: "hallwatch serves no /metrics (go_goroutines): " + gErr.Error()})
	} else {
		rows = append(rows, row{scenario: sc, measure: "goroutines before → after", value: fmt.Sprintf("%d → %d", g0, g1),
			target: fmt.Sprintf("≤ +%d", goroutineSlack), verdict: check(g1 <= g0+goroutineSlack), note: fmt.Sprintf("%v after all were live", stormSettle)})
	}
	rows = append(rows, row{scenario: sc, measure: "RSS before → after", value: mib(s0.rss) + " → " + mib(s1.rss),
		target: fmt.Sprintf("≤ +%.0f%%", rssGrowthFraction*100), verdict: check(float64(s1.rss) <= float64(s0.rss)*(1+rssGrowthFraction)),
		note: fmt.Sprintf("threads %d → %d", s0.threads, s1.threads)})
	return rows, nil
}

// peakPer is the largest number of times within any window-long span.
func peakPer(ts []time.Time, window time.Duration) int {
	sort.Slice(ts, func(i, j int) bool { return ts[i].Before(ts[j]) })
	best, j := 0, 0
	for i := range ts {
		for ts[i].Sub(ts[j]) >= window {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}
