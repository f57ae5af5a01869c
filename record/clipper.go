package record

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/hallwatch/hallwatch/store"
)

// Clipper tuning.
const (
	defaultClipEvery = 5 * time.Second
	clipBatch        = 20
	// clipLag is how long after a clip's end its last fragment is surely
	// on disk: the next key frame, or maxFragment at the latest.
	clipLag = maxFragment + 3*time.Second
)

// ClipperOptions configure the clip cutter.
type ClipperOptions struct {
	Index   Index
	Library *Library
	// Storage is where each camera's clips go (its recording path);
	// Default takes the clips of cameras not listed (not recorded).
	Storage map[string]*Storage
	Default *Storage
	// Before and After widen each clip (record.clip_before, clip_after);
	// Retention is retention.clips.
	Before, After, Retention time.Duration
	Every                    time.Duration // default 5 s
	Log                      *slog.Logger
}

// Clipper cuts the clip of every resolved alert from the recording once
// the recording has passed the clip's end, and writes it as an MP4 file.
type Clipper struct{ o ClipperOptions }

// NewClipper returns a clip cutter; Run starts it.
func NewClipper(o ClipperOptions) *Clipper {
	if o.Every <= 0 {
		o.Every = defaultClipEvery
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &Clipper{o: o}
}

// Run cuts due clips every Every until ctx ends.
func (c *Clipper) Run(ctx context.Context) error {
	t := time.NewTicker(c.o.Every)
	defer t.Stop()
	for {
		if err := c.cutDue(ctx); err != nil && ctx.Err() == nil {
			c.o.Log.Error("cutting alert clips failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// cutDue cuts the clips of alerts whose clip end has been recorded.
func (c *Clipper) cutDue(ctx context.Context) error {
	now := time.Now()
	due, err := c.o.Index.ClipsDue(ctx, now.Add(-c.o.Retention), now.Add(-c.o.After-clipLag), clipBatch)
	if err != nil {
		return err
	}
	var errs []error
	for _, a := range due {
		if err := c.cut(ctx, a); err != nil {
			errs = append(errs, fmt.Errorf("clip of alert %d: %w", a.ID, err)) // the others go on
		}
	}
	return errors.Join(errs...)
}

// cut writes alert a's clip, or records that there is no video for it.
func (c *Clipper) cut(ctx context.Context, a store.Alert) error {
	st := c.o.Storage[a.Camera]
	if st == nil {
		st = c.o.Default
	}
	if st.Full() {
		return nil // tried again once there is space
	}
	spans := ClipSpans(a, c.o.Before, c.o.After, a.ResolvedAt.Add(c.o.After))
	clip := store.Clip{AlertID: a.ID, Camera: a.Camera, Root: st.Root(), Start: spans[0].Start, End: spans[len(spans)-1].End, Created: time.Now()}
	v, err := c.o.Library.build(ctx, a.Camera, spans)
	switch {
	case errors.Is(err, ErrNoVideo):
		return c.o.Index.SaveClip(ctx, clip)
	case err != nil && ctx.Err() == nil:
		// A damaged segment: say so once, and do not try for ever.
		c.o.Log.Error("alert clip cannot be cut from the recording", "alert", a.ID, "camera", a.Camera, "err", err)
		return c.o.Index.SaveClip(ctx, clip)
	case err != nil:
		return err
	}
	rel := path.Join("clips", a.Camera, a.RaisedAt.UTC().Format("2006-01-02"), strconv.FormatInt(a.ID, 10)+".mp4")
	if err := writeVideo(v, filepath.Join(st.Root(), filepath.FromSlash(rel))); err != nil {
		if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
			st.reportFull(err)
			return nil
		}
		return err
	}
	clip.Path, clip.Bytes, clip.Start, clip.End = rel, v.Size(), v.Start, v.End
	if err := c.o.Index.SaveClip(ctx, clip); err != nil {
		os.Remove(filepath.Join(st.Root(), filepath.FromSlash(rel)))
		return err
	}
	c.o.Log.Info("alert clip cut", "alert", a.ID, "camera", a.Camera, "seconds", v.Duration().Seconds(), "bytes", v.Size())
	return nil
}

// writeVideo writes v to p through a temporary file, so a clip file is
// either whole or absent.
func writeVideo(v *Video, p string) (err error) {
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	tmp := p + ".part"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	w := bufio.NewWriterSize(f, 1<<20)
	if err := v.WriteRange(w, 0, v.Size()); err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
