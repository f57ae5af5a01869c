package web

import (
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"
)

// Every API failure answers {"error": message, "code": code} plus the
// fields a code documents (e.g. "retry_after"). The message is English, for
// scripts and logs; code is stable, and the pages show their own text for
// it in the user's language (common.js, "err.<code>").
type apiError struct {
	status int
	code   string
	msg    string
	extra  fiber.Map
}

func (e *apiError) Error() string { return e.msg }

// apiErr makes an API failure with a specific code.
func apiErr(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg}
}

// with adds a field to the answer, e.g. with("retry_after", 899).
func (e *apiError) with(key string, v any) *apiError {
	if e.extra == nil {
		e.extra = fiber.Map{}
	}
	e.extra[key] = v
	return e
}

// Error codes beyond the per-status defaults (statusCodes).
const (
	codeLoginFailed       = "login_failed"             // 401: wrong user name or password (or disabled)
	codeLoginLocked       = "login_locked"             // 429: account locked; retry_after seconds
	codeLoginThrottled    = "login_throttled"          // 429: too many attempts from this address; retry_after
	codeCSRF              = "csrf"                     // 403: missing or wrong X-CSRF-Token
	codeCrossSite         = "cross_site"               // 403: Origin of another site
	codePasswordChange    = "password_change_required" // 403: choose a new password first
	codeRole              = "role_forbidden"           // 403: the role may not do this
	codeOutOfScope        = "out_of_scope"             // 403: not one of the user's districts or centers
	codeWrongPassword     = "wrong_password"           // 403: the current password is wrong
	codePasswordTooShort  = "password_too_short"       // 400: min characters
	codePasswordTooLong   = "password_too_long"        // 400: max characters
	codePasswordUnchanged = "password_unchanged"       // 400: the new password equals the current one
	codeTokenNoSession    = "token_no_session"         // 400: API tokens have no session or password
	codeAcked             = "already_acknowledged"     // 409
	codeResolved          = "already_resolved"         // 409
	codeNameTaken         = "name_taken"               // 409
	codeLastAdmin         = "last_admin"               // 409
	codeTooManyViews      = "too_many_views"           // 409: max views
	codeRangeTooLong      = "range_too_long"           // 400: max days
	codeBadDate           = "bad_date"                 // 400: param
	codeNoSnapshot        = "no_snapshot"              // 404
	codeNotPlayable       = "camera_not_playable"      // 415: no stream of the camera this browser can play
	codeTooManyViewers    = "too_many_viewers"         // 503: the server's cap of live videos
	codeCameraMoving      = "camera_moving"            // 503: the camera is moving between nodes; retry_after
	codeTooManyLive       = "too_many_live"            // 429: the user's own cap of live videos
	codeTooManyStreams    = "too_many_streams"         // 429: the user's own cap of event streams (pages open)
	codeBadOffer          = "bad_offer"                // 400: the WHEP offer
	codeWebRTC            = "webrtc_failed"            // 500
	codeNoSession         = "no_session"               // 404: no such WHEP session
	codeNoVideo           = "no_video"                 // 404: nothing recorded in the period (or for the alert)
	codeRecordingOff      = "recording_off"            // 404: recording is not set up
	codeSpanTooLong       = "span_too_long"            // 400: max_minutes of video at once
	codeTooManyVideos     = "too_many_videos"          // 429: the user's own cap of videos playing or downloading
	codeRangeUnsatisfied  = "range_not_satisfiable"    // 416: the Range is outside the video
	codeBadVerdict        = "bad_verdict"              // 400: an acknowledgement's verdict or reason
	codeCommentRequired   = "comment_required"         // 400: a false alarm for another reason says what was wrong
)

// statusCodes are the codes of failures that need no more specific one.
var statusCodes = map[int]string{
	fiber.StatusBadRequest:            "bad_request",
	fiber.StatusUnauthorized:          "login_required",
	fiber.StatusForbidden:             "forbidden",
	fiber.StatusNotFound:              "not_found",
	fiber.StatusMethodNotAllowed:      "method_not_allowed",
	fiber.StatusConflict:              "conflict",
	fiber.StatusRequestEntityTooLarge: "too_large",
	fiber.StatusUnsupportedMediaType:  "unsupported_media_type",
	fiber.StatusTooManyRequests:       "too_many_requests",
	fiber.StatusInternalServerError:   "internal_error",
	fiber.StatusServiceUnavailable:    "unavailable",
}

func statusCode(status int) string {
	if c, ok := statusCodes[status]; ok {
		return c
	}
	if status >= 500 {
		return "internal_error"
	}
	return "bad_request"
}

// jsonError answers a failure: every API failure has this shape.
func jsonError(c *fiber.Ctx, e *apiError) error {
	body := fiber.Map{"error": e.msg, "code": e.code}
	for k, v := range e.extra {
		body[k] = v
	}
	return c.Status(e.status).JSON(body)
}

// answerError answers a handler's error: an *apiError or *fiber.Error is
// meant for the client; anything else is logged and answered vaguely, so
// internal details (paths, SQL) stay in the log.
func answerError(c *fiber.Ctx, log *slog.Logger, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		return jsonError(c, ae)
	}
	var fe *fiber.Error
	if errors.As(err, &fe) {
		return jsonError(c, apiErr(fe.Code, statusCode(fe.Code), fe.Message))
	}
	log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	return jsonError(c, internalError())
}

func internalError() *apiError {
	return apiErr(fiber.StatusInternalServerError, "internal_error", "internal error; see the server log")
}
