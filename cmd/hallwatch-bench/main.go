// Command hallwatch-bench measures what hallwatch costs. It runs demo
// replay cameras (pre-encoded H.264: no encoding while measuring) and pion
// WHEP viewers in its own process, runs `hallwatch serve` as a child so
// that /proc measures hallwatch alone, and prints one table of results
// against the targets, each with a baseline measured in the same
// run.
//
//	go run ./cmd/hallwatch-bench --hallwatch bin/hallwatch
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// bench holds the run's settings.
type bench struct {
	binary           string
	tmp              string
	window, warmup   time.Duration
	analyticsWarmup  time.Duration
	relayViewers     []int
	joins            int
	longGOP          time.Duration
	profile          profile
	analyticsLoop    time.Duration
	relayOnlyLoop    time.Duration
	outage           time.Duration
	districtDetector string
	pprofDir         string
	clusterCameras   int
	clusterProfile   profile
	compare          string
	mediamtx         string
	progress         io.Writer
	started          time.Time
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.progress, "[%5.1fs] %s\n", time.Since(b.started).Seconds(), fmt.Sprintf(format, args...))
}

func (b *bench) tempDir(name string) (string, error) {
	dir := filepath.Join(b.tmp, name)
	return dir, os.MkdirAll(dir, 0o700)
}

// profile starts a CPU profile of the child for most of the window when
// --pprof is set; the returned func waits for it.
func (b *bench) cpuProfile(ctx context.Context, ch *child, name string) (wait func()) {
	if b.pprofDir == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ch.cpuProfile(ctx, max(time.Second, b.window-2*time.Second), filepath.Join(b.pprofDir, name)); err != nil {
			b.logf("profile %s: %v", name, err)
		}
	}()
	return func() { <-done }
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("hallwatch-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	b := &bench{progress: stderr, started: time.Now()}
	fs.StringVar(&b.binary, "hallwatch", "bin/hallwatch", "the hallwatch binary to measure")
	scenarios := fs.String("scenarios", "relay,analytics,record,district", "comma-separated: relay, analytics, record (recording and playback), district (includes the reconnect storm), cluster (needs PostgreSQL and nats-server)")
	fs.DurationVar(&b.window, "window", 20*time.Second, "CPU measurement window of each step")
	fs.DurationVar(&b.warmup, "warmup", 5*time.Second, "settling time before each relay measurement")
	fs.DurationVar(&b.analyticsWarmup, "analytics-warmup", 20*time.Second, "settling time before analytics and district measurements (longer than analytics.idle_after, so that quiet cameras have gone idle)")
	viewers := fs.String("viewers", "1,10,50,200", "relay viewer counts, ascending")
	fs.IntVar(&b.joins, "joins", 20, "viewer joins for the first-key-frame measurement")
	fs.DurationVar(&b.longGOP, "long-gop", 4*time.Second, "GOP of the camera the first-key-frame measurement joins")
	size := fs.String("size", "1280x720", "camera picture size")
	fs.IntVar(&b.profile.FPS, "fps", 25, "camera frame rate")
	fs.DurationVar(&b.profile.GOP, "gop", 2*time.Second, "camera GOP")
	fs.IntVar(&b.profile.BitrateKbps, "bitrate", 2000, "camera bitrate, kbit/s")
	fs.IntVar(&b.profile.Noise, "noise", 3, "camera sensor noise (grey levels), so the flat scene fills the bitrate")
	fs.DurationVar(&b.analyticsLoop, "analytics-loop", 20*time.Second, "length of analysed cameras' replay loops")
	fs.DurationVar(&b.relayOnlyLoop, "relay-loop", 8*time.Second, "length of relay-only district cameras' replay loops")
	fs.DurationVar(&b.outage, "outage", 3*time.Second, "how long the reconnect storm keeps the cameras unreachable")
	fs.StringVar(&b.districtDetector, "district-detector", "", "detector of the district's analysed cameras: motion, yolo (default motion)")
	fs.StringVar(&b.compare, "compare", "", "another hallwatch binary (e.g. a build before a change) whose relay is measured in the same run, with ratios")
	fs.StringVar(&b.mediamtx, "mediamtx", "", "a MediaMTX binary: its relay is measured in the same run on the same camera, the baseline of the cores-per-viewer target")
	fs.StringVar(&b.pprofDir, "pprof", "", "save a CPU profile of hallwatch during each relay and analytics window into this directory")
	fs.IntVar(&b.clusterCameras, "cluster-cameras", 60, "cameras of the cluster scenario")
	clusterSize := fs.String("cluster-size", "320x180", "camera picture size of the cluster scenario")
	keep := fs.Bool("keep", false, "keep the children's configs, databases and logs")
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var err error
	if b.profile.Width, b.profile.Height, err = parseSize(*size); err != nil {
		fmt.Fprintf(stderr, "hallwatch-bench: --size: %v\n", err)
		return 2
	}
	b.clusterProfile = profile{FPS: 10, GOP: 2 * time.Second, BitrateKbps: 300, Noise: 2, Loop: 20 * time.Second}
	if b.clusterProfile.Width, b.clusterProfile.Height, err = parseSize(*clusterSize); err != nil {
		fmt.Fprintf(stderr, "hallwatch-bench: --cluster-size: %v\n", err)
		return 2
	}
	if b.relayViewers, err = parseInts(*viewers); err != nil {
		fmt.Fprintf(stderr, "hallwatch-bench: --viewers: %v\n", err)
		return 2
	}
	b.profile.Loop = 5 * b.profile.GOP
	if _, err := os.Stat(b.binary); err != nil {
		fmt.Fprintf(stderr, "hallwatch-bench: %v (run make build, or pass --hallwatch)\n", err)
		return 2
	}
	for _, p := range []*string{&b.binary, &b.compare, &b.mediamtx} {
		if *p == "" {
			continue
		}
		if _, err := os.Stat(*p); err != nil {
			fmt.Fprintf(stderr, "hallwatch-bench: %v\n", err)
			return 2
		}
		if *p, err = filepath.Abs(*p); err != nil {
			fmt.Fprintln(stderr, "hallwatch-bench:", err)
			return 1
		}
	}
	if b.tmp, err = os.MkdirTemp("", "hallwatch-bench-"); err != nil {
		fmt.Fprintln(stderr, "hallwatch-bench:", err)
		return 1
	}
	if *keep {
		fmt.Fprintf(stderr, "hallwatch-bench: keeping files in %s\n", b.tmp)
	} else {
		defer os.RemoveAll(b.tmp)
	}

	runs := map[string]func(context.Context) ([]row, error){
		"relay": b.runRelay, "analytics": b.runAnalytics, "record": b.runRecord, "district": b.runDistrict, "cluster": b.runCluster,
	}
	var rows []row
	failed := false
	for _, name := range strings.Split(*scenarios, ",") {
		name = strings.TrimSpace(name)
		fn, ok := runs[name]
		if !ok {
			fmt.Fprintf(stderr, "hallwatch-bench: unknown scenario %q (relay, analytics, record, district, cluster)\n", name)
			return 2
		}
		got, err := fn(ctx)
		rows = append(rows, got...)
		if err != nil {
			failed = true
			rows = append(rows, row{scenario: name, measure: "scenario failed", value: "-", verdict: missed, note: err.Error()})
			if ctx.Err() != nil {
				break
			}
		}
	}
	fmt.Fprintf(stdout, "\nhallwatch-bench: %s, %d cores, %s; %v window; camera %dx%d %d fps GOP %v %d kbit/s target\n\n",
		b.binary, runtime.NumCPU(), time.Now().Format(time.DateTime), b.window, b.profile.Width, b.profile.Height, b.profile.FPS, b.profile.GOP, b.profile.BitrateKbps)
	printTable(stdout, rows)
	fmt.Fprintf(stdout, "\ntotal %v\n", time.Since(b.started).Round(time.Second))
	if failed {
		return 1
	}
	return 0
}

func parseSize(s string) (int, int, error) {
	w, h, ok := strings.Cut(s, "x")
	if !ok {
		return 0, 0, fmt.Errorf("%q: want WIDTHxHEIGHT", s)
	}
	wi, err1 := strconv.Atoi(w)
	hi, err2 := strconv.Atoi(h)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("%q: want WIDTHxHEIGHT", s)
	}
	return wi, hi, nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 || (len(out) > 0 && n <= out[len(out)-1]) {
			return nil, fmt.Errorf("%q: want ascending positive numbers", s)
		}
		out = append(out, n)
	}
	return out, nil
}
