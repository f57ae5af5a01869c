package service

import (
	"context"
	"time"

	"github.com/hallwatch/hallwatch/analytics"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/web"
)

// What the editor and the overlays see of a camera's analysis, and the
// geometry the editor saves put in force in it.

// setGeometry hands analytics saved in the editor to the run loop, which
// puts them in force between two frames; a newer save replaces one not yet
// taken.
func (a *analysis) setGeometry(an *config.Analytics) {
	a.mu.Lock()
	a.geometry = an
	a.mu.Unlock()
	select {
	case a.regeometry <- struct{}{}:
	default: // the run loop has a wake-up pending already
	}
}

// applyGeometry puts the waiting geometry in force (run loop only).
func (a *analysis) applyGeometry(ctx context.Context, frameIndex int, t float64, wall time.Time) {
	a.mu.Lock()
	an := a.geometry
	a.geometry = nil
	a.mu.Unlock()
	if an == nil {
		return
	}
	evs := a.analyzer.Reconfigure(an, analytics.OpeningHours(a.ref.Center, an), frameIndex, t, wall)
	a.emit(ctx, evs, a.pipeline.Frame())
	a.windows(a.ref.Camera.ID, a.analyzer.Windows())
	a.log.Info("geometry in force in the analysis", "lines", len(an.Lines), "windows", len(an.Windows), "queue_zones", len(an.QueueZones))
}

// picture is the last analysed picture as JPEG, privacy masks blacked out.
type picture struct {
	jpeg []byte
	at   time.Time
	err  error
}

// picture encodes the last analysed picture (run loop only).
func (a *analysis) picture() picture {
	a.mu.Lock()
	at := a.frameAt
	a.mu.Unlock()
	frame := a.pipeline.Frame()
	if at.IsZero() || frame.Empty() {
		return picture{err: web.ErrNoPicture}
	}
	jpeg, err := analytics.Snapshot(frame, nil, a.ref.Camera.Privacy)
	return picture{jpeg: jpeg, at: at, err: err}
}

// snapshot asks the run loop for the last analysed picture.
func (a *analysis) snapshot(ctx context.Context) ([]byte, time.Time, error) {
	req := make(chan picture, 1)
	select {
	case a.pictures <- req:
	case <-ctx.Done():
		return nil, time.Time{}, ctx.Err()
	case <-time.After(5 * time.Second): // the run loop is stuck in a frame
		return nil, time.Time{}, web.ErrNoPicture
	}
	p := <-req
	return p.jpeg, p.at, p.err
}

// scene is what the analysis sees now.
func (a *analysis) scene() web.Scene {
	an, _ := a.parts()
	size, people := an.People()
	a.mu.Lock()
	sc := web.Scene{Time: a.frameAt, Width: size.X, Height: size.Y, People: []web.ScenePerson{}}
	a.mu.Unlock()
	for _, p := range people {
		sc.People = append(sc.People, web.ScenePerson{ID: p.ID, Feet: p.Feet, Box: p.Box})
	}
	for _, w := range an.Windows() {
		sc.Windows = append(sc.Windows, web.SceneWindow{ID: w.Window, State: w.State, Count: w.Count, Since: w.Since, Alerting: w.Alerting})
	}
	return sc
}

// scenes is the service's web.SceneSource.
type scenes struct{ s *Service }

func (sc scenes) Snapshot(ctx context.Context, camera string) ([]byte, time.Time, error) {
	cam, ok := sc.s.camera(camera)
	if !ok || cam.analysis == nil {
		return nil, time.Time{}, web.ErrNoPicture
	}
	return cam.analysis.snapshot(ctx)
}

func (sc scenes) Scene(camera string) (web.Scene, bool) {
	cam, ok := sc.s.camera(camera)
	if !ok || cam.analysis == nil {
		return web.Scene{}, false
	}
	return cam.analysis.scene(), true
}
