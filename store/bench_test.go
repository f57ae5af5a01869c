package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// BenchmarkAppendEvents measures the durable write latency of one batch
// (one transaction: SQLite with synchronous=FULL on the temp dir's file
// system, PostgreSQL over loopback with its default fsync and
// synchronous_commit), with its 99th percentile.
func BenchmarkAppendEvents(b *testing.B) {
	sh := mustLoc(b, "Asia/Shanghai")
	for _, driver := range drivers {
		for _, size := range []int{1, 50} {
			b.Run(fmt.Sprintf("%s/batch=%d", driver, size), func(b *testing.B) {
				s := newTestDB(b, driver).open(b)
				ctx := context.Background()
				t0 := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
				evs := make([]EventRecord, size)
				b.ReportAllocs()
				i := 0
				var took []time.Duration
				for b.Loop() {
					for j := range evs {
						i++
						if j%2 == 0 {
							evs[j] = crossing("c1", "cam", "door", "in", t0.Add(time.Duration(i)*time.Second), sh)
						} else {
							evs[j] = windowEvent("c1", "cam", "w1", "staffed", 1, t0.Add(time.Duration(i)*time.Second), sh)
						}
					}
					began := time.Now()
					if err := s.AppendEvents(ctx, evs); err != nil {
						b.Fatal(err)
					}
					took = append(took, time.Since(began))
				}
				slices.Sort(took)
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*size), "ns/event")
				b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs/batch")
			})
		}
	}
}

// BenchmarkAuthStamp is what a server pays four times a second while
// live streams are open (web's access re-check), with a city's accounts
// and a busy day's sessions.
func BenchmarkAuthStamp(b *testing.B) {
	for _, driver := range drivers {
		b.Run(driver, func(b *testing.B) {
			s := newTestDB(b, driver).open(b)
			ctx := context.Background()
			now := time.Now()
			for u := range 200 {
				id, err := s.CreateUser(ctx, User{Name: fmt.Sprintf("user%d", u), Role: RolePlanner, PasswordHash: "x", CreatedAt: now})
				if err != nil {
					b.Fatal(err)
				}
				for i := range 10 {
					if err := s.CreateSession(ctx, Session{TokenHash: fmt.Sprintf("%d-%d", u, i), UserID: id, CSRFToken: "c",
						CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.AuthStamp(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
