package web

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/internal/floodtest"
)

// dialFrom opens a TCP connection to addr from local address ip (any of
// 127.0.0.0/8 works on Linux's loopback).
func dialFrom(ip, addr string) (net.Conn, error) {
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 10 * time.Second}
	return d.Dial("tcp", addr)
}

// TestConnectionCaps: past http.max_connections_per_address from one
// address, or http.max_connections in all, a connection is answered 503
// (with the security headers) without its request being read, and closed;
// closing connections gives their places back.
func TestConnectionCaps(t *testing.T) {
	r := newAuthRig(t, rigOptions{httpYAML: "  max_connections: 8\n  max_connections_per_address: 3\n"})
	addr := strings.TrimPrefix(r.base, "http://")
	var held []net.Conn
	t.Cleanup(func() {
		for _, c := range held {
			c.Close()
		}
	})
	hold := func(ip string) {
		t.Helper()
		c, err := dialFrom(ip, addr)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		// A request begun and never finished, as a slow flood sends it.
		io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n")
	}
	refused := func(ip, what string) {
		t.Helper()
		c, err := dialFrom(ip, addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(15 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s: no answer: %v", what, err)
		}
		body, _ := io.ReadAll(resp.Body)
		checkSecurityHeaders(t, what, resp, http.StatusServiceUnavailable)
		if resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "too many connections") {
			t.Errorf("%s: %v %s", what, resp.Header, body)
		}
	}
	for range 3 {
		hold("127.0.0.2")
	}
	refused("127.0.0.2", "a 4th connection from one address")
	for _, ip := range []string{"127.0.0.3", "127.0.0.3", "127.0.0.3", "127.0.0.4", "127.0.0.4"} {
		hold(ip)
	}
	refused("127.0.0.5", "a 9th connection in all")
	for _, c := range held {
		c.Close()
	}
	held = nil
	waitUntil(t, "the server to answer again", func() bool { return floodtest.Healthy(r.base) })
}

// TestAcceptSurvivesFileExhaustion floods a server in a child process
// whose open-file limit is low: accept fails with EMFILE, which fasthttp
// used to take as the end of serving. The server must wait it out and
// answer again once the flood's connections close.
func TestAcceptSurvivesFileExhaustion(t *testing.T) {
	if floodtest.IsChild(t.Name()) {
		exhaustFiles(t)
		return
	}
	child := floodtest.Start(t)
	flood := floodtest.Flood(t, child.Await("ADDR"), 300)
	t.Logf("flood: %d connections from 8 addresses", len(flood))
	child.Tell("FLOODED")
	t.Logf("child: %s", child.Await("EXHAUSTED"))
	for _, c := range flood {
		c.Close()
	}
	child.Tell("CLOSED")
	child.Wait()
}

// exhaustFiles is the child: it serves with an open-file limit a little
// above what it uses while the parent floods it.
func exhaustFiles(t *testing.T) {
	r := newAuthRig(t, rigOptions{})
	// Serving: the connection caps were set from the limit as it was
	// (half of a low limit would refuse the flood before it exhausts it).
	r.do(t, anonymous, "GET", "/healthz", "", nil)
	r.client.CloseIdleConnections()
	limit := floodtest.LowerFileLimit(t, 30)
	floodtest.Say("ADDR", strings.TrimPrefix(r.base, "http://"))
	floodtest.Hear(t, "FLOODED")
	waitUntil(t, "the process to run out of descriptors", floodtest.OutOfFiles)
	floodtest.Say("EXHAUSTED", "accept failed with the open-file limit at", limit)
	floodtest.Hear(t, "CLOSED")
	waitUntil(t, "the server to answer again", func() bool { return floodtest.Healthy(r.base) })
	if strings.Contains(r.log.String(), "web server failed") {
		t.Errorf("the HTTP server stopped serving:\n%s", r.log.String())
	}
}
