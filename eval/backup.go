package eval

import (
	"fmt"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
)

// BackupScore is how an analysis reported the AB post of a simulated hall
// (demo.SceneOptions.Covered) against the scene's truth: the covered
// window staffed_by_backup while the backup clerk sits there, the backup
// window covering while its clerk is over there and its own zone empty.
// Times are seconds at the scene's frame rate, counted once a covering
// has lasted resolve_confirm plus AlertTolerance (the time analysis is
// allowed to notice), and false times once the truth has been otherwise
// for AlertTolerance.
type BackupScore struct {
	// Episodes are the truth's coverings long enough to judge; Found
	// those reported staffed_by_backup for at least half of that time.
	Episodes, Found int
	// Covered: time the backup clerk sat at the covered window; ByBackup
	// the part reported staffed_by_backup; FalseByBackup the time it was
	// reported staffed_by_backup while nobody covered.
	Covered, ByBackup, FalseByBackup float64
	// Covering: time the backup window's clerk was away covering, its own
	// zone empty; Reported the part reported covering; FalseCovering the
	// time reported covering otherwise.
	Covering, Reported, FalseCovering float64
}

// Add sums two scores.
func (s BackupScore) Add(o BackupScore) BackupScore {
	return BackupScore{s.Episodes + o.Episodes, s.Found + o.Found, s.Covered + o.Covered, s.ByBackup + o.ByBackup,
		s.FalseByBackup + o.FalseByBackup, s.Covering + o.Covering, s.Reported + o.Reported, s.FalseCovering + o.FalseCovering}
}

// Recall is the share of the covered time reported staffed_by_backup (1
// when nothing was covered).
func (s BackupScore) Recall() float64 {
	if s.Covered == 0 {
		return 1
	}
	return s.ByBackup / s.Covered
}

// Precision is the share of the time reported staffed_by_backup that was
// covered (1 when never reported).
func (s BackupScore) Precision() float64 {
	if s.ByBackup+s.FalseByBackup == 0 {
		return 1
	}
	return s.ByBackup / (s.ByBackup + s.FalseByBackup)
}

func (s BackupScore) String() string {
	return fmt.Sprintf("coverings found %d/%d, by backup %.1f of %.1f s (recall %.2f, precision %.2f, %.1f s false), covering %.1f of %.1f s (%.1f s false)",
		s.Found, s.Episodes, s.ByBackup, s.Covered, s.Recall(), s.Precision(), s.FalseByBackup, s.Reported, s.Covering, s.FalseCovering)
}

// scoreBackup scores the AB post of every window that has a backup;
// settle and tol are in frames.
func (a *demoAnalysis) scoreBackup(truth demoTruth, cfg *config.Analytics, end, settle, tol int, fps float64) {
	for _, w := range cfg.Windows {
		if w.Backup == "" {
			continue
		}
		covered := truth.covered[w.ID]
		away := make([]bool, len(covered))
		for i, c := range truth.covering[w.Backup] {
			away[i] = c && truth.counts[w.Backup][i] == 0
		}
		sA, sB := a.statesAt(w.ID, end), a.statesAt(w.Backup, end)
		var s BackupScore
		runs := a.timeShares(covered, sA, events.StateStaffedByBackup, end, settle, tol, fps, &s.Covered, &s.ByBackup, &s.FalseByBackup)
		for _, r := range runs {
			if r[0] >= fps { // at least a second to judge
				s.Episodes++
				if r[1] >= r[0]/2 {
					s.Found++
				}
			}
		}
		a.timeShares(away, sB, events.StateCovering, end, settle, tol, fps, &s.Covering, &s.Reported, &s.FalseCovering)
		a.r.Backup = a.r.Backup.Add(s)
		if s.Found < s.Episodes {
			a.r.Misses = append(a.r.Misses, fmt.Sprintf("%s: %d of %d coverings by %s not reported", w.ID, s.Episodes-s.Found, s.Episodes, w.Backup))
		}
	}
}

// timeShares adds, over the analysed frames up to end, the seconds truth
// held (settled), those of them reported as state, and those reported as
// state while truth had not held for tol frames. It returns, per run of
// truth, its judged frames and the frames of them reported as state.
func (a *demoAnalysis) timeShares(truth []bool, states []string, state string, end, settle, tol int, fps float64, held, hit, false_ *float64) [][2]float64 {
	var runs [][2]float64
	start, last := -1, -1<<30 // frame the current run began; frame truth last held
	for f := a.first; f <= end; f++ {
		on := truth[f-1]
		if on {
			if start < 0 {
				start = f
				runs = append(runs, [2]float64{})
			}
			last = f
		} else {
			start = -1
		}
		st := states[f-a.first]
		switch {
		case on && f-start >= settle:
			*held += 1 / fps
			runs[len(runs)-1][0]++
			if st == state {
				*hit += 1 / fps
				runs[len(runs)-1][1]++
			}
		case !on && f-last > tol && st == state:
			*false_ += 1 / fps
		}
	}
	return runs
}

// statesAt is a window's reported state at each frame from a.first to
// end: an analysed frame's state holds until the next one.
func (a *demoAnalysis) statesAt(window string, end int) []string {
	out := make([]string, end-a.first+1)
	cur, at := events.StateUnknown, a.first
	for _, e := range a.evs {
		if e.Type != "state" || e.Window != window {
			continue
		}
		for ; at < e.Frame && at <= end; at++ {
			out[at-a.first] = cur
		}
		cur = e.State
	}
	for ; at <= end; at++ {
		out[at-a.first] = cur
	}
	return out
}
