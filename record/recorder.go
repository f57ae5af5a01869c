package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/hallwatch/hallwatch/ingest"
	"github.com/hallwatch/hallwatch/store"
)

// Recorder tuning.
const (
	// maxFragment bounds the video held in memory between two writes, for
	// cameras whose key frames are far apart.
	maxFragment      = 4 * time.Second
	maxFragmentBytes = 4 << 20
	// maxSampleGap: a longer jump in the camera's timestamps ends the
	// segment (the camera paused, or units were lost).
	maxSampleGap = 5 * time.Second
	// indexEvery is how often an open segment's end is written to the
	// index (store.SegmentEndLag is the promise to readers).
	indexEvery = 10 * time.Second
	// retryAfter is the wait after a failure other than a full disk.
	retryAfter = 10 * time.Second
	// subscriberBuffer: units the recorder may fall behind (a slow disk or
	// database) before it loses any.
	subscriberBuffer = 256
	defaultDuration  = timescale / 25
)

// Recorder states.
const (
	StateWaiting     = "waiting"      // for video, or for a key frame
	StateRecording   = "recording"    // writing segments
	StateStorageFull = "storage_full" // the storage path is full: not writing
	StateFailed      = "error"        // writing failed; retried shortly
)

// Index is the recording index in the database (store.SQLite is one).
type Index interface {
	AddSegment(ctx context.Context, sg store.Segment) (int64, error)
	UpdateSegment(ctx context.Context, id int64, end time.Time, bytes int64, closed bool) error
	DeleteSegment(ctx context.Context, id int64) error
	Segments(ctx context.Context, q store.SegmentQuery) ([]store.Segment, error)
	RecordingBytes(ctx context.Context, root string) (int64, error)
	SaveClip(ctx context.Context, c store.Clip) error
	Clip(ctx context.Context, alertID int64) (store.Clip, error)
	ExpiredClips(ctx context.Context, cutoff time.Time, n int) ([]store.Clip, error)
	ClipsDue(ctx context.Context, since, resolvedBefore time.Time, n int) ([]store.Alert, error)
}

// RecorderOptions configure one camera's recorder.
type RecorderOptions struct {
	Camera  string
	Hub     *ingest.Hub
	Storage *Storage
	Index   Index
	Segment time.Duration // record.segment
	Log     *slog.Logger
	// OnState, if set, is called (from the recorder's goroutine) with the
	// new status whenever the state changes.
	OnState func(Status)
}

// Status is what a recorder is doing, for the API and metrics.
type Status struct {
	Camera string    `json:"-"`
	State  string    `json:"state"`
	Since  time.Time `json:"since"`
	Error  string    `json:"error,omitempty"`
	Path   string    `json:"path"` // storage path
	// Segment is the file being written, relative to Path.
	Segment string `json:"segment,omitempty"`
	// ReceivedBytes counts the video handed to the recorder (access unit
	// payloads), WrittenBytes what reached its files (MP4 boxes included).
	ReceivedBytes uint64 `json:"received_bytes"`
	WrittenBytes  uint64 `json:"written_bytes"`
	Fragments     uint64 `json:"fragments"`
	Segments      uint64 `json:"segments"`
	// Dropped counts units lost because the recorder fell behind.
	Dropped uint64 `json:"dropped"`
}

// Recorder writes one camera's video into segments of its storage path.
type Recorder struct {
	o   RecorderOptions
	log *slog.Logger

	// Owned by Run's goroutine.
	seg       *segmentFile
	segID     int64
	segRel    string
	indexed   time.Time // last index update of seg
	gen       uint64
	codec     codecs.Codec
	dts       dtsExtractor
	pending   *fmp4.Sample // last unit: its duration needs the next one
	pendDTS   int64
	lastDur   uint32
	frag      []*fmp4.Sample
	fragDur   int64
	fragBytes int
	baseDTS   int64 // decode time of the segment's first sample
	retryAt   time.Time
	dropped   uint64 // the subscription's drop count at the last unit
	// unindexed are closed segments whose index entry the database
	// refused; index adds them once it can.
	unindexed   []store.Segment
	indexWarned time.Time

	mu sync.Mutex
	st Status
}

// NewRecorder returns the recorder of one camera; Run starts it.
func NewRecorder(o RecorderOptions) *Recorder {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	r := &Recorder{o: o, log: o.Log.With("camera", o.Camera)}
	r.st = Status{Camera: o.Camera, State: StateWaiting, Since: time.Now(), Path: o.Storage.Root()}
	return r
}

// Status returns the recorder's current status; safe for concurrent use.
func (r *Recorder) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// Run records until ctx ends, then closes the segment it is writing.
func (r *Recorder) Run(ctx context.Context) error {
	sub := r.o.Hub.Subscribe("record", ingest.SubscribeOptions{Buffer: subscriberBuffer, StartWithGOP: true})
	defer sub.Close()
	defer r.finish(context.WithoutCancel(ctx))
	if r.o.OnState != nil {
		r.o.OnState(r.Status()) // e.g. resolves a storage_full alert left from a previous run
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			r.setDropped(sub.Dropped())
			if len(r.unindexed) > 0 && time.Since(r.indexed) >= indexEvery {
				r.indexed = time.Now()
				r.index(ctx)
			}
			if r.o.Storage.Full() && r.seg != nil {
				r.finish(ctx)
			}
			r.checkState()
		case au, ok := <-sub.C():
			if !ok {
				return nil
			}
			if d := sub.Dropped(); d != r.dropped {
				// Units were lost (the recorder fell behind): the video
				// resumes at this key frame in a new segment, and the
				// timeline shows the gap.
				r.dropped = d
				r.finish(ctx)
			}
			r.push(ctx, au)
		}
	}
}

// checkState moves between waiting and storage_full as the storage path
// fills and frees (a recording in progress changes state itself).
func (r *Recorder) checkState() {
	full, reason := r.o.Storage.FullReason()
	st := r.Status()
	switch {
	case full && st.State != StateStorageFull:
		r.setState(StateStorageFull, reason)
	case !full && st.State == StateStorageFull:
		r.setState(StateWaiting, "")
	}
}

// push handles one access unit.
func (r *Recorder) push(ctx context.Context, au *ingest.AccessUnit) {
	r.count(func(st *Status) { st.ReceivedBytes += uint64(au.Size()) })
	if info := r.o.Hub.Stream(); info.Generation != r.gen {
		r.finish(ctx) // a new stream: a new segment, with its parameters
		r.gen = info.Generation
		r.codec, r.dts = codecOf(info)
	}
	if r.o.Storage.Full() {
		if r.seg != nil {
			r.finish(ctx)
		}
		r.checkState()
		return
	}
	if r.codec == nil {
		return
	}
	pts := durationToTicks(au.PTS)
	dts, err := r.dts.Extract(au.NALUs, pts)
	if err != nil {
		if r.seg != nil {
			r.log.Debug("recording: timestamps out of order; starting a new segment", "err", err)
			r.finish(ctx)
		}
		r.dts = newDTSExtractor(r.codec)
		return
	}
	if r.pending != nil {
		gap := dts - r.pendDTS
		if gap <= 0 || gap > durationToTicks(maxSampleGap) {
			r.log.Debug("recording: break in the timestamps; starting a new segment", "gap", ticksToDuration(uint64(max(gap, 0))))
			r.finish(ctx)
		} else {
			r.pending.Duration = uint32(gap)
			r.lastDur = uint32(gap)
			r.queue(r.pending)
			r.pending = nil
		}
	}
	if r.seg == nil {
		if !au.Key || time.Now().Before(r.retryAt) {
			return
		}
		if !r.open(ctx, au.Received, dts) {
			return
		}
	} else if au.Key {
		if err := r.flush(); err != nil {
			r.fail(ctx, err)
			return
		}
		if au.Received.Sub(r.seg.start) >= r.o.Segment {
			r.finish(ctx)
			if !r.open(ctx, au.Received, dts) {
				return
			}
		}
	} else if r.fragDur >= durationToTicks(maxFragment) || r.fragBytes >= maxFragmentBytes {
		if err := r.flush(); err != nil {
			r.fail(ctx, err)
			return
		}
	}
	s := &fmp4.Sample{}
	var ferr error
	if _, ok := r.codec.(*codecs.H265); ok {
		ferr = s.FillH265(int32(pts-dts), au.NALUs)
	} else {
		ferr = s.FillH264(int32(pts-dts), au.NALUs)
	}
	if ferr != nil {
		r.log.Debug("recording: unit not recordable", "err", ferr)
		return
	}
	s.IsNonSyncSample = !au.Key
	r.pending, r.pendDTS = s, dts
}

// queue adds a sample whose duration is known to the next fragment.
func (r *Recorder) queue(s *fmp4.Sample) {
	r.frag = append(r.frag, s)
	r.fragDur += int64(s.Duration)
	r.fragBytes += len(s.Payload)
}

// open starts a segment at a key frame received at wall.
// The file comes first, then its index entry: with the database down the
// recording goes on, and the entry is added once it is back (or by
// Storage.Recover at the next start).
func (r *Recorder) open(ctx context.Context, wall time.Time, dts int64) bool {
	root := r.o.Storage.Root()
	rel := segmentName(r.o.Camera, wall)
	f, err := createSegment(filepath.Join(root, filepath.FromSlash(rel)), r.codec, wall)
	if errors.Is(err, fs.ErrExist) { // two segments in one millisecond
		rel = rel[:len(rel)-len(".mp4")] + fmt.Sprintf("-%d.mp4", time.Now().UnixNano()%1000)
		f, err = createSegment(filepath.Join(root, filepath.FromSlash(rel)), r.codec, wall)
	}
	if err != nil {
		r.fail(ctx, err)
		return false
	}
	r.seg, r.segID, r.segRel, r.indexed, r.baseDTS = f, 0, rel, time.Now(), dts
	r.index(ctx)
	r.count(func(st *Status) {
		st.WrittenBytes += uint64(f.size)
		st.Segments++
		st.Segment = rel
	})
	if st := r.Status(); st.State != StateRecording {
		r.setState(StateRecording, "")
	}
	return true
}

// flush writes the queued samples as one fragment.
func (r *Recorder) flush() error {
	if r.seg == nil || len(r.frag) == 0 {
		return nil
	}
	before := r.seg.size
	err := r.seg.writeFragment(r.frag)
	clear(r.frag)
	r.frag, r.fragDur, r.fragBytes = r.frag[:0], 0, 0
	if err != nil {
		return err
	}
	r.count(func(st *Status) {
		st.WrittenBytes += uint64(r.seg.size - before)
		st.Fragments++
	})
	if time.Since(r.indexed) >= indexEvery {
		r.indexed = time.Now()
		r.index(context.Background())
	}
	return nil
}

// segmentName is the file of camera's segment starting at wall, relative
// to the storage path: CAMERA/YYYY-MM-DD/HHMMSS.mmmZ.mp4 in UTC.
func segmentName(camera string, wall time.Time) string {
	utc := wall.UTC()
	return path.Join(camera, utc.Format("2006-01-02"), utc.Format("150405.000")+"Z.mp4")
}

// segmentStart reads a segment's start back from its name (recovery of
// files the index lacks).
func segmentStart(rel string) (time.Time, bool) {
	parts := strings.Split(rel, "/")
	if len(parts) != 3 || !strings.HasSuffix(parts[2], ".mp4") {
		return time.Time{}, false
	}
	hms, _, _ := strings.Cut(strings.TrimSuffix(parts[2], ".mp4"), "Z")
	t, err := time.Parse("2006-01-02 150405.000", parts[1]+" "+hms)
	return t, err == nil
}

// index writes the open segment's extent to the index (adding it if the
// database was down when it began), and adds the closed segments the
// database missed.
func (r *Recorder) index(ctx context.Context) {
	ctx = context.WithoutCancel(ctx)
	if r.seg != nil {
		if r.segID == 0 {
			sg := store.Segment{Camera: r.o.Camera, Root: r.o.Storage.Root(), Path: r.segRel, Codec: codecName(r.codec),
				Start: r.seg.start, End: r.seg.end(), Bytes: r.seg.size}
			if id, err := r.o.Index.AddSegment(ctx, sg); err != nil {
				r.indexFailed(err)
			} else {
				r.segID = id
				r.o.Storage.opened(id)
			}
		} else if err := r.o.Index.UpdateSegment(ctx, r.segID, r.seg.end(), r.seg.size, false); err != nil {
			r.indexFailed(err)
		}
	}
	for len(r.unindexed) > 0 {
		if _, err := r.o.Index.AddSegment(ctx, r.unindexed[0]); err != nil && !errors.Is(err, store.ErrConflict) {
			r.indexFailed(err)
			return
		}
		r.unindexed = r.unindexed[1:]
	}
}

// indexFailed notes that the database refused an index write; the video
// is on disk, and the entry is written again later.
func (r *Recorder) indexFailed(err error) {
	if time.Since(r.indexWarned) >= time.Minute {
		r.indexWarned = time.Now()
		r.log.Warn("recording: the index cannot be written (database down?); recording goes on and the index follows when it is back", "err", err)
	}
}

// finish writes what is pending and closes the segment.
func (r *Recorder) finish(ctx context.Context) {
	if r.pending != nil {
		r.pending.Duration = max(r.lastDur, 1)
		if r.lastDur == 0 {
			r.pending.Duration = defaultDuration
		}
		r.queue(r.pending)
		r.pending = nil
	}
	if r.seg == nil {
		clear(r.frag)
		r.frag, r.fragDur, r.fragBytes = r.frag[:0], 0, 0
		return
	}
	err := r.flush()
	r.closeSegment(ctx)
	if err != nil {
		r.fail(ctx, err)
	}
}

// closeSegment closes the file and records its final extent.
func (r *Recorder) closeSegment(ctx context.Context) {
	seg, id, rel := r.seg, r.segID, r.segRel
	r.seg, r.segID, r.segRel = nil, 0, ""
	r.lastDur = 0
	ctx = context.WithoutCancel(ctx)
	if cerr := seg.close(); cerr != nil {
		r.log.Warn("recording: closing a segment failed", "path", seg.path, "err", cerr)
	}
	switch {
	case seg.dur == 0: // nothing but the init: not worth a segment
		if err := removeFile(seg.path); err != nil {
			r.log.Warn("recording: removing an empty segment failed", "err", err)
		}
		if id != 0 {
			if err := r.o.Index.DeleteSegment(ctx, id); err != nil {
				r.log.Warn("recording: dropping an empty segment from the index failed", "err", err)
			}
		}
		r.count(func(st *Status) { st.WrittenBytes -= uint64(seg.size); st.Segments--; st.Segment = "" })
	case id == 0:
		r.unindexed = append(r.unindexed, store.Segment{Camera: r.o.Camera, Root: r.o.Storage.Root(), Path: rel,
			Codec: codecName(r.codec), Start: seg.start, End: seg.end(), Bytes: seg.size, Closed: true})
		r.index(ctx)
		r.count(func(st *Status) { st.Segment = "" })
	default:
		if err := r.o.Index.UpdateSegment(ctx, id, seg.end(), seg.size, true); err != nil {
			r.log.Warn("recording: closing a segment in the index failed (recovery will fix it)", "err", err)
		}
		r.count(func(st *Status) { st.Segment = "" })
	}
	if id != 0 {
		r.o.Storage.closed(id)
	}
}

// fail handles a write or index failure: the segment is closed at its
// last complete fragment; a full disk stops recording on the path until
// space returns, anything else is retried shortly.
func (r *Recorder) fail(ctx context.Context, err error) {
	if r.seg != nil {
		r.closeSegment(ctx)
	}
	r.pending = nil
	clear(r.frag)
	r.frag, r.fragDur, r.fragBytes = r.frag[:0], 0, 0
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		r.o.Storage.reportFull(err)
		r.checkState()
		return
	}
	r.retryAt = time.Now().Add(retryAfter)
	r.log.Error("recording failed; retrying", "err", err, "retry_in", retryAfter)
	r.setState(StateFailed, err.Error())
}

func (r *Recorder) setState(state, msg string) {
	r.mu.Lock()
	r.st.State, r.st.Since, r.st.Error = state, time.Now(), msg
	st := r.st
	r.mu.Unlock()
	if state == StateStorageFull {
		r.log.Warn("recording stopped: storage full", "path", st.Path, "reason", msg)
	} else {
		r.log.Info("recording", "state", state)
	}
	if r.o.OnState != nil {
		r.o.OnState(st)
	}
}

func (r *Recorder) count(fn func(*Status)) {
	r.mu.Lock()
	fn(&r.st)
	r.mu.Unlock()
}

func (r *Recorder) setDropped(n uint64) { r.count(func(st *Status) { st.Dropped = n }) }

// dtsExtractor derives decode times from presentation times (B-frames).
type dtsExtractor interface {
	Extract(au [][]byte, pts int64) (int64, error)
}

func newDTSExtractor(c codecs.Codec) dtsExtractor {
	if _, ok := c.(*codecs.H265); ok {
		d := &h265.DTSExtractor{}
		d.Initialize()
		return d
	}
	d := &h264.DTSExtractor{}
	d.Initialize()
	return d
}

// codecOf is the MP4 codec of a stream; nil when it cannot be recorded.
func codecOf(info ingest.StreamInfo) (codecs.Codec, dtsExtractor) {
	var c codecs.Codec
	switch info.Codec {
	case ingest.CodecH264:
		c = &codecs.H264{SPS: info.SPS, PPS: info.PPS}
	case ingest.CodecH265:
		c = &codecs.H265{VPS: info.VPS, SPS: info.SPS, PPS: info.PPS}
	default:
		return nil, nil
	}
	return c, newDTSExtractor(c)
}

func codecName(c codecs.Codec) string {
	if _, ok := c.(*codecs.H265); ok {
		return string(ingest.CodecH265)
	}
	return string(ingest.CodecH264)
}
