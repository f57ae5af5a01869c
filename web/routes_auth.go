package web

import (
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/store"
)

// meView is the caller as the UI needs it: who, what role, which places,
// and which kinds of pages to offer.
type meView struct {
	Name               string          `json:"name"`
	DisplayName        string          `json:"display_name"`
	Role               string          `json:"role"`
	Districts          []string        `json:"districts"`
	Centers            []string        `json:"centers"`
	MustChangePassword bool            `json:"must_change_password"`
	Via                string          `json:"via"` // session or token
	Access             map[string]bool `json:"access"`
}

func newMeView(p *auth.Principal) meView {
	v := meView{
		Name: p.Name, DisplayName: p.DisplayName, Role: p.Role, MustChangePassword: p.MustChangePassword,
		Districts: nonNil(p.Districts), Centers: nonNil(p.Centers), Via: "session", Access: map[string]bool{},
	}
	if p.ViaToken() {
		v.Via = "token"
	}
	for _, a := range []Access{AccessLive, AccessAlerts, AccessAck, AccessCounts, AccessAdmin, AccessGeometry} {
		v.Access[a.String()] = p.Holds(a)
	}
	return v
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

type loginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// login checks a user name and password and starts a browser session.
func (s *Server) login(c *fiber.Ctx) error {
	var req loginRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	l, err := s.deps.Auth.Login(c.UserContext(), req.Username, req.Password, c.IP())
	if err != nil {
		return s.authError(c, err)
	}
	s.setSession(c, l)
	return c.JSON(newMeView(l.Principal))
}

// authError answers the auth service's refusals.
func (s *Server) authError(c *fiber.Ctx, err error) error {
	var th *auth.ThrottledError
	switch {
	case errors.As(err, &th):
		secs := int(th.RetryAfter.Round(time.Second) / time.Second)
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(secs))
		code := codeLoginThrottled
		if th.Account {
			code = codeLoginLocked
		}
		return apiErr(fiber.StatusTooManyRequests, code, th.Error()).with("retry_after", secs)
	case errors.Is(err, auth.ErrBadCredentials):
		return apiErr(fiber.StatusUnauthorized, codeLoginFailed, err.Error())
	}
	return storeError(err)
}

// storeError maps the store's and auth's error kinds to API failures.
func storeError(err error) error {
	switch {
	case errors.Is(err, store.ErrNameTaken):
		return apiErr(fiber.StatusConflict, codeNameTaken, err.Error())
	case errors.Is(err, auth.ErrLastAdmin):
		return apiErr(fiber.StatusConflict, codeLastAdmin, err.Error())
	case errors.Is(err, auth.ErrPasswordUnchanged):
		return apiErr(fiber.StatusBadRequest, codePasswordUnchanged, err.Error())
	case errors.Is(err, store.ErrAlreadyAcknowledged):
		return apiErr(fiber.StatusConflict, codeAcked, err.Error())
	case errors.Is(err, store.ErrAlreadyResolved):
		return apiErr(fiber.StatusConflict, codeResolved, err.Error())
	case errors.Is(err, store.ErrInvalid):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	case errors.Is(err, store.ErrNotFound):
		return fiber.NewError(fiber.StatusNotFound, err.Error())
	case errors.Is(err, store.ErrConflict):
		return fiber.NewError(fiber.StatusConflict, err.Error())
	}
	return err
}

// checkNewPassword applies the password policy with codes the pages
// translate (auth applies it again).
func checkNewPassword(pw string) error {
	switch n := utf8.RuneCountInString(pw); {
	case n < auth.MinPasswordLen:
		return apiErr(fiber.StatusBadRequest, codePasswordTooShort, fmt.Sprintf("the password has %d characters, at least %d are required", n, auth.MinPasswordLen)).
			with("min", auth.MinPasswordLen)
	case n > auth.MaxPasswordLen:
		return apiErr(fiber.StatusBadRequest, codePasswordTooLong, fmt.Sprintf("the password has %d characters, at most %d are allowed", n, auth.MaxPasswordLen)).
			with("max", auth.MaxPasswordLen)
	}
	return nil
}

// setSession sets the session cookie (HttpOnly) and the CSRF cookie the
// pages echo in X-CSRF-Token. Both are browser-session cookies; the server
// enforces the sliding expiry.
func (s *Server) setSession(c *fiber.Ctx, l auth.Login) {
	c.Cookie(&fiber.Cookie{Name: cookieSession, Value: l.SessionToken, Path: "/", HTTPOnly: true, Secure: s.secure, SameSite: fiber.CookieSameSiteStrictMode})
	c.Cookie(&fiber.Cookie{Name: cookieCSRF, Value: l.CSRFToken, Path: "/", Secure: s.secure, SameSite: fiber.CookieSameSiteStrictMode})
}

func (s *Server) clearSession(c *fiber.Ctx) {
	for _, name := range []string{cookieSession, cookieCSRF} {
		c.Cookie(&fiber.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, Expires: time.Unix(0, 0),
			HTTPOnly: name == cookieSession, Secure: s.secure, SameSite: fiber.CookieSameSiteStrictMode})
	}
}

// logout ends the browser session and the live video and streams it opened.
func (s *Server) logout(c *fiber.Ctx) error {
	p := principal(c)
	if p.ViaToken() {
		return apiErr(fiber.StatusBadRequest, codeTokenNoSession, "an API token has no session to end; an admin revokes tokens")
	}
	if err := s.deps.Auth.Logout(c.UserContext(), p, c.IP()); err != nil {
		return storeError(err)
	}
	s.recheckAccess(c.UserContext(), true)
	s.clearSession(c)
	return c.JSON(fiber.Map{"status": "logged out"})
}

func (s *Server) me(c *fiber.Ctx) error {
	v := newMeView(principal(c))
	v.Access[AccessGeometry.String()] = s.mayEditGeometry(principal(c))
	return c.JSON(v)
}

type passwordChange struct {
	Current string `json:"current_password"`
	New     string `json:"new_password"`
}

// changeOwnPassword replaces the caller's password; every session of the
// user ends, with its live video and streams, and this browser gets a new
// one.
func (s *Server) changeOwnPassword(c *fiber.Ctx) error {
	p := principal(c)
	if p.ViaToken() {
		return apiErr(fiber.StatusBadRequest, codeTokenNoSession, "log in with a password to change it; API tokens cannot")
	}
	var req passwordChange
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkNewPassword(req.New); err != nil {
		return err
	}
	l, err := s.deps.Auth.ChangeOwnPassword(c.UserContext(), p, req.Current, req.New, c.IP())
	if errors.Is(err, auth.ErrBadCredentials) {
		// 403, not 401: the session is fine, and pages send 401s to the login page.
		return apiErr(fiber.StatusForbidden, codeWrongPassword, "the current password is wrong")
	} else if err != nil {
		return s.authError(c, err)
	}
	s.recheckAccess(c.UserContext(), true)
	s.setSession(c, l)
	return c.JSON(newMeView(l.Principal))
}
