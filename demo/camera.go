package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/hallwatch/hallwatch/avcodec"
	"github.com/hallwatch/hallwatch/config"
)

// DefaultAddr is where the demo cameras listen unless told otherwise.
const DefaultAddr = "127.0.0.1:8554"

// CameraOptions configures the demo RTSP server and its cameras.
type CameraOptions struct {
	// Addr is the listen address, default DefaultAddr; port 0 picks a free
	// port (see URL).
	Addr    string
	Cameras []CameraSpec
	Log     *slog.Logger // default slog.Default()
}

// CameraSpec is one simulated camera, served at rtsp://<addr>/<ID>.
type CameraSpec struct {
	ID          string // letters, digits, '-', '_'
	Scene       SceneOptions
	GOP         time.Duration // time between IDRs, default 2s
	BitrateKbps int           // default 1500
	Preset      string        // x264/x265 preset, default "ultrafast"
	Codec       string        // "H264" (default) or "H265", as cameras that send HEVC
	// Replay, when positive, encodes this much of the scene once and loops
	// it with continuous timestamps: no encoding cost while running (for
	// benchmarks), but the loop seam makes people jump and there is no
	// ground truth.
	Replay time.Duration
	// OnTruth receives the live scene's ground truth, with Camera and Wall
	// (the time the frame was sent) set. It runs on the camera's goroutine
	// and must not block for long.
	OnTruth func(TruthEvent)
}

// Camera serves simulated hall cameras over RTSP (TCP transport) in real
// time. Create it with NewCamera, then call Run.
type Camera struct {
	log   *slog.Logger
	ln    net.Listener
	feeds map[string]*feed // by ID; fixed after NewCamera
	order []*feed

	mu sync.RWMutex // guards feed.stream

	readersMu sync.Mutex
	readers   map[*gortsplib.ServerSession]string // playing sessions → camera id

	life    sync.Mutex
	started bool // Run owns the feeds and the listener from here on
	closed  bool
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// NewCamera prepares every camera (encoding the replay loops up front) and
// binds the listener, so URL works at once. Call Run to serve, or Close to
// give up without running.
func NewCamera(opts CameraOptions) (*Camera, error) {
	if len(opts.Cameras) == 0 {
		return nil, errors.New("demo: no cameras configured")
	}
	c := &Camera{log: opts.Log, feeds: map[string]*feed{}, readers: map[*gortsplib.ServerSession]string{}}
	if c.log == nil {
		c.log = slog.Default()
	}
	for i, spec := range opts.Cameras {
		if !idPattern.MatchString(spec.ID) {
			c.closeFeeds()
			return nil, fmt.Errorf("demo: camera %d: id %q must be letters, digits, '-' or '_'", i+1, spec.ID)
		}
		if c.feeds[spec.ID] != nil {
			c.closeFeeds()
			return nil, fmt.Errorf("demo: camera %d: id %q is used twice", i+1, spec.ID)
		}
		f, err := newFeed(spec)
		if err != nil {
			c.closeFeeds()
			return nil, fmt.Errorf("demo: camera %q: %w", spec.ID, err)
		}
		c.feeds[spec.ID] = f
		c.order = append(c.order, f)
	}
	addr := opts.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		c.closeFeeds()
		return nil, fmt.Errorf("demo: RTSP listener: %w", err)
	}
	c.ln = ln
	return c, nil
}

// URL returns the RTSP address of camera id, or "" for an unknown id.
func (c *Camera) URL(id string) string {
	if c.feeds[id] == nil {
		return ""
	}
	a := c.ln.Addr().(*net.TCPAddr)
	host := a.IP.String()
	if a.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "rtsp://" + net.JoinHostPort(host, fmt.Sprint(a.Port)) + "/" + id
}

// Analytics returns the analytics configuration matching camera id's scene,
// or nil for an unknown id.
func (c *Camera) Analytics(id string) *config.Analytics {
	if f := c.feeds[id]; f != nil {
		return f.scene.Analytics()
	}
	return nil
}

// Run serves the cameras until ctx is cancelled (returning nil) or the
// server fails. It frees everything when it returns and runs only once.
func (c *Camera) Run(ctx context.Context) error {
	c.life.Lock()
	switch {
	case c.started:
		c.life.Unlock()
		return errors.New("demo: camera Run called twice")
	case c.closed:
		c.life.Unlock()
		return errors.New("demo: camera was closed before Run")
	}
	c.started = true
	c.life.Unlock()
	defer c.closeFeeds()
	srv, stopServer, err := c.startServer() // the server owns the listener now
	if err != nil {
		c.ln.Close()
		return err
	}
	c.log.Info("demo cameras serving", "addr", c.ln.Addr().String(), "cameras", len(c.order))

	feedCtx, stopFeeds := context.WithCancel(ctx)
	errc := make(chan error, len(c.order))
	var feeds sync.WaitGroup
	for _, f := range c.order {
		feeds.Go(func() {
			if err := f.run(feedCtx, c.log); err != nil {
				errc <- fmt.Errorf("demo: camera %q: %w", f.spec.ID, err)
			}
		})
	}
	srvDone := make(chan error, 1)
	go func() { srvDone <- srv.Wait() }()

	srvStopped := false
	select {
	case <-ctx.Done():
	case err = <-errc:
	case err = <-srvDone:
		srvStopped = true
		err = fmt.Errorf("demo: RTSP server stopped: %w", err)
	}
	stopFeeds()
	feeds.Wait()
	stopServer()
	if !srvStopped {
		<-srvDone // Wait returns once Close is done
	}
	return err
}

// startServer starts the RTSP server on the bound listener with one stream
// per camera; stop closes them.
func (c *Camera) startServer() (srv *gortsplib.Server, stop func(), err error) {
	ln := &gatedListener{Listener: c.ln, gate: make(chan struct{})}
	srv = &gortsplib.Server{
		Handler:     rtspHandler{c},
		RTSPAddress: c.ln.Addr().String(),
		Listen:      func(string, string) (net.Listener, error) { return ln, nil },
	}
	if err := srv.Start(); err != nil {
		return nil, nil, fmt.Errorf("demo: starting RTSP server: %w", err)
	}
	var streams []*gortsplib.ServerStream
	stop = func() {
		for _, st := range streams {
			st.Close()
		}
		srv.Close()
	}
	defer ln.open()
	for _, f := range c.order {
		st := &gortsplib.ServerStream{Server: srv, Desc: f.desc}
		if err := st.Initialize(); err != nil {
			stop()
			return nil, nil, fmt.Errorf("demo: camera %q stream: %w", f.spec.ID, err)
		}
		streams = append(streams, st)
		c.mu.Lock()
		f.stream = st
		c.mu.Unlock()
	}
	return srv, stop, nil
}

// gatedListener holds connections back until open: the streams need a
// started server, and a client that connects in between is served once
// they exist instead of being told 404.
type gatedListener struct {
	net.Listener
	gate chan struct{}
	once sync.Once
}

func (l *gatedListener) open() { l.once.Do(func() { close(l.gate) }) }

func (l *gatedListener) Accept() (net.Conn, error) {
	<-l.gate
	return l.Listener.Accept()
}

func (l *gatedListener) Close() error {
	l.open()
	return l.Listener.Close()
}

// Close frees a Camera that was never run; Run frees everything itself, so
// Close does nothing once Run has started.
func (c *Camera) Close() {
	c.life.Lock()
	defer c.life.Unlock()
	if c.started || c.closed {
		return
	}
	c.closed = true
	c.closeFeeds()
	c.ln.Close()
}

func (c *Camera) closeFeeds() {
	for _, f := range c.order {
		f.close()
	}
}

func (c *Camera) stream(path string) *gortsplib.ServerStream {
	f := c.feeds[strings.TrimPrefix(path, "/")]
	if f == nil {
		return nil
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return f.stream
}

// rtspHandler answers RTSP requests for a Camera.
type rtspHandler struct{ c *Camera }

func (h rtspHandler) lookup(path string) (*base.Response, *gortsplib.ServerStream, error) {
	if st := h.c.stream(path); st != nil {
		return &base.Response{StatusCode: base.StatusOK}, st, nil
	}
	return &base.Response{StatusCode: base.StatusNotFound}, nil, fmt.Errorf("no demo camera at %q", path)
}

func (h rtspHandler) OnDescribe(ctx *gortsplib.ServerHandlerOnDescribeCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.lookup(ctx.Path)
}

func (h rtspHandler) OnSetup(ctx *gortsplib.ServerHandlerOnSetupCtx) (*base.Response, *gortsplib.ServerStream, error) {
	return h.lookup(ctx.Path)
}

func (h rtspHandler) OnPlay(ctx *gortsplib.ServerHandlerOnPlayCtx) (*base.Response, error) {
	h.c.readersMu.Lock()
	h.c.readers[ctx.Session] = strings.TrimPrefix(ctx.Path, "/")
	h.c.readersMu.Unlock()
	return &base.Response{StatusCode: base.StatusOK}, nil
}

func (h rtspHandler) OnSessionClose(ctx *gortsplib.ServerHandlerOnSessionCloseCtx) {
	h.c.readersMu.Lock()
	delete(h.c.readers, ctx.Session)
	h.c.readersMu.Unlock()
}

// Readers returns how many RTSP clients are playing camera id now: a
// cluster test checks that no two nodes pull one camera at once.
func (c *Camera) Readers(id string) int {
	c.readersMu.Lock()
	defer c.readersMu.Unlock()
	n := 0
	for _, cam := range c.readers {
		if cam == id {
			n++
		}
	}
	return n
}

// describe announces the stream with the encoder's parameter sets (taken
// from its first access unit), so that a player knows the size before the
// first frame.
func describe(codec string, first [][]byte) (*description.Session, format.Format, error) {
	var forma format.Format
	switch codec {
	case avcodec.CodecH265:
		f := &format.H265{PayloadTyp: 96}
		for _, n := range first {
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				f.VPS = n
			case h265.NALUType_SPS_NUT:
				f.SPS = n
			case h265.NALUType_PPS_NUT:
				f.PPS = n
			}
		}
		if f.VPS == nil || f.SPS == nil || f.PPS == nil {
			return nil, nil, errors.New("the encoder's first access unit lacks VPS, SPS or PPS")
		}
		forma = f
	default:
		f := &format.H264{PayloadTyp: 96, PacketizationMode: 1}
		for _, n := range first {
			switch h264.NALUType(n[0] & 0x1f) {
			case h264.NALUTypeSPS:
				f.SPS = n
			case h264.NALUTypePPS:
				f.PPS = n
			}
		}
		if f.SPS == nil || f.PPS == nil {
			return nil, nil, errors.New("the encoder's first access unit lacks SPS or PPS")
		}
		forma = f
	}
	return &description.Session{Medias: []*description.Media{{
		Type:    description.MediaTypeVideo,
		Formats: []format.Format{forma},
	}}}, forma, nil
}
