package web

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/hallwatch/hallwatch/auth"
)

// recheckEvery is how often live streams are checked against the logins
// that opened them. A check costs one small read (auth.Service.Stamp)
// unless something changed, so a stream ends within about this long of
// its login ending — also when the CLI changed the database.
const recheckEvery = 250 * time.Millisecond

// accessWatch remembers what the last check found.
type accessWatch struct {
	mu    sync.Mutex // one check at a time
	stamp string
	known map[auth.Credential]loginState
}

// loginState is a login as last loaded: its principal (nil: ended) and
// when a browser session expires unless used.
type loginState struct {
	p       *auth.Principal
	expires time.Time
}

func (s *Server) watchAccess(ctx context.Context) {
	t := time.NewTicker(recheckEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.recheckAccess(ctx, false)
		}
	}
}

// recheckAccess ends the WHEP sessions and event streams whose login ended
// (logout, password change or reset, expiry, revoked token, disabled or
// removed user) or no longer grants them (role or scope changed). A
// login is loaded again when the auth stamp moved, when it may have
// expired, or always with force (after a change made by this server).
func (s *Server) recheckAccess(ctx context.Context, force bool) {
	w := &s.access
	w.mu.Lock()
	defer w.mu.Unlock()
	sessions, streams := s.deps.Viewers.Sessions(), append(s.streams.list(), s.videos.list()...)
	if len(sessions) == 0 && len(streams) == 0 {
		w.known = nil
		return
	}
	stamp, err := s.deps.Auth.Stamp(ctx)
	if err != nil {
		if ctx.Err() == nil {
			s.deps.Log.Warn("re-checking live streams' logins failed", "err", err)
		}
		return
	}
	changed := force || stamp != w.stamp
	w.stamp = stamp
	now := time.Now()
	current := map[auth.Credential]loginState{}
	// lookup returns a login's principal (nil: ended); false when it could
	// not be loaded (the stream is kept until the next check).
	lookup := func(c auth.Credential) (*auth.Principal, bool) {
		if st, ok := current[c]; ok {
			return st.p, true
		}
		st, ok := w.known[c]
		if !ok || changed || !st.expires.IsZero() && !now.Before(st.expires) {
			p, expires, err := s.deps.Auth.Recheck(ctx, c)
			if err != nil && !errors.Is(err, auth.ErrUnauthenticated) {
				if ctx.Err() == nil {
					s.deps.Log.Warn("re-checking a login failed", "err", err)
				}
				return nil, false
			}
			st = loginState{p: p, expires: expires}
		}
		current[c] = st
		return st.p, true
	}
	for _, v := range sessions {
		p, ok := lookup(auth.Credential(v.Login))
		if !ok {
			continue
		}
		ref, known := s.deps.Config.Camera(v.Camera)
		if p == nil || !known || !p.Allowed(AccessLive, Scope{District: ref.District.ID, Center: ref.Center.ID}) {
			s.deps.Log.Info("live video ended: its login ended or no longer grants it", "user", v.User, "camera", v.Camera)
			s.deps.Viewers.Hangup(v.Camera, v.ID)
		}
	}
	for _, st := range streams {
		if p, ok := lookup(st.login); ok && (p == nil || grantOf(p) != st.grant) {
			st.end()
		}
	}
	w.known = current
}
