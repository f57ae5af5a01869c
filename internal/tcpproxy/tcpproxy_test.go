package tcpproxy

import (
	"bufio"
	"net"
	"testing"
	"time"
)

// echo serves lines back on loopback until the test ends.
func echo(t *testing.T) string {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					c.Write(append(sc.Bytes(), '\n'))
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line through a new connection; false if the proxy
// refused or dropped it.
func roundTrip(c net.Conn) bool {
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("ping\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && line == "ping\n"
}

func TestCutAndRestore(t *testing.T) {
	p, err := New(echo(t))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	before := time.Now()
	c, err := net.Dial("tcp4", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if !roundTrip(c) {
		t.Fatal("no echo through the proxy")
	}
	p.Cut()
	if roundTrip(c) {
		t.Error("a connection survived the cut")
	}
	c.Close()
	if c, err := net.Dial("tcp4", p.Addr()); err == nil {
		if roundTrip(c) {
			t.Error("a new connection went through while cut")
		}
		c.Close()
	}
	p.Restore()
	c, err = net.Dial("tcp4", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if !roundTrip(c) {
		t.Error("no echo after Restore")
	}
	var accepted, refused int
	for _, a := range p.AttemptsSince(before) {
		if a.Accepted {
			accepted++
		} else {
			refused++
		}
	}
	if accepted != 2 || refused != 1 {
		t.Errorf("attempts: %d accepted, %d refused; want 2 and 1", accepted, refused)
	}
}
