package web

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/auth"
)

// userEnds lets long-lived responses (SSE streams) stop when their user
// logs out, is disabled or has a new role or scope: each user has a
// channel, closed then and replaced for what follows. Streams decide what
// to send when they start, so a changed grant must restart them.
type userEnds struct {
	mu sync.Mutex
	m  map[string]userEnd
}

type userEnd struct {
	ch    chan struct{}
	grant string // role and scope the streams were started with
}

// grantOf summarises what a principal may see.
func grantOf(p *auth.Principal) string {
	return p.Role + "|" + strings.Join(p.Districts, ",") + "|" + strings.Join(p.Centers, ",")
}

// ended returns a channel closed when p's access ends or changes.
func (u *userEnds) ended(p *auth.Principal) <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.m == nil {
		u.m = map[string]userEnd{}
	}
	e, ok := u.m[p.Name]
	if ok && e.grant != grantOf(p) {
		close(e.ch) // older streams were started with other rights
		ok = false
	}
	if !ok {
		e = userEnd{ch: make(chan struct{}), grant: grantOf(p)}
		u.m[p.Name] = e
	}
	return e.ch
}

func (u *userEnds) end(user string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if e, ok := u.m[user]; ok {
		close(e.ch)
		delete(u.m, user)
	}
}

// stale ends the streams of a user whose grant is no longer the current
// one (nil: no access at all).
func (u *userEnds) stale(user string, current *auth.Principal) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if e, ok := u.m[user]; ok && (current == nil || e.grant != grantOf(current)) {
		close(e.ch)
		delete(u.m, user)
	}
}

func (u *userEnds) users() []string {
	u.mu.Lock()
	defer u.mu.Unlock()
	out := make([]string, 0, len(u.m))
	for name := range u.m {
		out = append(out, name)
	}
	return out
}

// accessEnded returns a channel closed when the request's user logs out or
// loses access; streaming handlers select on it.
func (s *Server) accessEnded(c *fiber.Ctx) <-chan struct{} {
	return s.ends.ended(principal(c))
}

// endUser ends a user's live video and streams (logout, disabled, password reset).
func (s *Server) endUser(name string) {
	s.deps.Viewers.CloseUser(name)
	s.ends.end(name)
}

// sweepEvery is how often live sessions are re-checked against the users
// table, which the CLI may change behind the server's back.
const sweepEvery = 30 * time.Second

func (s *Server) sweepAccess(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.recheckAccess(ctx, "")
		}
	}
}

// recheckAccess ends the WHEP sessions of users (only, or all when empty)
// who were disabled or may no longer watch that camera, and the streams of
// users who were disabled or got another role or scope.
func (s *Server) recheckAccess(ctx context.Context, only string) {
	current := map[string]*auth.Principal{} // nil: no access at all
	lookup := func(name string) (*auth.Principal, bool) {
		if p, ok := current[name]; ok {
			return p, true
		}
		p, err := s.deps.Auth.Current(ctx, name)
		if err != nil && !errors.Is(err, auth.ErrUnauthenticated) {
			if ctx.Err() == nil {
				s.deps.Log.Warn("re-checking a user's access failed", "user", name, "err", err)
			}
			return nil, false // unknown: keep the session until the next sweep
		}
		current[name] = p
		return p, true
	}
	for _, v := range s.deps.Viewers.Sessions() {
		if only != "" && v.User != only {
			continue
		}
		p, ok := lookup(v.User)
		if !ok {
			continue
		}
		ref, known := s.deps.Config.Camera(v.Camera)
		if p == nil || !known || !p.Allowed(AccessLive, Scope{District: ref.District.ID, Center: ref.Center.ID}) {
			s.deps.Viewers.Hangup(v.Camera, v.ID)
		}
	}
	for _, name := range s.ends.users() {
		if only != "" && name != only {
			continue
		}
		if p, ok := lookup(name); ok {
			s.ends.stale(name, p)
		}
	}
}
