package store

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUse appends from several goroutines while others read: no
// "database is locked" errors, and every crossing is counted once.
func TestConcurrentUse(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		const writers, batches, size = 4, 30, 10
		var wg sync.WaitGroup
		errs := make(chan error, writers+2)
		for w := range writers {
			wg.Go(func() {
				for b := range batches {
					evs := make([]EventRecord, size)
					for j := range evs {
						evs[j] = crossing("c1", fmt.Sprintf("cam%d", w), "door", "in", t0.Add(time.Duration(b*size+j)*time.Minute), sh)
					}
					if err := s.AppendEvents(ctx, evs); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		for range 2 {
			wg.Go(func() {
				for range batches {
					if _, err := s.Counts(ctx, CountQuery{Bucket: BucketDay}); err != nil {
						errs <- err
						return
					}
					if _, err := s.Events(ctx, EventQuery{Limit: 20, NewestFirst: true}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		rows, err := s.Counts(ctx, CountQuery{Bucket: BucketDay})
		if err != nil {
			t.Fatal(err)
		}
		in := 0
		for _, r := range rows {
			in += r.In
		}
		if in != writers*batches*size {
			t.Errorf("counted %d crossings, appended %d", in, writers*batches*size)
		}
	})
}
