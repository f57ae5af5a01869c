package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hallwatch/hallwatch/config"
	"github.com/hallwatch/hallwatch/store"
)

// Users is the part of the store that keeps accounts.
type Users interface {
	CreateUser(ctx context.Context, u store.User) (int64, error)
	UserByName(ctx context.Context, name string) (store.User, error)
	UserByID(ctx context.Context, id int64) (store.User, error)
	ListUsers(ctx context.Context) ([]store.User, error)
	CountUsers(ctx context.Context) (int, error)
	UpdateUser(ctx context.Context, id int64, u store.UserUpdate) error
	SetPassword(ctx context.Context, id int64, hash string, mustChange bool) error
	SetDisabled(ctx context.Context, id int64, disabled bool) error
	AuthStamp(ctx context.Context) (string, error)
}

// Sessions is the part of the store that keeps browser logins.
type Sessions interface {
	CreateSession(ctx context.Context, se store.Session) error
	SessionByHash(ctx context.Context, hash string) (store.Session, error)
	TouchSession(ctx context.Context, hash string, at, expires time.Time) error
	DeleteSession(ctx context.Context, hash string) error
	DeleteUserSessions(ctx context.Context, userID int64) (int64, error)
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// Tokens is the part of the store that keeps API tokens.
type Tokens interface {
	CreateToken(ctx context.Context, t store.APIToken) (int64, error)
	TokenByHash(ctx context.Context, hash string) (store.APIToken, error)
	ListTokens(ctx context.Context, userID int64) ([]store.APIToken, error)
	TouchToken(ctx context.Context, id int64, at time.Time) error
	RevokeToken(ctx context.Context, id int64, at time.Time) error
}

// AuditLog records who did what; lifted lockouts are read back from it.
type AuditLog interface {
	AppendAudit(ctx context.Context, e store.AuditEntry) error
	Audit(ctx context.Context, q store.AuditQuery) ([]store.AuditEntry, error)
}

// Store is everything the auth service keeps; *store.Store is one.
type Store interface {
	Users
	Sessions
	Tokens
	AuditLog
}

// Errors the web layer maps to status codes. Validation failures wrap
// store.ErrInvalid, unknown ids store.ErrNotFound and conflicts (a taken
// name, removing the last admin) store.ErrConflict.
var (
	// ErrBadCredentials: unknown user, wrong password or disabled account;
	// deliberately one error so a guesser learns nothing.
	ErrBadCredentials = errors.New("wrong user name or password")
	// ErrUnauthenticated: missing, expired, revoked or unknown session or token.
	ErrUnauthenticated = errors.New("login required")
	// ErrLastAdmin: the change would leave no enabled admin; matches store.ErrConflict.
	ErrLastAdmin = fmt.Errorf("this is the last enabled admin; make another admin first: %w", store.ErrConflict)
	// ErrPasswordUnchanged: a new password equal to the current one; matches store.ErrInvalid.
	ErrPasswordUnchanged = fmt.Errorf("the new password must differ from the current one: %w", store.ErrInvalid)
)

// ThrottledError refuses a login attempt without checking the password.
type ThrottledError struct {
	RetryAfter time.Duration
	Account    bool // the account is locked (else the client address is limited)
}

func (e *ThrottledError) Error() string {
	wait := e.RetryAfter.Round(time.Second)
	if e.Account {
		return fmt.Sprintf("too many failed logins for this account; try again in %v", wait)
	}
	return fmt.Sprintf("too many login attempts from this address; try again in %v", wait)
}

// Options tune the service. Zero fields take the defaults shown.
type Options struct {
	SessionTTL      time.Duration // sliding: each request extends it; 12h
	LockoutAttempts int           // consecutive failures that lock an account; 5
	LockoutDuration time.Duration // 15m
	// LoginBurst attempts per client address at once, then LoginPerMinute; 20 and 10.
	LoginBurst, LoginPerMinute int
	Hash                       HashParams // DefaultHashParams; tests lower it
	Now                        func() time.Time
	Log                        *slog.Logger
}

// OptionsFrom takes the auth section of the configuration.
func OptionsFrom(c config.Auth) Options {
	return Options{
		SessionTTL:      time.Duration(c.SessionTTL),
		LockoutAttempts: c.LockoutAttempts,
		LockoutDuration: time.Duration(c.LockoutDuration),
	}
}

// Service authenticates requests and manages users, sessions and tokens.
type Service struct {
	st       Store
	opts     Options
	throttle *throttle
	// hashing bounds concurrent argon2 runs: each takes Hash.Memory, and a
	// login flood must not take the server's memory.
	hashing   chan struct{}
	dummyHash string // verified for unknown users so they take as long
}

// New makes the service.
func New(st Store, opts Options) *Service {
	if opts.SessionTTL <= 0 {
		opts.SessionTTL = 12 * time.Hour
	}
	if opts.LockoutAttempts <= 0 {
		opts.LockoutAttempts = 5
	}
	if opts.LockoutDuration <= 0 {
		opts.LockoutDuration = 15 * time.Minute
	}
	if opts.LoginBurst <= 0 {
		opts.LoginBurst = 20
	}
	if opts.LoginPerMinute <= 0 {
		opts.LoginPerMinute = 10
	}
	if opts.Hash == (HashParams{}) {
		opts.Hash = DefaultHashParams
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	dummy, _ := opts.Hash.Hash(RandomPassword())
	return &Service{
		st: st, opts: opts, dummyHash: dummy,
		throttle: newThrottle(opts.Now, opts.LoginBurst, opts.LoginPerMinute, opts.LockoutAttempts, opts.LockoutDuration),
		hashing:  make(chan struct{}, 2),
	}
}

// Run purges expired sessions hourly until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if _, err := s.st.DeleteExpiredSessions(ctx, s.opts.Now()); err != nil && ctx.Err() == nil {
			s.opts.Log.Warn("purging expired sessions failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Service) hash(ctx context.Context, pw string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return s.opts.Hash.Hash(pw)
}

func (s *Service) verify(ctx context.Context, encoded, pw string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	return VerifyPassword(encoded, pw)
}

func (s *Service) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Service) release() { <-s.hashing }

// Actor is who performs an audited action, and from where.
type Actor struct {
	Name   string
	Remote string
}

// audit records an action; a failure is logged, not returned, so that an
// audit hiccup does not undo a completed change.
func (s *Service) audit(ctx context.Context, by Actor, action, target, detail string) {
	err := s.st.AppendAudit(context.WithoutCancel(ctx), store.AuditEntry{
		Time: s.opts.Now(), User: by.Name, Action: action, Target: target, Detail: detail, RemoteAddr: by.Remote,
	})
	if err != nil {
		s.opts.Log.Error("audit log write failed", "action", action, "target", target, "err", err)
	}
}

// hashSecret is what the store keeps of a session or API token. A fast
// hash suffices: the secrets are random, not guessable passwords.
func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

func principalOf(u store.User) *Principal {
	return &Principal{
		UserID: u.ID, Name: u.Name, DisplayName: u.DisplayName, Role: u.Role,
		Districts: u.Districts, Centers: u.Centers, MustChangePassword: u.MustChangePassword,
	}
}
