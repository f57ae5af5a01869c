package web

import (
	"net/http/pprof"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hallwatch/hallwatch/notify"
)

// notifiers shows each notification target's delivery state (secrets
// masked by the notifier).
func (s *Server) notifiers(c *fiber.Ctx) error {
	st := []notify.TargetStatus{}
	if s.deps.Notifiers != nil {
		st = s.deps.Notifiers()
	}
	return c.JSON(fiber.Map{"notifiers": st})
}

// metrics serves Prometheus' text format.
func (s *Server) metrics(c *fiber.Ctx) error {
	if s.deps.Metrics == nil {
		return fiber.NewError(fiber.StatusNotFound, "metrics are not enabled")
	}
	return s.metricsHandler(c)
}

func newMetricsHandler(g prometheus.Gatherer) fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
}

// pprof serves Go's profiles (see the README's "Profiles" section).
// Profiles longer than the server's write timeout (30 s) are cut: ask for
// ?seconds=20 or less.
func (s *Server) pprof(c *fiber.Ctx) error {
	switch c.Params("name") {
	case "cmdline":
		return adaptor.HTTPHandlerFunc(pprof.Cmdline)(c)
	case "profile":
		return adaptor.HTTPHandlerFunc(pprof.Profile)(c)
	case "symbol":
		return adaptor.HTTPHandlerFunc(pprof.Symbol)(c)
	case "trace":
		return adaptor.HTTPHandlerFunc(pprof.Trace)(c)
	}
	return adaptor.HTTPHandlerFunc(pprof.Index)(c)
}
