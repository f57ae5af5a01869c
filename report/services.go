package report

import (
	"math"
	"slices"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// ServiceStats are the services of a window or a center in one bucket:
// how many, and the median and 90th percentile of their durations.
type ServiceStats struct {
	Center     string  `json:"center"`
	Camera     string  `json:"camera,omitempty"`      // empty: the whole center
	Window     string  `json:"window,omitempty"`      // empty: the whole center
	WindowName string  `json:"window_name,omitempty"` // as drawn or configured now
	Start      string  `json:"start"`                 // the bucket: YYYY-MM-DD, or RFC 3339 hour, in the center's zone
	Services   int     `json:"services"`
	MedianSec  float64 `json:"median_seconds"`
	P90Sec     float64 `json:"p90_seconds"`
}

// ServiceReport is a center's services over a range: per window over the
// whole range then the center's (Totals, Start empty), per window and
// day, per center and day, and per center and hour (the busy hours).
type ServiceReport struct {
	Totals  []ServiceStats `json:"totals"`
	Windows []ServiceStats `json:"windows"`
	Days    []ServiceStats `json:"days"`
	Hours   []ServiceStats `json:"hours"`
}

// Services computes the report of a center's services (store.Services of
// the range, any order), bucketed by their start in the center's zone.
// Rows come in configuration order of the windows, then by time; windows
// and buckets without services have no row.
func Services(center *config.Center, services []store.Service) ServiceReport {
	loc := center.Location()
	type key struct{ camera, window, start string }
	durations := map[key][]float64{}
	for _, s := range services {
		d := s.End.Sub(s.Start).Seconds()
		start := s.Start.In(loc)
		day := start.Format(time.DateOnly)
		hour := start.Truncate(time.Hour).Format(time.RFC3339)
		for _, k := range []key{{s.Camera, s.Window, day}, {"", "", day}, {"", "", "h" + hour}, {s.Camera, s.Window, "all"}, {"", "", "all"}} {
			durations[k] = append(durations[k], d)
		}
	}
	stats := func(k key, start string) ServiceStats {
		ds := durations[k]
		slices.Sort(ds)
		return ServiceStats{Center: center.ID, Camera: k.camera, Window: k.window, Start: start, Services: len(ds),
			MedianSec: round1(percentile(ds, 0.5)), P90Sec: round1(percentile(ds, 0.9))}
	}
	var days, hours []string
	for k := range durations {
		if k.window == "" && k.start[0] == 'h' {
			hours = append(hours, k.start)
		} else if k.window == "" && k.start != "all" {
			days = append(days, k.start)
		}
	}
	slices.Sort(days)
	slices.Sort(hours)
	r := ServiceReport{Totals: []ServiceStats{}, Windows: []ServiceStats{}, Days: []ServiceStats{}, Hours: []ServiceStats{}}
	for _, cam := range center.Cameras {
		an := cam.Effective()
		if an == nil {
			continue
		}
		for _, w := range an.Windows {
			if k := (key{cam.ID, w.ID, "all"}); len(durations[k]) > 0 {
				st := stats(k, "")
				st.WindowName = w.Name
				r.Totals = append(r.Totals, st)
			}
			for _, day := range days {
				if k := (key{cam.ID, w.ID, day}); len(durations[k]) > 0 {
					st := stats(k, day)
					st.WindowName = w.Name
					r.Windows = append(r.Windows, st)
				}
			}
		}
	}
	if len(services) > 0 {
		r.Totals = append(r.Totals, stats(key{"", "", "all"}, ""))
	}
	for _, day := range days {
		r.Days = append(r.Days, stats(key{"", "", day}, day))
	}
	for _, h := range hours {
		r.Hours = append(r.Hours, stats(key{"", "", h}, h[1:]))
	}
	return r
}

// percentile of sorted values, interpolated between the nearest ranks; 0
// for none.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	pos := p * float64(len(sorted)-1)
	i := int(pos)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (pos-float64(i))*(sorted[i+1]-sorted[i])
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }
