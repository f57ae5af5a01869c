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
func (s *SQLite) Coverage(ctx context.Context, cameras []string) (map[string]time.Time, error) {
	var w where
	w.in("camera", cameras)
	rows, err := s.read.QueryContext(ctx, "SELECT camera, first_us FROM camera_coverage"+w.String(), w.args...)
	if err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var (
			camera string
			first  int64
		)
		if err := rows.Scan(&camera, &first); err != nil {
			return nil, fmt.Errorf("coverage: %w", err)
		}
		out[camera] = fromUS(first)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coverage: %w", err)
	}
	return out, nil
}
