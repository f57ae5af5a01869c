package viewer

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Errors a WHEP request can meet; the HTTP layer maps them to status codes.
var (
	ErrBadOffer       = errors.New("bad SDP offer")
	ErrUnknownCamera  = errors.New("unknown camera")
	ErrNotPlayable    = errors.New("camera stream cannot be played in a browser")
	ErrTooManyViewers = errors.New("too many viewers")
	ErrNoSession      = errors.New("no such WHEP session")
)

const (
	// gatherTimeout bounds ICE gathering; host and mux candidates take milliseconds.
	gatherTimeout = 5 * time.Second
	// connectTimeout drops a session whose viewer never completes ICE/DTLS.
	connectTimeout = 30 * time.Second
)

// ViewerSession describes one WHEP viewer, for audit and status.
type ViewerSession struct {
	ID      string
	Camera  string
	User    string
	Started time.Time
	// Connected is when media could flow; zero if ICE/DTLS never completed.
	Connected time.Time
	Ended     time.Time
}

// Viewers negotiates and tracks WHEP sessions.
type Viewers struct {
	engine *Engine
	relay  func(camera string) (*Relay, error)
	max    int
	onEnd  func(ViewerSession)

	mu       sync.Mutex
	sessions map[string]*session
}

type session struct {
	info      ViewerSession
	pc        *webrtc.PeerConnection
	closeOnce sync.Once
	done      chan struct{}
	ended     chan struct{} // closed after the peer closed and onEnd returned
}

// NewViewers makes the WHEP session manager. relay resolves a camera id to
// its relay (ErrUnknownCamera, ErrNotPlayable); onEnd, if set, is called
// once per session when it ends.
func NewViewers(engine *Engine, relay func(camera string) (*Relay, error), max int, onEnd func(ViewerSession)) *Viewers {
	return &Viewers{engine: engine, relay: relay, max: max, onEnd: onEnd, sessions: map[string]*session{}}
}

// Offer answers a viewer's SDP offer for a camera; the answer carries all
// candidates (no trickle).
func (v *Viewers) Offer(ctx context.Context, camera, user, offer string) (id, answer string, err error) {
	if err := checkOffer(offer); err != nil {
		return "", "", err
	}
	relay, err := v.relay(camera)
	if err != nil {
		return "", "", err
	}
	v.mu.Lock()
	full := len(v.sessions) >= v.max
	v.mu.Unlock()
	if full {
		return "", "", ErrTooManyViewers
	}

	pc, err := v.engine.NewPeerConnection()
	if err != nil {
		return "", "", fmt.Errorf("new peer connection: %w", err)
	}
	s := &session{
		info: ViewerSession{ID: newSessionID(), Camera: camera, User: user, Started: time.Now()},
		pc:   pc, done: make(chan struct{}), ended: make(chan struct{}),
	}
	tr, err := pc.AddTransceiverFromTrack(relay.Track(), webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		pc.Close()
		return "", "", fmt.Errorf("add track: %w", err)
	}
	ssrc := tr.Sender().GetParameters().Encodings[0].SSRC

	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			v.mu.Lock()
			if s.info.Connected.IsZero() {
				s.info.Connected = time.Now()
			}
			v.mu.Unlock()
			relay.Activate(ssrc)
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			v.end(s)
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		pc.Close()
		return "", "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		pc.Close()
		return "", "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		pc.Close()
		return "", "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		pc.Close()
		return "", "", errors.New("ICE gathering timed out")
	case <-ctx.Done():
		pc.Close()
		return "", "", ctx.Err()
	}

	v.mu.Lock()
	v.sessions[s.info.ID] = s
	v.mu.Unlock()
	go drainRTCP(tr.Sender(), relay, ssrc)
	go v.expireUnconnected(s)
	return s.info.ID, pc.LocalDescription().SDP, nil
}

// Offer limits: a browser's offer is a few KiB with a handful of sections.
const (
	maxOfferBytes    = 64 << 10
	maxOfferSections = 16
)

// checkOffer rejects offers that cannot lead to a video session before any
// ICE work is done: too big, not SDP, too many sections, no ICE
// credentials or DTLS fingerprint, no H.264 video.
func checkOffer(offer string) error {
	if len(offer) > maxOfferBytes {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrBadOffer, len(offer), maxOfferBytes)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	if n := len(sd.MediaDescriptions); n > maxOfferSections {
		return fmt.Errorf("%w: %d media sections, limit %d", ErrBadOffer, n, maxOfferSections)
	}
	hasAttr := func(m *sdp.MediaDescription, key string) bool {
		_, inMedia := m.Attribute(key)
		_, inSession := sd.Attribute(key)
		return inMedia || inSession
	}
	for i, m := range sd.MediaDescriptions {
		if m.MediaName.Media != "video" {
			continue
		}
		for _, key := range []string{"ice-ufrag", "ice-pwd", "fingerprint"} {
			if !hasAttr(m, key) {
				return fmt.Errorf("%w: video section %d has no a=%s", ErrBadOffer, i, key)
			}
		}
		for _, a := range m.Attributes {
			if a.Key == "rtpmap" && strings.Contains(strings.ToUpper(a.Value), " H264/") {
				return nil
			}
		}
		return fmt.Errorf("%w: video section %d offers no H.264, the only codec the relay sends", ErrBadOffer, i)
	}
	return fmt.Errorf("%w: no video media section", ErrBadOffer)
}

// drainRTCP reads the viewer's RTCP (so interceptors see receiver reports
// and NACKs) and answers picture-loss requests from the GOP cache. It ends
// when the sender stops.
func drainRTCP(sender *webrtc.RTPSender, relay *Relay, ssrc webrtc.SSRC) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				relay.RequestKeyFrame(ssrc)
			}
		}
	}
}

func (v *Viewers) expireUnconnected(s *session) {
	t := time.NewTimer(connectTimeout)
	defer t.Stop()
	select {
	case <-s.done:
	case <-t.C:
		if s.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			v.end(s)
		}
	}
}

// Hangup ends a session (WHEP DELETE). The camera must match the session's.
func (v *Viewers) Hangup(camera, id string) error {
	v.mu.Lock()
	s, ok := v.sessions[id]
	v.mu.Unlock()
	if !ok || s.info.Camera != camera {
		return ErrNoSession
	}
	v.end(s)
	return nil
}

// Session returns a live session's description.
func (v *Viewers) Session(id string) (ViewerSession, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s, ok := v.sessions[id]
	if !ok {
		return ViewerSession{}, false
	}
	return s.info, true
}

// CloseUser ends every session of a user (logout, account disabled).
func (v *Viewers) CloseUser(user string) {
	for _, s := range v.list(func(s *session) bool { return s.info.User == user }) {
		v.end(s)
	}
}

// Sessions describes the live sessions.
func (v *Viewers) Sessions() []ViewerSession {
	var out []ViewerSession
	for _, s := range v.list(func(*session) bool { return true }) {
		out = append(out, s.info)
	}
	return out
}

// Count returns the number of sessions.
func (v *Viewers) Count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.sessions)
}

// Close ends every session and waits for their onEnd callbacks (the
// audit of who watched must be written before the store closes).
func (v *Viewers) Close() {
	sessions := v.list(func(*session) bool { return true })
	for _, s := range sessions {
		v.end(s)
	}
	for _, s := range sessions {
		<-s.ended
	}
}

func (v *Viewers) list(keep func(*session) bool) []*session {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []*session
	for _, s := range v.sessions {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}

// end closes a session once, whoever notices first (DELETE, ICE failure,
// timeout, logout).
func (v *Viewers) end(s *session) {
	s.closeOnce.Do(func() {
		close(s.done)
		v.mu.Lock()
		delete(v.sessions, s.info.ID)
		v.mu.Unlock()
		// Close from a fresh goroutine: end may run inside a pion callback.
		go func() {
			defer close(s.ended)
			s.pc.Close()
			if v.onEnd != nil {
				v.mu.Lock()
				info := s.info
				v.mu.Unlock()
				info.Ended = time.Now()
				v.onEnd(info)
			}
		}()
	})
}

func newSessionID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
