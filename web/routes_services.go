package web

import (
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/report"
	"github.com/hallwatch/hallwatch/store"
)

// serviceAnswer is the services report of the requested centers and days:
// per window and day, per center and day, per center and hour.
type serviceAnswer struct {
	From    string                `json:"from"`
	To      string                `json:"to"`
	Totals  []report.ServiceStats `json:"totals"`
	Windows []report.ServiceStats `json:"windows"`
	Days    []report.ServiceStats `json:"days"`
	Hours   []report.ServiceStats `json:"hours"`
}

func (s *Server) serviceRows(c *fiber.Ctx) (serviceAnswer, error) {
	centers, r, err := s.reportCenters(c, maxDayRange)
	if err != nil {
		return serviceAnswer{}, err
	}
	a := serviceAnswer{From: r.from.Format(time.DateOnly), To: r.to.Format(time.DateOnly),
		Totals: []report.ServiceStats{}, Windows: []report.ServiceStats{}, Days: []report.ServiceStats{}, Hours: []report.ServiceStats{}}
	for _, ref := range centers {
		from, to := r.in(ref.center.Location())
		svcs, err := s.deps.Store.Services(c.UserContext(), store.ServiceQuery{Centers: []string{ref.center.ID}, From: from, To: to})
		if err != nil {
			return a, err
		}
		rep := report.Services(ref.center, svcs)
		a.Totals = append(a.Totals, rep.Totals...)
		a.Windows = append(a.Windows, rep.Windows...)
		a.Days = append(a.Days, rep.Days...)
		a.Hours = append(a.Hours, rep.Hours...)
	}
	return a, nil
}

// services answers GET /api/reports/services?center=&from=&to=.
func (s *Server) services(c *fiber.Ctx) error {
	a, err := s.serviceRows(c)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

// servicesCSV answers GET /api/reports/services.csv: a row per window over
// the range and the center's (bucket "range"), per window and day, per
// center and day (window empty), per center and hour.
func (s *Server) servicesCSV(c *fiber.Ctx) error {
	a, err := s.serviceRows(c)
	if err != nil {
		return err
	}
	records := [][]string{{"center", "camera", "window", "window_name", "bucket", "start", "services", "median_seconds", "p90_seconds"}}
	add := func(bucket string, rows []report.ServiceStats) {
		for _, r := range rows {
			records = append(records, []string{r.Center, r.Camera, r.Window, r.WindowName, bucket, r.Start, strconv.Itoa(r.Services),
				strconv.FormatFloat(r.MedianSec, 'f', 1, 64), strconv.FormatFloat(r.P90Sec, 'f', 1, 64)})
		}
	}
	add("range", a.Totals)
	add("day", a.Windows)
	add("day", a.Days)
	add("hour", a.Hours)
	return sendCSV(c, fmt.Sprintf("services-%s-%s.csv", a.From, a.To), records)
}
