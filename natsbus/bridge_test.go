package natsbus

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hallwatch/hallwatch/eventbus"
	"github.com/hallwatch/hallwatch/internal/natstest"
	"github.com/hallwatch/hallwatch/internal/tcpproxy"
)

func connect(t *testing.T, url string) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(url, nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.ReconnectBufSize(-1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

type node struct {
	bus    *eventbus.Bus
	bridge *Bridge
	mu     sync.Mutex
	snaps  map[string]string
}

func startNode(t *testing.T, url, id string, buffer int) *node {
	t.Helper()
	n := &node{bus: eventbus.New(), snaps: map[string]string{}}
	n.bridge = New(Options{Conn: connect(t, url), Node: id, Bus: n.bus, Buffer: buffer, Every: 50 * time.Millisecond,
		Snapshot: func() []byte { return []byte("state of " + id) },
		OnSnapshot: func(from string, data []byte) {
			n.mu.Lock()
			n.snaps[from] = string(data)
			n.mu.Unlock()
		}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.bridge.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return n
}

func (n *node) snapshot(from string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.snaps[from]
}

func message(i int) eventbus.Message {
	return eventbus.Message{Type: "crossing", District: "dongcheng", Center: "jingshan", Camera: "hall",
		Time: time.Unix(1700000000, 0).UTC(), Data: json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))}
}

func receive(t *testing.T, sub *eventbus.Subscription, n int) []eventbus.Message {
	t.Helper()
	var got []eventbus.Message
	timeout := time.After(10 * time.Second)
	for len(got) < n {
		select {
		case m := <-sub.C():
			got = append(got, m)
		case <-timeout:
			t.Fatalf("received %d messages, want %d", len(got), n)
		}
	}
	return got
}

// A message published on one node's bus reaches the other's once, marked
// with its node, and is not sent back; snapshots go both ways.
func TestBridgeCarriesMessages(t *testing.T) {
	srv := natstest.Start(t)
	a := startNode(t, srv.URL(), "a", 100)
	b := startNode(t, srv.URL(), "b", 100)
	onA := a.bus.Subscribe(100, nil)
	onB := b.bus.Subscribe(100, nil)
	time.Sleep(200 * time.Millisecond) // subscriptions in place at the server
	for i := range 5 {
		a.bus.Publish(message(i))
	}
	got := receive(t, onB, 5)
	for i, m := range got {
		if m.Node != "a" || string(m.Data) != fmt.Sprintf(`{"n":%d}`, i) || m.Center != "jingshan" || !m.Time.Equal(message(0).Time) {
			t.Errorf("b received %+v, want message %d from a", m, i)
		}
	}
	receive(t, onA, 5) // a's own
	select {
	case m := <-onA.C():
		t.Errorf("a received its own message back: %+v", m)
	case m := <-onB.C():
		t.Errorf("b received a message twice: %+v", m)
	case <-time.After(300 * time.Millisecond):
	}
	deadline := time.Now().Add(5 * time.Second)
	for a.snapshot("b") != "state of b" || b.snapshot("a") != "state of a" {
		if time.Now().After(deadline) {
			t.Fatalf("snapshots: a has %q, b has %q", a.snapshot("b"), b.snapshot("a"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if a.snapshot("a") != "" {
		t.Error("a received its own snapshot")
	}
	if st := a.bridge.Stats(); st.Sent != 5 || st.Dropped != 0 {
		t.Errorf("a's stats %+v", st)
	}
	if st := b.bridge.Stats(); st.Received != 5 {
		t.Errorf("b's stats %+v", st)
	}
}

// While NATS is out of reach, messages wait in the bounded queue (the
// rest are dropped and counted) and are sent, in order, once it is back.
func TestBridgeBuffersWhileNATSIsDown(t *testing.T) {
	srv := natstest.Start(t)
	proxy, err := tcpproxy.New(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.Close()
	const buffer = 10
	a := startNode(t, "nats://"+proxy.Addr(), "a", buffer)
	b := startNode(t, srv.URL(), "b", buffer)
	onB := b.bus.Subscribe(100, nil)
	time.Sleep(200 * time.Millisecond)
	a.bus.Publish(message(0))
	receive(t, onB, 1)

	proxy.Cut()
	for a.bridge.o.Conn.IsConnected() {
		time.Sleep(10 * time.Millisecond)
	}
	for i := 1; i <= 30; i++ {
		a.bus.Publish(message(i))
	}
	time.Sleep(100 * time.Millisecond)
	st := a.bridge.Stats()
	t.Logf("NATS down: %+v", st)
	// One message is on its way out, buffer wait behind it.
	if st.Dropped != 30-buffer-1 || st.Queued != buffer {
		t.Errorf("while NATS is down: queued %d, dropped %d; want %d and %d", st.Queued, st.Dropped, buffer, 30-buffer-1)
	}
	proxy.Restore()
	got := receive(t, onB, buffer+1)
	for i, m := range got {
		if want := fmt.Sprintf(`{"n":%d}`, i+1); string(m.Data) != want {
			t.Errorf("after NATS returned, message %d is %s, want %s", i, m.Data, want)
		}
	}
	if st := a.bridge.Stats(); st.Queued != 0 || st.Sent != 1+buffer+1 {
		t.Errorf("after NATS returned: %+v", st)
	}
}
