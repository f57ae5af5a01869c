package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/pion/rtp"

	"github.com/hallwatch/hallwatch/demo"
)

// profile is a camera's encoding: the reference stream is
// 1280x720, 25 fps, 2 s GOP, about 2 Mbit/s.
type profile struct {
	Width, Height, FPS int
	GOP                time.Duration
	BitrateKbps        int
	Noise              int // sensor noise, raises the bitrate of a flat scene
	Loop               time.Duration
}

// cameraSet is a running demo.Camera (pre-encoded replay loops, no
// encoding while measured) on 127.0.0.1.
type cameraSet struct {
	cam  *demo.Camera
	stop context.CancelFunc
	done chan error
}

// startCameras encodes every spec's loop and starts serving them.
func startCameras(specs []demo.CameraSpec) (*cameraSet, error) {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cam, err := demo.NewCamera(demo.CameraOptions{Addr: "127.0.0.1:0", Cameras: specs, Log: quiet})
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &cameraSet{cam: cam, stop: stop, done: make(chan error, 1)}
	go func() { s.done <- cam.Run(ctx) }()
	return s, nil
}

func (s *cameraSet) Close() {
	s.stop()
	<-s.done
}

// spec makes a replay camera with the profile and scene.
func spec(id string, p profile, scene demo.SceneOptions) demo.CameraSpec {
	scene.Width, scene.Height, scene.FPS, scene.Noise = p.Width, p.Height, p.FPS, p.Noise
	return demo.CameraSpec{ID: id, Scene: scene, GOP: p.GOP, BitrateKbps: p.BitrateKbps, Replay: p.Loop}
}

// quietScene is an empty hall: clerks seated and still, nobody arrives.
func quietScene(seed int64) demo.SceneOptions {
	never := demo.Range{Min: 1000 * time.Hour, Max: 1000 * time.Hour}
	return demo.SceneOptions{Seed: seed, VisitorInterval: never, ClerkAwayInterval: never}
}

// busyScene is the default demo hall: visitors every 5-15 s, clerks leave now and then.
func busyScene(seed int64) demo.SceneOptions { return demo.SceneOptions{Seed: seed} }

// frameKey identifies a frame by its content: the length and first bytes of
// each picture NALU. The relay forwards NALUs unchanged, so a viewer's
// frame and the camera's have the same key.
type frameKey uint64

func keyOf(nalus [][]byte) frameKey {
	h := fnv.New64a()
	var n [4]byte
	for _, nalu := range nalus {
		if len(nalu) == 0 {
			continue
		}
		switch h264.NALUType(nalu[0] & 0x1f) {
		case h264.NALUTypeIDR, h264.NALUTypeNonIDR:
		default:
			continue // parameter sets and SEI may be added or dropped on the way
		}
		binary.BigEndian.PutUint32(n[:], uint32(len(nalu)))
		h.Write(n[:])
		h.Write(nalu[:min(len(nalu), 256)])
	}
	return frameKey(h.Sum64())
}

// sent is one frame as the tap saw it leave the camera.
type sent struct {
	key   frameKey
	at    time.Time
	key1  bool // IDR
	bytes int
}

// tap reads a camera over RTSP in the bench process, as hallwatch does, and
// records when each frame arrived: the camera's send time, on the same
// clock as the viewers' receive times.
type tap struct {
	mu     sync.Mutex
	frames []sent
	errs   chan error
	client *gortsplib.Client
}

func startTap(url string) (*tap, error) {
	u, err := base.ParseURL(url)
	if err != nil {
		return nil, err
	}
	c := &gortsplib.Client{Scheme: u.Scheme, Host: u.Host, Protocol: ptr(gortsplib.ProtocolTCP)}
	if err := c.Start(); err != nil {
		return nil, err
	}
	desc, _, err := c.Describe(u)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("tap %s: describe: %w", url, err)
	}
	var forma *format.H264
	medi := desc.FindFormat(&forma)
	if medi == nil {
		c.Close()
		return nil, fmt.Errorf("tap %s: no H.264", url)
	}
	dec, err := forma.CreateDecoder()
	if err != nil {
		c.Close()
		return nil, err
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		c.Close()
		return nil, fmt.Errorf("tap %s: setup: %w", url, err)
	}
	t := &tap{client: c, errs: make(chan error, 1)}
	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		now := time.Now()
		nalus, err := dec.Decode(pkt)
		if err != nil {
			return
		}
		size := 0
		for _, n := range nalus {
			size += len(n)
		}
		t.mu.Lock()
		t.frames = append(t.frames, sent{key: keyOf(nalus), at: now, key1: h264.IsRandomAccess(nalus), bytes: size})
		t.mu.Unlock()
	})
	if _, err := c.Play(nil); err != nil {
		c.Close()
		return nil, fmt.Errorf("tap %s: play: %w", url, err)
	}
	return t, nil
}

func ptr[T any](v T) *T { return &v }

func (t *tap) Close() { t.client.Close() }

// between returns the frames that arrived in [from, to).
func (t *tap) between(from, to time.Time) []sent {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.frames), func(i int) bool { return !t.frames[i].at.Before(from) })
	j := sort.Search(len(t.frames), func(i int) bool { return !t.frames[i].at.Before(to) })
	return append([]sent(nil), t.frames[i:j]...)
}

// nextIDR returns the first IDR that arrived at or after at.
func (t *tap) nextIDR(at time.Time) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	i := sort.Search(len(t.frames), func(i int) bool { return !t.frames[i].at.Before(at) })
	for ; i < len(t.frames); i++ {
		if t.frames[i].key1 {
			return t.frames[i].at, true
		}
	}
	return time.Time{}, false
}

// stream describes what the tap saw in a window: frame rate, bitrate, GOP.
func describeStream(frames []sent, window time.Duration) string {
	if len(frames) == 0 || window <= 0 {
		return "no frames"
	}
	bytes, idr, maxIDR := 0, 0, 0
	for _, f := range frames {
		bytes += f.bytes
		if f.key1 {
			idr++
			maxIDR = max(maxIDR, f.bytes)
		}
	}
	return fmt.Sprintf("%.1f fps, %.0f kbit/s, %d IDR (largest %d KB)", float64(len(frames))/window.Seconds(),
		float64(bytes)*8/1000/window.Seconds(), idr, maxIDR>>10)
}
