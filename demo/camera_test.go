package demo

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/pion/rtp"

	"github.com/hallwatch/hallwatch/avcodec"
)

// runCamera starts cam.Run and returns a stop function that cancels it,
// checks its result and waits for the goroutines it started to end.
func runCamera(t *testing.T, opts CameraOptions) (*Camera, func()) {
	t.Helper()
	before := runtime.NumGoroutine()
	opts.Log = slog.New(slog.DiscardHandler)
	cam, err := NewCamera(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cam.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Run returned %v after cancel, want nil", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Run did not return within 10s of cancel")
		}
		// Goroutines (server, sessions, feeds) wind down right after Run.
		for i := 0; runtime.NumGoroutine() > before; i++ {
			if i == 200 {
				buf := make([]byte, 1<<16)
				t.Fatalf("%d goroutines left after Run, %d before:\n%s",
					runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Cleanup(stop)
	return cam, stop
}

type probeStream struct {
	CodecName    string `json:"codec_name"`
	Profile      string `json:"profile"`
	Width        int    `json:"width"`
	Height       int    `json:"height"`
	NbReadFrames string `json:"nb_read_frames"`
}

func TestCameraServesFFprobe(t *testing.T) {
	ffprobe, err := exec.LookPath("ffprobe")
	if err != nil {
		t.Skip("ffprobe not installed")
	}
	cam, stop := runCamera(t, CameraOptions{Addr: "127.0.0.1:0", Cameras: []CameraSpec{
		{ID: "hall", Scene: SceneOptions{Seed: 1}, GOP: time.Second},
		{ID: "loop", Scene: SceneOptions{Seed: 2, Width: 640, Height: 360}, Replay: 3 * time.Second, GOP: time.Second},
		{ID: "hevc", Scene: SceneOptions{Seed: 3, Width: 640, Height: 360}, Replay: 2 * time.Second, GOP: time.Second, Codec: avcodec.CodecH265},
	}})
	for _, c := range []struct {
		id             string
		w, h           int
		codec, profile string
	}{{"hall", 960, 540, "h264", "Constrained Baseline"}, {"loop", 640, 360, "h264", "Constrained Baseline"}, {"hevc", 640, 360, "hevc", "Main"}} {
		url := cam.URL(c.id)
		if !strings.HasPrefix(url, "rtsp://127.0.0.1:") || strings.HasSuffix(url, ":0/"+c.id) {
			t.Fatalf("URL(%q) = %q", c.id, url)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		out, err := exec.CommandContext(ctx, ffprobe, "-v", "error", "-rtsp_transport", "tcp",
			"-select_streams", "v:0", "-count_frames", "-read_intervals", "%+2",
			"-show_entries", "stream=codec_name,profile,width,height,nb_read_frames", "-of", "json", url).Output()
		cancel()
		if err != nil {
			t.Fatalf("ffprobe %s: %v\n%s", url, err, out)
		}
		var res struct{ Streams []probeStream }
		if err := json.Unmarshal(out, &res); err != nil || len(res.Streams) != 1 {
			t.Fatalf("ffprobe %s output %s: %v", url, out, err)
		}
		s := res.Streams[0]
		if s.CodecName != c.codec || s.Profile != c.profile || s.Width != c.w || s.Height != c.h {
			t.Errorf("%s: ffprobe sees %+v, want %s %s %dx%d", c.id, s, c.codec, c.profile, c.w, c.h)
		}
		t.Logf("%s: ffprobe read %s frames in 2 s", c.id, s.NbReadFrames)
		if s.NbReadFrames == "" || s.NbReadFrames == "0" {
			t.Errorf("%s: ffprobe counted no frames (%q)", c.id, s.NbReadFrames)
		}
	}
	if got := cam.URL("nope"); got != "" {
		t.Errorf("URL of an unknown camera = %q, want empty", got)
	}
	stop()
}

// TestCameraClientReceivesScene plays the live camera with gortsplib's
// client, waits for an IDR, decodes it and finds it among the frames an
// identical, independent scene renders: the picture sent is the simulation.
func TestCameraClientReceivesScene(t *testing.T) {
	sceneOpts := SceneOptions{Seed: 4, Width: 640, Height: 360}
	var truthMu sync.Mutex
	var truth []TruthEvent
	cam, stop := runCamera(t, CameraOptions{Addr: "127.0.0.1:0", Cameras: []CameraSpec{{
		ID: "hall", Scene: sceneOpts, GOP: time.Second,
		OnTruth: func(e TruthEvent) {
			truthMu.Lock()
			truth = append(truth, e)
			truthMu.Unlock()
		},
	}}})

	u, err := base.ParseURL(cam.URL("hall"))
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.ProtocolTCP
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &tcp}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		t.Fatal(err)
	}
	var forma *format.H264
	medi := desc.FindFormat(&forma)
	if medi == nil || forma.SPS == nil || forma.PPS == nil {
		t.Fatalf("SDP lacks H.264 with parameter sets: %+v", desc)
	}
	rtpDec, err := forma.CreateDecoder()
	if err != nil {
		t.Fatal(err)
	}
	aus := make(chan [][]byte, 64)
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		t.Fatal(err)
	}
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		au, err := rtpDec.Decode(pkt)
		if err != nil {
			if !errors.Is(err, rtph264.ErrMorePacketsNeeded) && !errors.Is(err, rtph264.ErrNonStartingPacketAndNoPrevious) {
				t.Errorf("RTP decode: %v", err)
			}
			return
		}
		select {
		case aus <- au:
		default: // the test has what it needs
		}
	})
	if _, err := c.Play(nil); err != nil {
		t.Fatal(err)
	}
	if n := cam.Readers("hall"); n != 1 {
		t.Errorf("Readers while one client plays: %d", n)
	}

	dec, err := avcodec.NewDecoder("H264")
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	if _, err := dec.Decode([][]byte{forma.SPS, forma.PPS}); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(20 * time.Second)
	var got avcodec.Image
	for n := 0; ; n++ {
		var au [][]byte
		select {
		case au = <-aus:
		case <-timeout:
			t.Fatalf("no decodable IDR within 20s (%d access units)", n)
		}
		if !isIDR(au) {
			continue
		}
		ok, err := dec.Decode(au)
		if err != nil || !ok {
			t.Fatalf("decoding the received IDR: %v %v", ok, err)
		}
		if err := dec.Frame(&got); err != nil {
			t.Fatal(err)
		}
		break
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for cam.Readers("hall") != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := cam.Readers("hall"); n != 0 {
		t.Errorf("Readers after the client left: %d", n)
	}

	ref := newScene(t, sceneOpts)
	best, bestFrame := 0.0, 0
	for f := 1; f <= 15*30; f++ {
		img, _ := ref.Step()
		if p := psnr(&got, img); p > best {
			best, bestFrame = p, f
		}
	}
	t.Logf("the received IDR is frame %d of the scene (PSNR %.1f dB)", bestFrame, best)
	if best < 30 {
		t.Errorf("the received IDR matches no frame of the scene: best PSNR %.1f dB (frame %d)", best, bestFrame)
	}
	stop()

	truthMu.Lock()
	defer truthMu.Unlock()
	if len(truth) < 6 {
		t.Fatalf("got %d truth events, want at least the 6 initial window states", len(truth))
	}
	for _, e := range truth[:6] {
		if e.Type != TruthWindow || e.Frame != 1 || e.Camera != "hall" || e.Wall.IsZero() {
			t.Errorf("initial truth event %+v: want a window state of frame 1 from camera hall with a wall time", e)
		}
	}
}

func isIDR(au [][]byte) bool {
	for _, n := range au {
		if len(n) > 0 && n[0]&0x1f == 5 {
			return true
		}
	}
	return false
}

// psnr compares two BGR images of the same size (0 when sizes differ).
func psnr(a, b *avcodec.Image) float64 {
	if a.Width != b.Width || a.Height != b.Height {
		return 0
	}
	var sum float64
	for y := range a.Height {
		ra, rb := a.Data[y*a.Stride:y*a.Stride+3*a.Width], b.Data[y*b.Stride:y*b.Stride+3*b.Width]
		for i := range ra {
			d := float64(ra[i]) - float64(rb[i])
			sum += d * d
		}
	}
	if sum == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255*float64(3*a.Width*a.Height)/sum)
}

func TestCameraNotFoundAndOptionErrors(t *testing.T) {
	cam, stop := runCamera(t, CameraOptions{Addr: "127.0.0.1:0", Cameras: []CameraSpec{{ID: "a", Scene: SceneOptions{Width: 320, Height: 180}}}})
	u, err := base.ParseURL(strings.TrimSuffix(cam.URL("a"), "/a") + "/missing")
	if err != nil {
		t.Fatal(err)
	}
	tcp := gortsplib.ProtocolTCP
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: &tcp}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.Describe(u); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("DESCRIBE of a missing path: %v, want 404", err)
	}
	c.Close()

	// The same port twice is a clear error at NewCamera.
	addr := strings.TrimPrefix(strings.TrimSuffix(cam.URL("a"), "/a"), "rtsp://")
	if _, err := NewCamera(CameraOptions{Addr: addr, Cameras: []CameraSpec{{ID: "b"}}}); err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("second camera on %s: %v, want an error naming the address", addr, err)
	}
	stop()

	small := SceneOptions{Width: 320, Height: 180}
	for _, c := range []struct {
		opts CameraOptions
		want string
	}{
		{CameraOptions{}, "no cameras"},
		{CameraOptions{Cameras: []CameraSpec{{ID: "a/b", Scene: small}}}, `"a/b"`},
		{CameraOptions{Cameras: []CameraSpec{{ID: "a", Scene: small}, {ID: "a", Scene: small}}}, "used twice"},
		{CameraOptions{Cameras: []CameraSpec{{ID: "a", Scene: small, Replay: time.Second, OnTruth: func(TruthEvent) {}}}}, "live mode"},
		{CameraOptions{Cameras: []CameraSpec{{ID: "a", Scene: SceneOptions{Windows: 20}}}}, "windows 20"},
		{CameraOptions{Cameras: []CameraSpec{{ID: "a", Scene: small, Preset: "warp"}}}, "warp"},
	} {
		if cam, err := NewCamera(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			if cam != nil {
				cam.Close()
			}
			t.Errorf("NewCamera(%+v) = %v, want an error containing %q", c.opts, err, c.want)
		}
	}
}

// TestCameraServesClientsWaitingAtStart: a client that asked while the
// camera was starting (hallwatch and the demo camera start together) gets
// the stream, not 404 for a stream not made yet.
func TestCameraServesClientsWaitingAtStart(t *testing.T) {
	for range 5 {
		// Many cameras: the last one's stream is made last.
		var specs []CameraSpec
		for i := range 12 {
			specs = append(specs, CameraSpec{ID: fmt.Sprintf("c%d", i), Scene: SceneOptions{Width: 320, Height: 180}})
		}
		cam, err := NewCamera(CameraOptions{Addr: "127.0.0.1:0", Log: slog.New(slog.DiscardHandler), Cameras: specs})
		if err != nil {
			t.Fatal(err)
		}
		last := cam.URL(specs[len(specs)-1].ID)
		u, err := base.ParseURL(last)
		if err != nil {
			t.Fatal(err)
		}
		// The request waits in the bound socket's queue until Run serves it.
		conn, err := net.Dial("tcp", u.Host)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fmt.Fprintf(conn, "DESCRIBE %s RTSP/1.0\r\nCSeq: 1\r\n\r\n", last); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- cam.Run(ctx) }()
		_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		status, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.HasPrefix(status, "RTSP/1.0 200") {
			t.Errorf("DESCRIBE sent before the camera ran: %q %v, want 200", status, err)
		}
		conn.Close()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

func TestCameraCloseWithoutRun(t *testing.T) {
	cam, err := NewCamera(CameraOptions{Addr: "127.0.0.1:0", Cameras: []CameraSpec{{ID: "a", Scene: SceneOptions{Width: 320, Height: 180}}}})
	if err != nil {
		t.Fatal(err)
	}
	addr := strings.TrimPrefix(strings.TrimSuffix(cam.URL("a"), "/a"), "rtsp://")
	cam.Close()
	cam.Close()
	if err := cam.Run(context.Background()); err == nil {
		t.Error("Run after Close succeeded")
	}
	// The port is free again.
	again, err := NewCamera(CameraOptions{Addr: addr, Cameras: []CameraSpec{{ID: "a", Scene: SceneOptions{Width: 320, Height: 180}}}})
	if err != nil {
		t.Fatalf("port %s not released by Close: %v", addr, err)
	}
	again.Close()
}
