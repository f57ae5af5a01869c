package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/ids"
)

// Errors a WHEP request can meet; the HTTP layer maps them to status codes.
var (
	ErrBadOffer       = errors.New("bad SDP offer")
	ErrUnknownCamera  = errors.New("unknown camera")
	ErrNotPlayable    = errors.New("camera stream cannot be played in a browser")
	ErrTooManyViewers = errors.New("too many viewers")
	ErrTooManyForUser = errors.New("too many live videos open for this user")
	ErrNoSession      = errors.New("no such WHEP session")
	// ErrNotHere: the camera is configured, but this process does not run
	// it now (another node of the cluster does, or it is moving).
	ErrNotHere = errors.New("camera is not run by this node now")
)

// gatherTimeout bounds ICE gathering; host and mux candidates take milliseconds.
const gatherTimeout = 5 * time.Second

// Limits bound the WHEP sessions.
type Limits struct {
	// Max sessions in all, PerUser of them for one user, so that one user
	// (or a stolen login) cannot take every slot.
	Max, PerUser int
	// ConnectTimeout ends a session whose viewer has not completed ICE and
	// DTLS by then, freeing its slot.
	ConnectTimeout time.Duration
}

// Viewer is who asks to watch, as the session keeps it for the audit log
// and for ending the session when the login that opened it ends.
type Viewer struct {
	User   string
	Remote string // client address
	// Login names the browser session or token that opened it (opaque
	// here): the web ends the session when that login ends.
	Login string
}

// Session describes one WHEP viewer, for audit and status.
type Session struct {
	ID     string
	Camera string
	Viewer
	Started time.Time
	// Connected is when media could flow; zero if ICE/DTLS never completed.
	Connected time.Time
	Ended     time.Time
}

// Lookup finds the relay of a camera for a viewer that decodes the
// offered codecs (see Camera.Pick).
type Lookup func(camera string, offered []ingest.Codec) (*Relay, error)

// Sessions negotiates and tracks WHEP sessions.
type Sessions struct {
	engine *Engine
	relay  Lookup
	limits Limits
	onEnd  func(Session)

	mu    sync.Mutex
	peers map[string]*peer
	// Slots are taken before any ICE work and given back when a session
	// ends or fails to start, so parallel offers cannot pass the limits.
	slots   int
	perUser map[string]int
}

// peer is one session's WebRTC side.
type peer struct {
	info      Session
	pc        *webrtc.PeerConnection
	closeOnce sync.Once
	slotFreed sync.Once
	done      chan struct{}
	ended     chan struct{} // closed after the peer closed and onEnd returned
}

// NewSessions makes the WHEP session manager. relay resolves a camera id to
// its relay (ErrUnknownCamera, ErrNotPlayable); onEnd, if set, is called
// once per session when it ends.
func NewSessions(engine *Engine, relay Lookup, limits Limits, onEnd func(Session)) *Sessions {
	return &Sessions{engine: engine, relay: relay, limits: limits, onEnd: onEnd, peers: map[string]*peer{}, perUser: map[string]int{}}
}

// reserve takes a slot for one of user's sessions.
func (v *Sessions) reserve(user string) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.perUser[user] >= v.limits.PerUser {
		return fmt.Errorf("%w (%d at most)", ErrTooManyForUser, v.limits.PerUser)
	}
	if v.slots >= v.limits.Max {
		return ErrTooManyViewers
	}
	v.slots++
	v.perUser[user]++
	return nil
}

// freeSlot gives p's slot back, once, whoever notices first that p is
// over (a failed offer, end).
func (v *Sessions) freeSlot(p *peer) {
	p.slotFreed.Do(func() {
		v.mu.Lock()
		defer v.mu.Unlock()
		v.slots--
		if v.perUser[p.info.User]--; v.perUser[p.info.User] <= 0 {
			delete(v.perUser, p.info.User)
		}
	})
}

// Offer answers a viewer's SDP offer for a camera; the answer carries all
// candidates (no trickle).
func (v *Sessions) Offer(ctx context.Context, camera string, who Viewer, offer string) (_ Session, _ string, err error) {
	offered, err := checkOffer(offer)
	if err != nil {
		return Session{}, "", err
	}
	relay, err := v.relay(camera, offered)
	if err != nil {
		return Session{}, "", err
	}
	if err := v.reserve(who.User); err != nil {
		return Session{}, "", err
	}
	p := &peer{
		info: Session{ID: ids.New(), Camera: camera, Viewer: who, Started: time.Now()},
		done: make(chan struct{}), ended: make(chan struct{}),
	}
	defer func() {
		if err != nil {
			v.freeSlot(p) // a started session gives it back when it ends
		}
	}()
	pc, err := v.engine.NewPeerConnection()
	if err != nil {
		return Session{}, "", fmt.Errorf("new peer connection: %w", err)
	}
	p.pc = pc
	tr, err := pc.AddTransceiverFromTrack(relay.Track(), webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly})
	if err != nil {
		pc.Close()
		return Session{}, "", fmt.Errorf("add track: %w", err)
	}
	if err := tr.SetCodecPreferences(codecsFor(relay.Codec())); err != nil {
		pc.Close()
		return Session{}, "", fmt.Errorf("codec preferences: %w", err)
	}
	ssrc := tr.Sender().GetParameters().Encodings[0].SSRC

	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		switch st {
		case webrtc.PeerConnectionStateConnected:
			v.mu.Lock()
			if p.info.Connected.IsZero() {
				p.info.Connected = time.Now()
			}
			v.mu.Unlock()
			relay.Activate(ssrc)
		case webrtc.PeerConnectionStateFailed, webrtc.PeerConnectionStateClosed:
			v.end(p)
		}
	})
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: offer}); err != nil {
		pc.Close()
		return Session{}, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		pc.Close()
		return Session{}, "", fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(ans); err != nil {
		pc.Close()
		return Session{}, "", fmt.Errorf("set local description: %w", err)
	}
	select {
	case <-gathered:
	case <-time.After(gatherTimeout):
		pc.Close()
		return Session{}, "", errors.New("ICE gathering timed out")
	case <-ctx.Done():
		pc.Close()
		return Session{}, "", ctx.Err()
	}

	v.mu.Lock()
	select {
	case <-p.done: // ICE failed or the peer closed while negotiating
		v.mu.Unlock()
		return Session{}, "", errors.New("the WebRTC session failed while it was negotiated")
	default:
	}
	v.peers[p.info.ID] = p
	v.mu.Unlock()
	go drainRTCP(tr.Sender(), relay, ssrc)
	go v.expireUnconnected(p)
	return p.info, pc.LocalDescription().SDP, nil
}

// Offer limits: a browser's offer is a few KiB with a handful of sections.
const (
	// MaxOfferBytes is the largest SDP offer accepted.
	MaxOfferBytes    = 64 << 10
	maxOfferSections = 16
)

// checkOffer rejects offers that cannot lead to a video session before any
// ICE work is done: too big, not SDP, too many sections, no ICE
// credentials or DTLS fingerprint, neither H.264 nor H.265 video. It
// returns the codecs the first video section offers.
func checkOffer(offer string) ([]ingest.Codec, error) {
	if len(offer) > MaxOfferBytes {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadOffer, len(offer), MaxOfferBytes)
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadOffer, err)
	}
	if n := len(sd.MediaDescriptions); n > maxOfferSections {
		return nil, fmt.Errorf("%w: %d media sections, limit %d", ErrBadOffer, n, maxOfferSections)
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
				return nil, fmt.Errorf("%w: video section %d has no a=%s", ErrBadOffer, i, key)
			}
		}
		var offered []ingest.Codec
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			for _, c := range []ingest.Codec{ingest.CodecH264, ingest.CodecH265} {
				if strings.Contains(strings.ToUpper(a.Value), " "+string(c)+"/") && !slices.Contains(offered, c) {
					offered = append(offered, c)
				}
			}
		}
		if len(offered) == 0 {
			return nil, fmt.Errorf("%w: video section %d offers neither H.264 nor H.265, the codecs the relay sends", ErrBadOffer, i)
		}
		return offered, nil
	}
	return nil, fmt.Errorf("%w: no video media section", ErrBadOffer)
}

// drainRTCP reads the viewer's RTCP (so interceptors see receiver
// reports), answers NACKs from what was sent to the viewer and
// picture-loss requests from the GOP cache. It ends when the sender stops.
func drainRTCP(sender *webrtc.RTPSender, relay *Relay, ssrc webrtc.SSRC) {
	for {
		pkts, _, err := sender.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				relay.RequestKeyFrame(ssrc)
			case *rtcp.TransportLayerNack:
				relay.Resend(ssrc, p)
			}
		}
	}
}

func (v *Sessions) expireUnconnected(p *peer) {
	t := time.NewTimer(v.limits.ConnectTimeout)
	defer t.Stop()
	select {
	case <-p.done:
	case <-t.C:
		if p.pc.ConnectionState() != webrtc.PeerConnectionStateConnected {
			v.end(p)
		}
	}
}

// Hangup ends a session (WHEP DELETE). The camera must match the session's.
func (v *Sessions) Hangup(camera, id string) error {
	v.mu.Lock()
	p, ok := v.peers[id]
	v.mu.Unlock()
	if !ok || p.info.Camera != camera {
		return ErrNoSession
	}
	v.end(p)
	return nil
}

// Session returns a live session's description.
func (v *Sessions) Session(id string) (Session, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	p, ok := v.peers[id]
	if !ok {
		return Session{}, false
	}
	return p.info, true
}

// CloseUser ends every session of a user (logout, account disabled).
func (v *Sessions) CloseUser(user string) {
	for _, p := range v.list(func(p *peer) bool { return p.info.User == user }) {
		v.end(p)
	}
}

// CloseCamera ends every session of a camera this process stops relaying
// (in a cluster, the camera moved to another node): the viewers notice at
// once and ask again, to be sent to the node that relays it now.
func (v *Sessions) CloseCamera(camera string) {
	for _, p := range v.list(func(p *peer) bool { return p.info.Camera == camera }) {
		v.end(p)
	}
}

// Sessions describes the live sessions.
func (v *Sessions) Sessions() []Session {
	var out []Session
	for _, p := range v.list(func(*peer) bool { return true }) {
		out = append(out, p.info)
	}
	return out
}

// Count returns the number of sessions.
func (v *Sessions) Count() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return len(v.peers)
}

// Close ends every session and waits for their onEnd callbacks (the
// audit of who watched must be written before the store closes).
func (v *Sessions) Close() {
	peers := v.list(func(*peer) bool { return true })
	for _, p := range peers {
		v.end(p)
	}
	for _, p := range peers {
		<-p.ended
	}
}

func (v *Sessions) list(keep func(*peer) bool) []*peer {
	v.mu.Lock()
	defer v.mu.Unlock()
	var out []*peer
	for _, p := range v.peers {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// end closes a session once, whoever notices first (DELETE, ICE failure,
// timeout, logout).
func (v *Sessions) end(p *peer) {
	p.closeOnce.Do(func() {
		close(p.done)
		v.mu.Lock()
		delete(v.peers, p.info.ID)
		v.mu.Unlock()
		v.freeSlot(p)
		// Close from a fresh goroutine: end may run inside a pion callback.
		go func() {
			defer close(p.ended)
			p.pc.Close()
			if v.onEnd != nil {
				v.mu.Lock()
				info := p.info
				v.mu.Unlock()
				info.Ended = time.Now()
				v.onEnd(info)
			}
		}()
	})
}
