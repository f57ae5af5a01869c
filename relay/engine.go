package relay

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/hallwatch/hallwatch/relay/internal/udpbatch"
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
	batch      udpbatch.Group
	conns      []*udpbatch.Conn
}

// Batcher groups the writes to the engine's UDP sockets; relays open a
// batch around each fan-out (Options.Batch).
func (e *Engine) Batcher() Batcher { return &e.batch }

// SocketStats count what the engine's UDP sockets sent.
type SocketStats = udpbatch.Stats

// SocketStats adds up what the engine's UDP sockets sent.
func (e *Engine) SocketStats() SocketStats {
	var s SocketStats
	for _, c := range e.conns {
		st := c.Stats()
		s.Packets += st.Packets
		s.Syscalls += st.Syscalls
		s.Messages += st.Messages
		s.Errors += st.Errors
		s.GSO = s.GSO || st.GSO
	}
	return s
}

// listenUDP opens the UDP port on every IPv4 address of the chosen
// interfaces (as pion's NewMultiUDPMuxFromPort does), each socket wrapped
// so that a fan-out's packets leave in batches.
func (e *Engine) listenUDP(opts ICEOptions, keepIface func(string) bool) (ice.UDPMux, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	var muxes []ice.UDPMux
	fail := func(err error) (ice.UDPMux, error) {
		for _, m := range muxes {
			m.Close()
		}
		return nil, err
	}
	for _, iface := range ifaces {
		loopback := iface.Flags&net.FlagLoopback != 0
		if iface.Flags&net.FlagUp == 0 || (loopback && !opts.IncludeLoopback) || (keepIface != nil && !keepIface(iface.Name)) {
			continue
		}
		addrs, err := iface.Addrs()
		if err != nil {
			continue
		}
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.To4() == nil {
				continue
			}
			udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ipn.IP, Port: opts.UDPPort})
			if err != nil {
				return fail(err)
			}
			conn := udpbatch.New(udp, &e.batch)
			e.conns = append(e.conns, conn)
			muxes = append(muxes, ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn}))
		}
	}
	if len(muxes) == 0 {
		return nil, errors.New("no IPv4 address on the chosen interfaces")
	}
	return ice.NewMultiUDPMuxDefault(muxes...), nil
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
		mux, err := e.listenUDP(opts, ifaceFilter)
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
	if err := registerCodecs(me); err != nil {
		e.Close()
		return nil, err
	}
	// Sender reports let the browser map RTP time to wall clock. NACKs
	// are answered by the relay itself (Relay.Resend): it keeps what it
	// sent each viewer without a copy, and bounds what it sends again.
	ir := &interceptor.Registry{}
	if err := webrtc.ConfigureRTCPReports(ir); err != nil {
		e.Close()
		return nil, err
	}
	e.api = webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir))
	return e, nil
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
