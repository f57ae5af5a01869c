package config

import (
	"fmt"
	"os"
	"regexp"
	"strings"
)

// checker collects validation problems by key path.
type checker struct {
	o    *origins
	errs Errors
}

// validate checks cfg and resolves what later lookups need (center time zones).
func validate(cfg *Config, o *origins) Errors {
	c := &checker{o: o}
	c.http(&cfg.HTTP)
	c.webrtc(&cfg.WebRTC)
	c.storage(&cfg.Storage)
	c.cluster(&cfg.Cluster, &cfg.Storage)
	c.positive("retention.events", cfg.Retention.Events)
	c.positive("retention.snapshots", cfg.Retention.Snapshots)
	c.positive("retention.audit", cfg.Retention.Audit)
	c.record(cfg)
	c.detector(&cfg.Detector)
	c.ingest(&cfg.Ingest)
	c.positive("alerts.camera_offline_after", cfg.Alerts.CameraOfflineAfter)
	c.auth(&cfg.Auth)
	c.districts(cfg.Districts)
	c.notifiers(cfg)
	return c.errs
}

func (c *checker) fail(key, format string, args ...any) {
	c.errs.add(c.o.file, c.o.locate(key, fmt.Sprintf(format, args...)))
}

func (c *checker) required(key, s string) bool {
	if strings.TrimSpace(s) == "" {
		c.fail(key, "required")
		return false
	}
	return true
}

func (c *checker) positive(key string, d Duration) {
	if d <= 0 {
		c.fail(key, "must be greater than 0")
	}
}

func (c *checker) atLeast(key string, n, least int) {
	if n < least {
		c.fail(key, "must be at least %d, got %d", least, n)
	}
}

// between reports whether lo < v < hi; false for NaN.
func between(v, lo, hi float64) bool { return v > lo && v < hi }

var slug = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// ids tracks the ids of one kind within one scope (the file, or a camera).
type ids struct {
	kind  string            // "camera", "line"…
	first map[string]string // id → key of its first use
}

func newIDs(kind string) *ids { return &ids{kind: kind, first: map[string]string{}} }

// id checks that the item at key has a slug id unused in scope.
func (c *checker) id(key, id string, scope *ids) {
	key += ".id"
	switch {
	case id == "":
		c.fail(key, "required")
	case !slug.MatchString(id):
		c.fail(key, "invalid id %q: use 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit", id)
	default:
		if first, dup := scope.first[id]; dup {
			c.fail(key, "duplicate %s id %q, first used at %s", scope.kind, id, c.where(first))
			return
		}
		scope.first[id] = key
	}
}

// where names the place of key for a message: its line, else the key itself.
func (c *checker) where(key string) string {
	if l := c.o.line(key); l > 0 {
		return fmt.Sprintf("line %d", l)
	}
	return key
}

func (c *checker) storage(s *Storage) {
	switch s.Driver {
	case "sqlite":
		c.required("storage.path", s.Path)
	case "postgres":
		// The value is never quoted: it holds the password. The driver
		// checks the rest when it connects.
		dsn := strings.TrimSpace(s.DSN)
		switch {
		case dsn == "":
			c.fail("storage.dsn", "required when storage.driver is postgres (set it with HALLWATCH_STORAGE_DSN to keep the password out of the file)")
		case !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") && !strings.Contains(dsn, "="):
			c.fail("storage.dsn", "want a postgres:// URL (postgres://user:password@host:5432/hallwatch?sslmode=verify-full) or key=value pairs (host=… dbname=…)")
		}
	default:
		c.fail("storage.driver", "invalid driver %q, want sqlite or postgres", s.Driver)
	}
	if fi, err := os.Stat(s.StatePath()); err == nil && !fi.IsDir() {
		c.fail("storage.state_dir", "%q is a file, want a directory (created if missing)", s.StateDir)
	}
}

func (c *checker) detector(d *Detector) {
	switch d.Kind {
	case "auto", "motion", "yolo":
	default:
		c.fail("detector.kind", "invalid kind %q, want auto, yolo or motion", d.Kind)
	}
	switch {
	case (d.Model == "") != (d.Weights == ""):
		key := "detector.model" // the one that is set
		if d.Model == "" {
			key = "detector.weights"
		}
		c.fail(key, "detector.model and detector.weights go together: set both (another model's cfg and weights) or neither (the shipped model)")
	case d.Kind == "yolo" && d.Model != "":
		// auto falls back to motion at run time, naming the missing file
		// in the log and the camera status; yolo insists.
		c.file("detector.model", d.Model)
		c.file("detector.weights", d.Weights)
	}
	if d.InputSize%32 != 0 || d.InputSize < 128 || d.InputSize > 1024 {
		c.fail("detector.input_size", "must be a multiple of 32 from 128 to 1024, got %d", d.InputSize)
	}
	c.fraction("detector.score_threshold", d.ScoreThreshold)
	c.fraction("detector.nms_threshold", d.NMSThreshold)
}

func (c *checker) fraction(key string, v float64) {
	if !between(v, 0, 1) {
		c.fail(key, "must be between 0 and 1 (exclusive), got %g", v)
	}
}

func (c *checker) ingest(in *Ingest) {
	c.positive("ingest.backoff_min", in.BackoffMin)
	c.positive("ingest.backoff_max", in.BackoffMax)
	if in.BackoffMin > in.BackoffMax {
		c.fail("ingest.backoff_min", "%s is more than backoff_max %s", in.BackoffMin, in.BackoffMax)
	}
	c.positive("ingest.stable_period", in.StablePeriod)
	c.positive("ingest.read_timeout", in.ReadTimeout)
	c.atLeast("ingest.subscriber_buf", in.SubscriberBuf, 1)
}

// minTokenLen keeps the metrics token out of reach of guessing.
const minTokenLen = 16

func (c *checker) auth(a *Auth) {
	c.positive("auth.session_ttl", a.SessionTTL)
	c.atLeast("auth.lockout_attempts", a.LockoutAttempts, 1)
	c.positive("auth.lockout_duration", a.LockoutDuration)
	if n := len(a.MetricsToken); n > 0 && n < minTokenLen {
		c.fail("auth.metrics_token", "too short (%d characters); use at least %d random characters", n, minTokenLen)
	}
}
