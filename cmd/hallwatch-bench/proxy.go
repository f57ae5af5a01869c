package main

import (
	"io"
	"net"
	"sync"
	"time"
)

// proxy stands between hallwatch and one camera, so the bench can drop
// the camera's network the way a switch reboot does: cut every connection
// and refuse new ones for a while. It records each connection attempt.
type proxy struct {
	ln       net.Listener
	upstream string

	mu       sync.Mutex
	conns    map[net.Conn]struct{}
	downTill time.Time
	closed   bool
	attempts []attempt
	wg       sync.WaitGroup
}

type attempt struct {
	at       time.Time
	accepted bool
}

func newProxy(upstream string) (*proxy, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, upstream: upstream, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

func (p *proxy) Addr() string { return p.ln.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		now := time.Now()
		p.mu.Lock()
		down := now.Before(p.downTill)
		p.attempts = append(p.attempts, attempt{at: now, accepted: !down})
		p.mu.Unlock()
		if down {
			c.Close() // the camera is "unreachable"
			continue
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			p.pipe(c)
		}()
	}
}

func (p *proxy) pipe(c net.Conn) {
	up, err := net.Dial("tcp4", p.upstream)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	if p.closed {
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

// cut drops every connection and refuses new ones until until.
func (p *proxy) cut(until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.downTill = until
	for c := range p.conns {
		c.Close()
	}
}

// attemptsSince returns the connection attempts from t on.
func (p *proxy) attemptsSince(t time.Time) []attempt {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []attempt
	for _, a := range p.attempts {
		if !a.at.Before(t) {
			out = append(out, a)
		}
	}
	return out
}

func (p *proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.cut(time.Time{})
	p.wg.Wait()
}
