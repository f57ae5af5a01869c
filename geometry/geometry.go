// Package geometry keeps the lines and zones drawn on cameras in the web
// editor: each save is checked, stored as a new version with its audit
// entry, and put in force for the camera at once (the configuration's
// analytics in force, and through Options.Apply the running analysis),
// overriding the configuration file's geometry for that camera until it is
// reverted. Saves made by other nodes sharing the database are picked up
// by polling. (Plane geometry itself is package geom.)
package geometry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// Store is the storage the manager needs; *store.Store is one.
type Store interface {
	SaveGeometry(ctx context.Context, v store.GeometryVersion, base int, remote string) (store.GeometryVersion, error)
	LatestGeometries(ctx context.Context) ([]store.GeometryVersion, error)
	GeometryVersions(ctx context.Context, camera string, n int) ([]store.GeometryVersion, error)
	GeometryVersion(ctx context.Context, camera string, version int) (store.GeometryVersion, error)
	GeometryAt(ctx context.Context, camera string, at time.Time) (store.GeometryVersion, error)
	Setting(ctx context.Context, name string) (string, bool, error)
	SetSetting(ctx context.Context, name, value, user, remote string) error
}

// Options configure a Manager.
type Options struct {
	Config *config.Config
	Store  Store
	Log    *slog.Logger
	// Apply, if set, is told each camera's analytics put in force after
	// Load (a save here or on another node, a revert): the running
	// analysis takes them.
	Apply func(ref config.CameraRef, an *config.Analytics)
	// Poll is how often saves by other nodes are looked for (default 5s).
	Poll time.Duration
}

// Errors callers tell apart with errors.Is / errors.As.
var (
	// ErrNotAnalysed: the camera has no analytics section in the file.
	ErrNotAnalysed = errors.New("camera has no analytics section")
	// ErrUnknownCamera: no such camera in the configuration.
	ErrUnknownCamera = errors.New("unknown camera")
)

// InvalidError is geometry refused by config.Geometry.Check.
type InvalidError struct{ Problems []config.Problem }

func (e *InvalidError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Error()
	}
	return strings.Join(msgs, "; ")
}

// ConflictError is a save from a version that is no longer the newest.
type ConflictError struct{ Base, Current int }

func (e *ConflictError) Error() string {
	return fmt.Sprintf("the geometry was saved meanwhile (version %d, this edit started from %d): reload it and draw again", e.Current, e.Base)
}

// State is a camera's geometry in force.
type State struct {
	Camera string `json:"camera"`
	// Version is the saved version in force; 0 when nothing was ever saved.
	Version int `json:"version"`
	// Source: "file" (the configuration's) or "editor" (a saved version).
	Source   string          `json:"source"`
	SavedBy  string          `json:"saved_by,omitempty"`
	SavedAt  time.Time       `json:"saved_at,omitzero"`
	Geometry config.Geometry `json:"geometry"`
	// File is the configuration file's geometry, what a revert restores.
	File config.Geometry `json:"file"`
}

// Sources of the geometry in force.
const (
	SourceFile   = "file"
	SourceEditor = "editor"
)

// settingManagersEdit: may center managers edit their cameras' geometry.
const settingManagersEdit = "editor.center_managers"

// Manager keeps the cameras' drawn geometry.
type Manager struct {
	o Options

	mu       sync.Mutex
	current  map[string]store.GeometryVersion // camera → version in force (Version 0: the file's)
	managers bool                             // center managers may edit
}

// New makes a manager; Load puts the saved geometry in force.
func New(o Options) *Manager {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Poll <= 0 {
		o.Poll = 5 * time.Second
	}
	return &Manager{o: o, current: map[string]store.GeometryVersion{}}
}

// Load puts each camera's newest saved geometry in force, before analysis
// starts. Saved geometry that no longer fits (a camera without analytics
// now, or that fails today's checks) is left out with an error in the log:
// the file's applies.
func (m *Manager) Load(ctx context.Context) error {
	if err := m.refresh(ctx, false); err != nil {
		return fmt.Errorf("geometry: %w", err)
	}
	return nil
}

// Run looks for saves by other nodes every Options.Poll until ctx ends.
func (m *Manager) Run(ctx context.Context) error {
	t := time.NewTicker(m.o.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := m.refresh(ctx, true); err != nil && ctx.Err() == nil {
				m.o.Log.Warn("geometry: looking for saves by other nodes", "err", err)
			}
		}
	}
}

// refresh reads the newest versions and the settings, and puts in force
// those not in force yet (apply: tell Options.Apply).
func (m *Manager) refresh(ctx context.Context, apply bool) error {
	latest, err := m.o.Store.LatestGeometries(ctx)
	if err != nil {
		return err
	}
	v, _, err := m.o.Store.Setting(ctx, settingManagersEdit)
	if err != nil {
		return err
	}
	m.mu.Lock()
	m.managers = v == "true"
	m.mu.Unlock()
	for _, v := range latest {
		ref, ok := m.o.Config.Camera(v.Camera)
		if !ok || ref.Camera.Analytics == nil {
			continue // a camera no longer configured, or no longer analysed
		}
		m.mu.Lock()
		known := m.current[v.Camera].Version >= v.Version
		m.mu.Unlock()
		if known {
			continue
		}
		if err := m.putInForce(ref, v, apply); err != nil {
			m.o.Log.Error("geometry: saved version left out, the configuration file's applies", "camera", v.Camera, "version", v.Version, "err", err)
			m.mu.Lock()
			m.current[v.Camera] = store.GeometryVersion{Camera: v.Camera, Version: v.Version}
			m.mu.Unlock()
		}
	}
	return nil
}

// putInForce makes v the camera's geometry in force.
func (m *Manager) putInForce(ref config.CameraRef, v store.GeometryVersion, apply bool) error {
	an := ref.Camera.Analytics // a revert: the file's
	if v.Geometry != "" {
		g, err := Decode([]byte(v.Geometry))
		if err != nil {
			return err
		}
		if ps := g.Check(); len(ps) > 0 {
			return &InvalidError{Problems: ps}
		}
		an = g.Apply(ref.Camera.Analytics)
	}
	if err := ref.Camera.SetEffective(an); err != nil {
		return err
	}
	m.mu.Lock()
	m.current[ref.Camera.ID] = v
	m.mu.Unlock()
	if apply && m.o.Apply != nil {
		m.o.Apply(ref, an)
	}
	m.o.Log.Info("geometry in force", "camera", ref.Camera.ID, "version", v.Version, "by", v.User)
	return nil
}

// Decode reads geometry JSON strictly: unknown keys and points without
// exactly two coordinates are errors.
func Decode(data []byte) (config.Geometry, error) {
	var g config.Geometry
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&g); err != nil {
		return g, fmt.Errorf("geometry JSON: %w", err)
	}
	return g, nil
}

// camera finds an analysed camera.
func (m *Manager) camera(id string) (config.CameraRef, error) {
	ref, ok := m.o.Config.Camera(id)
	switch {
	case !ok:
		return ref, fmt.Errorf("camera %q: %w", id, ErrUnknownCamera)
	case ref.Camera.Analytics == nil:
		return ref, fmt.Errorf("camera %q has no analytics section in the configuration; add one to analyse and edit it: %w", id, ErrNotAnalysed)
	}
	return ref, nil
}

// State returns a camera's geometry in force.
func (m *Manager) State(camera string) (State, error) {
	ref, err := m.camera(camera)
	if err != nil {
		return State{}, err
	}
	m.mu.Lock()
	v := m.current[camera]
	m.mu.Unlock()
	st := State{Camera: camera, Version: v.Version, Source: SourceFile,
		Geometry: config.GeometryOf(ref.Camera.Effective()), File: config.GeometryOf(ref.Camera.Analytics)}
	if v.Geometry != "" {
		st.Source, st.SavedBy, st.SavedAt = SourceEditor, v.User, v.SavedAt
	}
	return st, nil
}

// Save checks g and, when it passes, stores it as version base+1 of the
// camera's geometry with its audit entry (by who, from remote, saying what
// changed) and puts it in force. g nil reverts to the file's geometry.
// Errors: *InvalidError, *ConflictError, ErrUnknownCamera, ErrNotAnalysed.
func (m *Manager) Save(ctx context.Context, camera string, base int, g *config.Geometry, who, remote string) (State, error) {
	ref, err := m.camera(camera)
	if err != nil {
		return State{}, err
	}
	next := config.GeometryOf(ref.Camera.Analytics)
	var data []byte
	if g != nil {
		if ps := g.Check(); len(ps) > 0 {
			return State{}, &InvalidError{Problems: ps}
		}
		if data, err = json.Marshal(g); err != nil {
			return State{}, err
		}
		next = *g
	}
	changes := next.Changes(config.GeometryOf(ref.Camera.Effective()))
	v, err := m.o.Store.SaveGeometry(ctx, store.GeometryVersion{Camera: camera, User: who, Geometry: string(data),
		Changes: strings.Join(changes, "; ")}, base, remote)
	if errors.Is(err, store.ErrConflict) {
		current := base
		if vs, err := m.o.Store.GeometryVersions(ctx, camera, 1); err == nil && len(vs) == 1 {
			current = vs[0].Version
		}
		return State{}, &ConflictError{Base: base, Current: current}
	}
	if err != nil {
		return State{}, err
	}
	if err := m.putInForce(ref, v, true); err != nil {
		return State{}, err
	}
	return m.State(camera)
}

// Versions lists a camera's saved versions, newest first (at most n; <= 0
// all).
func (m *Manager) Versions(ctx context.Context, camera string, n int) ([]store.GeometryVersion, error) {
	if _, err := m.camera(camera); err != nil {
		return nil, err
	}
	return m.o.Store.GeometryVersions(ctx, camera, n)
}

// Version returns one saved version (store.ErrNotFound when none) and its
// geometry (the file's for a revert).
func (m *Manager) Version(ctx context.Context, camera string, version int) (store.GeometryVersion, config.Geometry, error) {
	ref, err := m.camera(camera)
	if err != nil {
		return store.GeometryVersion{}, config.Geometry{}, err
	}
	v, err := m.o.Store.GeometryVersion(ctx, camera, version)
	if err != nil {
		return v, config.Geometry{}, err
	}
	g, err := m.geometryOf(ref, v)
	return v, g, err
}

// At returns the geometry that was in force at a time (playback), and its
// version (0: the file's).
func (m *Manager) At(ctx context.Context, camera string, at time.Time) (int, config.Geometry, error) {
	ref, err := m.camera(camera)
	if err != nil {
		return 0, config.Geometry{}, err
	}
	v, err := m.o.Store.GeometryAt(ctx, camera, at)
	if errors.Is(err, store.ErrNotFound) {
		return 0, config.GeometryOf(ref.Camera.Analytics), nil
	}
	if err != nil {
		return 0, config.Geometry{}, err
	}
	g, err := m.geometryOf(ref, v)
	return v.Version, g, err
}

func (m *Manager) geometryOf(ref config.CameraRef, v store.GeometryVersion) (config.Geometry, error) {
	if v.Geometry == "" {
		return config.GeometryOf(ref.Camera.Analytics), nil
	}
	return Decode([]byte(v.Geometry))
}

// ManagersMayEdit reports whether an admin allowed center managers to edit
// their own cameras' geometry.
func (m *Manager) ManagersMayEdit() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.managers
}

// SetManagersMayEdit allows or forbids it (stored and audited).
func (m *Manager) SetManagersMayEdit(ctx context.Context, allow bool, who, remote string) error {
	if err := m.o.Store.SetSetting(ctx, settingManagersEdit, fmt.Sprint(allow), who, remote); err != nil {
		return err
	}
	m.mu.Lock()
	m.managers = allow
	m.mu.Unlock()
	return nil
}
