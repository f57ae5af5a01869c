package web

import (
	"errors"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"time"
)

// limitListener keeps a flood of connections from costing more than the
// caps: at most max connections are open at once and at most perAddr
// from one client address; one more is answered with refusal (written
// without reading the request) and closed at once. Running out of file
// descriptors (EMFILE, ENFILE) or kernel memory while accepting is waited
// out with backoff instead of being returned: fasthttp gives up serving
// on any accept error but a timeout.
type limitListener struct {
	net.Listener
	max, perAddr int
	refusal      []byte // nil: close without a word (TLS, where plain text is noise)
	log          *slog.Logger

	mu      sync.Mutex
	open    int
	byAddr  map[string]int
	refused int // since the last log line
	logged  time.Time
}

// Accept backoff while the process or system is out of descriptors.
const (
	acceptBackoffMin = 5 * time.Millisecond
	acceptBackoffMax = time.Second
	// refusalWriteTimeout bounds the write of a refusal: the socket's send
	// buffer is empty, so it never needs long.
	refusalWriteTimeout = 100 * time.Millisecond
	// floodLogEvery rate-limits the log lines a flood causes.
	floodLogEvery = 10 * time.Second
)

func newLimitListener(ln net.Listener, max, perAddr int, refusal []byte, log *slog.Logger) *limitListener {
	return &limitListener{Listener: ln, max: max, perAddr: perAddr, refusal: refusal, log: log, byAddr: map[string]int{}}
}

func (l *limitListener) Accept() (net.Conn, error) {
	backoff := acceptBackoffMin
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !temporaryAcceptError(err) {
				return nil, err
			}
			l.note("accepting connections failed; waiting", "err", err, "retry_in", backoff)
			time.Sleep(backoff)
			backoff = min(2*backoff, acceptBackoffMax)
			continue
		}
		backoff = acceptBackoffMin
		addr := remoteIP(c)
		if !l.admit(addr) {
			l.refuse(c)
			continue
		}
		return &limitedConn{Conn: c, l: l, addr: addr}, nil
	}
}

// temporaryAcceptError: the listener is fine, the process or the system
// is short of something that frees up as connections close.
func temporaryAcceptError(err error) bool {
	for _, errno := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED, syscall.EINTR} {
		if errors.Is(err, errno) {
			return true
		}
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func remoteIP(c net.Conn) string {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		return a.IP.String()
	}
	return c.RemoteAddr().String()
}

func (l *limitListener) admit(addr string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open >= l.max || l.byAddr[addr] >= l.perAddr {
		l.refused++
		return false
	}
	l.open++
	l.byAddr[addr]++
	return true
}

func (l *limitListener) release(addr string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if l.byAddr[addr]--; l.byAddr[addr] <= 0 {
		delete(l.byAddr, addr)
	}
}

func (l *limitListener) refuse(c net.Conn) {
	if l.refusal != nil {
		c.SetWriteDeadline(time.Now().Add(refusalWriteTimeout))
		c.Write(l.refusal)
	}
	c.Close()
	l.note("connections refused: too many open", "max", l.max, "max_per_address", l.perAddr)
}

// note logs a flood's symptom at most every floodLogEvery, with how many
// connections were refused meanwhile.
func (l *limitListener) note(msg string, args ...any) {
	l.mu.Lock()
	now := time.Now()
	if now.Sub(l.logged) < floodLogEvery {
		l.mu.Unlock()
		return
	}
	l.logged = now
	refused := l.refused
	l.refused = 0
	open := l.open
	l.mu.Unlock()
	l.log.Warn(msg, append(args, "open", open, "refused", refused)...)
}

// limitedConn gives its place back when closed.
type limitedConn struct {
	net.Conn
	l    *limitListener
	addr string
	once sync.Once
}

func (c *limitedConn) Close() error {
	c.once.Do(func() { c.l.release(c.addr) })
	return c.Conn.Close()
}
