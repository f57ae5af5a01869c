package service

import (
	"context"
	"log/slog"
	"time"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/record"
	"github.com/hallwatch/hallwatch/store"
)

// recording is the service's recording side: a storage per path in use,
// a recorder per recorded camera, the clip cutter and the read side.
type recording struct {
	storages  []*record.Storage
	recorders map[string]*record.Recorder
	clipper   *record.Clipper
	library   *record.Library
	before    time.Duration
	after     time.Duration
}

// newRecording sets up recording for cfg's cameras and recovers what a
// previous run left open. hubs are the cameras' hubs.
func newRecording(ctx context.Context, cfg *config.Config, st *store.Store, hubs map[string]*ingest.Hub,
	alertDesk *alerts.Manager, log *slog.Logger) (*recording, error) {
	r := &recording{recorders: map[string]*record.Recorder{}, library: record.NewLibrary(st),
		before: cfg.Record.ClipBefore.D(), after: cfg.Record.ClipAfter.D()}
	retain := map[string]map[string]time.Duration{} // path → camera → retain
	for _, ref := range cfg.Cameras() {
		rc := cfg.Recording(ref.Camera)
		if !rc.Enabled {
			continue
		}
		if retain[rc.Path] == nil {
			retain[rc.Path] = map[string]time.Duration{}
		}
		retain[rc.Path][ref.Camera.ID] = rc.Retain
	}
	if len(retain) == 0 {
		return r, nil // nothing recorded: no directories, no clips
	}
	byPath := map[string]*record.Storage{}
	for _, p := range cfg.RecordPaths() {
		if retain[p.Path] == nil {
			continue
		}
		s, err := record.NewStorage(record.StorageOptions{Root: p.Path, MaxSize: int64(p.MaxSize), MinFree: int64(p.MinFree),
			Index: st, Retain: retain[p.Path], ClipRetention: cfg.Retention.Clips.D(), Log: log})
		if err != nil {
			return nil, err
		}
		if err := s.Recover(ctx); err != nil {
			return nil, err
		}
		byPath[p.Path] = s
		r.storages = append(r.storages, s)
	}
	clipStorage := map[string]*record.Storage{}
	for _, ref := range cfg.Cameras() {
		rc := cfg.Recording(ref.Camera)
		if !rc.Enabled {
			continue
		}
		id := ref.Camera.ID
		clipStorage[id] = byPath[rc.Path]
		r.recorders[id] = record.NewRecorder(record.RecorderOptions{
			Camera: id, Hub: hubs[id], Storage: byPath[rc.Path], Index: st, Segment: cfg.Record.Segment.D(), Log: log,
			OnState: func(status record.Status) {
				full := status.State == record.StateStorageFull
				if err := alertDesk.SetCondition(context.WithoutCancel(ctx), id, events.KindStorageFull, full); err != nil {
					log.Error("storage_full alert", "camera", id, "err", err)
				}
			},
		})
	}
	r.clipper = record.NewClipper(record.ClipperOptions{Index: st, Library: r.library, Storage: clipStorage, Default: r.storages[0],
		Before: r.before, After: r.after, Retention: cfg.Retention.Clips.D(), Log: log})
	return r, nil
}

// runners are the long-lived parts to run.
func (r *recording) runners() []func(context.Context) error {
	var out []func(context.Context) error
	for _, s := range r.storages {
		out = append(out, s.Run)
	}
	for _, rec := range r.recorders {
		out = append(out, rec.Run)
	}
	if r.clipper != nil {
		out = append(out, r.clipper.Run)
	}
	return out
}

// The web's view of the recordings (web.Recordings).

func (r *recording) Timeline(ctx context.Context, camera string, from, to time.Time) ([]record.Span, error) {
	return r.library.Timeline(ctx, camera, from, to)
}

func (r *recording) Play(ctx context.Context, camera string, at time.Time) (record.Play, error) {
	return r.library.Play(ctx, camera, at)
}

func (r *recording) Video(ctx context.Context, camera string, from, to time.Time) (*record.Video, error) {
	return r.library.Video(ctx, camera, from, to)
}

func (r *recording) AlertVideo(ctx context.Context, a store.Alert) (*record.Video, error) {
	return r.library.AlertVideo(ctx, a, r.before, r.after)
}

// Status is a camera's recorder status; false when it is not recorded.
func (r *recording) Status(camera string) (record.Status, bool) {
	rec, ok := r.recorders[camera]
	if !ok {
		return record.Status{}, false
	}
	return rec.Status(), true
}
