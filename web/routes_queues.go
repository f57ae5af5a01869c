package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/report"
	"github.com/hallwatch/hallwatch/store"
)

// queueAnswer is the queues report of the requested centers and days:
// per center and day (with its busiest hour), per center and hour, and
// each day's longest waits.
type queueAnswer struct {
	From    string              `json:"from"`
	To      string              `json:"to"`
	Days    []report.QueueStats `json:"days"`
	Hours   []report.QueueStats `json:"hours"`
	Longest []report.LongWait   `json:"longest"`
}

func (s *Server) queueRows(c *fiber.Ctx) (queueAnswer, error) {
	centers, r, err := s.reportCenters(c, maxDayRange)
	if err != nil {
		return queueAnswer{}, err
	}
	a := queueAnswer{From: r.from.Format(time.DateOnly), To: r.to.Format(time.DateOnly),
		Days: []report.QueueStats{}, Hours: []report.QueueStats{}, Longest: []report.LongWait{}}
	for _, ref := range centers {
		from, to := r.in(ref.center.Location())
		q := store.QueueQuery{Centers: []string{ref.center.ID}, From: from, To: to}
		minutes, err := s.deps.Store.QueueMinutes(c.UserContext(), q)
		if err != nil {
			return a, err
		}
		waits, err := s.deps.Store.Waits(c.UserContext(), q)
		if err != nil {
			return a, err
		}
		rep := report.Queues(ref.center, minutes, waits)
		a.Days = append(a.Days, rep.Days...)
		a.Hours = append(a.Hours, rep.Hours...)
		a.Longest = append(a.Longest, rep.Longest...)
	}
	return a, nil
}

// queues answers GET /api/reports/queues?center=&from=&to=.
func (s *Server) queues(c *fiber.Ctx) error {
	a, err := s.queueRows(c)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// queuesCSV answers GET /api/reports/queues.csv: a row per center and day
// and per center and hour (bucket day or hour), then each day's longest
// waits (bucket wait; estimated 1 for an estimate).
func (s *Server) queuesCSV(c *fiber.Ctx) error {
	a, err := s.queueRows(c)
	if err != nil {
		return err
	}
	f1 := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	records := [][]string{{"center", "bucket", "start", "max_people", "mean_people", "waits", "estimated", "median_wait_seconds",
		"p90_wait_seconds", "max_wait_seconds", "busiest_hour", "camera", "zone", "window"}}
	add := func(bucket string, rows []report.QueueStats) {
		for _, r := range rows {
			records = append(records, []string{r.Center, bucket, r.Start, strconv.Itoa(r.MaxPeople), f1(r.MeanPeople), strconv.Itoa(r.Waits),
				strconv.Itoa(r.Estimated), f1(r.MedianWait), f1(r.P90Wait), f1(r.MaxWait), r.BusiestHour, "", "", ""})
		}
	}
	add("day", a.Days)
	add("hour", a.Hours)
	for _, w := range a.Longest {
		est := "0"
		if w.Estimated {
			est = "1"
		}
		records = append(records, []string{w.Center, "wait", w.Start, "", "", "1", est, f1(w.Seconds), "", f1(w.Seconds), "", w.Camera, w.Zone, w.Window})
	}
	return sendCSV(c, fmt.Sprintf("queues-%s-%s.csv", a.From, a.To), records)
}
