package web

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/relay"
	"github.com/hallwatch/hallwatch/store"
)

// AuditLog records actions and reads them back; *store.Store is one.
type AuditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	StartAudit(ctx context.Context, e store.AuditEntry) (int64, error)
	CompleteAudit(ctx context.Context, id int64, detail string) error
	Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// Live viewings are audited when they start ("who is watching now") and
// completed when they end ("until when, how long").
const (
	actionWatch    = "watch"
	detailWatching = "watching"
)

// watchLog pairs a WHEP session with its audit entry. A session can end
// before its offer's handler has recorded the start (a logout in between):
// then the end waits here for the start.
type watchLog struct {
	mu    sync.Mutex
	open  map[string]int64         // session id → audit id
	ended map[string]relay.Session // ended before their start was recorded
}

// viewerStarted records a new WHEP session in the audit log.
func (s *Server) viewerStarted(v relay.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	id, err := s.deps.Audit.StartAudit(ctx, store.AuditEntry{
		Time: v.Started, User: v.User, Action: actionWatch, Target: v.Camera, RemoteAddr: v.Remote, Detail: detailWatching,
	})
	if err != nil {
		s.deps.Log.Error("audit log write failed", "action", actionWatch, "camera", v.Camera, "err", err)
	}
	w := &s.watching
	w.mu.Lock()
	ended, done := w.ended[v.ID]
	delete(w.ended, v.ID)
	if !done && err == nil {
		if w.open == nil {
			w.open = map[string]int64{}
		}
		w.open[v.ID] = id
	}
	w.mu.Unlock()
	if done {
		s.viewerFinished(ctx, id, err == nil, ended)
	}
}

// ViewerEnded completes a finished WHEP session's audit entry ("who
// watched which camera, when, for how long"). The service passes it to the
// relay's sessions as their end callback.
func (s *Server) ViewerEnded(v relay.Session) {
	w := &s.watching
	w.mu.Lock()
	id, started := w.open[v.ID]
	delete(w.open, v.ID)
	if !started {
		if w.ended == nil {
			w.ended = map[string]relay.Session{}
		}
		w.ended[v.ID] = v // viewerStarted completes it
	}
	w.mu.Unlock()
	if started {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.viewerFinished(ctx, id, true, v)
	}
}

// viewerFinished completes entry id, or writes the whole entry when the
// start could not be recorded.
func (s *Server) viewerFinished(ctx context.Context, id int64, started bool, v relay.Session) {
	var err error
	if started {
		err = s.deps.Audit.CompleteAudit(ctx, id, watchDetail(v))
	} else {
		err = s.deps.Audit.AppendAudit(ctx, store.AuditEntry{
			Time: v.Started, User: v.User, Action: actionWatch, Target: v.Camera, RemoteAddr: v.Remote, Detail: watchDetail(v),
		})
	}
	if err != nil {
		s.deps.Log.Error("audit log write failed", "action", actionWatch, "camera", v.Camera, "err", err)
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

func watchDetail(v relay.Session) string {
	end := v.Ended.UTC().Format(time.RFC3339)
	if v.Connected.IsZero() {
		return "never connected; gave up " + end
	}
	return fmt.Sprintf("until %s, %s of video", end, v.Ended.Sub(v.Connected).Round(time.Second))
}
