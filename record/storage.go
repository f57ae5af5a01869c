package record

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hallwatch/hallwatch/store"
)

// Storage tuning.
const (
	defaultSweep = 10 * time.Second
	// deleteBatch bounds the segments looked at per query while enforcing
	// retention and budgets.
	deleteBatch = 200
)

// StorageOptions configure one storage path.
type StorageOptions struct {
	Root    string // directory
	MaxSize int64  // budget; 0: none
	MinFree int64  // free space kept on the file system
	Index   Index
	// Retain is how long each camera recording here keeps its segments.
	Retain map[string]time.Duration
	// ClipRetention is retention.clips: clips of alerts raised longer ago
	// are deleted (those stored under this path).
	ClipRetention time.Duration
	Log           *slog.Logger
	// Sweep is how often space, retention and the budget are checked
	// (default 10 s).
	Sweep time.Duration
	// FreeSpace returns the bytes available to hallwatch on the file
	// system of a path (default: statfs).
	FreeSpace func(path string) (int64, error)
}

// Storage is one storage path: it knows when the disk is full, enforces
// retention and the disk budget, and recovers segments a crash left open.
type Storage struct {
	o    StorageOptions
	log  *slog.Logger
	kick chan struct{}

	full atomic.Bool
	mu   sync.Mutex
	why  string         // why it is full
	open map[int64]bool // segments being written: never deleted
}

// NewStorage prepares a storage path (creating its directory).
func NewStorage(o StorageOptions) (*Storage, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Sweep <= 0 {
		o.Sweep = defaultSweep
	}
	if o.FreeSpace == nil {
		o.FreeSpace = freeSpace
	}
	o.Root = filepath.Clean(o.Root)
	if err := os.MkdirAll(o.Root, 0o750); err != nil {
		return nil, fmt.Errorf("recording path %s: %w", o.Root, err)
	}
	return &Storage{o: o, log: o.Log.With("path", o.Root), kick: make(chan struct{}, 1), open: map[int64]bool{}}, nil
}

// Root is the storage path.
func (s *Storage) Root() string { return s.o.Root }

// Full reports whether recording on this path is stopped for lack of space.
func (s *Storage) Full() bool { return s.full.Load() }

// FullReason is Full with the reason shown in statuses and alerts.
func (s *Storage) FullReason() (bool, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.full.Load(), s.why
}

// resumeMargin is the space above MinFree needed before recording
// resumes, so that it does not flap at the boundary.
func (s *Storage) resumeMargin() int64 { return s.o.MinFree/4 + 1<<20 }

func (s *Storage) setFull(why string) {
	s.mu.Lock()
	s.why = why
	s.mu.Unlock()
	if !s.full.Swap(true) {
		s.log.Warn("recording path full: recording stops until space returns", "reason", why)
	}
}

// reportFull is a recorder's write failing for lack of space.
func (s *Storage) reportFull(err error) {
	why := err.Error()
	var errno syscall.Errno
	if errors.As(err, &errno) {
		why = errno.Error() // without the file's path
	}
	s.setFull("writing failed: " + why)
	s.poke()
}

func (s *Storage) poke() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

func (s *Storage) opened(id int64) {
	s.mu.Lock()
	s.open[id] = true
	s.mu.Unlock()
}

func (s *Storage) closed(id int64) {
	s.mu.Lock()
	delete(s.open, id)
	s.mu.Unlock()
	s.poke() // a closed segment may be over the budget
}

func (s *Storage) isOpen(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.open[id]
}

// Recover closes the segments a previous run left open (a crash, or
// kill -9): each file is cut after its last complete fragment and its
// extent written to the index; files gone or holding no video are dropped.
// Segment files the index lacks (written while the database was down) are
// added. Call it before any recorder of the path runs.
func (s *Storage) Recover(ctx context.Context) error {
	if err := s.recoverOpen(ctx, ""); err != nil {
		return err
	}
	return s.indexOrphans(ctx)
}

// RecoverCamera closes the segments of one camera left open, as Recover
// does for the whole path, without looking for unindexed files. A node of
// a cluster calls it when it takes the camera over, before the camera's
// recorder runs: the path may be shared with nodes recording other
// cameras, whose open segments are theirs.
func (s *Storage) RecoverCamera(ctx context.Context, camera string) error {
	return s.recoverOpen(ctx, camera)
}

func (s *Storage) recoverOpen(ctx context.Context, camera string) error {
	open := false
	segs, err := s.o.Index.Segments(ctx, store.SegmentQuery{Root: s.o.Root, Camera: camera, Closed: &open})
	if err != nil {
		return fmt.Errorf("recover %s: %w", s.o.Root, err)
	}
	for _, sg := range segs {
		p := filepath.Join(s.o.Root, filepath.FromSlash(sg.Path))
		end, size, err := repairSegment(p, sg.Start)
		switch {
		case errors.Is(err, fs.ErrNotExist) || (err == nil && size == 0):
			if err == nil {
				err = removeFile(p)
			}
			if errors.Is(err, fs.ErrNotExist) {
				err = nil
			}
			if err != nil {
				return fmt.Errorf("recover %s: %w", p, err)
			}
			if err := s.o.Index.DeleteSegment(ctx, sg.ID); err != nil {
				return fmt.Errorf("recover %s: %w", p, err)
			}
			s.log.Info("recovery: dropped a segment without video", "segment", sg.Path)
		case err != nil:
			// Unreadable: keep the file for a person to look at, but do
			// not leave it open for ever.
			s.log.Error("recovery: segment unreadable; closed as it is", "segment", sg.Path, "err", err)
			if err := s.o.Index.UpdateSegment(ctx, sg.ID, sg.End, sg.Bytes, true); err != nil {
				return fmt.Errorf("recover %s: %w", p, err)
			}
		default:
			if err := s.o.Index.UpdateSegment(ctx, sg.ID, end, size, true); err != nil {
				return fmt.Errorf("recover %s: %w", p, err)
			}
			s.log.Info("recovery: closed a segment left open", "segment", sg.Path, "until", end, "bytes", size)
		}
	}
	return nil
}

// indexOrphans adds the segment files of this path's cameras that the
// index does not know.
func (s *Storage) indexOrphans(ctx context.Context) error {
	known := map[string]bool{}
	segs, err := s.o.Index.Segments(ctx, store.SegmentQuery{Root: s.o.Root})
	if err != nil {
		return fmt.Errorf("recover %s: %w", s.o.Root, err)
	}
	for _, sg := range segs {
		known[sg.Path] = true
	}
	for camera := range s.o.Retain {
		dir := filepath.Join(s.o.Root, camera)
		err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			} else if err != nil {
				return err
			}
			rel, rerr := filepath.Rel(s.o.Root, p)
			rel = filepath.ToSlash(rel)
			if rerr != nil || e.IsDir() || known[rel] {
				return nil
			}
			start, ok := segmentStart(rel)
			if !ok {
				return nil // not a segment of ours
			}
			return s.indexOrphan(ctx, camera, rel, p, start)
		})
		if err != nil {
			return fmt.Errorf("recover %s: %w", dir, err)
		}
	}
	return nil
}

func (s *Storage) indexOrphan(ctx context.Context, camera, rel, p string, start time.Time) error {
	end, size, err := repairSegment(p, start)
	if err != nil {
		s.log.Error("recovery: unindexed segment unreadable; left as it is", "segment", rel, "err", err)
		return nil
	}
	if size == 0 {
		return removeFile(p)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	sc, err := scanSegment(f, size, nil)
	f.Close()
	if sc == nil {
		s.log.Error("recovery: unindexed segment unreadable; left as it is", "segment", rel, "err", err)
		return nil
	}
	if _, err := s.o.Index.AddSegment(ctx, store.Segment{Camera: camera, Root: s.o.Root, Path: rel, Codec: codecName(sc.codec),
		Start: start, End: end, Bytes: size, Closed: true}); err != nil {
		return err
	}
	s.log.Info("recovery: indexed a segment written while the database was unavailable", "segment", rel, "until", end)
	return nil
}

// repairSegment cuts a segment file after its last complete fragment and
// returns its end and size (0 when it holds no complete fragment).
func repairSegment(p string, start time.Time) (time.Time, int64, error) {
	f, err := os.OpenFile(p, os.O_RDWR, 0)
	if err != nil {
		return time.Time{}, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return time.Time{}, 0, err
	}
	sc, err := scanSegment(f, fi.Size(), nil)
	if err != nil && sc == nil {
		if fi.Size() < 1<<16 { // torn inside the init: nothing to keep
			return start, 0, nil
		}
		return time.Time{}, 0, err
	}
	if sc.samples == 0 {
		return start, 0, nil
	}
	if sc.valid < fi.Size() {
		if err := f.Truncate(sc.valid); err != nil {
			return time.Time{}, 0, err
		}
	}
	return start.Add(ticksToDuration(sc.duration * timescale / uint64(sc.timescale))), sc.valid, nil
}

// Run sweeps the path every Sweep (and whenever a recorder reports a full
// disk or closes a segment) until ctx ends.
func (s *Storage) Run(ctx context.Context) error {
	t := time.NewTicker(s.o.Sweep)
	defer t.Stop()
	for {
		if err := s.sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("recording storage sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.kick:
		}
	}
}

// sweep applies retention and the budget, then checks the free space.
func (s *Storage) sweep(ctx context.Context) error {
	now := time.Now()
	var errs []error
	for camera, retain := range s.o.Retain {
		errs = append(errs, s.deleteWhile(ctx, store.SegmentQuery{Camera: camera, Root: s.o.Root, EndBefore: now.Add(-retain)},
			func(store.Segment) bool { return true }))
	}
	errs = append(errs, s.expireClips(ctx, now))
	if s.o.MaxSize > 0 {
		used, err := s.o.Index.RecordingBytes(ctx, s.o.Root)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		if used > s.o.MaxSize {
			over := used - s.o.MaxSize
			errs = append(errs, s.deleteWhile(ctx, store.SegmentQuery{Root: s.o.Root}, func(sg store.Segment) bool {
				if over <= 0 {
					return false
				}
				over -= sg.Bytes
				return true
			}))
		}
	}
	errs = append(errs, s.checkSpace())
	return errors.Join(errs...)
}

// deleteWhile deletes the closed segments matching q, oldest first, while
// more(segment) says so.
func (s *Storage) deleteWhile(ctx context.Context, q store.SegmentQuery, more func(store.Segment) bool) error {
	closed := true
	q.Closed, q.Limit = &closed, deleteBatch
	for range 1000 { // bounded: at most 200k segments per sweep
		segs, err := s.o.Index.Segments(ctx, q)
		if err != nil {
			return err
		}
		deleted := 0
		for _, sg := range segs {
			if s.isOpen(sg.ID) {
				continue
			}
			if !more(sg) {
				return nil
			}
			if err := s.deleteSegment(ctx, sg); err != nil {
				return err
			}
			deleted++
		}
		if len(segs) < deleteBatch || deleted == 0 {
			return nil
		}
	}
	return nil
}

func (s *Storage) deleteSegment(ctx context.Context, sg store.Segment) error {
	p := filepath.Join(s.o.Root, filepath.FromSlash(sg.Path))
	if err := removeFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete segment %s: %w", sg.Path, err)
	}
	if err := s.o.Index.DeleteSegment(ctx, sg.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.removeEmptyDirs(filepath.Dir(p))
	return nil
}

// expireClips deletes this path's clips of alerts raised before the clip
// retention; their rows stay, empty, so they are not cut again.
func (s *Storage) expireClips(ctx context.Context, now time.Time) error {
	clips, err := s.o.Index.ExpiredClips(ctx, now.Add(-s.o.ClipRetention), deleteBatch)
	if err != nil {
		return err
	}
	for _, c := range clips {
		if c.Root != s.o.Root {
			continue
		}
		p := filepath.Join(s.o.Root, filepath.FromSlash(c.Path))
		if err := removeFile(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete clip %s: %w", c.Path, err)
		}
		c.Path, c.Bytes = "", 0
		if err := s.o.Index.SaveClip(ctx, c); err != nil {
			return err
		}
		s.removeEmptyDirs(filepath.Dir(p))
	}
	return nil
}

// removeEmptyDirs removes dir and its parents up to the root while empty.
func (s *Storage) removeEmptyDirs(dir string) {
	for range 4 {
		if dir == s.o.Root || !isWithin(s.o.Root, dir) || os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}

func isWithin(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && rel != "." && !filepath.IsAbs(rel) && rel != ".." && !hasDotDot(rel)
}

func hasDotDot(rel string) bool {
	return len(rel) >= 3 && rel[:3] == ".."+string(filepath.Separator)
}

// checkSpace stops recording below MinFree and resumes it once there is
// MinFree plus a margin again.
func (s *Storage) checkSpace() error {
	free, err := s.o.FreeSpace(s.o.Root)
	if err != nil {
		return fmt.Errorf("free space of %s: %w", s.o.Root, err)
	}
	switch {
	case free < s.o.MinFree:
		s.setFull(fmt.Sprintf("%s free on the file system, below record.min_free %s", sizeText(free), sizeText(s.o.MinFree)))
	case s.full.Load() && free >= s.o.MinFree+s.resumeMargin():
		s.mu.Lock()
		s.why = ""
		s.mu.Unlock()
		s.full.Store(false)
		s.log.Info("recording path has space again: recording resumes", "free", sizeText(free))
	}
	return nil
}

// freeSpace is the space an unprivileged writer may still use.
func freeSpace(path string) (int64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil
}

func removeFile(p string) error { return os.Remove(p) }

func sizeText(b int64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(b)/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
	}
	return fmt.Sprintf("%d KiB", b>>10)
}
