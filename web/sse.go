package web

import (
	"bufio"
	"encoding/json"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/hallwatch/hallwatch/eventbus"
)

// sseHeartbeat keeps proxies from closing an idle stream and lets the
// server notice a client that went away.
const sseHeartbeat = 15 * time.Second

// messageAccess is the access a user needs to receive a live message.
var messageAccess = map[string]Access{
	"crossing": AccessCounts,
	"window":   AccessAlerts,
	"alert":    AccessAlerts,
	"camera":   AccessLive,
}

// events streams live messages (Server-Sent Events) of the requested
// centers, or of every center the user may see, each message only if the
// user may see its kind for its center.
func (s *Server) events(c *fiber.Ctx) error {
	requested, err := s.requestedCenters(c)
	if err != nil {
		return err
	}
	// Decide per center and kind now: the request context is gone once
	// streaming starts.
	allowed := map[string]map[string]bool{}
	for _, ref := range s.visibleCenters(c, AccessUser, requested) {
		kinds := map[string]bool{}
		for kind, a := range messageAccess {
			kinds[kind] = s.allowed(c, a, Scope{District: ref.district.ID, Center: ref.center.ID})
		}
		allowed[ref.center.ID] = kinds
	}
	// Its login ending or its rights changing end the stream.
	stream, err := s.streams.add(principal(c))
	switch {
	case errors.Is(err, errTooManyStreamsForUser):
		return apiErr(fiber.StatusTooManyRequests, codeTooManyStreams, err.Error())
	case err != nil:
		c.Set(fiber.HeaderRetryAfter, "5")
		return apiErr(fiber.StatusServiceUnavailable, "unavailable", err.Error())
	}
	sub := s.deps.Bus.Subscribe(256, func(m eventbus.Message) bool { return allowed[m.Center][m.Type] })
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")
	// The server's write timeout is one deadline for a whole response: a
	// stream moves it on before every write instead.
	conn := c.Context().Conn()
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		defer s.streams.remove(stream)
		defer sub.Close()
		beat := time.NewTicker(sseHeartbeat)
		defer beat.Stop()
		conn.SetWriteDeadline(time.Now().Add(2 * sseHeartbeat))
		w.WriteString(": hallwatch live events\n\n")
		if w.Flush() != nil {
			return
		}
		for {
			select {
			case <-s.done:
				return
			case <-stream.ended:
				return
			case <-beat.C:
				w.WriteString(": keep-alive\n\n")
			case m, ok := <-sub.C():
				if !ok {
					return
				}
				data, err := json.Marshal(m)
				if err != nil {
					continue
				}
				w.WriteString("event: " + m.Type + "\ndata: ")
				w.Write(data)
				w.WriteString("\n\n")
			}
			conn.SetWriteDeadline(time.Now().Add(2 * sseHeartbeat))
			if w.Flush() != nil {
				return // client gone
			}
		}
	}))
	return nil
}
