package eval

import (
	"context"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/geom"
)

// ZoneReport is one window zone's outcome on a clip.
type ZoneReport struct {
	Zone   string
	Truth  int // ground-truth raises
	Score  PresenceScore
	Misses []string
}

// petsRun analyses PETS09-S2L1 with the counting line and every zone
// (z2, the busy one and ours) in one pass, and TUD-Stadtmitte's line.
func petsRun(ctx context.Context, o Options, det config.Detector, pets, tud *Sequence, r *Report) error {
	// The README's line and zones first, then ours apart: the motion
	// detector treats people in window zones apart (see Motion), so many
	// zones over the walkway would change what it counts.
	// The busy zone is a service zone too: people walk through it
	// (TestPETSBusyZoneWalkersOnly), so it must count no services.
	busy := evalWindow("busy", PETSZoneBusy)
	busy.ServiceZone, busy.ServiceMin = PETSZoneBusy, config.Duration(20*time.Second) // service_min's default
	petsRun, err := analyze(ctx, o, det, pets, &config.Analytics{Lines: []config.Line{PETSLineV400},
		Windows: []config.Window{evalWindow("z2", PETSZoneZ2), busy}}, nil)
	if err != nil {
		return err
	}
	var windows []config.Window
	for _, z := range PETSOwnZones {
		windows = append(windows, evalWindow(z.ID, z.Zone))
	}
	zonesRun, err := analyze(ctx, o, det, pets, &config.Analytics{Windows: windows}, nil)
	if err != nil {
		return err
	}
	tudRun, err := analyze(ctx, o, det, tud, &config.Analytics{Lines: []config.Line{TUDLineV480}}, nil)
	if err != nil {
		return err
	}
	for _, c := range []clipRun{petsRun, zonesRun, tudRun} {
		r.Frames += c.sum.Processed
		r.Elapsed += c.sum.Elapsed
		r.Blocked += c.blocked()
	}
	r.PETSCrossing = scoreCrossings(pets, PETSLineV400, petsRun)
	r.TUDCrossing = scoreCrossings(tud, TUDLineV480, tudRun)

	fps := petsRun.sum.FileFPS
	zones := append([]Zone{{"z2", PETSZoneZ2}}, PETSOwnZones...)
	for _, z := range zones {
		counts := Occupancy(pets.Boxes, pets.Width, pets.Height, pets.Frames, z.Zone)
		run := zonesRun
		if z.ID == "z2" {
			run = petsRun
		}
		zr := scoreZone(z.ID, windowTruth{counts: counts, first: 1, fps: fps}, run.window(z.ID))
		if z.ID == "z2" {
			r.Z2 = zr
		} else {
			r.OwnZones = append(r.OwnZones, zr)
		}
	}
	for _, e := range petsRun.window("busy") {
		if e.Type == events.TypeAlert && e.State == events.AlertRaised {
			r.BusyAlerts++
		}
	}
	for _, e := range petsRun.events {
		if e.Type == events.TypeService {
			r.BusyServices++
		}
	}
	return nil
}

// evalWindow is a window of an evaluated clip, under EvalRule.
func evalWindow(id string, zone geom.Polygon) config.Window {
	return config.Window{ID: id, Zone: zone, MinStaff: EvalRule.MinStaff,
		AbsentAfter: config.Duration(EvalRule.AbsentAfter * float64(time.Second))}
}

// scoreZone scores a window of a clip against its head counts under
// EvalRule, the documented rule (config/REFERENCE.md): an absence begins
// when the zone empties and ends once someone has been back for
// resolve_confirm; its alert is raised absent_after into it.
func scoreZone(id string, tr windowTruth, evs []events.Event) ZoneReport {
	truth := alertItems(ExpectedAlerts(tr.counts, tr.fps, EvalRule))
	for i := range truth {
		truth[i].Frame += tr.first - 1
	}
	s, misses := scorePresence(tr, evs, EvalRule, truth, nil, 0)
	zr := ZoneReport{Zone: id, Score: s, Misses: misses}
	for _, t := range truth {
		if t.Label == events.AlertRaised {
			zr.Truth++
		}
	}
	return zr
}

// pooled sums zone reports.
func pooled(zs []ZoneReport) PresenceScore {
	var s PresenceScore
	for _, z := range zs {
		s = s.Add(z.Score)
	}
	return s
}
