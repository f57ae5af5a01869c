package ingest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/bluenviron/gortsplib/v5"
	"github.com/bluenviron/gortsplib/v5/pkg/base"
	"github.com/bluenviron/gortsplib/v5/pkg/description"
	"github.com/bluenviron/gortsplib/v5/pkg/format"
	"github.com/pion/rtp"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/internal/clock"
)

// DefaultReadTimeout is how long a camera may send no video before it
// counts as lost.
const DefaultReadTimeout = 10 * time.Second

// SourceConfig is what a Source needs to know about its camera.
type SourceConfig struct {
	Camera    string // camera ID, for status and logs
	URL       string // rtsp:// or rtsps://, may hold user:pass@
	Transport string // "auto" (or empty: UDP, then TCP if no UDP arrives), "tcp", "udp"
	// TLSConfig verifies rtsps:// cameras; nil uses the system roots.
	TLSConfig   *tls.Config
	Backoff     BackoffConfig
	ReadTimeout time.Duration // no video this long = camera lost
}

// NewSourceConfig takes a camera's settings from the configuration.
func NewSourceConfig(cam config.Camera, in config.Ingest) SourceConfig {
	return SourceConfig{
		Camera:    cam.ID,
		URL:       cam.URL,
		Transport: cam.Transport,
		Backoff: BackoffConfig{
			Min:          in.BackoffMin.D(),
			Max:          in.BackoffMax.D(),
			StablePeriod: in.StablePeriod.D(),
		},
		ReadTimeout: in.ReadTimeout.D(),
	}
}

// SourceOption changes a Source's defaults.
type SourceOption func(*Source)

// WithLogger sets the logger (default slog.Default()). Lines carry the
// camera ID; URLs and errors are redacted.
func WithLogger(l *slog.Logger) SourceOption {
	return func(s *Source) { s.log = l }
}

// Source pulls one camera over RTSP and publishes its video to a Hub,
// reconnecting forever with jittered backoff.
type Source struct {
	cfg    SourceConfig
	hub    *Hub
	log    *slog.Logger
	red    redactor
	status *statusTracker
}

// NewSource returns the source of one camera; Run starts it.
func NewSource(cfg SourceConfig, hub *Hub, opts ...SourceOption) *Source {
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = DefaultReadTimeout
	}
	s := &Source{
		cfg:    cfg,
		hub:    hub,
		log:    slog.Default(),
		red:    newRedactor(cfg.URL),
		status: newStatusTracker(cfg.Camera, time.Now()),
	}
	for _, o := range opts {
		o(s)
	}
	s.log = s.log.With("camera", cfg.Camera)
	return s
}

// Status returns the camera's current status; safe for concurrent use.
func (s *Source) Status() Status { return s.status.snapshot(time.Now()) }

// Run keeps the camera connected until ctx is cancelled, then returns nil.
// Call it once.
// A configuration that can never work (bad URL or transport) keeps the
// camera offline with that error; Run then returns it when ctx ends.
func (s *Source) Run(ctx context.Context) error {
	target, err := s.target()
	if err != nil {
		err = fmt.Errorf("camera %s: %s", s.cfg.Camera, s.red.redact(err.Error()))
		s.status.fail(err.Error(), time.Now())
		s.log.Error("camera cannot be used", "err", err)
		<-ctx.Done()
		return err
	}
	s.log.Info("ingest starting", "url", config.RedactURL(s.cfg.URL), "transport", target.transportName)

	backoff := NewBackoff(s.cfg.Backoff, clock.System{}, nil)
	lastErr := ""
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			s.status.reconnecting()
		}
		err := s.session(ctx, target, backoff)
		if ctx.Err() != nil {
			s.log.Info("ingest stopped")
			return nil
		}
		msg := s.red.redact(err.Error())
		was := s.status.fail(msg, time.Now())
		delay := backoff.Next()
		// A camera that stays down repeats itself: say it once.
		level := slog.LevelWarn
		if was == StateOffline && msg == lastErr {
			level = slog.LevelDebug
		}
		lastErr = msg
		s.log.Log(ctx, level, "camera offline", "err", msg, "retry_in", delay.Round(time.Millisecond))
		if backoff.Wait(ctx, delay) != nil {
			s.log.Info("ingest stopped")
			return nil
		}
	}
}

// target is a parsed, checked SourceConfig.
type target struct {
	url           *base.URL
	protocol      *gortsplib.Protocol
	transportName string
}

func (s *Source) target() (target, error) {
	u, err := base.ParseURL(s.cfg.URL)
	if err != nil {
		return target{}, fmt.Errorf("invalid camera URL: %w", err)
	}
	if u.Scheme != "rtsp" && u.Scheme != "rtsps" {
		return target{}, fmt.Errorf("camera URL scheme %q: want rtsp or rtsps", u.Scheme)
	}
	t := target{url: u}
	switch name := strings.ToLower(strings.TrimSpace(s.cfg.Transport)); name {
	case "", "auto":
		t.transportName = "auto"
	case "tcp":
		t.protocol, t.transportName = ptr(gortsplib.ProtocolTCP), name
	case "udp":
		t.protocol, t.transportName = ptr(gortsplib.ProtocolUDP), name
	default:
		return target{}, fmt.Errorf("invalid transport %q: want auto, tcp or udp", s.cfg.Transport)
	}
	return t, nil
}

func ptr[T any](v T) *T { return &v }

// session runs one connection: DESCRIBE, SETUP, PLAY, then publishes until
// the connection fails, the video stops for ReadTimeout, or ctx ends.
func (s *Source) session(ctx context.Context, t target, backoff *Backoff) error {
	c := &gortsplib.Client{
		Scheme:      t.url.Scheme,
		Host:        t.url.Host,
		Protocol:    t.protocol,
		ReadTimeout: s.cfg.ReadTimeout,
		TLSConfig:   s.cfg.TLSConfig,
		OnTransportSwitch: func(err error) {
			s.log.Info("switching transport", "reason", s.red.redact(err.Error()))
		},
		OnPacketsLost: func(n uint64) {
			s.log.Debug("RTP packets lost", "count", n)
		},
		OnDecodeError: func(err error) {
			s.log.Debug("RTP decode error", "err", s.red.redact(err.Error()))
		},
	}
	if err := c.Start(); err != nil {
		return err
	}
	defer c.Close()
	// Closing the client is what interrupts DESCRIBE/SETUP/PLAY and reads.
	stop := context.AfterFunc(ctx, c.Close)
	defer stop()

	desc, _, err := c.Describe(t.url)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	medi, forma, err := pickVideo(desc)
	if err != nil {
		return err
	}
	dp, err := newDepacketizer(forma)
	if err != nil {
		return err
	}
	if _, err := c.Setup(desc.BaseURL, medi, 0, 0); err != nil {
		return fmt.Errorf("setup: %w", err)
	}

	start := time.Now()
	var lastPacket atomic.Int64 // time since start, monotonic
	live := make(chan struct{})
	var liveOnce sync.Once
	clockRate := forma.ClockRate()

	c.OnPacketRTP(medi, forma, func(pkt *rtp.Packet) {
		now := time.Now()
		lastPacket.Store(int64(now.Sub(start)))
		ticks, ok := c.PacketPTS(medi, pkt)
		if !ok {
			return
		}
		au, err := dp.push(pkt, ticksToDuration(ticks, clockRate), now)
		if err != nil {
			if !errors.Is(err, errNeedMore) {
				s.log.Debug("video dropped", "err", err)
			}
			return
		}
		if info, ok := dp.takeStream(); ok {
			s.hub.SetStream(info)
			s.status.stream(info.Codec, info.Width, info.Height)
			s.log.Info("video stream", "codec", info.Codec, "width", info.Width, "height", info.Height)
		}
		liveOnce.Do(func() {
			s.status.setState(StateLive, now)
			close(live)
		})
		s.status.frame(now, au.Size())
		s.hub.Publish(au)
	})

	if _, err := c.Play(nil); err != nil {
		return fmt.Errorf("play: %w", err)
	}
	s.status.transport(transportOf(c))
	defer s.status.transport("")

	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	check := time.NewTicker(min(time.Second, s.cfg.ReadTimeout/4))
	defer check.Stop()
	for {
		select {
		case err := <-done:
			return fmt.Errorf("connection lost: %w", err)
		case <-live:
			backoff.Live()
			s.log.Info("camera live", "transport", transportOf(c))
			live = nil
		case <-check.C:
			s.status.transport(transportOf(c)) // auto may have switched to TCP
			if idle := time.Since(start) - time.Duration(lastPacket.Load()); idle >= s.cfg.ReadTimeout {
				return fmt.Errorf("no video for %v", idle.Round(time.Second))
			}
		}
	}
}

// pickVideo chooses the camera's H.264 track, else its H.265 track.
func pickVideo(desc *description.Session) (*description.Media, format.Format, error) {
	var h264 *format.H264
	if m := desc.FindFormat(&h264); m != nil {
		return m, h264, nil
	}
	var h265 *format.H265
	if m := desc.FindFormat(&h265); m != nil {
		return m, h265, nil
	}
	var found []string
	for _, m := range desc.Medias {
		for _, f := range m.Formats {
			found = append(found, f.RTPMap())
		}
	}
	return nil, nil, fmt.Errorf("camera offers no H.264 or H.265 video (tracks: %s)", strings.Join(found, ", "))
}

func transportOf(c *gortsplib.Client) string {
	if tr := c.Transport(); tr != nil && tr.Session != nil {
		return tr.Session.Protocol.String()
	}
	return ""
}

// ticksToDuration converts RTP clock ticks without overflowing on streams
// that run for days.
func ticksToDuration(ticks int64, rate int) time.Duration {
	r := int64(rate)
	return time.Duration(ticks/r)*time.Second + time.Duration(ticks%r)*time.Second/time.Duration(r)
}
