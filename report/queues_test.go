package report

import (
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// A center's queue per day and hour adds its zones minute by minute (a
// minute stored twice counts once), picks the hour with the most people
// waiting on average, and lists the day's longest waits first.
func TestQueuesReport(t *testing.T) {
	c := &config.Center{ID: "c1", Timezone: "UTC"}
	day := time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)
	m := func(zone string, at time.Duration, most int, mean float64) store.QueueMinute {
		return store.QueueMinute{Center: "c1", Camera: "cam", Zone: zone, Minute: day.Add(at), Max: most, Mean: mean}
	}
	minutes := []store.QueueMinute{
		m("a", 9*time.Hour, 2, 1), m("b", 9*time.Hour, 3, 2), // 9:00: 5 at most, 3 on average
		m("a", 9*time.Hour, 1, 0.5), // stored again after a restart
		m("a", 11*time.Hour, 1, 1),
		m("a", 11*time.Hour+time.Minute, 1, 1),
	}
	w := func(start time.Duration, secs int, est bool) store.Wait {
		s := day.Add(start)
		return store.Wait{Center: "c1", Camera: "cam", Zone: "a", Start: s, End: s.Add(time.Duration(secs) * time.Second), Estimated: est}
	}
	var waits []store.Wait
	for i := range LongestPerDay + 2 {
		waits = append(waits, w(11*time.Hour+time.Duration(i)*time.Minute, 60*(i+1), i == 0))
	}
	r := Queues(c, minutes, waits)
	if len(r.Days) != 1 || len(r.Hours) != 2 {
		t.Fatalf("report %+v", r)
	}
	d := r.Days[0]
	if d.MaxPeople != 5 || d.MeanPeople != 1.7 || d.BusiestHour != "2025-03-03T09:00:00Z" || d.Waits != 7 || d.Estimated != 1 || d.MaxWait != 420 || d.MedianWait != 240 {
		t.Errorf("day %+v", d)
	}
	if h := r.Hours[1]; h.Start != "2025-03-03T11:00:00Z" || h.MaxPeople != 1 || h.MeanPeople != 1 || h.Waits != 7 {
		t.Errorf("11:00 %+v", h)
	}
	if len(r.Longest) != LongestPerDay || r.Longest[0].Seconds != 420 || r.Longest[LongestPerDay-1].Seconds != 180 {
		t.Errorf("longest %+v", r.Longest)
	}
}
