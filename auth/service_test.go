package auth

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hallwatch/hallwatch/store"
)

type rig struct {
	svc   *Service
	st    *store.Store
	clock *clock
	log   *bytes.Buffer
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir()+"/auth.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := newClock()
	var log bytes.Buffer
	svc := New(st, Options{
		SessionTTL: time.Hour, LockoutAttempts: 3, LockoutDuration: 10 * time.Minute,
		LoginBurst: 100, LoginPerMinute: 100, Hash: testHash, Now: c.now,
		Log: slog.New(slog.NewTextHandler(&log, nil)),
	})
	return &rig{svc: svc, st: st, clock: c, log: &log}
}

func (r *rig) add(t *testing.T, name, role string, sc UserScope, pw string) store.User {
	t.Helper()
	u, _, err := r.svc.AddUser(context.Background(), Actor{Name: "test"}, NewUser{Name: name, Role: role, Scope: sc, Password: pw})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (r *rig) audit(t *testing.T, action string) []store.AuditEntry {
	t.Helper()
	es, err := r.st.Audit(context.Background(), store.AuditQuery{Action: action})
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func TestLoginSessionLogout(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.add(t, "amy", RoleCenterManager, UserScope{Centers: []string{"c1"}}, "amy-password-1")

	l, err := r.svc.Login(ctx, "AMY", "amy-password-1", "10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if l.Principal.Name != "amy" || l.Principal.Role != RoleCenterManager || len(l.SessionToken) < 40 || l.CSRFToken == "" {
		t.Fatalf("login = %+v", l)
	}
	p, err := r.svc.Session(ctx, l.SessionToken)
	if err != nil || p.Name != "amy" || !p.Allowed(AccessAck, Scope{"d1", "c1"}) {
		t.Fatalf("Session = %+v, %v", p, err)
	}
	if !r.svc.CheckCSRF(p, l.CSRFToken) || r.svc.CheckCSRF(p, "") || r.svc.CheckCSRF(p, l.SessionToken) {
		t.Error("CSRF check accepts a wrong token or refuses the right one")
	}
	// Only the hash is stored.
	if _, err := r.st.SessionByHash(ctx, l.SessionToken); !errors.Is(err, store.ErrNotFound) {
		t.Error("the session token itself is a key in the store")
	}
	// Sliding expiry: activity within the TTL keeps it alive past the first TTL.
	for range 3 {
		r.clock.advance(40 * time.Minute)
		if _, err := r.svc.Session(ctx, l.SessionToken); err != nil {
			t.Fatalf("session expired despite activity: %v", err)
		}
	}
	r.clock.advance(time.Hour)
	if _, err := r.svc.Session(ctx, l.SessionToken); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("idle session past its TTL: %v, want ErrUnauthenticated", err)
	}

	l2, _ := r.svc.Login(ctx, "amy", "amy-password-1", "10.0.0.1")
	p2, _ := r.svc.Session(ctx, l2.SessionToken)
	if err := r.svc.Logout(ctx, p2, "10.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Session(ctx, l2.SessionToken); !errors.Is(err, ErrUnauthenticated) {
		t.Fatalf("session after logout: %v", err)
	}
	if n := len(r.audit(t, "login")); n != 2 {
		t.Errorf("%d login audit entries, want 2", n)
	}
	if n := len(r.audit(t, "logout")); n != 1 {
		t.Errorf("%d logout audit entries, want 1", n)
	}
	for _, bad := range []string{"", "x", strings.Repeat("a", 500), l.CSRFToken} {
		if _, err := r.svc.Session(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Session(%.10q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
}

func TestLoginFailuresAndLockout(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	u := r.add(t, "bob", RolePlanner, UserScope{Districts: []string{"d1"}}, "bob-password-1")

	for _, c := range []struct{ name, pw string }{{"bob", "wrong-password"}, {"nobody", "whatever-pass"}, {"bob", ""}} {
		if _, err := r.svc.Login(ctx, c.name, c.pw, "10.0.0.2"); !errors.Is(err, ErrBadCredentials) {
			t.Errorf("Login(%s, %s) = %v, want ErrBadCredentials", c.name, c.pw, err)
		}
	}
	// Two failures on bob so far; the third locks, even with the right password after it.
	if _, err := r.svc.Login(ctx, "Bob", "again-wrong", "10.0.0.3"); !errors.Is(err, ErrBadCredentials) {
		t.Fatal(err)
	}
	_, err := r.svc.Login(ctx, "bob", "bob-password-1", "10.0.0.3")
	var th *ThrottledError
	if !errors.As(err, &th) || !th.Account || th.RetryAfter != 10*time.Minute {
		t.Fatalf("login while locked = %v, want an account ThrottledError for 10m", err)
	}
	r.clock.advance(10 * time.Minute)
	if _, err := r.svc.Login(ctx, "bob", "bob-password-1", "10.0.0.3"); err != nil {
		t.Fatalf("login after the lockout: %v", err)
	}

	// Disabled: the right password still fails, with the same error.
	if _, err := r.svc.ChangeUser(ctx, Actor{Name: "test"}, u.ID, UserChange{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Login(ctx, "bob", "bob-password-1", "10.0.0.3"); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("disabled login = %v", err)
	}

	failed := r.audit(t, "login_failed")
	if len(failed) < 6 {
		t.Fatalf("%d login_failed entries, want every failure", len(failed))
	}
	var details []string
	for _, e := range failed {
		details = append(details, e.Target+": "+e.Detail)
		for _, secret := range []string{"wrong-password", "whatever-pass", "bob-password-1", "again-wrong"} {
			if strings.Contains(e.Detail+e.Target+e.User, secret) {
				t.Errorf("audit entry %+v holds a typed password", e)
			}
		}
		if e.Target == "nobody" {
			t.Errorf("audit names a user that does not exist: %+v", e)
		}
	}
	joined := strings.Join(details, "\n")
	for _, want := range []string{"bob: wrong password; account locked for 10m0s", "bob: account locked", ": unknown user", "bob: account disabled"} {
		if !strings.Contains(joined, want) {
			t.Errorf("audit lacks %q:\n%s", want, joined)
		}
	}
}

func TestLoginRateLimitPerAddress(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	r.svc = New(r.st, Options{LoginBurst: 2, LoginPerMinute: 1, Hash: testHash, Now: r.clock.now, LockoutAttempts: 50})
	r.add(t, "cat", RolePlanner, UserScope{}, "cat-password-1")
	for range 2 {
		r.svc.Login(ctx, "cat", "nope-nope-nope", "10.9.9.9")
	}
	_, err := r.svc.Login(ctx, "cat", "cat-password-1", "10.9.9.9")
	var th *ThrottledError
	if !errors.As(err, &th) || th.Account || th.RetryAfter != time.Minute {
		t.Fatalf("3rd attempt = %v, want an address ThrottledError of 1m", err)
	}
	if _, err := r.svc.Login(ctx, "cat", "cat-password-1", "10.9.9.10"); err != nil {
		t.Fatalf("another address: %v", err)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	u := r.add(t, "scraper", RoleDistrictSupervisor, UserScope{Districts: []string{"d2"}}, "scraper-password")
	secret, info, err := r.svc.CreateToken(ctx, Actor{Name: "admin"}, u.ID, "grafana")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) < 40 || info.User != "scraper" {
		t.Fatalf("token %q, %+v", secret, info)
	}
	p, err := r.svc.Token(ctx, secret)
	if err != nil || p.Name != "scraper" || !p.ViaToken() || !p.Allowed(AccessLive, Scope{"d2", "c9"}) || p.Allowed(AccessLive, Scope{"d1", "c1"}) {
		t.Fatalf("Token = %+v, %v: want the user's role and scope", p, err)
	}
	if !r.svc.CheckCSRF(p, "") {
		t.Error("token requests need no CSRF token")
	}
	for _, bad := range []string{"", "hw_", secret + "x", strings.TrimPrefix(secret, TokenPrefix), info.TokenHash} {
		if _, err := r.svc.Token(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Token(%.12q) = %v, want ErrUnauthenticated", bad, err)
		}
	}
	// A disabled user's token stops working, and works again when re-enabled.
	r.svc.ChangeUser(ctx, Actor{}, u.ID, UserChange{Disabled: ptr(true)})
	if _, err := r.svc.Token(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("token of a disabled user: %v", err)
	}
	r.svc.ChangeUser(ctx, Actor{}, u.ID, UserChange{Disabled: ptr(false)})
	if _, err := r.svc.RevokeToken(ctx, Actor{Name: "admin"}, info.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Token(ctx, secret); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("revoked token: %v", err)
	}
	if _, err := r.svc.RevokeToken(ctx, Actor{}, 999); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("revoking an unknown token: %v", err)
	}
	ts, _ := r.svc.Tokens(ctx)
	if len(ts) != 1 || !ts[0].Revoked() || ts[0].User != "scraper" {
		t.Errorf("Tokens = %+v", ts)
	}
}

func TestBootstrapEnsureAndLastAdmin(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	name, pw, err := r.svc.Bootstrap(ctx)
	if err != nil || name != BootstrapAdmin || CheckPassword(pw) != nil {
		t.Fatalf("Bootstrap = %q, %q, %v", name, pw, err)
	}
	if n, p2, err := r.svc.Bootstrap(ctx); n != "" || p2 != "" || err != nil {
		t.Fatalf("second Bootstrap = %q, %q, %v; want nothing", n, p2, err)
	}
	l, err := r.svc.Login(ctx, "admin", pw, "127.0.0.1")
	if err != nil || !l.Principal.MustChangePassword {
		t.Fatalf("first admin login = %+v, %v; want a pending password change", l.Principal, err)
	}
	if _, err := r.svc.ChangeOwnPassword(ctx, l.Principal, "not-the-password", "new-admin-password", ""); !errors.Is(err, ErrBadCredentials) {
		t.Errorf("change with a wrong current password: %v", err)
	}
	if _, err := r.svc.ChangeOwnPassword(ctx, l.Principal, pw, "short", ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("change to a short password: %v", err)
	}
	l2, err := r.svc.ChangeOwnPassword(ctx, l.Principal, pw, "new-admin-password", "")
	if err != nil || l2.Principal.MustChangePassword {
		t.Fatalf("ChangeOwnPassword = %+v, %v", l2.Principal, err)
	}
	if _, err := r.svc.Session(ctx, l.SessionToken); !errors.Is(err, ErrUnauthenticated) {
		t.Error("the old session survived a password change")
	}
	if _, err := r.svc.Session(ctx, l2.SessionToken); err != nil {
		t.Errorf("the new session: %v", err)
	}

	admin, _ := r.svc.UserByName(ctx, "admin")
	if _, err := r.svc.ChangeUser(ctx, Actor{}, admin.ID, UserChange{Disabled: ptr(true)}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("disabling the last admin: %v, want ErrConflict", err)
	}
	if _, err := r.svc.ChangeUser(ctx, Actor{}, admin.ID, UserChange{Role: ptr(RolePlanner)}); !errors.Is(err, store.ErrConflict) {
		t.Errorf("demoting the last admin: %v, want ErrConflict", err)
	}

	// EnsureUser: created, then repaired after changes, idempotent.
	sc := UserScope{Districts: []string{"d1"}}
	u, err := r.svc.EnsureUser(ctx, "demo-sup", RoleDistrictSupervisor, sc, "demo-password")
	if err != nil || u.Role != RoleDistrictSupervisor || u.MustChangePassword {
		t.Fatalf("EnsureUser = %+v, %v", u, err)
	}
	r.svc.ChangeUser(ctx, Actor{}, u.ID, UserChange{Disabled: ptr(true)})
	r.svc.ResetPassword(ctx, Actor{}, u.ID, "")
	if _, err := r.svc.EnsureUser(ctx, "demo-sup", RoleDistrictSupervisor, sc, "demo-password"); err != nil {
		t.Fatal(err)
	}
	if l, err := r.svc.Login(ctx, "demo-sup", "demo-password", ""); err != nil || l.Principal.MustChangePassword {
		t.Fatalf("login after EnsureUser: %+v, %v", l.Principal, err)
	}
	if _, err := r.svc.EnsureUser(ctx, "x", RoleAdmin, sc, "demo-password"); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("EnsureUser with an admin scope: %v", err)
	}
}

func TestResetPasswordEndsSessions(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	u := r.add(t, "dan", RoleCenterManager, UserScope{Centers: []string{"c1"}}, "dan-password-1")
	l, _ := r.svc.Login(ctx, "dan", "dan-password-1", "")
	pw, err := r.svc.ResetPassword(ctx, Actor{Name: "admin"}, u.ID, "")
	if err != nil || CheckPassword(pw) != nil {
		t.Fatalf("ResetPassword = %q, %v", pw, err)
	}
	if _, err := r.svc.Session(ctx, l.SessionToken); !errors.Is(err, ErrUnauthenticated) {
		t.Error("session survived a password reset")
	}
	l2, err := r.svc.Login(ctx, "dan", pw, "")
	if err != nil || !l2.Principal.MustChangePassword {
		t.Fatalf("login with the reset password: %+v, %v", l2.Principal, err)
	}
	if strings.Contains(r.log.String(), pw) {
		t.Error("the log holds the generated password")
	}
}

func ptr[T any](v T) *T { return &v }

// TestLockoutLifted: an admin lifts a lockout with Unlock or a password
// reset, in this process or in another one (the CLI on the same
// database), which the locked service learns from the audit log.
func TestLockoutLifted(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	u := r.add(t, "eve", RoleCenterManager, UserScope{Centers: []string{"c1"}}, "eve-password-1")
	cli := New(r.st, Options{Hash: testHash, Now: r.clock.now, Log: slog.New(slog.NewTextHandler(r.log, nil))})
	lock := func() {
		t.Helper()
		r.clock.advance(time.Minute)
		for range 3 {
			r.svc.Login(ctx, "eve", "wrong-password", "10.0.0.9")
		}
		var th *ThrottledError
		if _, err := r.svc.Login(ctx, "EVE", "eve-password-1", "10.0.0.9"); !errors.As(err, &th) || !th.Account {
			t.Fatalf("login after 3 failures = %v, want locked", err)
		}
		if r.svc.LockedUntil("eve").IsZero() {
			t.Fatal("LockedUntil is zero while locked")
		}
	}
	login := func(pw string) error {
		_, err := r.svc.Login(ctx, "eve", pw, "10.0.0.9")
		return err
	}

	lock()
	if _, err := r.svc.Unlock(ctx, Actor{Name: "admin"}, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := login("eve-password-1"); err != nil || !r.svc.LockedUntil("eve").IsZero() {
		t.Fatalf("login after Unlock: %v", err)
	}

	lock()
	if _, err := cli.Unlock(ctx, Actor{Name: "cli"}, u.ID); err != nil {
		t.Fatal(err)
	}
	r.clock.advance(liftCheckEvery)
	if err := login("eve-password-1"); err != nil {
		t.Fatalf("login after the CLI's unlock: %v", err)
	}

	lock()
	pw, err := cli.ResetPassword(ctx, Actor{Name: "cli"}, u.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	r.clock.advance(liftCheckEvery)
	if err := login(pw); err != nil {
		t.Fatalf("login after the CLI's password reset: %v", err)
	}

	// An older unlock does not lift a newer lock.
	lock()
	r.clock.advance(liftCheckEvery)
	var th *ThrottledError
	if err := login(pw); !errors.As(err, &th) {
		t.Fatalf("login with only older unlocks on record = %v, want locked", err)
	}
	if got := r.audit(t, actionUnlock); len(got) != 2 || got[0].Target != "eve" || got[0].User != "cli" {
		t.Errorf("unlock audit entries %+v", got)
	}
}

// TestRecheckAndStamp: a credential is loaded again without extending it;
// the stamp moves with every change that can end one or change a user's
// access, and not with a session's use.
func TestRecheckAndStamp(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	u := r.add(t, "fay", RoleDistrictSupervisor, UserScope{Districts: []string{"d1"}}, "fay-password-1")
	stamp := func() string {
		t.Helper()
		s, err := r.svc.Stamp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	moved := func(what string, before string) string {
		t.Helper()
		after := stamp()
		if after == before {
			t.Errorf("the stamp did not move after %s", what)
		}
		return after
	}
	s0 := stamp()
	l, _ := r.svc.Login(ctx, "fay", "fay-password-1", "")
	s1 := moved("a login", s0)
	p, _ := r.svc.Session(ctx, l.SessionToken)
	cred := p.Credential()
	again, expires, err := r.svc.Recheck(ctx, cred)
	if err != nil || again.Name != "fay" || !expires.Equal(l.Expires) || again.Credential() != cred {
		t.Fatalf("Recheck = %+v, %v, %v", again, expires, err)
	}
	r.clock.advance(10 * time.Minute)
	r.svc.Session(ctx, l.SessionToken) // use extends the session…
	if stamp() != s1 {
		t.Error("using a session moved the stamp")
	}
	if _, later, _ := r.svc.Recheck(ctx, cred); !later.After(expires) {
		t.Error("Recheck does not see the extended expiry")
	}
	if _, _, err := r.svc.Recheck(ctx, cred); err != nil {
		t.Fatal(err)
	}
	s2 := stamp()
	if _, err := r.svc.ChangeUser(ctx, Actor{}, u.ID, UserChange{Districts: &[]string{"d2"}}); err != nil {
		t.Fatal(err)
	}
	s3 := moved("a scope change", s2)
	if p, _, _ := r.svc.Recheck(ctx, cred); len(p.Districts) != 1 || p.Districts[0] != "d2" {
		t.Errorf("Recheck after a scope change: %+v", p)
	}
	secret, info, err := r.svc.CreateToken(ctx, Actor{}, u.ID, "wall")
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := r.svc.Token(ctx, secret)
	if tp.Credential() == cred || tp.Credential() == "" {
		t.Fatal("token and session credentials are not told apart")
	}
	s4 := stamp()
	if s4 != s3 {
		t.Error("creating a token moved the stamp (nothing ended)")
	}
	r.svc.RevokeToken(ctx, Actor{}, info.ID)
	moved("a token revocation", s4)
	if _, _, err := r.svc.Recheck(ctx, tp.Credential()); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("revoked token rechecked: %v", err)
	}
	s5 := stamp()
	r.clock.advance(2 * time.Hour) // past the session's TTL
	if _, _, err := r.svc.Recheck(ctx, cred); !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("expired session rechecked: %v", err)
	}
	moved("an expired session's removal", s5)
	for _, bad := range []Credential{"", "session:nope", "token:nope", "other:x"} {
		if _, _, err := r.svc.Recheck(ctx, bad); !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Recheck(%q) = %v", bad, err)
		}
	}
}

// Nodes of a cluster starting together each find no user: exactly one
// creates the first admin, the others start without an error.
func TestBootstrapConcurrently(t *testing.T) {
	r := newRig(t)
	const nodes = 8
	type result struct {
		name, pw string
		err      error
	}
	results := make(chan result, nodes)
	start := make(chan struct{})
	for range nodes {
		go func() {
			<-start
			n, pw, err := r.svc.Bootstrap(context.Background())
			results <- result{n, pw, err}
		}()
	}
	close(start)
	created := 0
	for range nodes {
		res := <-results
		if res.err != nil {
			t.Errorf("Bootstrap: %v", res.err)
		}
		if res.name != "" {
			created++
		}
	}
	if created != 1 {
		t.Errorf("%d nodes created the first admin, want 1", created)
	}
}
