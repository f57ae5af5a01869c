// Package demo is hallwatch's built-in hall camera: a seeded simulation of a
// citizen service center hall (clerks at service windows, visitors coming
// through the door, waiting and being served), rendered in pure Go, encoded
// to H.264 and served over RTSP on 127.0.0.1. The simulation reports its own
// ground truth (door crossings, window occupancy) with the same geometric
// rules analytics uses, so end-to-end tests can score hallwatch against it.
package demo

import (
	"fmt"
	"time"
)

// Range is an interval of durations; the scene draws uniformly from it.
type Range struct{ Min, Max time.Duration }

// SceneOptions configures a Scene. Zero values take the defaults shown.
type SceneOptions struct {
	Seed          int64
	Width, Height int // 960x540; even
	FPS           int // 15
	Windows       int // service windows, 6 (1..12)
	// VisitorInterval is the gap between two arrivals (5s..15s).
	VisitorInterval Range
	// ServiceTime is how long a visitor stays at a window (10s..30s).
	ServiceTime Range
	// ClerkAway is how long a clerk is away from the window (20s..90s).
	ClerkAway Range
	// ClerkAwayInterval is how long a clerk sits between absences (2m..5m);
	// the first absence comes after a tenth to all of the maximum.
	ClerkAwayInterval Range
	// StillClerk is the window (1-based) whose clerk never moves a pixel
	// while seated; 0 means window 3 (when there are 3 windows), -1 none.
	StillClerk int
	// ClerksArrive, when set, opens the hall: every clerk starts away and
	// walks in to their window after a delay drawn from this range, as on a
	// morning. Otherwise clerks are seated from frame 1 — invisible to a
	// motion detector, which learns them as background.
	ClerksArrive Range
	// SpawnUntil stops arrivals at this scene time, so that the hall empties
	// (finite scenarios for tests); 0 means visitors keep coming.
	SpawnUntil time.Duration
	// Noise adds sensor noise of up to ±Noise grey levels (0 = off, max 32).
	Noise int
	// Covered, when set, is a window (1-based) whose backup is the next
	// window (the AB-post rule): when its clerk leaves while the next
	// window's clerk sits free, that clerk walks over behind the counter,
	// sits at the covered window until its own clerk comes back, and
	// walks back; they take no absences of their own. The truth reports
	// it (TruthBackup) and Analytics names the backup.
	Covered int
}

func (o *SceneOptions) setDefaults() error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defRange := func(r *Range, lo, hi time.Duration) {
		if *r == (Range{}) {
			*r = Range{lo, hi}
		}
	}
	def(&o.Width, 960)
	def(&o.Height, 540)
	def(&o.FPS, 15)
	def(&o.Windows, 6)
	defRange(&o.VisitorInterval, 5*time.Second, 15*time.Second)
	defRange(&o.ServiceTime, 10*time.Second, 30*time.Second)
	defRange(&o.ClerkAway, 20*time.Second, 90*time.Second)
	defRange(&o.ClerkAwayInterval, 2*time.Minute, 5*time.Minute)
	if o.StillClerk == 0 {
		o.StillClerk = 3
		if o.Windows < 3 {
			o.StillClerk = -1
		}
	}
	switch {
	case o.Width < 160 || o.Height < 90 || o.Width > 3840 || o.Height > 2160 || o.Width%2 != 0 || o.Height%2 != 0:
		return fmt.Errorf("demo scene size %dx%d: want even dimensions from 160x90 to 3840x2160", o.Width, o.Height)
	case o.FPS < 1 || o.FPS > 60:
		return fmt.Errorf("demo scene FPS %d: want 1..60", o.FPS)
	case o.Windows < 1 || o.Windows > 12:
		return fmt.Errorf("demo scene windows %d: want 1..12", o.Windows)
	case o.StillClerk < -1 || o.StillClerk > o.Windows:
		return fmt.Errorf("demo scene still clerk window %d: want 1..%d or -1 for none", o.StillClerk, o.Windows)
	case o.SpawnUntil < 0:
		return fmt.Errorf("demo scene SpawnUntil %v is negative", o.SpawnUntil)
	case o.Covered < 0 || o.Covered >= o.Windows:
		return fmt.Errorf("demo scene covered window %d: want 1..%d (its backup is the next window) or 0 for none", o.Covered, o.Windows-1)
	case o.Noise < 0 || o.Noise > 32:
		return fmt.Errorf("demo scene noise %d: want 0..32", o.Noise)
	case o.ClerksArrive.Min < 0 || o.ClerksArrive.Max < o.ClerksArrive.Min:
		return fmt.Errorf("demo scene ClerksArrive %v..%v: want 0 <= min <= max", o.ClerksArrive.Min, o.ClerksArrive.Max)
	}
	for _, r := range []struct {
		name string
		r    Range
		min  time.Duration
	}{
		{"VisitorInterval", o.VisitorInterval, time.Second},
		{"ServiceTime", o.ServiceTime, time.Second},
		{"ClerkAway", o.ClerkAway, time.Second},
		{"ClerkAwayInterval", o.ClerkAwayInterval, time.Second},
	} {
		if r.r.Min < r.min || r.r.Max < r.r.Min {
			return fmt.Errorf("demo scene %s %v..%v: want %v <= min <= max", r.name, r.r.Min, r.r.Max, r.min)
		}
	}
	return nil
}
