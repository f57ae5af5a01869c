package web

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/store"
)

// userView is an account as the API shows it: never its password hash.
type userView struct {
	ID                 int64     `json:"id"`
	Name               string    `json:"name"`
	DisplayName        string    `json:"display_name"`
	Role               string    `json:"role"`
	Districts          []string  `json:"districts"`
	Centers            []string  `json:"centers"`
	Disabled           bool      `json:"disabled"`
	MustChangePassword bool      `json:"must_change_password"`
	CreatedAt          time.Time `json:"created_at"`
	UpdatedAt          time.Time `json:"updated_at"`
	// LockedUntil is set while failed logins lock the account.
	LockedUntil *time.Time `json:"locked_until,omitempty"`
}

func (s *Server) newUserView(u store.User) userView {
	v := userView{
		ID: u.ID, Name: u.Name, DisplayName: u.DisplayName, Role: u.Role,
		Districts: nonNil(u.Districts), Centers: nonNil(u.Centers), Disabled: u.Disabled,
		MustChangePassword: u.MustChangePassword, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
	if until := s.deps.Auth.LockedUntil(u.Name); !until.IsZero() {
		v.LockedUntil = &until
	}
	return v
}

func (s *Server) listUsers(c *fiber.Ctx) error {
	users, err := s.deps.Auth.Users(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]userView, len(users))
	for i, u := range users {
		out[i] = s.newUserView(u)
	}
	return c.JSON(fiber.Map{"users": out})
}

type newUserRequest struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"display_name"`
	Role        string   `json:"role"`
	Districts   []string `json:"districts"`
	Centers     []string `json:"centers"`
	// Password empty: one is generated and answered once.
	Password string `json:"password"`
}

// createdUser answers a new account; Password is set only when generated.
type createdUser struct {
	User     userView `json:"user"`
	Password string   `json:"password,omitempty"`
}

// createUser adds an account; it must choose its own password at first login.
func (s *Server) createUser(c *fiber.Ctx) error {
	var req newUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	sc := auth.UserScope{Districts: req.Districts, Centers: req.Centers}
	if err := s.checkKnownScope(sc); err != nil {
		return err
	}
	u, pw, err := s.deps.Auth.AddUser(c.UserContext(), s.actor(c), auth.NewUser{
		Name: req.Name, DisplayName: req.DisplayName, Role: req.Role, Scope: sc, Password: req.Password, MustChangePassword: true,
	})
	if err != nil {
		return storeError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(createdUser{User: s.newUserView(u), Password: pw})
}

type userPatch struct {
	DisplayName *string   `json:"display_name"`
	Role        *string   `json:"role"`
	Districts   *[]string `json:"districts"`
	Centers     *[]string `json:"centers"`
	Disabled    *bool     `json:"disabled"`
}

// updateUser changes an account's role, scope, name or disabled flag.
// Live video and streams the user may no longer have end at once.
func (s *Server) updateUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "user")
	if err != nil {
		return err
	}
	var req userPatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	var sc auth.UserScope
	if req.Districts != nil {
		sc.Districts = *req.Districts
	}
	if req.Centers != nil {
		sc.Centers = *req.Centers
	}
	if err := s.checkKnownScope(sc); err != nil {
		return err
	}
	u, err := s.deps.Auth.ChangeUser(c.UserContext(), s.actor(c), id, auth.UserChange{
		DisplayName: req.DisplayName, Role: req.Role, Districts: req.Districts, Centers: req.Centers, Disabled: req.Disabled,
	})
	if err != nil {
		return storeError(err)
	}
	s.recheckAccess(c.UserContext(), true)
	return c.JSON(s.newUserView(u))
}

type passwordReset struct {
	// Password empty: one is generated and answered once.
	Password string `json:"password"`
}

// resetPassword sets a new password the user must change at next login,
// and ends the user's sessions and live video.
func (s *Server) resetPassword(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "user")
	if err != nil {
		return err
	}
	var req passwordReset
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	pw, err := s.deps.Auth.ResetPassword(c.UserContext(), s.actor(c), id, req.Password)
	if err != nil {
		return storeError(err)
	}
	s.recheckAccess(c.UserContext(), true)
	if pw == "" {
		return c.JSON(fiber.Map{"status": "password set"})
	}
	return c.JSON(fiber.Map{"status": "password set", "password": pw})
}

// unlockUser lifts the lockout that failed logins put on an account.
func (s *Server) unlockUser(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "user")
	if err != nil {
		return err
	}
	u, err := s.deps.Auth.Unlock(c.UserContext(), s.actor(c), id)
	if err != nil {
		return storeError(err)
	}
	return c.JSON(s.newUserView(u))
}

// tokenView is an API token without its secret or hash.
type tokenView struct {
	ID        int64      `json:"id"`
	User      string     `json:"user"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

func newTokenView(t auth.TokenInfo) tokenView {
	v := tokenView{ID: t.ID, User: t.User, Name: t.Name, CreatedAt: t.CreatedAt}
	if !t.LastUsedAt.IsZero() {
		v.LastUsed = &t.LastUsedAt
	}
	if t.Revoked() {
		v.RevokedAt = &t.RevokedAt
	}
	return v
}

func (s *Server) listTokens(c *fiber.Ctx) error {
	ts, err := s.deps.Auth.Tokens(c.UserContext())
	if err != nil {
		return err
	}
	out := make([]tokenView, len(ts))
	for i, t := range ts {
		out[i] = newTokenView(t)
	}
	return c.JSON(fiber.Map{"tokens": out})
}

type newTokenRequest struct {
	User string `json:"user"` // the account the token acts as
	Name string `json:"name"` // what it is for, unique per user
}

// createToken makes an API token; its secret is in this answer only.
func (s *Server) createToken(c *fiber.Ctx) error {
	var req newTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := s.deps.Auth.UserByName(c.UserContext(), req.User)
	if err != nil {
		return storeError(err)
	}
	secret, t, err := s.deps.Auth.CreateToken(c.UserContext(), s.actor(c), u.ID, req.Name)
	if err != nil {
		return storeError(err)
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"token": secret, "info": newTokenView(t)})
}

// revokeToken revokes a token and ends the live video and streams it opened.
func (s *Server) revokeToken(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "token")
	if err != nil {
		return err
	}
	if _, err := s.deps.Auth.RevokeToken(c.UserContext(), s.actor(c), id); err != nil {
		return storeError(err)
	}
	s.recheckAccess(c.UserContext(), true)
	return c.JSON(fiber.Map{"status": "revoked"})
}

func (s *Server) actor(c *fiber.Ctx) auth.Actor {
	return auth.Actor{Name: principal(c).Name, Remote: c.IP()}
}

// pathID parses a positive integer path parameter.
func pathID(c *fiber.Ctx, param, what string) (int64, error) {
	id, err := strconv.ParseInt(c.Params(param), 10, 64)
	if err != nil || id <= 0 {
		return 0, fiber.NewError(fiber.StatusBadRequest, what+" id "+quote(c.Params(param))+" is not a positive number")
	}
	return id, nil
}

// checkKnownScope refuses districts and centers the configuration lacks.
func (s *Server) checkKnownScope(sc auth.UserScope) error {
	for _, d := range sc.Districts {
		if _, ok := s.deps.Config.District(d); !ok {
			return fiber.NewError(fiber.StatusBadRequest, "unknown district "+quote(d))
		}
	}
	for _, ctr := range sc.Centers {
		if _, _, ok := s.deps.Config.Center(ctr); !ok {
			return fiber.NewError(fiber.StatusBadRequest, "unknown center "+quote(ctr))
		}
	}
	return nil
}
