package config

import (
	"errors"
	"sync/atomic"
)

// liveAnalytics is a camera's analytics in force once saved geometry
// replaced the file's: read by many goroutines, swapped whole.
type liveAnalytics struct{ p atomic.Pointer[Analytics] }

// attachLive gives every camera its holder of the analytics in force.
func attachLive(cfg *Config) {
	for _, ref := range cfg.Cameras() {
		ref.Camera.live = &liveAnalytics{}
	}
}

// Effective returns the camera's analytics in force: the file's section,
// or what SetEffective put in its place (the file's with saved geometry
// applied). It is shared: treat it as read-only. nil: not analysed.
func (c *Camera) Effective() *Analytics {
	if c.live != nil {
		if a := c.live.p.Load(); a != nil {
			return a
		}
	}
	return c.Analytics
}

// SetEffective puts a in force for the camera (nil: the file's section
// again). It needs a camera of a configuration from Parse or Load, and a
// camera the file analyses: analysis is started for those only.
func (c *Camera) SetEffective(a *Analytics) error {
	switch {
	case c.live == nil:
		return errors.New("camera " + c.ID + " was not loaded by config.Parse")
	case c.Analytics == nil:
		return errors.New("camera " + c.ID + " has no analytics section")
	}
	c.live.p.Store(a)
	return nil
}
