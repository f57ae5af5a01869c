package viewer

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/store"
)

// AuditLog records actions and reads them back; *store.Store is one.
type AuditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// watchers remembers, per WHEP session, what the audit entry and a token
// revocation need that Viewers does not keep.
type watchers struct {
	mu sync.Mutex
	m  map[string]watcher
}

type watcher struct {
	remote  string
	tokenID int64 // API token that opened it, 0 for a browser session
}

func (w *watchers) add(id string, v watcher) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = map[string]watcher{}
	}
	w.m[id] = v
}

func (w *watchers) take(id string) watcher {
	w.mu.Lock()
	defer w.mu.Unlock()
	v := w.m[id]
	delete(w.m, id)
	return v
}

// byToken returns the sessions opened with API token id.
func (w *watchers) byToken(id int64) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for sid, v := range w.m {
		if v.tokenID == id {
			out = append(out, sid)
		}
	}
	return out
}

// ViewerEnded records a finished WHEP session in the audit log ("who
// watched which camera, when, for how long"). The service passes it to
// NewViewers as the onEnd callback.
func (s *Server) ViewerEnded(v ViewerSession) {
	w := s.watchers.take(v.ID)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.deps.Audit.AppendAudit(ctx, store.AuditEntry{
		Time: v.Started, User: v.User, Action: "watch", Target: v.Camera, RemoteAddr: w.remote,
		Detail: watchDetail(v),
	})
	if err != nil {
		s.deps.Log.Error("audit log write failed", "action", "watch", "camera", v.Camera, "err", err)
	}
}

// audit records an action of the request's user (e.g. "alert_ack").
// Detail must not hold secrets.
func (s *Server) audit(c *fiber.Ctx, action, target, detail string) {
	user := ""
	if p := principal(c); p != nil {
		user = p.Name
	}
	err := s.deps.Audit.AppendAudit(context.WithoutCancel(c.UserContext()), store.AuditEntry{
		Time: time.Now(), User: user, Action: action, Target: target, Detail: detail, RemoteAddr: c.IP(),
	})
	if err != nil {
		s.deps.Log.Error("audit log write failed", "action", action, "target", target, "err", err)
	}
}

func watchDetail(v ViewerSession) string {
	end := v.Ended.UTC().Format(time.RFC3339)
	if v.Connected.IsZero() {
		return "never connected; gave up " + end
	}
	return fmt.Sprintf("until %s, %s of video", end, v.Ended.Sub(v.Connected).Round(time.Second))
}
