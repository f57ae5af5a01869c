package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/events"
)

// row is an expected count row, its start written as a literal worked out by
// hand from the zone's rules (not by the store's bucketing code).
type row struct {
	center, start string
	in, out       int
}

func checkRows(t *testing.T, got []CountRow, zone string, want []row) {
	t.Helper()
	var g []row
	for _, r := range got {
		if r.Start.Location().String() != zone {
			t.Errorf("row %s %s is in zone %s, want %s", r.Center, r.Start, r.Start.Location(), zone)
		}
		g = append(g, row{r.Center, r.Start.Format(time.RFC3339), r.In, r.Out})
	}
	if fmt.Sprint(g) != fmt.Sprint(want) {
		t.Errorf("rows:\n got %v\nwant %v", g, want)
	}
}

func TestCountsShanghaiHourAndDayBoundaries(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		sh := mustLoc(t, "Asia/Shanghai")
		ev := func(center, dir, utc string) EventRecord {
			return crossing(center, center+"-cam", "door", dir, mustTime(t, utc), sh)
		}
		err := s.AppendEvents(ctx, []EventRecord{
			ev("c1", "in", "2024-05-01T01:00:00Z"),        // 09:00 local, May 1
			ev("c1", "in", "2024-05-01T01:59:59Z"),        // 09:59:59
			ev("c1", "out", "2024-05-01T02:00:00Z"),       // 10:00
			ev("c1", "in", "2024-05-01T15:59:59.999999Z"), // 23:59:59.999999, still May 1
			ev("c1", "in", "2024-05-01T16:00:00Z"),        // 00:00 May 2
			ev("c1", "out", "2024-05-02T08:00:00Z"),       // 16:00 May 2
			ev("c2", "in", "2024-05-01T03:10:00Z"),        // 11:10 May 1
		})
		if err != nil {
			t.Fatal(err)
		}
		// A second line of c1 on another camera: summed per center, split per line.
		side := crossing("c1", "c1-side", "side", "in", mustTime(t, "2024-05-01T01:30:00Z"), sh)
		if err := s.AppendEvents(ctx, []EventRecord{side}); err != nil {
			t.Fatal(err)
		}

		// The stored keys: local wall-clock hour and the UTC instants of hour and day start.
		var hourUS, dayUS int64
		if err := s.reader().queryRow(ctx, `SELECT hour_start_us, day_start_us FROM crossings_hourly
		WHERE center = 'c1' AND local_hour = '2024-05-01T23+08:00'`).Scan(&hourUS, &dayUS); err != nil {
			t.Fatalf("no hourly row keyed 2024-05-01T23+08:00: %v", err)
		}
		if !fromUS(hourUS).Equal(mustTime(t, "2024-05-01T15:00:00Z")) || !fromUS(dayUS).Equal(mustTime(t, "2024-04-30T16:00:00Z")) {
			t.Errorf("stored bucket starts: hour %s, day %s", fromUS(hourUS), fromUS(dayUS))
		}

		hours, err := s.Counts(ctx, CountQuery{Bucket: BucketHour})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, hours, "Asia/Shanghai", []row{
			{"c1", "2024-05-01T09:00:00+08:00", 3, 0},
			{"c1", "2024-05-01T10:00:00+08:00", 0, 1},
			{"c1", "2024-05-01T23:00:00+08:00", 1, 0},
			{"c1", "2024-05-02T00:00:00+08:00", 1, 0},
			{"c1", "2024-05-02T16:00:00+08:00", 0, 1},
			{"c2", "2024-05-01T11:00:00+08:00", 1, 0},
		})

		perLine, err := s.Counts(ctx, CountQuery{Bucket: BucketHour, Centers: []string{"c1"}, PerLine: true,
			To: mustTime(t, "2024-05-01T02:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		if len(perLine) != 2 || perLine[0].Camera != "c1-cam" || perLine[0].Line != "door" || perLine[0].In != 2 ||
			perLine[1].Camera != "c1-side" || perLine[1].Line != "side" || perLine[1].In != 1 {
			t.Errorf("per line rows = %+v", perLine)
		}

		days, err := s.Counts(ctx, CountQuery{Bucket: BucketDay})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, days, "Asia/Shanghai", []row{
			{"c1", "2024-05-01T00:00:00+08:00", 4, 1},
			{"c1", "2024-05-02T00:00:00+08:00", 1, 1},
			{"c2", "2024-05-01T00:00:00+08:00", 1, 0},
		})

		// Local May 2 only: [2024-05-01T16:00Z, 2024-05-02T16:00Z).
		may2, err := s.Counts(ctx, CountQuery{Bucket: BucketDay, Centers: []string{"c1", "c2"},
			From: mustTime(t, "2024-05-01T16:00:00Z"), To: mustTime(t, "2024-05-02T16:00:00Z")})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, may2, "Asia/Shanghai", []row{{"c1", "2024-05-02T00:00:00+08:00", 1, 1}})

		if _, err := s.Counts(ctx, CountQuery{Bucket: "week"}); err == nil {
			t.Error("bucket week accepted")
		}
	})
}

func TestCountsBerlinAcrossDST(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		be := mustLoc(t, "Europe/Berlin")
		ev := func(utc string) EventRecord { return crossing("b1", "cam", "door", "in", mustTime(t, utc), be) }
		// 2024-03-31: 02:00 CET jumps to 03:00 CEST at 01:00 UTC.
		// 2024-10-27: 03:00 CEST falls back to 02:00 CET at 01:00 UTC; 02:xx happens twice.
		err := s.AppendEvents(ctx, []EventRecord{
			ev("2024-03-30T22:59:00Z"), // 23:59 CET, March 30
			ev("2024-03-30T23:00:00Z"), // 00:00 CET, March 31
			ev("2024-03-31T00:59:59Z"), // 01:59:59 CET
			ev("2024-03-31T01:00:00Z"), // 03:00 CEST
			ev("2024-03-31T21:59:00Z"), // 23:59 CEST, still March 31 (a 23-hour day)
			ev("2024-03-31T22:00:00Z"), // 00:00 CEST, April 1
			ev("2024-10-27T00:30:00Z"), // 02:30 CEST
			ev("2024-10-27T01:30:00Z"), // 02:30 CET, the repeated hour
			ev("2024-10-27T01:45:00Z"), // 02:45 CET
			ev("2024-10-27T22:59:00Z"), // 23:59 CET, still October 27 (a 25-hour day)
			ev("2024-10-27T23:00:00Z"), // 00:00 CET, October 28
		})
		if err != nil {
			t.Fatal(err)
		}
		hours, err := s.Counts(ctx, CountQuery{Bucket: BucketHour})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, hours, "Europe/Berlin", []row{
			{"b1", "2024-03-30T23:00:00+01:00", 1, 0},
			{"b1", "2024-03-31T00:00:00+01:00", 1, 0},
			{"b1", "2024-03-31T01:00:00+01:00", 1, 0},
			{"b1", "2024-03-31T03:00:00+02:00", 1, 0},
			{"b1", "2024-03-31T23:00:00+02:00", 1, 0},
			{"b1", "2024-04-01T00:00:00+02:00", 1, 0},
			{"b1", "2024-10-27T02:00:00+02:00", 1, 0},
			{"b1", "2024-10-27T02:00:00+01:00", 2, 0},
			{"b1", "2024-10-27T23:00:00+01:00", 1, 0},
			{"b1", "2024-10-28T00:00:00+01:00", 1, 0},
		})
		days, err := s.Counts(ctx, CountQuery{Bucket: BucketDay})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, days, "Europe/Berlin", []row{
			{"b1", "2024-03-30T00:00:00+01:00", 1, 0},
			{"b1", "2024-03-31T00:00:00+01:00", 4, 0},
			{"b1", "2024-04-01T00:00:00+02:00", 1, 0},
			{"b1", "2024-10-27T00:00:00+02:00", 4, 0},
			{"b1", "2024-10-28T00:00:00+01:00", 1, 0},
		})
	})
}

func TestCountsSkippedMidnight(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		// Chile: on 2024-09-08 the clock jumps from 00:00 -04 to 01:00 -03 (04:00 UTC),
		// so that local day begins at 01:00.
		st := mustLoc(t, "America/Santiago")
		if err := s.AppendEvents(ctx, []EventRecord{
			crossing("s1", "cam", "door", "in", mustTime(t, "2024-09-08T03:30:00Z"), st), // 23:30 -04, Sept 7
			crossing("s1", "cam", "door", "in", mustTime(t, "2024-09-08T04:30:00Z"), st), // 01:30 -03, Sept 8
		}); err != nil {
			t.Fatal(err)
		}
		days, err := s.Counts(ctx, CountQuery{Bucket: BucketDay})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, days, "America/Santiago", []row{
			{"s1", "2024-09-07T00:00:00-04:00", 1, 0},
			{"s1", "2024-09-08T01:00:00-03:00", 1, 0},
		})
	})
}

func TestCountsHalfHourZone(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		kol := mustLoc(t, "Asia/Kolkata") // UTC+05:30, local hours start at :30 UTC
		if err := s.AppendEvents(ctx, []EventRecord{
			crossing("k1", "cam", "door", "in", mustTime(t, "2024-05-01T04:29:59Z"), kol),  // 09:59:59 IST
			crossing("k1", "cam", "door", "out", mustTime(t, "2024-05-01T04:30:00Z"), kol), // 10:00 IST
		}); err != nil {
			t.Fatal(err)
		}
		hours, err := s.Counts(ctx, CountQuery{Bucket: BucketHour})
		if err != nil {
			t.Fatal(err)
		}
		checkRows(t, hours, "Asia/Kolkata", []row{
			{"k1", "2024-05-01T09:00:00+05:30", 1, 0},
			{"k1", "2024-05-01T10:00:00+05:30", 0, 1},
		})
	})
}

// TestCountsMatchEvents checks many random crossings against the buckets by
// containment: every event lies in exactly the interval [Start, end) of the
// row that counts it, where end is one hour later or the next local midnight.
func TestCountsMatchEvents(t *testing.T) {
	eachDB(t, func(t *testing.T, db testDB) {
		ctx := context.Background()
		s := db.open(t)
		rng := rand.New(rand.NewPCG(1, 2))
		zones := map[string]*time.Location{
			"sh": mustLoc(t, "Asia/Shanghai"), "be": mustLoc(t, "Europe/Berlin"), "ny": mustLoc(t, "America/New_York"),
		}
		base := mustTime(t, "2024-03-08T00:00:00Z") // spans the US and EU spring DST changes
		var evs []EventRecord
		for center, loc := range zones {
			for range 400 {
				at := base.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
				dir := events.DirectionIn
				if rng.IntN(3) == 0 {
					dir = events.DirectionOut
				}
				evs = append(evs, crossing(center, "cam", "door", dir, at, loc))
			}
		}
		for i := 0; i < len(evs); i += 100 {
			if err := s.AppendEvents(ctx, evs[i:min(i+100, len(evs))]); err != nil {
				t.Fatal(err)
			}
		}
		for _, bucket := range []string{BucketHour, BucketDay} {
			rows, err := s.Counts(ctx, CountQuery{Bucket: bucket})
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, r := range rows {
				l := r.Start
				if l.Location() != zones[r.Center] && l.Location().String() != zones[r.Center].String() {
					t.Fatalf("%s row in zone %s", r.Center, l.Location())
				}
				end := l.Add(time.Hour)
				if bucket == BucketDay {
					if l.Hour() != 0 || l.Minute() != 0 || l.Second() != 0 {
						t.Errorf("%s day row starts at %s, not local midnight", r.Center, l)
					}
					end = time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, l.Location())
				} else if l.Minute() != 0 || l.Second() != 0 {
					t.Errorf("%s hour row starts at %s, not on a local hour", r.Center, l)
				}
				in, out := 0, 0
				for _, e := range evs {
					if e.Center == r.Center && !e.Time.Before(l) && e.Time.Before(end) {
						if e.Direction == events.DirectionIn {
							in++
						} else {
							out++
						}
					}
				}
				if in != r.In || out != r.Out {
					t.Errorf("%s %s %s: got in %d out %d, events say in %d out %d", bucket, r.Center, l, r.In, r.Out, in, out)
				}
				total += r.In + r.Out
			}
			if total != len(evs) {
				t.Errorf("%s rows count %d crossings, appended %d", bucket, total, len(evs))
			}
		}
	})
}
