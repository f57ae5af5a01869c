package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// GeometryVersion is one saved version of a camera's drawn geometry.
type GeometryVersion struct {
	Camera  string
	Version int // 1, 2, 3… per camera
	SavedAt time.Time
	User    string
	// Geometry is the editor's JSON; empty: the configuration file's
	// geometry is in force again from this version on.
	Geometry string
	// Changes says what differs from the version before, for people.
	Changes string
}

// maxGeometryBytes bounds one version's JSON (a camera's lines and zones
// take a few kilobytes).
const maxGeometryBytes = 1 << 20

// SaveGeometry stores the next version of a camera's geometry, base+1, and
// its audit entry ("geometry_save" by v.User from remote, naming the
// version and what changed) in one transaction. base is the version the
// editor started from (0: the file's, nothing saved yet): when the camera's
// newest version is not base, someone saved meanwhile, and nothing is
// stored (ErrConflict). v.Version and v.SavedAt (now when zero) are set
// here; the stored version is returned.
func (s *Store) SaveGeometry(ctx context.Context, v GeometryVersion, base int, remote string) (GeometryVersion, error) {
	switch {
	case v.Camera == "" || v.User == "":
		return v, fmt.Errorf("save geometry: camera and user are required: %w", ErrInvalid)
	case len(v.Geometry) > maxGeometryBytes:
		return v, fmt.Errorf("save geometry of %s: %d bytes, at most %d: %w", v.Camera, len(v.Geometry), maxGeometryBytes, ErrInvalid)
	case base < 0:
		return v, fmt.Errorf("save geometry of %s: base version %d: %w", v.Camera, base, ErrInvalid)
	}
	if err := checkText("camera", v.Camera, "user", v.User, "geometry", v.Geometry); err != nil {
		return v, fmt.Errorf("save geometry: %w", err)
	}
	if v.SavedAt.IsZero() {
		v.SavedAt = time.Now()
	}
	v.SavedAt = fromUS(us(v.SavedAt))
	v.Version = base + 1
	v.Changes = cleanText(v.Changes, maxAuditDetailBytes)
	action, detail := "geometry_save", "version "+strconv.Itoa(v.Version)
	if v.Geometry == "" {
		action, detail = "geometry_revert", detail+": back to the configuration file"
	}
	if v.Changes != "" {
		detail += ": " + v.Changes
	}
	err := s.tx(ctx, func(tx conn) error {
		var newest int
		if err := tx.queryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM camera_geometry WHERE camera = ?", v.Camera).Scan(&newest); err != nil {
			return err
		}
		if newest != base {
			return fmt.Errorf("camera %s is at version %d, not %d: saved by someone else meanwhile: %w", v.Camera, newest, base, ErrConflict)
		}
		if _, err := tx.exec(ctx, `INSERT INTO camera_geometry (camera, version, saved_us, user_name, geometry, changes)
			VALUES (?, ?, ?, ?, ?, ?)`, v.Camera, v.Version, us(v.SavedAt), v.User, v.Geometry, v.Changes); err != nil {
			if isUnique(err) { // two saves raced past the check (PostgreSQL's read committed)
				return fmt.Errorf("camera %s: version %d saved by someone else meanwhile: %w", v.Camera, v.Version, ErrConflict)
			}
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO audit (time_us, user_name, action, target, detail, remote_addr)
			VALUES (?, ?, ?, ?, ?, ?)`, us(v.SavedAt), v.User, action, v.Camera,
			cleanText(detail, maxAuditDetailBytes), cleanText(remote, maxAuditDetailBytes))
		return err
	})
	if err != nil {
		if errors.Is(err, ErrConflict) {
			return v, err
		}
		return v, fmt.Errorf("save geometry of %s: %w", v.Camera, err)
	}
	return v, nil
}

const geometryColumns = "camera, version, saved_us, user_name, geometry, changes"

func scanGeometry(r scanner) (GeometryVersion, error) {
	var (
		v GeometryVersion
		t int64
	)
	err := r.Scan(&v.Camera, &v.Version, &t, &v.User, &v.Geometry, &v.Changes)
	v.SavedAt = fromUS(t)
	return v, err
}

// LatestGeometries returns every camera's newest version, by camera: what
// is in force (those with an empty Geometry use the file's).
func (s *Store) LatestGeometries(ctx context.Context) ([]GeometryVersion, error) {
	out, err := queryAll(ctx, s.reader(), scanGeometry, `SELECT `+geometryColumns+` FROM camera_geometry g
		WHERE version = (SELECT MAX(version) FROM camera_geometry WHERE camera = g.camera) ORDER BY camera`)
	if err != nil {
		return nil, fmt.Errorf("query latest geometries: %w", err)
	}
	return out, nil
}

// GeometryVersions lists a camera's versions, newest first, at most n
// (<= 0: all).
func (s *Store) GeometryVersions(ctx context.Context, camera string, n int) ([]GeometryVersion, error) {
	out, err := queryAll(ctx, s.reader(), scanGeometry, `SELECT `+geometryColumns+` FROM camera_geometry
		WHERE camera = ? ORDER BY version DESC`+limit(n), camera)
	if err != nil {
		return nil, fmt.Errorf("query geometry versions of %s: %w", camera, err)
	}
	return out, nil
}

// GeometryVersion returns one version of a camera's geometry (ErrNotFound
// when there is none such).
func (s *Store) GeometryVersion(ctx context.Context, camera string, version int) (GeometryVersion, error) {
	v, err := queryOne(ctx, s.reader(), scanGeometry, `SELECT `+geometryColumns+` FROM camera_geometry
		WHERE camera = ? AND version = ?`, camera, version)
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("query geometry %s version %d: %w", camera, version, err)
	}
	return v, err
}

// GeometryAt returns the version of a camera's geometry in force at a
// time: the newest saved at or before it (ErrNotFound: the file's then).
func (s *Store) GeometryAt(ctx context.Context, camera string, at time.Time) (GeometryVersion, error) {
	v, err := queryOne(ctx, s.reader(), scanGeometry, `SELECT `+geometryColumns+` FROM camera_geometry
		WHERE camera = ? AND saved_us <= ? ORDER BY version DESC LIMIT 1`, camera, us(at))
	if err != nil && !errors.Is(err, ErrNotFound) {
		err = fmt.Errorf("query geometry of %s at %s: %w", camera, at.Format(time.RFC3339), err)
	}
	return v, err
}

// Setting returns a run-time setting's value; ok is false when it was
// never set.
func (s *Store) Setting(ctx context.Context, name string) (value string, ok bool, err error) {
	err = s.reader().queryRow(ctx, "SELECT value FROM settings WHERE name = ?", name).Scan(&value)
	switch {
	case err == nil:
		return value, true, nil
	case errors.Is(err, sql.ErrNoRows):
		return "", false, nil
	}
	return "", false, fmt.Errorf("read setting %s: %w", name, err)
}

// SetSetting stores a run-time setting and its audit entry
// ("setting_change" by user from remote) in one transaction.
func (s *Store) SetSetting(ctx context.Context, name, value, user, remote string) error {
	if err := checkText("name", name, "value", value, "user", user); err != nil {
		return fmt.Errorf("set %s: %w", name, err)
	}
	if name == "" || user == "" || len(value) > maxAuditDetailBytes {
		return fmt.Errorf("set setting %q: name and user required, value at most %d bytes: %w", name, maxAuditDetailBytes, ErrInvalid)
	}
	now := us(time.Now())
	err := s.tx(ctx, func(tx conn) error {
		if _, err := tx.exec(ctx, `INSERT INTO settings (name, value, updated_us, user_name) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_us = excluded.updated_us, user_name = excluded.user_name`,
			name, value, now, user); err != nil {
			return err
		}
		_, err := tx.exec(ctx, `INSERT INTO audit (time_us, user_name, action, target, detail, remote_addr)
			VALUES (?, ?, ?, ?, ?, ?)`, now, user, "setting_change", name, value, cleanText(remote, maxAuditDetailBytes))
		return err
	})
	if err != nil {
		return fmt.Errorf("set setting %s: %w", name, err)
	}
	return nil
}
