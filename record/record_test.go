package record

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/pmp4"

	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/internal/ffprobe"
	"github.com/hallwatch/hallwatch/store"
)

// recordClip records units through a recorder with 2 s segments, then
// stops it (closing the last segment) and returns the segments.
func recordClip(t *testing.T, r *rig, units []*ingest.AccessUnit, t0 time.Time) []store.Segment {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	rec, done := r.recorder(ctx, 2*time.Second, nil)
	r.hub.SetStream(streamInfo(units))
	publish(r.hub, units, t0, 0)
	waitFor(t, "every unit to reach the recorder", func() bool {
		var n uint64
		for _, u := range units {
			n += uint64(u.Size())
		}
		return rec.Status().ReceivedBytes == n
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	segs, err := r.st.Segments(context.Background(), store.SegmentQuery{Camera: "cam1"})
	if err != nil {
		t.Fatal(err)
	}
	return segs
}

// avcc is what an MP4 sample of the unit holds.
func avcc(t *testing.T, au *ingest.AccessUnit) []byte {
	b, err := h264.AVCC(au.NALUs).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRecordSegmentsAndPlayback(t *testing.T) {
	units := clip(t, 150, 25, 25) // 6 s, a key frame every second
	r := newRig(t, StorageOptions{})
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	segs := recordClip(t, r, units, t0)

	// Cut at the first key frame 2 s into each segment: 0-2, 2-4, 4-6 s.
	if len(segs) != 3 {
		t.Fatalf("%d segments, want 3: %+v", len(segs), segs)
	}
	var written int64
	var samples [][]byte
	for i, sg := range segs {
		p := filepath.Join(r.root, filepath.FromSlash(sg.Path))
		if !sg.Closed || sg.Bytes != fileSize(t, p) || sg.Codec != "H264" {
			t.Errorf("segment %d in the index: %+v, file %d bytes", i, sg, fileSize(t, p))
		}
		if want := t0.Add(time.Duration(i) * 2 * time.Second); !sg.Start.Equal(want) || !sg.End.Equal(want.Add(2*time.Second)) {
			t.Errorf("segment %d spans %v..%v, want %v..+2s", i, sg.Start, sg.End, want)
		}
		dur, frames := ffprobe.Video(t, p)
		if frames != 50 || dur < 1900*time.Millisecond || dur > 2100*time.Millisecond {
			t.Errorf("segment %d: ffprobe reads %d frames over %v, want 50 over 2s", i, frames, dur)
		}
		written += sg.Bytes
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := scanSegment(bytes.NewReader(data), int64(len(data)), nil)
		if err != nil || sc.valid != int64(len(data)) {
			t.Fatalf("scan segment %d: valid %d of %d: %v", i, sc.valid, len(data), err)
		}
		for _, rn := range sc.runs {
			off := rn.data
			for _, s := range rn.samples {
				samples = append(samples, data[off:off+int64(s.size)])
				off += int64(s.size)
			}
		}
	}
	// Not re-encoded: every unit is in the files, byte for byte, once.
	if len(samples) != len(units) {
		t.Fatalf("%d samples recorded, want %d", len(samples), len(units))
	}
	var received int64
	for i, u := range units {
		received += int64(u.Size())
		if !bytes.Equal(samples[i], avcc(t, u)) {
			t.Fatalf("sample %d differs from the unit received", i)
		}
	}
	t.Logf("received %d video bytes, wrote %d (%.2f%%)", received, written, 100*float64(written-received)/float64(received))

	ctx := context.Background()
	spans, err := r.lib.Timeline(ctx, "cam1", t0.Add(-time.Minute), t0.Add(time.Minute))
	if err != nil || len(spans) != 1 || !spans[0].Start.Equal(t0) || !spans[0].End.Equal(t0.Add(6*time.Second)) {
		t.Errorf("timeline = %+v, %v; want one span of 6 s", spans, err)
	}
	play, err := r.lib.Play(ctx, "cam1", t0.Add(3500*time.Millisecond))
	if err != nil || !play.Start.Equal(t0.Add(3*time.Second)) || play.Offset != 500*time.Millisecond || !play.End.Equal(t0.Add(6*time.Second)) {
		t.Errorf("play from 3.5 s = %+v, %v; want the key frame at 3 s, offset 0.5 s", play, err)
	}
	gapPlay, err := r.lib.Play(ctx, "cam1", t0.Add(-10*time.Minute))
	if err != nil || !gapPlay.Start.Equal(t0) || gapPlay.Offset != 0 {
		t.Errorf("play from before the recording = %+v, %v; want its start", gapPlay, err)
	}
	if _, err := r.lib.Play(ctx, "cam1", t0.Add(time.Minute)); err != ErrNoVideo {
		t.Errorf("play after the recording: %v, want ErrNoVideo", err)
	}

	// A span across segments, from the key frame before 1.5 s.
	v, err := r.lib.Video(ctx, "cam1", t0.Add(1500*time.Millisecond), t0.Add(4500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if !v.Start.Equal(t0.Add(time.Second)) || !v.End.Equal(t0.Add(4520*time.Millisecond)) {
		t.Errorf("video spans %v..%v, want 1 s..4.52 s", v.Start.Sub(t0), v.End.Sub(t0))
	}
	out := filepath.Join(t.TempDir(), "span.mp4")
	if err := writeVideo(v, out); err != nil {
		t.Fatal(err)
	}
	if fileSize(t, out) != v.Size() {
		t.Errorf("video file %d bytes, Size %d", fileSize(t, out), v.Size())
	}
	if _, frames := ffprobe.Video(t, out); frames != 88 {
		t.Errorf("span plays %d frames, want 88 (1.00 s to 4.48 s)", frames)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pres pmp4.Presentation
	if err := pres.Unmarshal(f); err != nil {
		t.Fatal(err)
	}
	if n := len(pres.Tracks[0].Samples); n != 88 {
		t.Fatalf("span has %d samples", n)
	}
	for i, s := range pres.Tracks[0].Samples {
		b, err := s.GetPayload()
		if err != nil || !bytes.Equal(b, avcc(t, units[25+i])) {
			t.Fatalf("span sample %d is not unit %d: %v", i, 25+i, err)
		}
		if s.IsNonSyncSample != !units[25+i].Key {
			t.Fatalf("span sample %d sync flag %v", i, !s.IsNonSyncSample)
		}
	}

	// Every byte range reads the same as the whole.
	whole, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, rg := range [][2]int64{{0, 10}, {int64(len(v.header)) - 3, 100}, {v.Size() - 1, 1}, {12345, 40000}} {
		var buf bytes.Buffer
		if err := v.WriteRange(&buf, rg[0], rg[1]); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), whole[rg[0]:rg[0]+rg[1]]) {
			t.Errorf("range %v differs from the whole file", rg)
		}
	}
}

// A process killed while writing leaves a torn fragment and an open
// index entry; recovery cuts the tail and every complete fragment plays.
func TestRecoverTornSegment(t *testing.T) {
	units := clip(t, 75, 25, 25)
	r := newRig(t, StorageOptions{})
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	segs := recordClip(t, r, units, t0)
	last := segs[len(segs)-1]
	p := filepath.Join(r.root, filepath.FromSlash(last.Path))
	whole := fileSize(t, p)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	// The crash: half of another fragment written, the index a while behind.
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data[len(data)-(len(data)-int(last.Bytes))/2-3000:]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	ctx := context.Background()
	if err := r.st.UpdateSegment(ctx, last.ID, last.Start, 0, false); err != nil {
		t.Fatal(err)
	}
	if err := r.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"})
	fixed := got[len(got)-1]
	if !fixed.Closed || fixed.Bytes != whole || fileSize(t, p) != whole || !fixed.End.Equal(last.End) {
		t.Errorf("recovered segment %+v, file %d bytes; want closed, %d bytes, ending %v", fixed, fileSize(t, p), whole, last.End)
	}
	if _, frames := ffprobe.Video(t, p); frames != 25 {
		t.Errorf("recovered segment plays %d frames, want 25", frames)
	}

	// An entry whose file never got a fragment goes, file and all.
	empty := filepath.Join(r.root, "cam1", "empty.mp4")
	if err := os.WriteFile(empty, data[:100], 0o640); err != nil {
		t.Fatal(err)
	}
	id, err := r.st.AddSegment(ctx, store.Segment{Camera: "cam1", Root: r.root, Path: "cam1/empty.mp4", Codec: "H264", Start: t0, End: t0})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Errorf("empty segment file still there: %v", err)
	}
	if got, _ := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"}); len(got) != len(segs) || got[len(got)-1].ID == id {
		t.Errorf("empty segment still indexed: %+v", got)
	}
}

func TestRetentionAndBudget(t *testing.T) {
	units := clip(t, 150, 25, 25)
	r := newRig(t, StorageOptions{})
	t0 := time.Now().Add(-3 * time.Hour).Truncate(time.Second)
	segs := recordClip(t, r, units, t0)
	ctx := context.Background()
	exists := func(sg store.Segment) bool {
		_, err := os.Stat(filepath.Join(r.root, filepath.FromSlash(sg.Path)))
		return err == nil
	}

	// Budget: room for the newest two segments only.
	r.store.o.MaxSize = segs[1].Bytes + segs[2].Bytes
	if err := r.store.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"})
	if len(got) != 2 || got[0].ID != segs[1].ID || exists(segs[0]) || !exists(segs[1]) {
		t.Errorf("over budget: left %+v; want the oldest gone", got)
	}
	// Retention: the segments ended more than 2 h ago.
	r.store.o.MaxSize = 0
	r.store.o.Retain["cam1"] = 2 * time.Hour
	if err := r.store.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"}); len(got) != 0 || exists(segs[2]) {
		t.Errorf("after retention: %+v left", got)
	}
	if _, err := os.Stat(filepath.Join(r.root, "cam1")); !os.IsNotExist(err) {
		t.Errorf("empty camera directory left behind: %v", err)
	}
}

func TestStorageFullStopsAndResumes(t *testing.T) {
	units := clip(t, 100, 25, 25)
	r := newRig(t, StorageOptions{MinFree: 64 << 20})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	states := make(chan string, 16)
	rec, done := r.recorder(ctx, time.Hour, func(st Status) { states <- st.State })
	if s := <-states; s != StateWaiting { // told at the start, so a stale storage_full alert resolves
		t.Fatalf("first state %q, want waiting", s)
	}
	r.hub.SetStream(streamInfo(units))
	t0 := time.Now().Add(-time.Hour)
	publish(r.hub, units[:50], t0, 0)
	if s := <-states; s != StateRecording {
		t.Fatalf("state %q, want recording", s)
	}
	r.free.set(10 << 20) // below min_free
	if err := r.store.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if !r.store.Full() {
		t.Fatal("storage not full with 10 MiB free and min_free 64 MiB")
	}
	waitFor(t, "storage_full", func() bool { return rec.Status().State == StateStorageFull })
	if s := <-states; s != StateStorageFull {
		t.Fatalf("state %q, want storage_full", s)
	}
	if e := rec.Status().Error; e != "10.0 MiB free on the file system, below record.min_free 64.0 MiB" {
		t.Errorf("status error %q", e)
	}
	segs, _ := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"})
	if len(segs) != 1 || !segs[0].Closed {
		t.Fatalf("the segment was not closed when the disk filled: %+v", segs)
	}
	before := segs[0].Bytes
	publish(r.hub, units[50:], t0, 2*time.Second)
	waitFor(t, "the units written while full to be handled", func() bool { return len(r.hub.Subscribers()) == 1 && r.hub.Subscribers()[0].Queued == 0 })
	if segs, _ := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"}); len(segs) != 1 || segs[0].Bytes != before {
		t.Fatalf("recorded while full: %+v", segs)
	}

	r.free.set(64<<20 + 16<<20) // below min_free + margin (17 MiB): still full
	r.store.sweep(ctx)
	if !r.store.Full() {
		t.Fatal("resumed without the margin above min_free")
	}
	r.free.set(100 << 20)
	r.store.sweep(ctx)
	if r.store.Full() {
		t.Fatal("still full with space back")
	}
	waitFor(t, "waiting", func() bool { return rec.Status().State == StateWaiting })
	publish(r.hub, units[:50], t0, 10*time.Second)
	waitFor(t, "recording again", func() bool { return rec.Status().State == StateRecording })
	cancel()
	<-done
	if segs, _ := r.st.Segments(context.Background(), store.SegmentQuery{Camera: "cam1"}); len(segs) != 2 {
		t.Fatalf("after space returned: %d segments, want 2", len(segs))
	}
}

func TestClipCutFromRecording(t *testing.T) {
	units := clip(t, 150, 25, 25)
	r := newRig(t, StorageOptions{})
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	recordClip(t, r, units, t0)
	ctx := context.Background()
	raise := func(at, resolved time.Duration) store.Alert {
		raised, _, err := r.st.RaiseAlert(ctx, store.AlertRecord{Kind: "unstaffed", District: "d1", Center: "c1", Camera: "cam1", Window: "w1", RaisedAt: t0.Add(at)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		id := raised.ID
		if _, _, err := r.st.ResolveAlert(ctx, id, t0.Add(resolved), nil); err != nil {
			t.Fatal(err)
		}
		a, _ := r.st.Alert(ctx, id)
		return a
	}
	inside := raise(1500*time.Millisecond, 2500*time.Millisecond)
	outside := raise(time.Minute, 2*time.Minute)
	if !inside.HasVideo || outside.HasVideo {
		t.Errorf("HasVideo %v and %v, want true and false", inside.HasVideo, outside.HasVideo)
	}
	before, err := r.lib.AlertVideo(ctx, inside, time.Second, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c := NewClipper(ClipperOptions{Index: r.st, Library: r.lib, Default: r.store, Before: time.Second, After: time.Second, Retention: 24 * time.Hour, Log: quietLog(t)})
	if err := c.cutDue(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := r.st.Clip(ctx, inside.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(r.root, filepath.FromSlash(got.Path))
	// 0.5 s..3.5 s, from the key frame at 0 s: 0.00..3.48 s.
	if !got.Start.Equal(t0) || !got.End.Equal(t0.Add(3520*time.Millisecond)) || got.Bytes != fileSize(t, p) || got.Bytes != before.Size() {
		t.Errorf("clip %+v, file %d bytes; want 0..3.52 s of %d bytes", got, fileSize(t, p), before.Size())
	}
	if _, frames := ffprobe.Video(t, p); frames != 88 {
		t.Errorf("clip plays %d frames, want 88", frames)
	}
	if none, err := r.st.Clip(ctx, outside.ID); err != nil || none.Bytes != 0 {
		t.Errorf("alert without video: clip %+v, %v; want an empty row", none, err)
	}

	// The recording goes; the clip stays and is what the alert plays.
	r.store.o.Retain["cam1"] = time.Minute
	if err := r.store.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := r.lib.AlertVideo(ctx, inside, time.Second, time.Second)
	if err != nil || v.Size() != got.Bytes {
		t.Fatalf("alert video after the recording went: %v, %v", v, err)
	}
	var buf bytes.Buffer
	if err := v.WriteRange(&buf, 0, v.Size()); err != nil {
		t.Fatal(err)
	}
	// Clips go after retention.clips.
	r.store.o.ClipRetention = time.Minute
	if err := r.store.sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("expired clip still on disk: %v", err)
	}
	if a, _ := r.st.Alert(ctx, inside.ID); a.HasVideo {
		t.Error("alert still has video after its clip expired")
	}
	if err := c.cutDue(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _ := r.st.Clip(ctx, inside.ID); again.Bytes != 0 {
		t.Error("an expired clip was cut again")
	}
}

// downIndex is an index whose database is down while down is set.
type downIndex struct {
	Index
	down atomic.Bool
}

var errDown = errors.New("database unavailable")

func (d *downIndex) AddSegment(ctx context.Context, sg store.Segment) (int64, error) {
	if d.down.Load() {
		return 0, errDown
	}
	return d.Index.AddSegment(ctx, sg)
}

func (d *downIndex) UpdateSegment(ctx context.Context, id int64, end time.Time, bytes int64, closed bool) error {
	if d.down.Load() {
		return errDown
	}
	return d.Index.UpdateSegment(ctx, id, end, bytes, closed)
}

// With the database down, recording goes on; the next start indexes what
// was written meanwhile.
func TestRecordingWithoutDatabase(t *testing.T) {
	units := clip(t, 150, 25, 25)
	r := newRig(t, StorageOptions{})
	idx := &downIndex{Index: r.st}
	idx.down.Store(true)
	ctx, cancel := context.WithCancel(context.Background())
	rec := NewRecorder(RecorderOptions{Camera: "cam1", Hub: r.hub, Storage: r.store, Index: idx, Segment: 2 * time.Second, Log: quietLog(t)})
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	waitFor(t, "the recorder to subscribe", func() bool { return len(r.hub.Subscribers()) == 1 })
	r.hub.SetStream(streamInfo(units))
	t0 := time.Now().Add(-time.Hour).Truncate(time.Second)
	publish(r.hub, units, t0, 0)
	waitFor(t, "every unit", func() bool { return rec.Status().ReceivedBytes > 0 && r.hub.Subscribers()[0].Queued == 0 })
	if st := rec.Status(); st.State != StateRecording || st.Segments != 3 {
		t.Errorf("with the database down: %+v; want recording, 3 segments", st)
	}
	cancel()
	<-done
	ctx = context.Background()
	if segs, _ := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"}); len(segs) != 0 {
		t.Fatalf("indexed while down: %+v", segs)
	}
	if err := r.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	segs, err := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"})
	if err != nil || len(segs) != 3 {
		t.Fatalf("after recovery: %+v, %v; want the 3 segments", segs, err)
	}
	for i, sg := range segs {
		want := t0.Add(time.Duration(i) * 2 * time.Second)
		p := filepath.Join(r.root, filepath.FromSlash(sg.Path))
		if !sg.Closed || !sg.Start.Equal(want) || !sg.End.Equal(want.Add(2*time.Second)) || sg.Bytes != fileSize(t, p) || sg.Codec != "H264" {
			t.Errorf("recovered segment %d: %+v", i, sg)
		}
	}
	if err := r.store.Recover(ctx); err != nil {
		t.Fatal(err)
	}
	if again, _ := r.st.Segments(ctx, store.SegmentQuery{Camera: "cam1"}); len(again) != 3 {
		t.Errorf("a second recovery indexed %d segments, want still 3", len(again))
	}
}
