package testcam

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"
)

type frame struct {
	pts time.Duration
	key bool
}

// pull reads n H.264 access units from url with a plain gortsplib client.
func pull(t *testing.T, url string, n int) []frame {
	t.Helper()
	u, err := base.ParseURL(url)
	if err != nil {
		t.Fatal(err)
	}
	c := gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: ptr(gortsplib.ProtocolTCP)}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	desc, _, err := c.Describe(u)
	if err != nil {
		t.Fatalf("describe: %v", err)
	}
	var forma *format.H264
	medi := desc.FindFormat(&forma)
	if medi == nil {
		t.Fatal("no H.264 track")
	}
	dec, err := forma.CreateDecoder()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		t.Fatalf("setup: %v", err)
	}
	frames := make(chan frame, n)
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		pts, ok := c.PacketPTS(medi, pkt)
		au, err := dec.Decode(pkt)
		if !ok || err != nil {
			return
		}
		select {
		case frames <- frame{pts: time.Duration(pts) * time.Second / 90000, key: h264.IsRandomAccess(au)}:
		default:
		}
	})
	if _, err := c.Play(nil); err != nil {
		t.Fatalf("play: %v", err)
	}
	var out []frame
	timeout := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case f := <-frames:
			out = append(out, f)
		case <-timeout:
			t.Fatalf("got %d of %d frames", len(out), n)
		}
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// makeClip encodes a 3 s, 10 fps clip with a key frame every 10 frames.
func makeClip(t *testing.T, codec string) string {
	t.Helper()
	ffmpeg, err := exec.LookPath("ffmpeg")
	if err != nil {
		t.Skip("ffmpeg not installed: cannot make a test clip")
	}
	out := filepath.Join(t.TempDir(), "clip.mp4")
	cmd := exec.Command(ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=10",
		"-frames:v", "30", "-pix_fmt", "yuv420p", "-c:v", codec, "-g", "10", "-bf", "0", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v\n%s", err, b)
	}
	return out
}

// checkSteady wants frames 100 ms apart with a key frame every 10.
func checkSteady(t *testing.T, frames []frame) {
	t.Helper()
	for i, f := range frames {
		if i > 0 && f.pts-frames[i-1].pts != 100*time.Millisecond {
			t.Errorf("frame %d is %v after the previous, want 100ms", i, f.pts-frames[i-1].pts)
		}
		if f.key != (i%10 == 0) {
			t.Errorf("frame %d key=%v, want a key frame every 10", i, f.key)
		}
	}
}

func TestLoopKeepsTimeRunning(t *testing.T) {
	cam := Start(t, Options{File: makeClip(t, "libx264"), Loop: true})
	// 45 frames: once through the 30-frame clip and on into the next pass.
	checkSteady(t, pull(t, cam.URL(), 45))
}

func TestFilePlayedOnceEnds(t *testing.T) {
	cam := Start(t, Options{File: makeClip(t, "libx264")})
	checkSteady(t, pull(t, cam.URL(), 30))
	select {
	case <-cam.EOS():
	case <-time.After(20 * time.Second):
		t.Fatal("no EOS after the clip was sent")
	}
}

func TestTranscodedFile(t *testing.T) {
	cam := Start(t, Options{File: makeClip(t, "mpeg4"), Transcode: true, GOP: 10})
	checkSteady(t, pull(t, cam.URL(), 12))
}

func TestRestartKeepsPortAndStopEndsProcess(t *testing.T) {
	cam := Start(t, Options{})
	port := cam.Port()
	pull(t, cam.URL(), 3)
	cam.Restart()
	if cam.Port() != port {
		t.Errorf("port %d after restart, want %d", cam.Port(), port)
	}
	pull(t, cam.URL(), 3)
	cam.Stop()
	c := gortsplib.Client{Scheme: "rtsp", Host: "127.0.0.1:" + strconv.Itoa(port)}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	u, _ := base.ParseURL(cam.URL())
	if _, _, err := c.Describe(u); err == nil {
		t.Errorf("describe after Stop: %v, want a connection error", err)
	}
}

// TestCameraThatDiesStartsAgain: a camera process that aborts by itself
// (as GStreamer's RTSP server now and then does) serves again on its port.
func TestCameraThatDiesStartsAgain(t *testing.T) {
	cam := Start(t, Options{})
	port := cam.Port()
	pull(t, cam.URL(), 3)
	cam.mu.Lock()
	pid := cam.cmd.Process.Pid
	cam.mu.Unlock()
	if err := syscall.Kill(-pid, syscall.SIGABRT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(readyTimeout)
	for !cam.revived(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("camera not started again within %v", readyTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if cam.Port() != port {
		t.Errorf("port %d after the camera died, want %d", cam.Port(), port)
	}
	pull(t, cam.URL(), 3)
}

// revived tells whether a process other than pid runs and is ready (the
// start holds c.life until the camera said READY).
func (c *Camera) revived(pid int) bool {
	if !c.life.TryLock() {
		return false
	}
	defer c.life.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cmd != nil && c.cmd.Process.Pid != pid
}
