package relay

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/testcam"
	"github.com/hallwatch/hallwatch/internal/whepclient"
)

// soakSettings size TestRelaySoakJoinLeave. The defaults keep CI's run
// short; HALLWATCH_SOAK_CYCLES, _VIEWERS and _SIZE (e.g. 1280x720) make
// it the full 30-viewer, 720p test.
type soakSettings struct {
	cycles, viewers int
	width, height   int
	bitrateKbps     int
	readBuffer      int
	watch           time.Duration
}

func soakFromEnv(t *testing.T) soakSettings {
	s := soakSettings{cycles: 6, viewers: 30, width: 640, height: 360, bitrateKbps: 1000, watch: 4 * time.Second}
	atoi := func(name string, dst *int) {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a positive number", name, v)
			}
			*dst = n
		}
	}
	atoi("HALLWATCH_SOAK_CYCLES", &s.cycles)
	atoi("HALLWATCH_SOAK_VIEWERS", &s.viewers)
	atoi("HALLWATCH_SOAK_KBPS", &s.bitrateKbps)
	atoi("HALLWATCH_SOAK_RCVBUF", &s.readBuffer)
	if v := os.Getenv("HALLWATCH_SOAK_SIZE"); v != "" {
		if _, err := fmt.Sscanf(v, "%dx%d", &s.width, &s.height); err != nil {
			t.Fatalf("HALLWATCH_SOAK_SIZE=%q: want WIDTHxHEIGHT", v)
		}
	}
	return s
}

// TestRelaySoakJoinLeave joins and drops a crowd of browser-like pion
// viewers (NACKs on, default socket buffers) again and again, against a
// camera that was just restarted (no GOP cached yet: viewers wait for its
// first key frame) and against one that has been running (viewers start
// from the cached GOP). Every viewer must start on a key frame and receive
// at least 95 % of the camera's frames while it watches.
func TestRelaySoakJoinLeave(t *testing.T) {
	if testing.Short() {
		t.Skip("soak test: skipped in -short mode")
	}
	s := soakFromEnv(t)
	cam := testcam.Start(t, testcam.Options{Width: s.width, Height: s.height, FPS: 25, GOP: 50, BitrateKbps: s.bitrateKbps, Pattern: "smpte", Scroll: 2})
	rig := newRelayRig(t, loopbackICE(t))

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	hub := ingest.NewHub("hall1")
	src := ingest.NewSource(ingest.SourceConfig{Camera: "hall1", URL: cam.URL(), Transport: "tcp",
		Backoff: ingest.BackoffConfig{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}},
		hub, ingest.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	// The test feeds the relay itself, as Run does, so that it knows every
	// frame the relay was given: a frame the relay never got (its queue
	// overflowed on a starved machine) is no viewer's loss.
	frames := &frameLog{}
	var relayed atomic.Uint64 // the stream generation the relay is on
	feed := hub.Subscribe("soak", ingest.SubscribeOptions{Buffer: 1024, StartWithGOP: true})
	wg.Add(2)
	go func() { defer wg.Done(); src.Run(ctx) }()
	go func() {
		defer wg.Done()
		defer feed.Close()
		var generation uint64
		for {
			select {
			case <-ctx.Done():
				return
			case au := <-feed.C():
				if g := hub.Stream().Generation; g != generation {
					t.Logf("stream generation %d", g)
					rig.relay.NewStream()
					generation = g
					relayed.Store(g)
				}
				frames.add(time.Now(), au.Size(), unitKey(au.NALUs))
				if err := rig.relay.Push(au); err != nil {
					t.Errorf("push: %v", err)
				}
			}
		}
	}()

	for cycle := range s.cycles {
		fresh := cycle%2 == 0
		if fresh {
			// The viewers join the restarted camera's stream, not the old
			// one's last moments (its reconnect would come mid-cycle).
			before := relayed.Load()
			cam.Restart()
			waitFor(t, "camera reconnected", func() bool {
				return relayed.Load() > before && src.Status().State == ingest.StateLive
			})
		}
		before := cpuTime()
		stats0, socks0 := rig.relay.Stats(), rig.engine.SocketStats()
		res := soakCycle(t, ctx, rig, frames, s)
		used := cpuTime() - before
		t.Logf("cycle %d (%s camera): %d viewers, %.2f cores in this process (relay + viewers), worst viewer %.1f %% of %d frames (%.0f kbit/s)",
			cycle, map[bool]string{true: "fresh", false: "warm"}[fresh], s.viewers, used.Seconds()/res.elapsed.Seconds(), 100*res.worst, res.frames, res.kbps)
		st, socks := rig.relay.Stats(), rig.engine.SocketStats()
		t.Logf("  relay: %d packets produced, %d resent on NACKs, %d NACKed packets refused; sockets: %d datagrams, %d refused by the kernel; viewers: %d packets lost, %d units undecodable, %d PLIs",
			st.Packets-stats0.Packets, st.Resent-stats0.Resent, st.Refused-stats0.Refused, socks.Packets-socks0.Packets, socks.Errors-socks0.Errors,
			res.clients.Lost, res.clients.Dropped, res.clients.PLIs)
		for _, f := range res.failures {
			t.Errorf("cycle %d (fresh camera: %v): %s", cycle, fresh, f)
		}
		if t.Failed() {
			return
		}
	}
}

// soakResult is what one cycle's viewers got.
type soakResult struct {
	frames   int     // camera frames in the watch window
	kbps     float64 // the camera's bitrate meanwhile
	worst    float64 // smallest share of them a viewer received
	failures []string
	elapsed  time.Duration
	clients  whepclient.Stats // summed over the viewers
}

func soakCycle(t *testing.T, ctx context.Context, rig *relayRig, frames *frameLog, s soakSettings) soakResult {
	t.Helper()
	start := time.Now()
	viewers := make([]*soakViewer, s.viewers)
	errs := make(chan error, s.viewers)
	var wg sync.WaitGroup
	for i := range viewers {
		v := &soakViewer{}
		viewers[i] = v
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			c, err := whepclient.Connect(cctx, func(ctx context.Context, offer string) (string, error) {
				sess, answer, err := rig.viewers.Offer(ctx, "hall1", Viewer{User: "soak"}, offer)
				v.session = sess.ID
				return answer, err
			}, whepclient.Options{OnUnit: v.onUnit, ReadBuffer: s.readBuffer, KeyFrameOnLoss: true})
			if err != nil {
				errs <- err
				return
			}
			v.client = c
		}()
	}
	wg.Wait()
	close(errs)
	defer func() {
		for i, v := range viewers {
			if v.client == nil {
				continue
			}
			if i%2 == 0 { // half hang up, the others vanish
				rig.viewers.Hangup("hall1", v.session)
			}
			v.client.Close()
		}
		waitFor(t, "sessions ended", func() bool { return rig.viewers.Count() == 0 && rig.relay.Viewers() == 0 })
	}()
	var res soakResult
	for err := range errs {
		res.failures = append(res.failures, fmt.Sprintf("viewer did not connect: %v", err))
	}
	if len(res.failures) > 0 {
		return res
	}
	// Everyone has started once the slowest viewer saw its first frame and
	// no viewer is still catching up (a catch-up that a starved machine
	// makes slow jumps to a newer key frame, by design, skipping frames);
	// then watch.
	deadline := time.Now().Add(15 * time.Second)
	for _, v := range viewers {
		for v.firstAt().IsZero() && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	for rig.relay.catchingUp() > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	from := time.Now().Add(time.Second)
	to := from.Add(s.watch)
	time.Sleep(time.Until(to))
	window, bytes := frames.between(from, to)
	// Let the window's last frames arrive (later on a busy machine).
	for deadline := time.Now().Add(5 * time.Second); len(window) > 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if !slices.ContainsFunc(viewers, func(v *soakViewer) bool { return !v.has(window[len(window)-1]) }) {
			break
		}
	}
	res.frames = len(window)
	res.kbps = float64(bytes) * 8 / 1000 / s.watch.Seconds()
	res.worst = 1
	for i, v := range viewers {
		first, key, got := v.stats(window)
		switch {
		case first.IsZero():
			res.failures = append(res.failures, fmt.Sprintf("viewer %d received nothing", i))
			res.worst = 0
			continue
		case !key:
			res.failures = append(res.failures, fmt.Sprintf("viewer %d started on a delta frame", i))
		}
		share := float64(got) / float64(max(res.frames, 1))
		res.worst = min(res.worst, share)
		if share < 0.95 {
			res.failures = append(res.failures, fmt.Sprintf("viewer %d received %d of the camera's %d frames (%.0f %%); missing: %v", i, got, res.frames, 100*share, v.missing(window)))
		}
	}
	for _, v := range viewers {
		st := v.client.Stats()
		res.clients.Lost += st.Lost
		res.clients.Dropped += st.Dropped
		res.clients.PLIs += st.PLIs
	}
	res.elapsed = time.Since(start)
	return res
}

// soakViewer records one viewer's units.
type soakViewer struct {
	client  *whepclient.Client
	session string

	mu       sync.Mutex
	first    time.Time
	firstKey bool
	got      map[uint64]bool
}

func (v *soakViewer) onUnit(u whepclient.Unit) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.first.IsZero() {
		v.first, v.firstKey = u.Received, u.Key
		v.got = map[uint64]bool{}
	}
	v.got[unitKey(u.NALUs)] = true
}

func (v *soakViewer) firstAt() time.Time {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.first
}

func (v *soakViewer) missing(frames []uint64) []int {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []int
	for i, k := range frames {
		if !v.got[k] {
			out = append(out, i)
		}
	}
	return out
}

func (v *soakViewer) has(key uint64) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.got[key]
}

// stats returns the first unit's time and kind, and how many of frames
// the viewer received.
func (v *soakViewer) stats(frames []uint64) (time.Time, bool, int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	n := 0
	for _, k := range frames {
		if v.got[k] {
			n++
		}
	}
	return v.first, v.firstKey, n
}

// frameLog is when the hub published each of the camera's frames.
type frameLog struct {
	mu    sync.Mutex
	times []time.Time
	sizes []int
	keys  []uint64
}

func (f *frameLog) add(at time.Time, size int, key uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.times = append(f.times, at)
	f.sizes = append(f.sizes, size)
	f.keys = append(f.keys, key)
}

// between returns the frames published in [from, to), and their bytes.
func (f *frameLog) between(from, to time.Time) (keys []uint64, bytes int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, at := range f.times {
		if !at.Before(from) && at.Before(to) {
			keys = append(keys, f.keys[i])
			bytes += f.sizes[i]
		}
	}
	return keys, bytes
}

// unitKey identifies an access unit by its content (the relay forwards
// NAL units unchanged).
func unitKey(nalus [][]byte) uint64 {
	h := fnv.New64a()
	for _, n := range nalus {
		binary.Write(h, binary.BigEndian, uint32(len(n)))
		h.Write(n[:min(len(n), 64)])
	}
	return h.Sum64()
}

// cpuTime is this process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// catchingUp counts the viewers still being replayed the cached GOP.
func (r *Relay) catchingUp() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, b := range r.bindings {
		b.mu.Lock()
		if b.state == stateCatchingUp {
			n++
		}
		b.mu.Unlock()
	}
	return n
}
