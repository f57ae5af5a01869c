package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"
	"unicode"
	"unicode/utf8"
)

// Wall view limits: a view is a screenful of tiles, a user keeps a few.
const (
	MaxViewsPerUser    = 50
	MaxViewCameras     = 64
	maxViewNameRunes   = 40
	maxViewCameraBytes = 64
)

// WallLayouts are the live wall's grids: 1, 2×2, 3×3 and 4×4 tiles.
var WallLayouts = []int{1, 4, 9, 16}

// WallView is a live-wall layout of a user: a grid and the cameras in its
// tiles. The view named "" is the wall as the user last left it.
type WallView struct {
	ID        int64
	UserID    int64
	Name      string
	Layout    int      // one of WallLayouts
	Cameras   []string // camera ids in tile order
	UpdatedAt time.Time
}

func checkWallView(v WallView) error {
	fields := []string{"view name", v.Name}
	for _, c := range v.Cameras {
		fields = append(fields, "camera id", c)
	}
	if err := checkText(fields...); err != nil {
		return err
	}
	switch {
	case v.UserID <= 0:
		return fmt.Errorf("view has no user: %w", ErrInvalid)
	case !slices.Contains(WallLayouts, v.Layout):
		return fmt.Errorf("layout %d, want one of %v: %w", v.Layout, WallLayouts, ErrInvalid)
	case utf8.RuneCountInString(v.Name) > maxViewNameRunes:
		return fmt.Errorf("view name is longer than %d characters: %w", maxViewNameRunes, ErrInvalid)
	case !utf8.ValidString(v.Name) || v.Name != "" && (v.Name[0] == ' ' || v.Name[len(v.Name)-1] == ' '):
		return fmt.Errorf("view name %q has invalid UTF-8 or leading/trailing spaces: %w", v.Name, ErrInvalid)
	case len(v.Cameras) > MaxViewCameras:
		return fmt.Errorf("view has %d cameras, limit %d: %w", len(v.Cameras), MaxViewCameras, ErrInvalid)
	}
	for _, r := range v.Name {
		if unicode.IsControl(r) {
			return fmt.Errorf("view name has control characters: %w", ErrInvalid)
		}
	}
	for _, c := range v.Cameras {
		if c == "" || len(c) > maxViewCameraBytes {
			return fmt.Errorf("view camera id %q: empty or longer than %d bytes: %w", c, maxViewCameraBytes, ErrInvalid)
		}
	}
	return nil
}

// SaveWallView creates or replaces the user's view of that name and
// returns it. A user keeps at most MaxViewsPerUser views (ErrConflict).
func (s *Store) SaveWallView(ctx context.Context, v WallView) (WallView, error) {
	if v.Cameras == nil {
		v.Cameras = []string{}
	}
	if err := checkWallView(v); err != nil {
		return WallView{}, fmt.Errorf("save wall view: %w", err)
	}
	cams, err := json.Marshal(v.Cameras)
	if err != nil {
		return WallView{}, err
	}
	v.UpdatedAt = fromUS(us(time.Now()))
	err = s.tx(ctx, func(tx conn) error {
		var n, exists int
		if err := tx.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN name = ? THEN 1 ELSE 0 END), 0) FROM wall_views WHERE user_id = ?`,
			v.Name, v.UserID).Scan(&n, &exists); err != nil {
			return err
		}
		if exists == 0 && n >= MaxViewsPerUser {
			return fmt.Errorf("a user keeps at most %d views; delete one first: %w", MaxViewsPerUser, ErrConflict)
		}
		v.ID, err = tx.insert(ctx, `INSERT INTO wall_views (user_id, name, layout, cameras, updated_us) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (user_id, name) DO UPDATE SET layout = excluded.layout, cameras = excluded.cameras, updated_us = excluded.updated_us`,
			v.UserID, v.Name, v.Layout, string(cams), us(v.UpdatedAt))
		return err
	})
	if err != nil {
		return WallView{}, fmt.Errorf("save wall view %q: %w", v.Name, err)
	}
	return v, nil
}

// WallViews returns a user's views, the last wall ("") first, then by name.
func (s *Store) WallViews(ctx context.Context, userID int64) ([]WallView, error) {
	out, err := queryAll(ctx, s.reader(), scanWallView, `SELECT id, user_id, name, layout, cameras, updated_us FROM wall_views
		WHERE user_id = ? ORDER BY name`, userID)
	if err != nil {
		return nil, fmt.Errorf("wall views: %w", err)
	}
	return out, nil
}

func scanWallView(r scanner) (WallView, error) {
	var (
		v       WallView
		cams    string
		updated int64
	)
	if err := r.Scan(&v.ID, &v.UserID, &v.Name, &v.Layout, &cams, &updated); err != nil {
		return v, err
	}
	v.UpdatedAt = fromUS(updated)
	if err := json.Unmarshal([]byte(cams), &v.Cameras); err != nil {
		return v, fmt.Errorf("wall view %d: cameras: %w", v.ID, err)
	}
	return v, nil
}

// DeleteWallView deletes view id of the user; another user's view is
// ErrNotFound like a missing one.
func (s *Store) DeleteWallView(ctx context.Context, userID, id int64) error {
	if err := s.writer().one(ctx, "DELETE FROM wall_views WHERE id = ? AND user_id = ?", id, userID); err != nil {
		return fmt.Errorf("delete wall view %d: %w", id, err)
	}
	return nil
}
