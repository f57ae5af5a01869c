package web

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/relay"
	"github.com/hallwatch/hallwatch/store"
)

// AuditLog records actions and reads them back; *store.Store is one.
type AuditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// ViewerEnded records a finished WHEP session in the audit log ("who
// watched which camera, when, for how long"). The service passes it to
// the relay's sessions as their end callback.
func (s *Server) ViewerEnded(v relay.Session) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.deps.Audit.AppendAudit(ctx, store.AuditEntry{
		Time: v.Started, User: v.User, Action: "watch", Target: v.Camera, RemoteAddr: v.Remote,
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

func watchDetail(v relay.Session) string {
	end := v.Ended.UTC().Format(time.RFC3339)
	if v.Connected.IsZero() {
		return "never connected; gave up " + end
	}
	return fmt.Sprintf("until %s, %s of video", end, v.Ended.Sub(v.Connected).Round(time.Second))
}
