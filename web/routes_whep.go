package web

import (
	"errors"
	"fmt"
	"mime"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/hallwatch/hallwatch/auth"
	"github.com/hallwatch/hallwatch/relay"
)

// whepOffer is WHEP's POST: SDP offer in, 201 + answer + session Location out.
func (s *Server) whepOffer(c *fiber.Ctx) error {
	ct, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || ct != "application/sdp" {
		return apiErr(fiber.StatusUnsupportedMediaType, "unsupported_media_type", "WHEP offer must be sent as Content-Type: application/sdp")
	}
	if n := len(c.Body()); n > relay.MaxOfferBytes {
		return apiErr(fiber.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("SDP offer is %d bytes, limit %d", n, relay.MaxOfferBytes))
	}
	camera := c.Params("camera")
	if s.deps.Cluster != nil {
		if url, elsewhere := s.deps.Cluster.Owner(camera); elsewhere {
			return redirectToOwner(c, url)
		}
	}
	p := principal(c)
	who := relay.Viewer{User: p.Name, Remote: c.IP(), Login: string(p.Credential())}
	session, answer, err := s.deps.Viewers.Offer(c.UserContext(), camera, who, string(c.Body()))
	switch {
	case errors.Is(err, relay.ErrBadOffer):
		return apiErr(fiber.StatusBadRequest, codeBadOffer, err.Error())
	case errors.Is(err, relay.ErrUnknownCamera):
		return apiErr(fiber.StatusNotFound, "not_found", "unknown camera "+quote(camera))
	case errors.Is(err, relay.ErrNotPlayable):
		return apiErr(fiber.StatusUnsupportedMediaType, codeNotPlayable, err.Error())
	case errors.Is(err, relay.ErrNotHere):
		c.Set(fiber.HeaderRetryAfter, "2")
		return apiErr(fiber.StatusServiceUnavailable, codeCameraMoving, "camera "+quote(camera)+" is moving to another node; try again in a few seconds").with("retry_after", 2)
	case errors.Is(err, relay.ErrTooManyViewers):
		c.Set(fiber.HeaderRetryAfter, "5")
		return apiErr(fiber.StatusServiceUnavailable, codeTooManyViewers, err.Error())
	case errors.Is(err, relay.ErrTooManyForUser):
		return apiErr(fiber.StatusTooManyRequests, codeTooManyLive, err.Error()+"; close another live video first")
	case err != nil:
		s.deps.Log.Error("whep offer failed", "camera", camera, "err", err)
		return apiErr(fiber.StatusInternalServerError, codeWebRTC, "could not start the WebRTC session")
	}
	s.viewerStarted(session)
	base := ""
	if s.deps.Cluster != nil {
		base = s.deps.Cluster.Base() // the DELETE must come back to this node
	}
	c.Location(base + "/whep/" + camera + "/" + session.ID)
	c.Set(fiber.HeaderContentType, "application/sdp")
	return c.Status(fiber.StatusCreated).SendString(answer)
}

// redirectToOwner sends a viewer to the node running the camera: 307
// keeps the method and the SDP body (fetch and Go's client follow it),
// and the owner checks the login itself against the shared database.
// Redirecting rather than proxying: media never passes through this node
// anyway (the answer's candidates are the owner's), no node holds
// another's signalling, and no node needs to trust another's word on who
// the viewer is.
func redirectToOwner(c *fiber.Ctx, ownerURL string) error {
	loc := ownerURL + "/whep/" + url.PathEscape(c.Params("camera"))
	if q := string(c.Request().URI().QueryString()); q != "" {
		loc += "?" + q
	}
	c.Location(loc)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(fiber.StatusTemporaryRedirect).JSON(fiber.Map{"error": "camera " + quote(c.Params("camera")) + " is run by another node", "location": loc})
}

// whepPatch refuses trickle ICE: answers already carry every candidate.
func (s *Server) whepPatch(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAllow, "DELETE")
	return apiErr(fiber.StatusMethodNotAllowed, "method_not_allowed", "trickle ICE is not supported; the answer holds all candidates")
}

// whepHangup is WHEP's DELETE; only the session's user (or an admin) may
// end it.
func (s *Server) whepHangup(c *fiber.Ctx) error {
	p := principal(c)
	if v, ok := s.deps.Viewers.Session(c.Params("session")); ok && v.User != p.Name && p.Role != auth.RoleAdmin {
		return apiErr(fiber.StatusNotFound, codeNoSession, relay.ErrNoSession.Error())
	}
	if err := s.deps.Viewers.Hangup(c.Params("camera"), c.Params("session")); err != nil {
		return apiErr(fiber.StatusNotFound, codeNoSession, err.Error())
	}
	return c.SendStatus(fiber.StatusOK)
}

// userName is the logged-in user's name, set by the auth guard.
func userName(c *fiber.Ctx) string {
	name, _ := c.Locals(localUser).(string)
	return name
}

const localUser = "user"

func quote(s string) string {
	if len(s) > 64 {
		s = s[:64] + "…"
	}
	return `"` + s + `"`
}
