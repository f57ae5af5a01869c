package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hallwatch/hallwatch/internal/ids"
	"github.com/hallwatch/hallwatch/store"
)

// Login is a new browser session. SessionToken and CSRFToken go into
// cookies; the store keeps only the session token's hash.
type Login struct {
	Principal    *Principal
	SessionToken string
	CSRFToken    string
	Expires      time.Time
}

// maxSecretLen bounds presented tokens before any lookup.
const maxSecretLen = 128

// Login checks a user name and password from client address remote and
// opens a session. It fails with ErrBadCredentials or *ThrottledError;
// every attempt is audited (without the password, and without the typed
// name when no such user exists: it may be a password typed in the wrong box).
func (s *Service) Login(ctx context.Context, name, password, remote string) (Login, error) {
	if ok, retry := s.throttle.allowIP(remote); !ok {
		s.audit(ctx, Actor{Remote: remote}, "login_failed", "", "too many attempts from this address")
		return Login{}, &ThrottledError{RetryAfter: retry}
	}
	key := foldName(name)
	if retry := s.lockedFor(ctx, key); retry > 0 {
		s.audit(ctx, Actor{Remote: remote}, "login_failed", s.knownName(ctx, name), "account locked")
		return Login{}, &ThrottledError{RetryAfter: retry, Account: true}
	}
	if len(name) > 64 || len(password) > 4*MaxPasswordLen {
		s.failedLogin(ctx, key, "", remote, "oversized user name or password")
		return Login{}, ErrBadCredentials
	}
	u, err := s.st.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		s.verify(ctx, s.dummyHash, password) // as slow as for a real user
		s.failedLogin(ctx, key, "", remote, "unknown user")
		return Login{}, ErrBadCredentials
	} else if err != nil {
		return Login{}, err
	}
	ok, err := s.verify(ctx, u.PasswordHash, password)
	if err != nil {
		return Login{}, fmt.Errorf("user %q: %w", u.Name, err)
	}
	if !ok {
		s.failedLogin(ctx, key, u.Name, remote, "wrong password")
		return Login{}, ErrBadCredentials
	}
	if u.Disabled {
		s.audit(ctx, Actor{Name: u.Name, Remote: remote}, "login_failed", u.Name, "account disabled")
		return Login{}, ErrBadCredentials
	}
	s.throttle.succeeded(key)
	l, err := s.openSession(ctx, u)
	if err != nil {
		return Login{}, err
	}
	s.audit(ctx, Actor{Name: u.Name, Remote: remote}, "login", u.Name, "")
	return l, nil
}

func (s *Service) failedLogin(ctx context.Context, key, user, remote, why string) {
	if s.throttle.failed(key) {
		why += fmt.Sprintf("; account locked for %v", s.opts.LockoutDuration)
	}
	s.audit(ctx, Actor{Remote: remote}, "login_failed", user, why)
}

// knownName returns the account's stored name, or "" for an unknown one.
func (s *Service) knownName(ctx context.Context, name string) string {
	if u, err := s.st.UserByName(ctx, name); err == nil {
		return u.Name
	}
	return ""
}

// foldName is the lockout key: the store compares names ignoring ASCII case.
func foldName(name string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, name)
}

func (s *Service) openSession(ctx context.Context, u store.User) (Login, error) {
	now := s.opts.Now()
	l := Login{Principal: principalOf(u), SessionToken: ids.Secret(), CSRFToken: ids.Secret(), Expires: now.Add(s.opts.SessionTTL)}
	hash := hashSecret(l.SessionToken)
	if err := s.st.CreateSession(ctx, store.Session{TokenHash: hash, UserID: u.ID, CSRFToken: l.CSRFToken, CreatedAt: now, ExpiresAt: l.Expires}); err != nil {
		return Login{}, err
	}
	l.Principal.sessionHash, l.Principal.csrfToken = hash, l.CSRFToken
	return l, nil
}

// Session authenticates a session cookie: it must exist, not be expired,
// and belong to an enabled user. Use extends its expiry (sliding).
func (s *Service) Session(ctx context.Context, token string) (*Principal, error) {
	if token == "" || len(token) > maxSecretLen {
		return nil, ErrUnauthenticated
	}
	hash := hashSecret(token)
	p, se, err := s.sessionPrincipal(ctx, hash)
	if err != nil {
		return nil, err
	}
	// Touch at most once a minute: a write per request would queue every
	// page load behind the database's single writer.
	now := s.opts.Now()
	if now.Sub(se.LastSeenAt) >= min(time.Minute, s.opts.SessionTTL/10) {
		if err := s.st.TouchSession(ctx, hash, now, now.Add(s.opts.SessionTTL)); err != nil && !errors.Is(err, store.ErrNotFound) {
			s.opts.Log.Warn("extending a session failed", "user", p.Name, "err", err)
		}
	}
	return p, nil
}

// sessionPrincipal loads the session with this hash and its user.
func (s *Service) sessionPrincipal(ctx context.Context, hash string) (*Principal, store.Session, error) {
	se, err := s.st.SessionByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.Session{}, ErrUnauthenticated
	} else if err != nil {
		return nil, store.Session{}, err
	}
	if !s.opts.Now().Before(se.ExpiresAt) {
		s.st.DeleteSession(ctx, hash)
		return nil, store.Session{}, ErrUnauthenticated
	}
	u, err := s.activeUser(ctx, se.UserID)
	if err != nil {
		return nil, store.Session{}, err
	}
	p := principalOf(u)
	p.sessionHash, p.csrfToken = hash, se.CSRFToken
	return p, se, nil
}

// TokenPrefix starts every API token, so a leaked one is recognisable
// (secret scanners) and cannot be mistaken for anything else.
const TokenPrefix = "hw_"

// Token authenticates an API token (Authorization: Bearer). The token acts
// with its user's role and scope, never with a pending password change.
func (s *Service) Token(ctx context.Context, bearer string) (*Principal, error) {
	if !strings.HasPrefix(bearer, TokenPrefix) || len(bearer) > maxSecretLen {
		return nil, ErrUnauthenticated
	}
	p, t, err := s.tokenPrincipal(ctx, hashSecret(bearer))
	if err != nil {
		return nil, err
	}
	now := s.opts.Now()
	if now.Sub(t.LastUsedAt) >= time.Minute {
		if err := s.st.TouchToken(ctx, t.ID, now); err != nil {
			s.opts.Log.Warn("recording token use failed", "token", t.Name, "err", err)
		}
	}
	return p, nil
}

// tokenPrincipal loads the API token with this hash and its user.
func (s *Service) tokenPrincipal(ctx context.Context, hash string) (*Principal, store.APIToken, error) {
	t, err := s.st.TokenByHash(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, store.APIToken{}, ErrUnauthenticated
	} else if err != nil {
		return nil, store.APIToken{}, err
	}
	if t.Revoked() {
		return nil, store.APIToken{}, ErrUnauthenticated
	}
	u, err := s.activeUser(ctx, t.UserID)
	if err != nil {
		return nil, store.APIToken{}, err
	}
	p := principalOf(u)
	p.MustChangePassword = false
	p.TokenID, p.tokenHash = t.ID, hash
	return p, t, nil
}

func (s *Service) activeUser(ctx context.Context, id int64) (store.User, error) {
	u, err := s.st.UserByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, ErrUnauthenticated
	} else if err != nil {
		return store.User{}, err
	}
	if u.Disabled {
		return store.User{}, ErrUnauthenticated
	}
	return u, nil
}

// CheckCSRF reports whether token is the session's CSRF token. Principals
// from API tokens carry no cookies and need none.
func (s *Service) CheckCSRF(p *Principal, token string) bool {
	if p.ViaToken() {
		return true
	}
	return p.csrfToken != "" && subtle.ConstantTimeCompare([]byte(p.csrfToken), []byte(token)) == 1
}

// Logout ends the principal's browser session.
func (s *Service) Logout(ctx context.Context, p *Principal, remote string) error {
	if p.sessionHash == "" {
		return fmt.Errorf("logout: %q is not using a browser session: %w", p.Name, store.ErrInvalid)
	}
	if err := s.st.DeleteSession(ctx, p.sessionHash); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.audit(ctx, Actor{Name: p.Name, Remote: remote}, "logout", p.Name, "")
	return nil
}

// ChangeOwnPassword replaces the principal's password after checking the
// current one (failures count towards the lockout, so a stolen session
// cannot guess it), ends all of the user's sessions and opens a new one.
func (s *Service) ChangeOwnPassword(ctx context.Context, p *Principal, current, next, remote string) (Login, error) {
	if err := CheckPassword(next); err != nil {
		return Login{}, fmt.Errorf("new password: %v: %w", err, store.ErrInvalid)
	}
	key := foldName(p.Name)
	if retry := s.lockedFor(ctx, key); retry > 0 {
		return Login{}, &ThrottledError{RetryAfter: retry, Account: true}
	}
	u, err := s.activeUser(ctx, p.UserID)
	if err != nil {
		return Login{}, err
	}
	ok, err := s.verify(ctx, u.PasswordHash, current)
	if err != nil {
		return Login{}, err
	}
	if !ok {
		s.failedLogin(ctx, key, u.Name, remote, "wrong current password when changing it")
		return Login{}, ErrBadCredentials
	}
	if current == next {
		return Login{}, ErrPasswordUnchanged
	}
	hash, err := s.hash(ctx, next)
	if err != nil {
		return Login{}, err
	}
	if err := s.st.SetPassword(ctx, u.ID, hash, false); err != nil {
		return Login{}, err
	}
	if _, err := s.st.DeleteUserSessions(ctx, u.ID); err != nil {
		return Login{}, err
	}
	u.MustChangePassword = false
	s.audit(ctx, Actor{Name: u.Name, Remote: remote}, "password_change", u.Name, "")
	return s.openSession(ctx, u)
}
