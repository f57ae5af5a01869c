package relay

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/webrtc/v4"
)

// ICEOptions configures candidate gathering the way MediaMTX does: one UDP
// port shared by every peer, an ICE-TCP port for viewers whose firewall
// blocks UDP, extra announced hosts, and loopback for same-host viewers.
type ICEOptions struct {
	UDPPort         int      // 0: no UDP
	TCPPort         int      // 0: no ICE-TCP
	AdditionalHosts []string // IPs announced as extra host candidates
	Interfaces      []string // gather only on these interfaces (empty = all)
	IncludeLoopback bool
	ICEServers      []webrtc.ICEServer
}

// Engine builds viewer PeerConnections that share the ICE sockets.
type Engine struct {
	api        *webrtc.API
	iceServers []webrtc.ICEServer
	closers    []func() error
}

// NewEngine opens the ICE sockets and prepares the WebRTC API.
func NewEngine(opts ICEOptions) (*Engine, error) {
	if opts.UDPPort == 0 && opts.TCPPort == 0 {
		return nil, errors.New("webrtc: both udp_port and tcp_port are 0; enable at least one")
	}
	e := &Engine{iceServers: opts.ICEServers}
	var se webrtc.SettingEngine
	se.SetIncludeLoopbackCandidate(opts.IncludeLoopback)
	var ifaceFilter func(string) bool
	if len(opts.Interfaces) > 0 {
		keep := map[string]bool{}
		for _, name := range opts.Interfaces {
			keep[name] = true
		}
		ifaceFilter = func(name string) bool { return keep[name] }
		se.SetInterfaceFilter(ifaceFilter)
	}
	// A viewer that vanishes is dropped within seconds, not pion's default half minute.
	se.SetICETimeouts(5*time.Second, 15*time.Second, 2*time.Second)
	var networks []webrtc.NetworkType
	if opts.UDPPort > 0 {
		muxOpts := []ice.UDPMuxFromPortOption{ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4)}
		if opts.IncludeLoopback {
			muxOpts = append(muxOpts, ice.UDPMuxFromPortWithLoopback())
		}
		if ifaceFilter != nil {
			muxOpts = append(muxOpts, ice.UDPMuxFromPortWithInterfaceFilter(ifaceFilter))
		}
		mux, err := ice.NewMultiUDPMuxFromPort(opts.UDPPort, muxOpts...)
		if err != nil {
			return nil, fmt.Errorf("webrtc: udp_port %d: %w", opts.UDPPort, err)
		}
		e.closers = append(e.closers, mux.Close)
		se.SetICEUDPMux(mux)
		networks = append(networks, webrtc.NetworkTypeUDP4)
	}
	if opts.TCPPort > 0 {
		ln, err := net.Listen("tcp4", net.JoinHostPort("", strconv.Itoa(opts.TCPPort)))
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("webrtc: tcp_port %d: %w", opts.TCPPort, err)
		}
		tcpMux := webrtc.NewICETCPMux(nil, ln, 16)
		e.closers = append(e.closers, tcpMux.Close)
		se.SetICETCPMux(tcpMux)
		networks = append(networks, webrtc.NetworkTypeTCP4)
	}
	se.SetNetworkTypes(networks)
	if len(opts.AdditionalHosts) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        opts.AdditionalHosts,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteAppend,
		})
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("webrtc: additional_hosts: %w", err)
		}
	}

	me := &webrtc.MediaEngine{}
	if err := registerH264(me); err != nil {
		e.Close()
		return nil, err
	}
	ir := &interceptor.Registry{}
	// NACK responder resends packets lost on the viewer's network; sender
	// reports let the browser map RTP time to wall clock. The responder
	// keeps the packets it was given instead of copying each one per
	// viewer: payloads are the relay's shared, never-modified packets and
	// every write has a header of its own (binding.write).
	if err := webrtc.ConfigureNackWithOptions(me, ir, nil, nack.DisableCopy()); err != nil {
		e.Close()
		return nil, err
	}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		e.Close()
		return nil, err
	}
	e.api = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	return e, nil
}

// registerH264 offers H.264 only: the relay never transcodes.
func registerH264(me *webrtc.MediaEngine) error {
	feedback := []webrtc.RTCPFeedback{{Type: "nack"}, {Type: "nack", Parameter: "pli"}, {Type: "ccm", Parameter: "fir"}}
	for i, profile := range []string{"42e01f", "42001f", "4d001f", "64001f"} {
		c := webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType:     webrtc.MimeTypeH264,
				ClockRate:    90000,
				SDPFmtpLine:  "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=" + profile,
				RTCPFeedback: feedback,
			},
			PayloadType: webrtc.PayloadType(102 + 2*i),
		}
		if err := me.RegisterCodec(c, webrtc.RTPCodecTypeVideo); err != nil {
			return fmt.Errorf("webrtc: register H.264 %s: %w", profile, err)
		}
	}
	return nil
}

// NewPeerConnection makes a viewer's PeerConnection.
func (e *Engine) NewPeerConnection() (*webrtc.PeerConnection, error) {
	return e.api.NewPeerConnection(webrtc.Configuration{ICEServers: e.iceServers})
}

// Close releases the ICE sockets.
func (e *Engine) Close() error {
	var errs []error
	for _, c := range e.closers {
		errs = append(errs, c())
	}
	return errors.Join(errs...)
}
