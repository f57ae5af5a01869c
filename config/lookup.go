package config

import (
	"path/filepath"
	"strings"
	"time"
)

// DefaultTimezone is the time zone of a center that names none.
const DefaultTimezone = "Asia/Shanghai"

// CameraRef is a camera with the center and district that hold it. The
// pointers point into the Config.
type CameraRef struct {
	District *District
	Center   *Center
	Camera   *Camera
}

// Cameras returns every camera in config order.
func (c *Config) Cameras() []CameraRef {
	var refs []CameraRef
	for di := range c.Districts {
		d := &c.Districts[di]
		for ci := range d.Centers {
			ctr := &d.Centers[ci]
			for k := range ctr.Cameras {
				refs = append(refs, CameraRef{District: d, Center: ctr, Camera: &ctr.Cameras[k]})
			}
		}
	}
	return refs
}

// Camera finds a camera by id.
func (c *Config) Camera(id string) (CameraRef, bool) {
	for di := range c.Districts {
		d := &c.Districts[di]
		for ci := range d.Centers {
			ctr := &d.Centers[ci]
			for k := range ctr.Cameras {
				if ctr.Cameras[k].ID == id {
					return CameraRef{District: d, Center: ctr, Camera: &ctr.Cameras[k]}, true
				}
			}
		}
	}
	return CameraRef{}, false
}

// Center finds a center, and its district, by id.
func (c *Config) Center(id string) (*District, *Center, bool) {
	for di := range c.Districts {
		d := &c.Districts[di]
		for ci := range d.Centers {
			if d.Centers[ci].ID == id {
				return d, &d.Centers[ci], true
			}
		}
	}
	return nil, nil, false
}

// District finds a district by id.
func (c *Config) District(id string) (*District, bool) {
	for di := range c.Districts {
		if c.Districts[di].ID == id {
			return &c.Districts[di], true
		}
	}
	return nil, false
}

// Location returns the center's time zone. It is resolved while loading;
// for a Center built by hand (or nil) it is looked up on each call, falling
// back to DefaultTimezone and then UTC.
func (c *Center) Location() *time.Location {
	if c != nil && c.loc != nil {
		return c.loc
	}
	name := DefaultTimezone
	if c != nil && c.Timezone != "" {
		name = c.Timezone
	}
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

// SafeURL returns the camera URL with credentials masked, for logs and pages.
func (c *Camera) SafeURL() string { return RedactURL(c.URL) }

// Recording is a camera's effective recording settings.
type Recording struct {
	Enabled bool
	Retain  time.Duration
	Path    string // one of RecordPaths' paths
}

// RecordPath is the default storage path for recordings: record.path, or
// "recordings" next to the database file.
func (c *Config) RecordPath() string {
	if c.Record.Path != "" {
		return filepath.Clean(c.Record.Path)
	}
	return filepath.Join(filepath.Dir(c.Storage.Path), "recordings")
}

// RecordPaths lists every storage path for recordings with its budget,
// the default path first.
func (c *Config) RecordPaths() []RecordPath {
	out := []RecordPath{{Path: c.RecordPath(), MaxSize: c.Record.MaxSize, MinFree: c.Record.MinFree}}
	for _, p := range c.Record.Paths {
		p.Path = filepath.Clean(p.Path)
		out = append(out, p)
	}
	return out
}

// Recording returns cam's recording settings: its own record section over
// the defaults.
func (c *Config) Recording(cam *Camera) Recording {
	r := Recording{Enabled: c.Record.Enabled, Retain: c.Record.Retain.D(), Path: c.RecordPath()}
	if cam.Record != nil {
		r.Enabled, r.Retain = cam.Record.Enabled, cam.Record.Retain.D()
		if cam.Record.Path != "" {
			r.Path = filepath.Clean(cam.Record.Path)
		}
	}
	return r
}

// SafeDSN returns the PostgreSQL connection string with its password
// masked (URL user info, password=…), for logs and messages.
func (s Storage) SafeDSN() string { return RedactURL(s.DSN) }

// SafeNATSURL returns cluster.nats_url with credentials masked.
func (c Cluster) SafeNATSURL() string {
	parts := strings.Split(c.NATSURL, ",")
	for i, p := range parts {
		parts[i] = RedactURL(strings.TrimSpace(p))
	}
	return strings.Join(parts, ",")
}

// PeerAddress is where the other nodes reach this one: peer_url, else public_url.
func (c Cluster) PeerAddress() string {
	if c.PeerURL != "" {
		return c.PeerURL
	}
	return c.PublicURL
}
