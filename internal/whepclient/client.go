// Package whepclient is a WHEP viewer built on pion: it plays a hallwatch
// camera the way a browser does (NACKs lost packets and waits for them in
// a jitter buffer, hands on only what a decoder could decode, asks for a
// key frame after a loss it could not repair) and hands back the H.264
// or H.265 access units it receives. Tests and the benchmark use it as a
// real WebRTC peer.
package whepclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph264"
	"github.com/bluenviron/gortsplib/v5/pkg/format/rtph265"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Exchange sends an SDP offer to the server and returns its answer.
type Exchange func(ctx context.Context, offer string) (answer string, err error)

// Unit is one received access unit.
type Unit struct {
	NALUs    [][]byte
	Key      bool
	RTPTime  uint32
	Received time.Time
}

// Options tunes a client.
type Options struct {
	// OnUnit, if set, is called on the receive goroutine for every unit;
	// otherwise units are queued on Units() (dropped when the queue is full).
	OnUnit func(Unit)
	// OnPacket, if set, sees every RTP packet as it arrives.
	OnPacket func(*rtp.Packet, time.Time)
	// Network restricts ICE to "udp" or "tcp" (empty: both).
	Network string
	// ReadBuffer, when positive, receives over one UDP socket on 127.0.0.1
	// with this kernel read buffer. A viewer on the same host as the server
	// gets key frames and GOP replays in one burst that a network path
	// would have spread out; the default buffer (about 90 packets) loses them.
	ReadBuffer int
	// AcceptRepeats turns SRTP replay protection off, so that a test sees
	// the packets it asked to be resent (SendNACK) a second time.
	AcceptRepeats bool
	// Codecs, if set, limits the offer to these video codecs
	// (webrtc.MimeTypeH264, webrtc.MimeTypeH265), as a browser that
	// decodes only those offers; default: pion's (both, among others).
	Codecs []string
	// MaxWait is how long a gap in the sequence numbers may wait for a
	// resent packet before it counts as lost (default 1 s: several NACK
	// rounds, as a browser keeps asking while the frame can still play).
	MaxWait time.Duration
	// KeyFrameOnLoss sends a PLI when a loss leaves the picture broken, as
	// browsers do.
	KeyFrameOnLoss bool
}

// Stats describe what a client received.
type Stats struct {
	Packets uint64 // RTP packets arrived (resends included)
	Lost    uint64 // packets given up after MaxWait
	Units   uint64 // access units handed on
	Dropped uint64 // units a decoder could not have decoded (incomplete, or after a loss until the next key frame)
	PLIs    uint64 // key frame requests sent after losses
}

// Client is one WHEP viewer.
type Client struct {
	pc    *webrtc.PeerConnection
	mux   ice.UDPMux // own socket (Options.ReadBuffer), or nil
	units chan Unit
	done  chan struct{}
	wg    sync.WaitGroup

	mu        sync.Mutex
	connected time.Time
	firstKey  time.Time
	codec     string
	stats     Stats
}

// Connect negotiates a session through exchange and starts receiving.
func Connect(ctx context.Context, exchange Exchange, opts Options) (*Client, error) {
	me, err := mediaEngine(opts.Codecs)
	if err != nil {
		return nil, err
	}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(true)
	switch opts.Network {
	case "udp":
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	case "tcp":
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	}
	se.DisableSRTPReplayProtection(opts.AcceptRepeats)
	var mux ice.UDPMux
	if opts.ReadBuffer > 0 {
		conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return nil, err
		}
		if err := conn.SetReadBuffer(opts.ReadBuffer); err != nil {
			conn.Close()
			return nil, err
		}
		mux = webrtc.NewICEUDPMux(nil, conn)
		se.SetICEUDPMux(mux)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se))
	pc, err := api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		if mux != nil {
			mux.Close()
		}
		return nil, err
	}
	c := &Client{pc: pc, mux: mux, units: make(chan Unit, 256), done: make(chan struct{})}
	if _, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeVideo,
		webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly}); err != nil {
		c.Close()
		return nil, err
	}
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			c.mu.Lock()
			c.connected = time.Now()
			c.mu.Unlock()
		}
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			c.receive(tr, opts)
		}()
	})

	offer, err := pc.CreateOffer(nil)
	if err != nil {
		c.Close()
		return nil, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		c.Close()
		return nil, err
	}
	select {
	case <-gathered:
	case <-ctx.Done():
		c.Close()
		return nil, ctx.Err()
	}
	answer, err := exchange(ctx, pc.LocalDescription().SDP)
	if err != nil {
		c.Close()
		return nil, err
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: answer}); err != nil {
		c.Close()
		return nil, fmt.Errorf("set answer: %w", err)
	}
	return c, nil
}

// mediaEngine registers pion's default codecs, or only the video codecs
// named.
func mediaEngine(codecs []string) (*webrtc.MediaEngine, error) {
	me := &webrtc.MediaEngine{}
	if len(codecs) == 0 {
		return me, me.RegisterDefaultCodecs()
	}
	feedback := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	for i, mime := range codecs {
		c := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: mime, ClockRate: 90000, RTCPFeedback: feedback},
			PayloadType:        webrtc.PayloadType(96 + i),
		}
		switch mime {
		case webrtc.MimeTypeH264:
			c.SDPFmtpLine = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"
		case webrtc.MimeTypeH265:
			c.SDPFmtpLine = "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"
		default:
			return nil, fmt.Errorf("whepclient: codec %q: want %s or %s", mime, webrtc.MimeTypeH264, webrtc.MimeTypeH265)
		}
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return nil, err
		}
	}
	return me, nil
}

// depacketizer turns ordered RTP packets into access units of one codec.
type depacketizer struct {
	decode func(*rtp.Packet) ([][]byte, error)
	key    func([][]byte) bool
}

func newDepacketizer(mime string) (*depacketizer, error) {
	if strings.EqualFold(mime, webrtc.MimeTypeH265) {
		dec := &rtph265.Decoder{}
		return &depacketizer{decode: dec.Decode, key: h265.IsRandomAccess}, dec.Init()
	}
	dec := &rtph264.Decoder{}
	return &depacketizer{decode: dec.Decode, key: h264.IsRandomAccess}, dec.Init()
}

func (c *Client) receive(tr *webrtc.TrackRemote, opts Options) {
	mime := tr.Codec().MimeType
	c.mu.Lock()
	c.codec = mime
	c.mu.Unlock()
	dep, err := newDepacketizer(mime)
	if err != nil {
		return
	}
	maxWait := opts.MaxWait
	if maxWait <= 0 {
		maxWait = time.Second
	}
	jb := newJitterBuffer(maxWait)
	broken := false // a loss: nothing decodes until the next key frame
	var lastPLI time.Time
	var out []released
	for {
		// Wake up now and then to give up gaps even when nothing arrives.
		_ = tr.SetReadDeadline(time.Now().Add(maxWait / 2))
		pkt, _, err := tr.ReadRTP()
		now := time.Now()
		var ne net.Error
		switch {
		case errors.As(err, &ne) && ne.Timeout():
			out = jb.expire(now, out[:0])
		case err != nil:
			return
		default:
			if opts.OnPacket != nil {
				opts.OnPacket(pkt, now)
			}
			c.count(func(s *Stats) { s.Packets++ })
			out = jb.push(pkt, now, out[:0])
		}
		for _, r := range out {
			if r.lost > 0 {
				c.count(func(s *Stats) { s.Lost += uint64(r.lost) })
				if dep, err = newDepacketizer(mime); err != nil { // drop the unit in progress
					return
				}
				broken = true
				if opts.KeyFrameOnLoss && now.Sub(lastPLI) > 500*time.Millisecond {
					lastPLI = now
					if c.SendPLI() == nil {
						c.count(func(s *Stats) { s.PLIs++ })
					}
				}
				continue
			}
			nalus, err := dep.decode(r.pkt)
			if err != nil {
				continue // more packets needed
			}
			u := Unit{NALUs: nalus, Key: dep.key(nalus), RTPTime: r.pkt.Timestamp, Received: now}
			if broken && !u.Key {
				c.count(func(s *Stats) { s.Dropped++ })
				continue
			}
			broken = false
			c.deliver(u, opts)
		}
	}
}

func (c *Client) deliver(u Unit, opts Options) {
	c.mu.Lock()
	if u.Key && c.firstKey.IsZero() {
		c.firstKey = u.Received
	}
	c.stats.Units++
	c.mu.Unlock()
	if opts.OnUnit != nil {
		opts.OnUnit(u)
		return
	}
	select {
	case c.units <- u:
	default:
	}
}

func (c *Client) count(f func(*Stats)) {
	c.mu.Lock()
	f(&c.stats)
	c.mu.Unlock()
}

// Stats returns what the client received so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Codec is the negotiated video codec's MIME type ("" before the track).
func (c *Client) Codec() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.codec
}

// Units delivers received access units (when Options.OnUnit is nil).
func (c *Client) Units() <-chan Unit { return c.units }

// Connected returns when the PeerConnection connected (zero if not yet).
func (c *Client) Connected() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected
}

// FirstKeyFrame returns when the first key frame arrived (zero if none yet).
func (c *Client) FirstKeyFrame() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstKey
}

// SendPLI asks the server for a key frame, as a browser does after loss.
func (c *Client) SendPLI() error {
	for _, tr := range c.pc.GetTransceivers() {
		if r := tr.Receiver(); r != nil && r.Track() != nil {
			return c.pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: uint32(r.Track().SSRC())}})
		}
	}
	return errors.New("no receiving track yet")
}

// SendNACK asks the server to resend the packets with these sequence
// numbers, as a browser does for packets lost on the way.
func (c *Client) SendNACK(seqs ...uint16) error {
	for _, tr := range c.pc.GetTransceivers() {
		if r := tr.Receiver(); r != nil && r.Track() != nil {
			return c.pc.WriteRTCP([]rtcp.Packet{&rtcp.TransportLayerNack{
				MediaSSRC: uint32(r.Track().SSRC()), Nacks: rtcp.NackPairsFromSequenceNumbers(seqs),
			}})
		}
	}
	return errors.New("no receiving track yet")
}

// Wait returns the next n access units, failing tb if they do not all
// arrive within timeout.
func (c *Client) Wait(tb testing.TB, n int, timeout time.Duration) []Unit {
	tb.Helper()
	deadline := time.After(timeout)
	var got []Unit
	for len(got) < n {
		select {
		case u := <-c.units:
			got = append(got, u)
		case <-deadline:
			tb.Fatalf("received %d access units, want %d (peer state %s)", len(got), n, c.State())
		}
	}
	return got
}

// State returns the PeerConnection state.
func (c *Client) State() webrtc.PeerConnectionState { return c.pc.ConnectionState() }

// Close hangs up and waits for the receive goroutines to end.
func (c *Client) Close() error {
	err := c.pc.Close()
	c.wg.Wait()
	if c.mux != nil {
		err = errors.Join(err, c.mux.Close())
	}
	return err
}

// HTTP returns an Exchange that POSTs the offer to a WHEP endpoint and
// stores the session URL in *location (for DELETE). header adds e.g. auth.
// A redirect is followed as client does (Go's client re-sends the body on
// 307: a cluster sends the viewer to the node running the camera, whose
// session URL is then absolute).
func HTTP(client *http.Client, endpoint string, header http.Header, location *string) Exchange {
	return func(ctx context.Context, offer string) (string, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewBufferString(offer))
		if err != nil {
			return "", err
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("Content-Type", "application/sdp")
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		if err != nil {
			return "", err
		}
		if resp.StatusCode != http.StatusCreated {
			return "", fmt.Errorf("WHEP POST %s: %s: %s", endpoint, resp.Status, bytes.TrimSpace(body))
		}
		if location != nil {
			*location = resp.Header.Get("Location")
		}
		return string(body), nil
	}
}
