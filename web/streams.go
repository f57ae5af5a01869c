package web

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/hallwatch/hallwatch/auth"
)

// Refusals of a new event stream.
var (
	errTooManyStreams        = errors.New("too many live event streams on this server; try again shortly")
	errTooManyStreamsForUser = errors.New("too many live event streams open for this user")
)

// eventStreams are the open live event streams (/api/events), with their
// caps in all and per user.
type eventStreams struct {
	max, perUserMax int

	mu      sync.Mutex
	open    map[*eventStream]struct{}
	perUser map[string]int
}

// eventStream is one open stream: whose, opened with which login, and
// with what rights (streams decide what to send when they start).
type eventStream struct {
	user  string
	login auth.Credential
	grant string
	ended chan struct{} // closed when the login ends or the grant changes
	once  sync.Once
}

func (st *eventStream) end() { st.once.Do(func() { close(st.ended) }) }

// grantOf summarises what a principal may see.
func grantOf(p *auth.Principal) string {
	return p.Role + "|" + strings.Join(p.Districts, ",") + "|" + strings.Join(p.Centers, ",")
}

func newEventStreams(max, perUser int) *eventStreams {
	return &eventStreams{max: max, perUserMax: perUser, open: map[*eventStream]struct{}{}, perUser: map[string]int{}}
}

// add registers a stream for p, within the caps.
func (es *eventStreams) add(p *auth.Principal) (*eventStream, error) {
	es.mu.Lock()
	defer es.mu.Unlock()
	if es.perUser[p.Name] >= es.perUserMax {
		return nil, fmt.Errorf("%w (%d at most); close another page", errTooManyStreamsForUser, es.perUserMax)
	}
	if len(es.open) >= es.max {
		return nil, errTooManyStreams
	}
	st := &eventStream{user: p.Name, login: p.Credential(), grant: grantOf(p), ended: make(chan struct{})}
	es.open[st] = struct{}{}
	es.perUser[p.Name]++
	return st, nil
}

// remove forgets a stream that stopped.
func (es *eventStreams) remove(st *eventStream) {
	es.mu.Lock()
	defer es.mu.Unlock()
	if _, ok := es.open[st]; !ok {
		return
	}
	delete(es.open, st)
	if es.perUser[st.user]--; es.perUser[st.user] <= 0 {
		delete(es.perUser, st.user)
	}
}

func (es *eventStreams) list() []*eventStream {
	es.mu.Lock()
	defer es.mu.Unlock()
	out := make([]*eventStream, 0, len(es.open))
	for st := range es.open {
		out = append(out, st)
	}
	return out
}
