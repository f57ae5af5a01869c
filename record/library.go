package record

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/store"
)

// Playback limits.
const (
	// MaxSpan caps one MP4 (playback window or download).
	MaxSpan = time.Hour
	// PlayWindow is how much a click on the timeline loads: the page asks
	// for the next window when one ends. Shorter than MaxSpan so the
	// header a browser reads before the first picture stays small.
	PlayWindow = 30 * time.Minute
	// JoinGap: segments closer than this play as one.
	JoinGap = 2 * time.Second

	scanCacheSize  = 32
	videoCacheSize = 16
	videoCacheTTL  = 10 * time.Minute
)

// Span is a stretch of continuous recording.
type Span struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Library is the read side of the recordings: timelines, playable spans
// and alert clips, with caches of scanned segments and built videos.
type Library struct {
	index Index

	mu     sync.Mutex
	scans  lru[string, scanEntry]
	videos lru[string, videoEntry]
}

type scanEntry struct {
	size int64
	mod  time.Time
	scan *scanned
}

type videoEntry struct {
	v    *Video
	made time.Time
}

// NewLibrary returns the read side of the recordings indexed in index.
func NewLibrary(index Index) *Library {
	return &Library{index: index, scans: newLRU[string, scanEntry](scanCacheSize), videos: newLRU[string, videoEntry](videoCacheSize)}
}

// Timeline returns the recorded spans of camera overlapping [from, to),
// oldest first; segments closer than JoinGap are one span.
func (l *Library) Timeline(ctx context.Context, camera string, from, to time.Time) ([]Span, error) {
	segs, err := l.index.Segments(ctx, store.SegmentQuery{Camera: camera, From: from, To: to})
	if err != nil {
		return nil, err
	}
	var out []Span
	for _, sg := range segs {
		end := sg.End
		if !sg.Closed {
			end = l.liveEnd(sg)
		}
		if n := len(out); n > 0 && sg.Start.Sub(out[n-1].End) <= JoinGap {
			out[n-1].End = maxTime(out[n-1].End, end)
			continue
		}
		out = append(out, Span{Start: sg.Start, End: end})
	}
	return out, nil
}

// liveEnd is how far an open segment's file really goes.
func (l *Library) liveEnd(sg store.Segment) time.Time {
	sc, err := l.scan(segmentPath(sg))
	if err != nil {
		return sg.End
	}
	return maxTime(sg.End, sg.Start.Add(ticksToDuration(sc.duration*timescale/uint64(sc.timescale))))
}

// Play is what to load to watch a camera from a moment.
type Play struct {
	// From and To name the video (Library.Video(camera, From, To)).
	From, To time.Time
	// Start is the wall time of the video's first picture (a key frame
	// at or before the moment asked for), End the time after its last.
	Start, End time.Time
	// Offset is where in the video the moment asked for is.
	Offset time.Duration
}

// Play finds the video to watch camera from at: up to PlayWindow of
// continuous recording from the key frame at or before at, or from the
// next recording when at falls in a gap.
func (l *Library) Play(ctx context.Context, camera string, at time.Time) (Play, error) {
	segs, err := l.segments(ctx, camera, at, at.Add(PlayWindow))
	if err != nil {
		return Play{}, err
	}
	if len(segs) == 0 {
		next, err := l.index.Segments(ctx, store.SegmentQuery{Camera: camera, From: at, Limit: 1})
		if err != nil {
			return Play{}, err
		}
		if len(next) == 0 {
			return Play{}, ErrNoVideo
		}
		at = next[0].Start
		if segs, err = l.segments(ctx, camera, at, at.Add(PlayWindow)); err != nil {
			return Play{}, err
		}
	}
	from := maxTime(at, segs[0].Start)
	to := from.Add(PlayWindow)
	// Stop at the first gap: the page maps video time to wall time.
	for i := 1; i < len(segs); i++ {
		prevEnd := segs[i-1].End
		if !segs[i-1].Closed {
			prevEnd = l.liveEnd(segs[i-1])
		}
		if segs[i].Start.Sub(prevEnd) > JoinGap || segs[i].Codec != segs[i-1].Codec {
			to = minTime(to, prevEnd)
			break
		}
	}
	v, err := l.Video(ctx, camera, from, to)
	if err != nil {
		return Play{}, err
	}
	return Play{From: from, To: to, Start: v.Start, End: v.End, Offset: max(0, at.Sub(v.Start))}, nil
}

// segments returns camera's segments overlapping [from, to), counting a
// segment being written as reaching as far as its file may (its end in
// the index lags by up to store.SegmentEndLag).
func (l *Library) segments(ctx context.Context, camera string, from, to time.Time) ([]store.Segment, error) {
	segs, err := l.index.Segments(ctx, store.SegmentQuery{Camera: camera, From: from.Add(-store.SegmentEndLag), To: to})
	if err != nil {
		return nil, err
	}
	out := segs[:0]
	for _, sg := range segs {
		if sg.End.After(from) || (!sg.Closed && l.liveEnd(sg).After(from)) {
			out = append(out, sg)
		}
	}
	return out, nil
}

// Video returns the MP4 of camera's recording in [from, to) (at most
// MaxSpan), starting at the key frame at or before from. Videos are
// cached for a while, so the range requests of one <video> read one MP4.
func (l *Library) Video(ctx context.Context, camera string, from, to time.Time) (*Video, error) {
	if !to.After(from) {
		return nil, fmt.Errorf("span from %s to %s is empty", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	if to.Sub(from) > MaxSpan {
		return nil, fmt.Errorf("span of %v is longer than %v", to.Sub(from).Round(time.Second), MaxSpan)
	}
	return l.cached(ctx, fmt.Sprintf("%s|%d|%d", camera, from.UnixNano(), to.UnixNano()), camera, []Span{{from, to}})
}

// cached returns the video of key, building it from spans of camera's
// recording when it is not cached (or cached too long ago).
func (l *Library) cached(ctx context.Context, key, camera string, spans []Span) (*Video, error) {
	l.mu.Lock()
	e, ok := l.videos.get(key)
	l.mu.Unlock()
	if ok && time.Since(e.made) <= videoCacheTTL {
		return e.v, nil
	}
	v, err := l.build(ctx, camera, spans)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	l.videos.put(key, videoEntry{v: v, made: time.Now()})
	l.mu.Unlock()
	return v, nil
}

// build makes one MP4 of the recording in each span, in order.
func (l *Library) build(ctx context.Context, camera string, spans []Span) (*Video, error) {
	b := &builder{camera: camera}
	for _, sp := range spans {
		// The segment holding the key frame before sp.Start may begin
		// up to a segment earlier.
		segs, err := l.segments(ctx, camera, sp.Start, sp.End)
		if err != nil {
			return nil, err
		}
		for _, sg := range segs {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			p := segmentPath(sg)
			sc, err := l.scan(p)
			if errors.Is(err, os.ErrNotExist) {
				continue // deleted by retention meanwhile
			} else if err != nil {
				return nil, fmt.Errorf("segment %s: %w", sg.Path, err)
			}
			if !b.add(piece{path: p, start: sg.Start, scan: sc}, sp.Start, sp.End) {
				break
			}
		}
	}
	return b.video()
}

// scan returns the scanned contents of a segment file, reading only what
// was appended since the last scan.
func (l *Library) scan(p string) (*scanned, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	e, ok := l.scans.get(p)
	l.mu.Unlock()
	if ok && e.size == fi.Size() && e.mod.Equal(fi.ModTime()) {
		return e.scan, nil
	}
	var prev *scanned
	if ok && e.size <= fi.Size() {
		prev = e.scan
	}
	sc, err := scanSegment(f, fi.Size(), prev)
	if sc == nil {
		return nil, err
	}
	// A damaged tail still leaves what came before it playable.
	l.mu.Lock()
	l.scans.put(p, scanEntry{size: fi.Size(), mod: fi.ModTime(), scan: sc})
	l.mu.Unlock()
	return sc, nil
}

// ClipSpans are the spans of an alert's clip: from before it was raised
// to after it resolved (or until now while it is open). A clip longer
// than MaxSpan keeps its first and last halves: how it began and ended.
func ClipSpans(a store.Alert, before, after time.Duration, now time.Time) []Span {
	from := a.RaisedAt.Add(-before)
	to := now
	if !a.ResolvedAt.IsZero() {
		to = minTime(now, a.ResolvedAt.Add(after))
	}
	if !to.After(from) {
		to = from.Add(time.Second)
	}
	if to.Sub(from) <= MaxSpan {
		return []Span{{from, to}}
	}
	return []Span{{from, from.Add(MaxSpan / 2)}, {to.Add(-MaxSpan / 2), to}}
}

// AlertVideo returns an alert's clip: the clip file once cut, else made
// from the recording that is still there.
func (l *Library) AlertVideo(ctx context.Context, a store.Alert, before, after time.Duration) (*Video, error) {
	c, err := l.index.Clip(ctx, a.ID)
	switch {
	case err == nil && c.Bytes > 0:
		return fileVideo(a.Camera, filepath.Join(c.Root, filepath.FromSlash(c.Path)), c.Start, c.End)
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	key := fmt.Sprintf("alert|%d|%d", a.ID, a.ResolvedAt.UnixNano())
	return l.cached(ctx, key, a.Camera, ClipSpans(a, before, after, time.Now()))
}

func segmentPath(sg store.Segment) string {
	return filepath.Join(sg.Root, filepath.FromSlash(sg.Path))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// lru is a small least-recently-used map.
type lru[K comparable, V any] struct {
	max   int
	order *list.List // of K, most recent first
	items map[K]lruItem[V]
}

type lruItem[V any] struct {
	v  V
	el *list.Element
}

func newLRU[K comparable, V any](n int) lru[K, V] {
	return lru[K, V]{max: n, order: list.New(), items: map[K]lruItem[V]{}}
}

func (c *lru[K, V]) get(k K) (V, bool) {
	it, ok := c.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	c.order.MoveToFront(it.el)
	return it.v, true
}

func (c *lru[K, V]) put(k K, v V) {
	if it, ok := c.items[k]; ok {
		c.order.MoveToFront(it.el)
		c.items[k] = lruItem[V]{v: v, el: it.el}
		return
	}
	c.items[k] = lruItem[V]{v: v, el: c.order.PushFront(k)}
	for c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.items, last.Value.(K))
	}
}
