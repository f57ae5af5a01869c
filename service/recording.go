package service

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/alerts"
	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/events"
	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/record"
	"github.com/hallwatch/hallwatch/store"
)

// recording is the service's recording side: a storage per path in use,
// the recorder options of each recorded camera, the clip cutter and the
// read side. A camera's recorder is part of the camera's unit (newCamera,
// runCamera): it records where and while the camera runs, so in a cluster
// only on the node holding the camera's lease.
type recording struct {
	storages []*record.Storage
	options  map[string]record.RecorderOptions // by camera; Hub set by recorder
	storage  map[string]*record.Storage        // each recorded camera's path
	clipper  *record.Clipper
	library  *record.Library
	before   time.Duration
	after    time.Duration

	mu        sync.Mutex
	recorders map[string]*record.Recorder // the recorders of the units running here
}

// newRecording sets up recording for cfg's cameras. A single node
// recovers what a previous run left open in each path; a node of a
// cluster recovers a camera's segments when it takes the camera over
// (recoverCamera), since other nodes may be recording in the same path.
func newRecording(ctx context.Context, cfg *config.Config, st *store.Store,
	alertDesk *alerts.Manager, log *slog.Logger) (*recording, error) {
	r := &recording{options: map[string]record.RecorderOptions{}, storage: map[string]*record.Storage{},
		recorders: map[string]*record.Recorder{}, library: record.NewLibrary(st),
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
		if !cfg.Cluster.Enabled() {
			if err := s.Recover(ctx); err != nil {
				return nil, err
			}
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
		r.storage[id] = byPath[rc.Path]
		r.options[id] = record.RecorderOptions{
			Camera: id, Storage: byPath[rc.Path], Index: st, Segment: cfg.Record.Segment.D(), Log: log,
			OnState: func(status record.Status) {
				full := status.State == record.StateStorageFull
				if err := alertDesk.SetCondition(context.WithoutCancel(ctx), id, events.KindStorageFull, full); err != nil {
					log.Error("storage_full alert", "camera", id, "err", err)
				}
			},
		}
	}
	r.clipper = record.NewClipper(record.ClipperOptions{Index: st, Library: r.library, Storage: clipStorage, Default: r.storages[0],
		Before: r.before, After: r.after, Retention: cfg.Retention.Clips.D(), Log: log})
	return r, nil
}

// runners are the long-lived parts every node runs: the storage paths'
// sweeps (each node sees its own free space). The cameras' recorders run
// in their units, and the clip cutter once (clips).
func (r *recording) runners() []func(context.Context) error {
	var out []func(context.Context) error
	for _, s := range r.storages {
		out = append(out, s.Run)
	}
	return out
}

// clips cuts alert clips until ctx ends: on a single node always, in a
// cluster on the node holding its lease, so that a clip is cut once.
func (r *recording) clips(ctx context.Context) error {
	if r.clipper == nil {
		return nil
	}
	return r.clipper.Run(ctx)
}

// recorder is camera id's recorder on hub, registered for Status until
// its unit stops (release); nil when the camera is not recorded.
func (r *recording) recorder(id string, hub *ingest.Hub) *record.Recorder {
	o, ok := r.options[id]
	if !ok {
		return nil
	}
	o.Hub = hub
	rec := record.NewRecorder(o)
	r.mu.Lock()
	r.recorders[id] = rec
	r.mu.Unlock()
	return rec
}

// release forgets rec once its unit has stopped.
func (r *recording) release(id string, rec *record.Recorder) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.recorders[id] == rec {
		delete(r.recorders, id)
	}
}

// recoverCamera closes the segments of camera id that the node which ran
// it before left open (killed, cut off); a node of a cluster calls it
// when it takes the camera, before its recorder runs.
func (r *recording) recoverCamera(ctx context.Context, id string) error {
	st, ok := r.storage[id]
	if !ok {
		return nil
	}
	return st.RecoverCamera(ctx, id)
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

// Status is a camera's recorder status; false when it is not recorded
// (or, in a cluster, not recorded on this node).
func (r *recording) Status(camera string) (record.Status, bool) {
	r.mu.Lock()
	rec, ok := r.recorders[camera]
	r.mu.Unlock()
	if !ok {
		return record.Status{}, false
	}
	return rec.Status(), true
}
