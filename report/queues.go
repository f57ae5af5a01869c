package report

import (
	"cmp"
	"slices"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// QueueStats are a center's queues in one bucket (a day or an hour): the
// people waiting in all its queue zones (the most at once, and the mean
// over the minutes analysed) and the waits that began in it.
type QueueStats struct {
	Center     string  `json:"center"`
	Start      string  `json:"start"` // YYYY-MM-DD, or RFC 3339 hour, in the center's zone
	MaxPeople  int     `json:"max_people"`
	MeanPeople float64 `json:"mean_people"`
	Waits      int     `json:"waits"`
	// Estimated of the Waits were estimated (the visitor's track was lost
	// on the way to the window).
	Estimated  int     `json:"estimated"`
	MedianWait float64 `json:"median_wait_seconds"`
	P90Wait    float64 `json:"p90_wait_seconds"`
	MaxWait    float64 `json:"max_wait_seconds"`
	// BusiestHour is, for a day, its hour with the most people waiting on
	// average (RFC 3339; empty without queue minutes).
	BusiestHour string `json:"busiest_hour,omitempty"`
}

// LongWait is one of a day's longest waits.
type LongWait struct {
	Center   string `json:"center"`
	Day      string `json:"day"`
	Camera   string `json:"camera"`
	Zone     string `json:"zone"`
	ZoneName string `json:"zone_name,omitempty"`
	Window   string `json:"window,omitempty"` // empty for an estimate
	// WindowName is the window's name as drawn or configured now.
	WindowName string  `json:"window_name,omitempty"`
	Start      string  `json:"start"` // RFC 3339, the center's zone
	Seconds    float64 `json:"wait_seconds"`
	Estimated  bool    `json:"estimated"`
}

// QueueReport is a center's queues over a range: per day (with its
// busiest hour), per hour, and each day's longest waits.
type QueueReport struct {
	Days    []QueueStats `json:"days"`
	Hours   []QueueStats `json:"hours"`
	Longest []LongWait   `json:"longest"`
}

// LongestPerDay is how many of a day's longest waits a report lists.
const LongestPerDay = 5

// Queues computes the report of a center's queue minutes and waits (from
// the store, any order), bucketed in the center's zone. Buckets without
// either have no row.
func Queues(center *config.Center, minutes []store.QueueMinute, waits []store.Wait) QueueReport {
	loc := center.Location()
	type bucket struct {
		minutes map[int64][2]float64 // minute → people at most, mean (summed over zones)
		waits   []float64
		est     int
	}
	buckets := map[string]*bucket{}
	at := func(k string) *bucket {
		b := buckets[k]
		if b == nil {
			b = &bucket{minutes: map[int64][2]float64{}}
			buckets[k] = b
		}
		return b
	}
	keys := func(t time.Time) (string, string) {
		l := t.In(loc)
		return l.Format(time.DateOnly), "h" + l.Truncate(time.Hour).Format(time.RFC3339)
	}
	// A zone's minute is stored twice when analysis restarted or its
	// geometry changed within it: the larger counts.
	type zoneMinute struct {
		camera, zone string
		minute       int64
	}
	once := map[zoneMinute]store.QueueMinute{}
	for _, m := range minutes {
		k := zoneMinute{m.Camera, m.Zone, m.Minute.Unix()}
		o, seen := once[k]
		if seen {
			m.Max, m.Mean = max(m.Max, o.Max), max(m.Mean, o.Mean)
		}
		once[k] = m
	}
	for _, m := range once {
		day, hour := keys(m.Minute)
		for _, k := range []string{day, hour} {
			b := at(k)
			v := b.minutes[m.Minute.Unix()]
			b.minutes[m.Minute.Unix()] = [2]float64{v[0] + float64(m.Max), v[1] + m.Mean}
		}
	}
	long := map[string][]store.Wait{}
	for _, w := range waits {
		day, hour := keys(w.Start)
		for _, k := range []string{day, hour} {
			b := at(k)
			b.waits = append(b.waits, w.End.Sub(w.Start).Seconds())
			if w.Estimated {
				b.est++
			}
		}
		long[day] = append(long[day], w)
	}
	stats := func(k string) QueueStats {
		b := buckets[k]
		st := QueueStats{Center: center.ID, Start: k, Waits: len(b.waits), Estimated: b.est}
		var sum float64
		for _, v := range b.minutes {
			st.MaxPeople = max(st.MaxPeople, int(v[0]))
			sum += v[1]
		}
		if len(b.minutes) > 0 {
			st.MeanPeople = round1(sum / float64(len(b.minutes)))
		}
		slices.Sort(b.waits)
		st.MedianWait, st.P90Wait = round1(percentile(b.waits, 0.5)), round1(percentile(b.waits, 0.9))
		if n := len(b.waits); n > 0 {
			st.MaxWait = round1(b.waits[n-1])
		}
		return st
	}
	r := QueueReport{Days: []QueueStats{}, Hours: []QueueStats{}, Longest: []LongWait{}}
	var ks []string
	for k := range buckets {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	for _, k := range ks {
		if k[0] != 'h' {
			r.Days = append(r.Days, stats(k))
			continue
		}
		h := stats(k)
		h.Start = k[1:]
		r.Hours = append(r.Hours, h)
	}
	for i := range r.Days {
		d := &r.Days[i]
		best := -1.0
		for _, h := range r.Hours {
			if h.Start[:10] == d.Start && len(buckets["h"+h.Start].minutes) > 0 && h.MeanPeople > best {
				d.BusiestHour, best = h.Start, h.MeanPeople
			}
		}
		ws := long[d.Start]
		slices.SortStableFunc(ws, func(a, b store.Wait) int { return cmp.Compare(b.End.Sub(b.Start), a.End.Sub(a.Start)) })
		for _, w := range ws[:min(len(ws), LongestPerDay)] {
			r.Longest = append(r.Longest, LongWait{Center: center.ID, Day: d.Start, Camera: w.Camera, Zone: w.Zone, ZoneName: zoneName(center, w.Camera, w.Zone),
				Window: w.Window, WindowName: windowName(center, w.Camera, w.Window), Start: w.Start.In(loc).Format(time.RFC3339), Seconds: round1(w.End.Sub(w.Start).Seconds()), Estimated: w.Estimated})
		}
	}
	return r
}

// zoneName is a queue zone's name as drawn or configured now.
func zoneName(center *config.Center, camera, zone string) string {
	if an := analyticsOf(center, camera); an != nil {
		if i := slices.IndexFunc(an.QueueZones, func(q config.QueueZone) bool { return q.ID == zone }); i >= 0 {
			return an.QueueZones[i].Name
		}
	}
	return ""
}

// windowName is a window's name as drawn or configured now.
func windowName(center *config.Center, camera, window string) string {
	if an := analyticsOf(center, camera); an != nil && window != "" {
		if i := slices.IndexFunc(an.Windows, func(w config.Window) bool { return w.ID == window }); i >= 0 {
			return an.Windows[i].Name
		}
	}
	return ""
}

// analyticsOf is a camera's analysis in force, nil if none.
func analyticsOf(center *config.Center, camera string) *config.Analytics {
	for _, cam := range center.Cameras {
		if cam.ID == camera {
			return cam.Effective()
		}
	}
	return nil
}
