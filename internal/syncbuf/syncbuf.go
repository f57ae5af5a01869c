// Package syncbuf is a bytes.Buffer safe for concurrent writers and
// readers: tests capture a log written by several goroutines with it.
package syncbuf

import (
	"bytes"
	"sync"
)

// Buffer collects writes from any goroutine.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
