package eventbus

import (
	"sync"
	"testing"
)

func TestSlowSubscriberDoesNotBlockOthers(t *testing.T) {
	b := New()
	stuck := b.Subscribe(2, nil)
	defer stuck.Close()
	fast := b.Subscribe(100, nil)
	var got int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range fast.C() {
			got++
		}
	}()
	for i := 0; i < 50; i++ {
		b.Publish(Message{Type: "crossing"})
	}
	fast.Close()
	wg.Wait()
	if got != 50 {
		t.Fatalf("fast subscriber got %d of 50", got)
	}
	if len(stuck.C()) != 2 || stuck.Dropped() != 48 {
		t.Fatalf("stuck subscriber queued %d, dropped %d; want 2 and 48", len(stuck.C()), stuck.Dropped())
	}
}

func TestFilterAndClose(t *testing.T) {
	b := New()
	s := b.Subscribe(10, func(m Message) bool { return m.Center == "c1" })
	b.Publish(Message{Center: "c1"})
	b.Publish(Message{Center: "c2"})
	if n := len(s.C()); n != 1 {
		t.Fatalf("filtered subscriber has %d messages, want 1", n)
	}
	s.Close()
	s.Close()
	if b.Subscribers() != 0 {
		t.Fatal("closed subscriber still registered")
	}
	b.Publish(Message{Center: "c1"}) // must not panic on a closed channel
}
