package record

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"

	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/testclip"
	"github.com/hallwatch/hallwatch/store"
)

// rig is a store, one storage path and a hub to record from.
type rig struct {
	t     *testing.T
	st    *store.Store
	root  string
	hub   *ingest.Hub
	store *Storage
	lib   *Library
	free  *fakeFree
}

// fakeFree is a file system's free space that a test sets.
type fakeFree struct {
	mu sync.Mutex
	n  int64
}

func (f *fakeFree) get(string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n, nil
}

func (f *fakeFree) set(n int64) {
	f.mu.Lock()
	f.n = n
	f.mu.Unlock()
}

func quietLog(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func newRig(t *testing.T, o StorageOptions) *rig {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "hallwatch.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{t: t, st: st, root: filepath.Join(dir, "rec"), hub: ingest.NewHub("cam1"), free: &fakeFree{n: 100 << 30}}
	o.Root, o.Index, o.Log = r.root, st, quietLog(t)
	if o.FreeSpace == nil {
		o.FreeSpace = r.free.get
	}
	if o.Retain == nil {
		o.Retain = map[string]time.Duration{"cam1": 24 * time.Hour}
	}
	if o.ClipRetention == 0 {
		o.ClipRetention = 24 * time.Hour
	}
	if r.store, err = NewStorage(o); err != nil {
		t.Fatal(err)
	}
	r.lib = NewLibrary(st)
	return r
}

// clip encodes frames of test pattern video (ffmpeg, libx264).
func clip(t *testing.T, frames, fps, gop int) []*ingest.AccessUnit {
	return testclip.H264(t, testclip.Options{Width: 320, Height: 240, FPS: fps, GOP: gop, Frames: frames})
}

// streamInfo describes units' stream from the parameter sets of the first.
func streamInfo(units []*ingest.AccessUnit) ingest.StreamInfo {
	info := ingest.StreamInfo{Codec: ingest.CodecH264, Width: 320, Height: 240}
	for _, n := range units[0].NALUs {
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			info.SPS = n
		case h264.NALUTypePPS:
			info.PPS = n
		}
	}
	return info
}

// recorder starts a recorder on the rig's hub and waits until it listens.
func (r *rig) recorder(ctx context.Context, segment time.Duration, onState func(Status)) (*Recorder, chan error) {
	r.t.Helper()
	rec := NewRecorder(RecorderOptions{Camera: "cam1", Hub: r.hub, Storage: r.store, Index: r.st, Segment: segment, Log: quietLog(r.t), OnState: onState})
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	waitFor(r.t, "the recorder to subscribe", func() bool {
		for _, s := range r.hub.Subscribers() {
			if s.Name == "record" {
				return true
			}
		}
		return false
	})
	return rec, done
}

// publish sends units as if received from t0 on, at their PTS, each with
// a PTS offset of base.
func publish(hub *ingest.Hub, units []*ingest.AccessUnit, t0 time.Time, base time.Duration) {
	for _, u := range units {
		au := *u
		au.PTS = base + u.PTS
		au.Received = t0.Add(au.PTS)
		hub.Publish(&au)
	}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for range 400 {
		if cond() {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s", what)
}

func fileSize(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}
