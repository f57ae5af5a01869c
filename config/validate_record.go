package config

import (
	"path/filepath"
	"time"
)

// Recording limits.
const (
	minSegment    = 10 * time.Second
	maxSegment    = time.Hour
	maxClipMargin = 10 * time.Minute
	minBudget     = 1 << 20
)

// record checks the recording defaults, the storage paths and every
// camera's record section.
func (c *checker) record(cfg *Config) {
	r := &cfg.Record
	c.positive("record.retain", r.Retain)
	c.positive("retention.clips", cfg.Retention.Clips)
	if s := r.Segment.D(); s < minSegment || s > maxSegment {
		c.fail("record.segment", "must be from %v to %v, got %s", minSegment, maxSegment, r.Segment)
	}
	for _, m := range []struct {
		key string
		d   Duration
	}{{"record.clip_before", r.ClipBefore}, {"record.clip_after", r.ClipAfter}} {
		if m.d.D() > maxClipMargin {
			c.fail(m.key, "at most %v, got %s", maxClipMargin, m.d)
		}
	}
	c.budget("record.max_size", r.MaxSize)
	c.notNegative("record.min_free", r.MinFree)
	known := map[string]string{cfg.RecordPath(): "record.path"}
	for i, p := range r.Paths {
		key := indexKey("record.paths", i)
		if !c.required(key+".path", p.Path) {
			continue
		}
		clean := filepath.Clean(p.Path)
		if first, dup := known[clean]; dup {
			c.fail(key+".path", "%q is already a storage path (%s at %s)", p.Path, first, c.where(first))
		} else {
			known[clean] = key + ".path"
		}
		c.budget(key+".max_size", p.MaxSize)
		c.notNegative(key+".min_free", p.MinFree)
	}
	for _, ref := range cfg.Cameras() {
		rec := ref.Camera.Record
		if rec == nil {
			continue
		}
		key := c.cameraKey(cfg, ref.Camera.ID) + ".record"
		c.positive(key+".retain", rec.Retain)
		if rec.Path != "" {
			if _, ok := known[filepath.Clean(rec.Path)]; !ok {
				c.fail(key+".path", "%q is not a storage path: use record.path or add it to record.paths (with its max_size)", rec.Path)
			}
		}
	}
}

// budget checks a disk budget: 0 (none) or at least minBudget.
func (c *checker) budget(key string, b ByteSize) {
	if b != 0 && b < minBudget {
		c.fail(key, "must be 0 (no budget) or at least %s, got %s", ByteSize(minBudget), b)
	}
}

func (c *checker) notNegative(key string, b ByteSize) {
	if b < 0 {
		c.fail(key, "must not be negative, got %s", b)
	}
}

// cameraKey is the key path of the camera with id.
func (c *checker) cameraKey(cfg *Config, id string) string {
	for di, d := range cfg.Districts {
		for ci, ctr := range d.Centers {
			for ki, cam := range ctr.Cameras {
				if cam.ID == id {
					return indexKey(indexKey(indexKey("districts", di)+".centers", ci)+".cameras", ki)
				}
			}
		}
	}
	return "districts"
}
