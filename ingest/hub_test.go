package ingest

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// unit makes a unit whose PTS identifies it.
func unit(i int, key bool) *AccessUnit {
	return &AccessUnit{PTS: time.Duration(i), Key: key, NALUs: [][]byte{make([]byte, 100)}}
}

// gops publishes n units, a key frame every gop units, numbered from first.
func gops(h *Hub, first, n, gop int) {
	for i := first; i < first+n; i++ {
		h.Publish(unit(i, (i-first)%gop == 0))
	}
}

// queued takes what is waiting in sub without blocking.
func queued(sub *Subscription) []int {
	var ids []int
	for {
		select {
		case au := <-sub.C():
			ids = append(ids, int(au.PTS))
		default:
			return ids
		}
	}
}

func equalInts(a, b []int) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func TestHubStuckConsumerDoesNotBlockOthers(t *testing.T) {
	h := NewHub("cam")
	stuck := h.Subscribe("stuck", SubscribeOptions{Buffer: 4})
	reader := h.Subscribe("reader", SubscribeOptions{Buffer: 8})
	const n = 1000

	got := make(chan int)
	go func() {
		count := 0
		for range reader.C() {
			count++
		}
		got <- count
	}()
	published := make(chan struct{})
	go func() {
		gops(h, 0, n, 10)
		close(published)
	}()
	select {
	case <-published:
	case <-time.After(10 * time.Second):
		t.Fatal("Publish blocked on a stuck consumer")
	}
	reader.Close()
	count := <-got

	// The stuck one took the first 4 units, lost the rest, and counted them.
	if d := stuck.Dropped(); d != n-4 {
		t.Errorf("stuck consumer dropped %d, want %d", d, n-4)
	}
	// The reader lost units only to its own pace, never to the stuck one.
	if uint64(count)+reader.Dropped() != n {
		t.Errorf("reader got %d and dropped %d of %d", count, reader.Dropped(), n)
	}
	stats := h.Subscribers()
	if len(stats) != 1 || stats[0].Name != "stuck" || stats[0].Queued != 4 || stats[0].Delivered != 4 || stats[0].Dropped != n-4 {
		t.Errorf("stats = %+v", stats)
	}
}

func TestHubSkipsToKeyFrameAfterDrop(t *testing.T) {
	h := NewHub("cam")
	sub := h.Subscribe("slow", SubscribeOptions{Buffer: 3})
	h.Publish(unit(0, true))
	for i := 1; i <= 4; i++ {
		h.Publish(unit(i, false)) // 3 overflows the queue; 4 follows the gap
	}
	if got := queued(sub); !equalInts(got, []int{0, 1, 2}) {
		t.Fatalf("before the drop: got %v, want [0 1 2]", got)
	}
	h.Publish(unit(5, false)) // queue has room, but 5 cannot be decoded
	h.Publish(unit(6, true))
	h.Publish(unit(7, false))
	if got := queued(sub); !equalInts(got, []int{6, 7}) {
		t.Errorf("after the drop: got %v, want [6 7] (resume at the key frame)", got)
	}
	if d := sub.Dropped(); d != 3 {
		t.Errorf("dropped %d, want 3 (units 3, 4, 5)", d)
	}
}

func TestHubLateSubscriberStartsWithGOP(t *testing.T) {
	h := NewHub("cam")
	gops(h, 0, 7, 5) // key frames 0 and 5: the cache holds 5, 6

	viewer := h.Subscribe("viewer", SubscribeOptions{Buffer: 1, StartWithGOP: true})
	plain := h.Subscribe("plain", SubscribeOptions{Buffer: 8})
	h.Publish(unit(7, false))
	// The GOP is delivered even though it is longer than Buffer.
	if got := queued(viewer); !equalInts(got, []int{5, 6, 7}) {
		t.Errorf("viewer got %v, want [5 6 7]", got)
	}
	if got := queued(plain); len(got) != 0 {
		t.Errorf("subscriber without GOP got %v before a key frame, want nothing", got)
	}
	h.Publish(unit(8, true))
	if got := queued(plain); !equalInts(got, []int{8}) {
		t.Errorf("subscriber without GOP got %v, want [8]", got)
	}

	// Before any key frame there is nothing to start with.
	empty := NewHub("cam2")
	empty.Publish(unit(0, false))
	sub := empty.Subscribe("viewer", SubscribeOptions{StartWithGOP: true})
	empty.Publish(unit(1, false))
	if got := queued(sub); len(got) != 0 {
		t.Errorf("got %v without any key frame, want nothing", got)
	}
}

func TestHubGOPCacheIsBounded(t *testing.T) {
	t.Run("units", func(t *testing.T) {
		h := NewHub("cam", WithGOPLimit(5, 1<<20))
		gops(h, 0, 4, 100)
		if got := queued(h.Subscribe("a", SubscribeOptions{StartWithGOP: true})); len(got) != 4 {
			t.Fatalf("4-unit GOP: late subscriber got %v, want 4 units", got)
		}
		gops(h, 100, 6, 100) // a GOP longer than the limit
		late := h.Subscribe("b", SubscribeOptions{StartWithGOP: true})
		if got := queued(late); len(got) != 0 {
			t.Errorf("over-long GOP: late subscriber got %v, want nothing cached", got)
		}
		h.Publish(unit(200, true)) // a new GOP caches again
		if got := queued(h.Subscribe("c", SubscribeOptions{StartWithGOP: true})); !equalInts(got, []int{200}) {
			t.Errorf("after the next key frame: got %v, want [200]", got)
		}
	})
	t.Run("bytes", func(t *testing.T) {
		h := NewHub("cam", WithGOPLimit(100, 1000))
		big := &AccessUnit{Key: true, NALUs: [][]byte{make([]byte, 600), make([]byte, 600)}}
		h.Publish(big)
		if got := queued(h.Subscribe("a", SubscribeOptions{StartWithGOP: true})); len(got) != 0 {
			t.Errorf("1200-byte key frame with a 1000-byte limit was cached: %v", got)
		}
	})
}

func TestHubSetStream(t *testing.T) {
	h := NewHub("cam")
	if g := h.Stream().Generation; g != 0 {
		t.Fatalf("generation before any stream = %d", g)
	}
	changed := h.StreamChanged()
	gops(h, 0, 3, 10)
	h.SetStream(StreamInfo{Codec: CodecH264, Width: 640, Height: 360})
	select {
	case <-changed:
	default:
		t.Fatal("StreamChanged not closed by SetStream")
	}
	if info := h.Stream(); info.Generation != 1 || info.Width != 640 {
		t.Errorf("stream = %+v, want generation 1, width 640", info)
	}
	// The old stream's GOP must not reach a viewer of the new one.
	if got := queued(h.Subscribe("v", SubscribeOptions{StartWithGOP: true})); len(got) != 0 {
		t.Errorf("GOP from before SetStream delivered: %v", got)
	}
	h.SetStream(StreamInfo{Codec: CodecH264})
	if g := h.Stream().Generation; g != 2 {
		t.Errorf("generation after a second SetStream = %d, want 2", g)
	}
}

func TestHubClose(t *testing.T) {
	h := NewHub("cam")
	sub := h.Subscribe("a", SubscribeOptions{})
	sub.Close()
	sub.Close()
	if _, ok := <-sub.C(); ok {
		t.Error("C not closed")
	}
	h.Publish(unit(0, true)) // must not send on the closed channel
	if n := len(h.Subscribers()); n != 0 {
		t.Errorf("%d subscribers after Close", n)
	}
}

// TestHubConcurrentUse is for the race detector: subscribers come and go
// while units are published, streams change and stats are read.
func TestHubConcurrentUse(t *testing.T) {
	h := NewHub("cam")
	stop := make(chan struct{})
	publisher := make(chan struct{})
	go func() {
		defer close(publisher)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				h.Publish(unit(i, i%10 == 0))
				if i%1000 == 0 {
					h.SetStream(StreamInfo{})
				}
			}
		}
	}()
	var workers sync.WaitGroup
	for w := range 4 {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for i := range 200 {
				sub := h.Subscribe(fmt.Sprint(w), SubscribeOptions{Buffer: 2, StartWithGOP: i%2 == 0})
				<-sub.C()
				_ = h.Subscribers()
				_ = h.Stream()
				sub.Close()
				for range sub.C() {
				}
			}
		}()
	}
	finished := make(chan struct{})
	go func() {
		workers.Wait()
		close(finished)
	}()
	select {
	case <-finished:
	case <-time.After(30 * time.Second):
		t.Error("subscribers did not finish")
	}
	close(stop)
	<-publisher
}

// BenchmarkHubPublish measures fan-out: one Publish to n subscribers whose
// queues have room (they are drained between batches, off the clock), so
// every delivery is a real queue insert.
func BenchmarkHubPublish(b *testing.B) {
	const batch = 256
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			h := NewHub("cam")
			subs := make([]*Subscription, n)
			for i := range subs {
				subs[i] = h.Subscribe(fmt.Sprint(i), SubscribeOptions{Buffer: batch})
			}
			units := make([]*AccessUnit, 30)
			for i := range units {
				units[i] = unit(i, i == 0)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				h.Publish(units[i%len(units)])
				if (i+1)%batch == 0 {
					b.StopTimer()
					for _, s := range subs {
						queued(s)
					}
					b.StartTimer()
				}
			}
			b.StopTimer()
			for _, s := range subs {
				if s.Dropped() != 0 {
					b.Fatalf("subscriber dropped %d units", s.Dropped())
				}
			}
		})
	}
}
