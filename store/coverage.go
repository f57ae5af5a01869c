package store

import (
	"context"
	"fmt"
	"time"
)

// Coverage returns when each of the given cameras (empty: all) was first
// analysed: the time of its earliest stored event, kept when events are
// purged. Cameras never analysed are absent. Reports start there, so that
// the days before a camera was installed count neither as zero visitors
// nor as unknown staffing.
func (s *Store) Coverage(ctx context.Context, cameras []string) (map[string]time.Time, error) {
	type first struct {
		camera string
		at     time.Time
	}
	var w where
	w.in("camera", cameras)
	list, err := queryAll(ctx, s.reader(), func(r scanner) (first, error) {
		var (
			f  first
			us int64
		)
		err := r.Scan(&f.camera, &us)
		f.at = fromUS(us)
		return f, err
	}, "SELECT camera, first_us FROM camera_coverage"+w.String(), w.args...)
	if err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	out := make(map[string]time.Time, len(list))
	for _, f := range list {
		out[f.camera] = f.at
	}
	return out, nil
}
