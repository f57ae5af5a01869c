// Package tcpproxy stands a TCP relay on loopback between a client and a
// server, so that a test or the bench can cut the network between them
// (a switch reboot, a partition) while the server keeps running: every
// connection is dropped and new ones are refused for a while. It records
// each connection attempt.
package tcpproxy

import (
	"io"
	"net"
	"sync"
	"time"
)

// Proxy relays a loopback port to an upstream address.
type Proxy struct {
	ln       net.Listener
	upstream string

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	downTill time.Time
	closed   bool
	attempts []Attempt
	wg       sync.WaitGroup
}

// Attempt is one connection a client made to the proxy.
type Attempt struct {
	At       time.Time
	Accepted bool // false: refused while cut
}

// forever is a cut without an end (Cut).
var forever = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

// New relays a new port on 127.0.0.1 to upstream (host:port) until Close.
func New(upstream string) (*Proxy, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		now := time.Now()
		p.mu.Lock()
		down := now.Before(p.downTill)
		p.attempts = append(p.attempts, Attempt{At: now, Accepted: !down})
		p.mu.Unlock()
		if down {
			c.Close() // the network is down
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(c)
		}()
	}
}

func (p *Proxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp4", p.upstream)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.closed || time.Now().Before(p.downTill) {
		p.mu.Unlock()
		c.Close()
		up.Close()
		return
	}
	p.conns[c], p.conns[up] = struct{}{}, struct{}{}
	p.mu.Unlock()
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	c.Close()
	up.Close()
	<-done
	p.mu.Lock()
	delete(p.conns, c)
	delete(p.conns, up)
	p.mu.Unlock()
}

// CutUntil drops every connection and refuses new ones until until.
func (p *Proxy) CutUntil(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downTill = until
	for c := range p.conns {
		c.Close()
	}
}

// Cut drops every connection and refuses new ones until Restore.
func (p *Proxy) Cut() { p.CutUntil(forever) }

// Restore lets connections through again.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downTill = time.Time{}
}

// AttemptsSince returns the connection attempts from t on.
func (p *Proxy) AttemptsSince(t time.Time) []Attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Attempt
	for _, a := range p.attempts {
		if !a.At.Before(t) {
			out = append(out, a)
		}
	}
	return out
}

// Close stops the proxy and waits for its goroutines.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.CutUntil(time.Time{})
	p.wg.Wait()
}
