package notify_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/internal/clock"
	"github.com/hallwatch/hallwatch/internal/syncbuf"
	"github.com/hallwatch/hallwatch/notify"
	"github.com/hallwatch/hallwatch/store"
)

// bound is how long a test waits for something that should happen at
// once; reaching it means the code under test hangs, not that it is slow.
const bound = 10 * time.Second

// farFuture makes PendingNotifications return every message not given up.
var farFuture = time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)

func openOutbox(t testing.TB) (*store.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hallwatch.db")
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func reopenOutbox(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func pending(t *testing.T, s *store.Store, target string) []store.Notification {
	t.Helper()
	got, err := s.PendingNotifications(context.Background(), target, farFuture, 0)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// fakeClock moves only when told; nextWait shows the backoff a worker chose.
type fakeClock struct{ *clock.Fake }

// newFakeClock starts at the real time: the outbox stamps new messages
// with it, and message ages are measured from there.
func newFakeClock() fakeClock { return fakeClock{clock.NewFake(time.Now())} }

// nextWait returns the duration of the next timer a worker starts.
func (c fakeClock) nextWait(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.Timers():
		return d
	case <-time.After(bound):
		t.Fatal("no worker started waiting")
		return 0
	}
}

// recv takes the next value from ch.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(bound):
		t.Fatal("nothing arrived")
		var zero T
		return zero
	}
}

// endpoint is an HTTP server on 127.0.0.1 playing a webhook receiver; it
// records every request and answers with reply.
type endpoint struct {
	*httptest.Server
	mu       sync.Mutex
	requests []request
	arrived  chan struct{}
	reply    func(r *http.Request, body []byte) (status int, answer string)
}

type request struct {
	URL         string // path and query
	ContentType string
	Body        []byte
}

func newEndpoint(t *testing.T, reply func(r *http.Request, body []byte) (int, string)) *endpoint {
	e := &endpoint{reply: reply, arrived: make(chan struct{}, 1024)}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		e.mu.Lock()
		e.requests = append(e.requests, request{r.URL.RequestURI(), r.Header.Get("Content-Type"), body})
		reply := e.reply
		e.mu.Unlock()
		select {
		case e.arrived <- struct{}{}:
		default: // wait polls the list as well
		}
		status, answer := reply(r, body)
		w.WriteHeader(status)
		io.WriteString(w, answer)
	}))
	t.Cleanup(e.Close)
	return e
}

// wait blocks until n requests have arrived in total and returns them.
func (e *endpoint) wait(t *testing.T, n int) []request {
	t.Helper()
	deadline := time.After(bound)
	for {
		e.mu.Lock()
		got := append([]request(nil), e.requests...)
		e.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-e.arrived:
		case <-deadline:
			t.Fatalf("%d requests arrived at %s, want %d", len(got), e.URL, n)
		}
	}
}

func (e *endpoint) count() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.requests)
}

func (e *endpoint) setReply(reply func(r *http.Request, body []byte) (int, string)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reply = reply
}

func answer(status int, body string) func(*http.Request, []byte) (int, string) {
	return func(*http.Request, []byte) (int, string) { return status, body }
}

// logTo is a debug-level logger writing into b, for secret checks.
func logTo(b *syncbuf.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func newDispatcher(t *testing.T, targets []config.Notifier, outbox notify.Outbox, o notify.Options) *notify.Dispatcher {
	t.Helper()
	if o.Log == nil {
		o.Log = logTo(&syncbuf.Buffer{})
	}
	d, err := notify.New(targets, outbox, o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return d
}

// start runs d until the returned stop is called; stop checks that Run
// returns, and returns nil, within the bound.
func start(t *testing.T, d *notify.Dispatcher) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(bound):
				t.Error("Run did not return after cancel")
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// waitStatus polls the target's status until ok holds.
func waitStatus(t *testing.T, d *notify.Dispatcher, id string, what string, ok func(notify.TargetStatus) bool) notify.TargetStatus {
	t.Helper()
	deadline := time.Now().Add(bound)
	for {
		st := status(t, d, id)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifier %s: waiting for %s, status %+v", id, what, st)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func status(t *testing.T, d *notify.Dispatcher, id string) notify.TargetStatus {
	t.Helper()
	for _, st := range d.Status() {
		if st.ID == id {
			return st
		}
	}
	t.Fatalf("no status for notifier %s", id)
	return notify.TargetStatus{}
}

func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Skipf("time zone Asia/Shanghai not available: %v", err)
	}
	return loc
}

// unstaffed is window 3 of 景山 unstaffed from 09:41 Beijing time, the
// alert raised at 09:42 after its 60 s grace time.
func unstaffed(id int64) notify.Message {
	return notify.Message{AlertID: id, Kind: "unstaffed", State: "raised",
		DistrictID: "dongcheng", District: "东城区", CenterID: "jingshan", Center: "景山街道市民服务中心",
		CameraID: "cam1", Camera: "一楼大厅", WindowID: "w3", Window: "3号窗口",
		At:    time.Date(2026, 3, 2, 1, 42, 0, 0, time.UTC),
		Grace: 60 * time.Second, BoardURL: "https://hallwatch.example/centers/jingshan"}
}

// resolved is the same alert resolved 3 min 12 s later.
func resolved(id int64) notify.Message {
	m := unstaffed(id)
	m.State = "resolved"
	m.At = m.At.Add(3*time.Minute + 12*time.Second)
	m.Duration = 3*time.Minute + 12*time.Second
	return m
}

func cameraOffline(id int64, district string) notify.Message {
	return notify.Message{AlertID: id, Kind: "camera_offline", State: "raised",
		DistrictID: district, District: "区", CenterID: "jingshan", Center: "景山街道市民服务中心",
		CameraID: "cam2", Camera: "二楼大厅", At: time.Date(2026, 3, 2, 6, 30, 0, 0, time.UTC),
		Grace: 2 * time.Minute}
}

func notifyAll(t *testing.T, d *notify.Dispatcher, msgs ...notify.Message) {
	t.Helper()
	for _, m := range msgs {
		if err := d.Notify(context.Background(), m); err != nil {
			t.Fatalf("Notify alert %d: %v", m.AlertID, err)
		}
	}
}
