// Package natsbus carries what hallwatch nodes tell each other over NATS
// core subjects: the live messages of each node's event bus (crossings,
// window states, alerts, camera states), so that pages on any node show
// every camera, and each node's periodic snapshot of the cameras it runs.
//
// Nothing here waits on NATS for analysis or ingest: the bridge reads the
// local bus through a bounded subscription; while NATS is out of reach,
// messages wait there, and what does not fit is dropped and counted (the
// bus's own accounting). They are sent once NATS is back. Live messages
// are not stored by NATS: events are stored in the database, and pages
// reload their state when they see a gap.
package natsbus

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hallwatch/hallwatch/eventbus"
)

// Subjects.
const (
	liveSubject  = "hallwatch.live"  // .<type>.<district>.<center>
	stateSubject = "hallwatch.state" // .<node>
)

// Bus is the node's in-process event bus.
type Bus interface {
	Subscribe(buffer int, accept func(eventbus.Message) bool) *eventbus.Subscription
	Publish(eventbus.Message)
}

// Options configures a Bridge.
type Options struct {
	Conn *nats.Conn
	Node string // this node's id
	Bus  Bus
	// Buffer is how many live messages wait while NATS is out of reach;
	// default 10,000.
	Buffer int
	// Snapshot, if set, is published every Every (default 2 s) for the
	// other nodes, whose snapshots OnSnapshot receives.
	Snapshot   func() []byte
	OnSnapshot func(node string, data []byte)
	Every      time.Duration
	Log        *slog.Logger
}

// Bridge joins the local event bus to the other nodes'.
type Bridge struct {
	o        Options
	local    *eventbus.Subscription
	sent     atomic.Uint64
	received atomic.Uint64
}

// New subscribes to the local bus at once, so that nothing published
// before Run is missed.
func New(o Options) *Bridge {
	if o.Buffer <= 0 {
		o.Buffer = 10000
	}
	if o.Every <= 0 {
		o.Every = 2 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	// Only this process's messages: those from other nodes came from NATS.
	local := o.Bus.Subscribe(o.Buffer, func(m eventbus.Message) bool { return m.Node == "" })
	return &Bridge{o: o, local: local}
}

// Run sends local messages and snapshots to the other nodes and delivers
// theirs until ctx ends.
func (b *Bridge) Run(ctx context.Context) error {
	defer b.local.Close()
	nc := b.o.Conn
	live, err := nc.Subscribe(liveSubject+".>", b.receive)
	if err != nil {
		return err
	}
	defer live.Unsubscribe()
	if b.o.OnSnapshot != nil {
		state, err := nc.Subscribe(stateSubject+".*", func(m *nats.Msg) {
			if node := strings.TrimPrefix(m.Subject, stateSubject+"."); node != b.o.Node {
				b.o.OnSnapshot(node, m.Data)
			}
		})
		if err != nil {
			return err
		}
		defer state.Unsubscribe()
	}
	tick := time.NewTicker(b.o.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			if b.o.Snapshot != nil && nc.IsConnected() {
				nc.Publish(stateSubject+"."+b.o.Node, b.o.Snapshot())
			}
		case m := <-b.local.C():
			m.Node = b.o.Node
			data, err := json.Marshal(m)
			if err != nil {
				continue
			}
			if !b.send(ctx, subject(m), data) {
				return nil
			}
		}
	}
}

// send publishes one message, waiting while NATS is out of reach; false
// when ctx ended first.
func (b *Bridge) send(ctx context.Context, subj string, data []byte) bool {
	wait := time.NewTicker(100 * time.Millisecond)
	defer wait.Stop()
	for {
		if b.o.Conn.IsConnected() && b.o.Conn.Publish(subj, data) == nil {
			b.sent.Add(1)
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-wait.C:
		}
	}
}

// receive delivers another node's message to the local bus.
func (b *Bridge) receive(msg *nats.Msg) {
	var m eventbus.Message
	if err := json.Unmarshal(msg.Data, &m); err != nil || m.Node == "" || m.Node == b.o.Node {
		return
	}
	b.received.Add(1)
	b.o.Bus.Publish(m)
}

func subject(m eventbus.Message) string {
	return liveSubject + "." + token(m.Type) + "." + token(m.District) + "." + token(m.Center)
}

// token makes s a valid subject token (ids are already).
func token(s string) string {
	if s == "" || strings.ContainsAny(s, ". *>\t\r\n") {
		return "_"
	}
	return s
}

// Stats are the bridge's counters, for metrics.
type Stats struct {
	Sent     uint64 `json:"sent"`
	Received uint64 `json:"received"`
	// Queued messages wait for NATS; Dropped did not fit while it was out
	// of reach.
	Queued  int    `json:"queued"`
	Dropped uint64 `json:"dropped"`
}

// Stats reports the counters.
func (b *Bridge) Stats() Stats {
	return Stats{Sent: b.sent.Load(), Received: b.received.Load(), Queued: len(b.local.C()), Dropped: b.local.Dropped()}
}
