package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/hallwatch/hallwatch/store"
)

// NewUser describes an account to create.
type NewUser struct {
	Name        string
	DisplayName string
	Role        string
	Scope       UserScope
	// Password empty: a random one is generated and returned once.
	Password string
	// MustChangePassword makes the user choose a password at first login.
	MustChangePassword bool
}

// AddUser creates an account and returns it with the generated password
// ("" when u.Password was given).
func (s *Service) AddUser(ctx context.Context, by Actor, u NewUser) (store.User, string, error) {
	if err := checkDisplayName(u.DisplayName); err != nil {
		return store.User{}, "", err
	}
	if err := CheckRoleScope(u.Role, u.Scope); err != nil {
		return store.User{}, "", fmt.Errorf("user %q: %v: %w", u.Name, err, store.ErrInvalid)
	}
	generated := ""
	if u.Password == "" {
		generated = RandomPassword()
		u.Password = generated
	}
	if err := CheckPassword(u.Password); err != nil {
		return store.User{}, "", fmt.Errorf("user %q: %v: %w", u.Name, err, store.ErrInvalid)
	}
	hash, err := s.hash(ctx, u.Password)
	if err != nil {
		return store.User{}, "", err
	}
	id, err := s.st.CreateUser(ctx, store.User{
		Name: u.Name, DisplayName: u.DisplayName, Role: u.Role, Districts: u.Scope.Districts, Centers: u.Scope.Centers,
		PasswordHash: hash, MustChangePassword: u.MustChangePassword, CreatedAt: s.opts.Now(),
	})
	if err != nil {
		return store.User{}, "", err
	}
	s.audit(ctx, by, "user_create", u.Name, describe(u.Role, u.Scope))
	created, err := s.st.UserByID(ctx, id)
	return created, generated, err
}

// UserChange is a partial update of an account; nil fields stay.
type UserChange struct {
	DisplayName *string
	Role        *string
	Districts   *[]string
	Centers     *[]string
	Disabled    *bool
}

// ChangeUser applies ch to user id. Disabling ends the user's sessions
// (API tokens stop working while the user is disabled). The last enabled
// admin can be neither disabled nor demoted.
func (s *Service) ChangeUser(ctx context.Context, by Actor, id int64, ch UserChange) (store.User, error) {
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		return store.User{}, err
	}
	upd := store.UserUpdate{DisplayName: u.DisplayName, Role: u.Role, Districts: u.Districts, Centers: u.Centers}
	var what []string
	if ch.DisplayName != nil && *ch.DisplayName != u.DisplayName {
		if err := checkDisplayName(*ch.DisplayName); err != nil {
			return store.User{}, err
		}
		upd.DisplayName = *ch.DisplayName
		what = append(what, "display name")
	}
	if ch.Role != nil {
		upd.Role = *ch.Role
	}
	if ch.Districts != nil {
		upd.Districts = *ch.Districts
	}
	if ch.Centers != nil {
		upd.Centers = *ch.Centers
	}
	scope := UserScope{Districts: upd.Districts, Centers: upd.Centers}
	scopeChanged := upd.Role != u.Role || !slices.Equal(upd.Districts, u.Districts) || !slices.Equal(upd.Centers, u.Centers)
	if scopeChanged {
		if err := CheckRoleScope(upd.Role, scope); err != nil {
			return store.User{}, fmt.Errorf("user %q: %v: %w", u.Name, err, store.ErrInvalid)
		}
		what = append(what, describe(upd.Role, scope))
	}
	disable := ch.Disabled != nil && *ch.Disabled != u.Disabled
	losesAdmin := u.Role == RoleAdmin && !u.Disabled && (upd.Role != RoleAdmin || (disable && *ch.Disabled))
	if losesAdmin {
		if err := s.keepAnAdmin(ctx, u.ID); err != nil {
			return store.User{}, err
		}
	}
	if len(what) > 0 {
		if err := s.st.UpdateUser(ctx, id, upd); err != nil {
			return store.User{}, err
		}
		s.audit(ctx, by, "user_update", u.Name, strings.Join(what, "; "))
	}
	if disable {
		if err := s.st.SetDisabled(ctx, id, *ch.Disabled); err != nil {
			return store.User{}, err
		}
		action := "user_enable"
		if *ch.Disabled {
			action = "user_disable"
			if _, err := s.st.DeleteUserSessions(ctx, id); err != nil {
				return store.User{}, err
			}
		}
		s.audit(ctx, by, action, u.Name, "")
	}
	return s.st.UserByID(ctx, id)
}

// keepAnAdmin refuses a change that would leave no enabled admin but user id.
func (s *Service) keepAnAdmin(ctx context.Context, id int64) error {
	users, err := s.st.ListUsers(ctx)
	if err != nil {
		return err
	}
	for _, o := range users {
		if o.ID != id && o.Role == RoleAdmin && !o.Disabled {
			return nil
		}
	}
	return ErrLastAdmin
}

// ResetPassword sets user id's password (pw empty: a random one, returned),
// requires a change at next login and ends the user's sessions.
func (s *Service) ResetPassword(ctx context.Context, by Actor, id int64, pw string) (string, error) {
	u, err := s.st.UserByID(ctx, id)
	if err != nil {
		return "", err
	}
	generated := ""
	if pw == "" {
		generated = RandomPassword()
		pw = generated
	}
	if err := CheckPassword(pw); err != nil {
		return "", fmt.Errorf("user %q: %v: %w", u.Name, err, store.ErrInvalid)
	}
	hash, err := s.hash(ctx, pw)
	if err != nil {
		return "", err
	}
	if err := s.st.SetPassword(ctx, id, hash, true); err != nil {
		return "", err
	}
	if _, err := s.st.DeleteUserSessions(ctx, id); err != nil {
		return "", err
	}
	s.throttle.succeeded(foldName(u.Name)) // a reset also lifts a lockout
	s.audit(ctx, by, actionPasswordReset, u.Name, "")
	return generated, nil
}

// EnsureUser makes sure user name exists with this role, scope and
// password, enabled and without a pending password change: for the demo's
// ready-made logins, so restarting the demo keeps them working.
func (s *Service) EnsureUser(ctx context.Context, name, role string, scope UserScope, password string) (store.User, error) {
	if err := CheckPassword(password); err != nil {
		return store.User{}, fmt.Errorf("user %q: %v: %w", name, err, store.ErrInvalid)
	}
	by := Actor{Name: "system"}
	u, err := s.st.UserByName(ctx, name)
	if errors.Is(err, store.ErrNotFound) {
		u, _, err = s.AddUser(ctx, by, NewUser{Name: name, Role: role, Scope: scope, Password: password})
		return u, err
	} else if err != nil {
		return store.User{}, err
	}
	if err := CheckRoleScope(role, scope); err != nil {
		return store.User{}, fmt.Errorf("user %q: %v: %w", name, err, store.ErrInvalid)
	}
	if err := s.st.UpdateUser(ctx, u.ID, store.UserUpdate{DisplayName: u.DisplayName, Role: role, Districts: scope.Districts, Centers: scope.Centers}); err != nil {
		return store.User{}, err
	}
	if ok, err := s.verify(ctx, u.PasswordHash, password); err != nil || !ok || u.MustChangePassword {
		hash, err := s.hash(ctx, password)
		if err != nil {
			return store.User{}, err
		}
		if err := s.st.SetPassword(ctx, u.ID, hash, false); err != nil {
			return store.User{}, err
		}
	}
	if u.Disabled {
		if err := s.st.SetDisabled(ctx, u.ID, false); err != nil {
			return store.User{}, err
		}
	}
	return s.st.UserByID(ctx, u.ID)
}

// BootstrapAdmin is the first administrator's name.
const BootstrapAdmin = "admin"

// Bootstrap creates the first admin when there are no users at all and
// returns its random password, to be shown once; it must be changed at
// first login. With users present it returns "".
func (s *Service) Bootstrap(ctx context.Context) (name, password string, err error) {
	n, err := s.st.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", "", err
	}
	_, password, err = s.AddUser(ctx, Actor{Name: "system"}, NewUser{
		Name: BootstrapAdmin, DisplayName: "Administrator", Role: RoleAdmin, MustChangePassword: true,
	})
	if errors.Is(err, store.ErrConflict) {
		return "", "", nil // another node of a cluster, starting too, made it
	}
	if err != nil {
		return "", "", fmt.Errorf("create first admin: %w", err)
	}
	return BootstrapAdmin, password, nil
}

// Users lists every account, by name.
func (s *Service) Users(ctx context.Context) ([]store.User, error) { return s.st.ListUsers(ctx) }

// User returns account id.
func (s *Service) User(ctx context.Context, id int64) (store.User, error) {
	return s.st.UserByID(ctx, id)
}

// UserByName returns the account called name (ASCII case ignored).
func (s *Service) UserByName(ctx context.Context, name string) (store.User, error) {
	return s.st.UserByName(ctx, name)
}

func checkDisplayName(n string) error {
	switch {
	case utf8.RuneCountInString(n) > 64:
		return fmt.Errorf("display name is longer than 64 characters: %w", store.ErrInvalid)
	case !utf8.ValidString(n) || strings.ContainsFunc(n, func(r rune) bool { return r < ' ' || r == 0x7f }):
		return fmt.Errorf("display name has control characters or invalid UTF-8: %w", store.ErrInvalid)
	}
	return nil
}

func describe(role string, sc UserScope) string {
	d := "role " + role
	if len(sc.Districts) > 0 {
		d += ", districts " + strings.Join(sc.Districts, ",")
	}
	if len(sc.Centers) > 0 {
		d += ", centers " + strings.Join(sc.Centers, ",")
	}
	return d
}
