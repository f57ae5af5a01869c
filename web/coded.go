package web

import (
	"github.com/gofiber/fiber/v2"
)

// codedError is an API failure with a stable code, answered as
// {"error": message, "code": code} plus its extra fields; pages show their
// own text for the code.
type codedError struct {
	status int
	code   string
	msg    string
	extra  fiber.Map
}

func (e *codedError) Error() string { return e.msg }

func coded(status int, code, msg string) *codedError {
	return &codedError{status: status, code: code, msg: msg}
}

// with adds a field to the answer.
func (e *codedError) with(key string, v any) *codedError {
	if e.extra == nil {
		e.extra = fiber.Map{}
	}
	e.extra[key] = v
	return e
}

func (e *codedError) answer(c *fiber.Ctx) error {
	body := fiber.Map{"error": e.msg, "code": e.code}
	for k, v := range e.extra {
		body[k] = v
	}
	return c.Status(e.status).JSON(body)
}
