package web

import (
	"context"
	"sync"
	"time"
)

// rigScenes stands in for the cameras' analysis (the seam where the web
// meets OpenCV): tests set what it sees.
type rigScenes struct {
	mu     sync.Mutex
	scenes map[string]Scene
	jpeg   []byte
}

func (r *rigScenes) set(camera string, sc Scene, jpeg []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scenes == nil {
		r.scenes = map[string]Scene{}
	}
	r.scenes[camera], r.jpeg = sc, jpeg
}

func (r *rigScenes) Snapshot(_ context.Context, camera string) ([]byte, time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sc, ok := r.scenes[camera]
	if !ok || r.jpeg == nil {
		return nil, time.Time{}, ErrNoPicture
	}
	return r.jpeg, sc.Time, nil
}

func (r *rigScenes) Scene(camera string) (Scene, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sc, ok := r.scenes[camera]
	return sc, ok
}
