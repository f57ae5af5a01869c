package auth

import (
	"context"
	"time"

	"github.com/hallwatch/hallwatch/store"
)

// Audit actions that lift an account's lockout. The CLI (another
// process) lifts one by recording them: the server, which keeps lockouts
// in memory, reads them back before refusing a locked account's login.
const (
	actionUnlock        = "user_unlock"
	actionPasswordReset = "password_reset"
)

// lockedFor returns how long account key stays locked (0: not locked). A
// lock that an admin lifted since it began — an unlock or a password
// reset in the audit log, perhaps written by the CLI — is lifted here.
func (s *Service) lockedFor(ctx context.Context, key string) time.Duration {
	left, since, check := s.throttle.lock(key)
	if left == 0 || !check {
		return left
	}
	for _, action := range []string{actionUnlock, actionPasswordReset} {
		es, err := s.st.Audit(ctx, store.AuditQuery{From: since, Action: action, Limit: 1000})
		if err != nil {
			s.opts.Log.Warn("checking whether a lockout was lifted failed", "err", err)
			return left
		}
		for _, e := range es {
			if foldName(e.Target) == key {
				s.throttle.succeeded(key)
				return 0
			}
		}
	}
	return left
}

// Unlock lifts user id's lockout at once (in this process; a running
// server sees the audited unlock at the account's next login attempt).
func (s *Service) Unlock(ctx context.Context, by Actor, id int64) (store.User, error) {
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		return store.User{}, err
	}
	// The audit entry is what another process honours: it must be written.
	err = s.st.AppendAudit(ctx, store.AuditEntry{Time: s.opts.Now(), User: by.Name, Action: actionUnlock, Target: u.Name, RemoteAddr: by.Remote})
	if err != nil {
		return store.User{}, err
	}
	s.throttle.succeeded(foldName(u.Name))
	return u, nil
}

// LockedUntil returns when the account called name may log in again
// (zero when it is not locked).
func (s *Service) LockedUntil(name string) time.Time {
	return s.throttle.lockedUntil(foldName(name))
}
