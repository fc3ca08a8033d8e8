package gateway

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routeLocal is the Fiber local holding a request's routeKind.
const routeLocal = "berth_route"

// metrics are the gateway's Prometheus collectors, on a registry of their own so
// that several servers can live in one process (tests).
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	bytesIn  *prometheus.CounterVec
	bytesOut *prometheus.CounterVec
	uploads  *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "berth_http_request_duration_seconds",
			Help:    "HTTP request durations by route and method.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 4, 10),
		}, []string{"route", "method"}),
		bytesIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_http_request_bytes_total", Help: "Declared request body bytes by route.",
		}, []string{"route"}),
		bytesOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_http_response_bytes_total", Help: "Response body bytes by route.",
		}, []string{"route"}),
		uploads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "berth_blob_uploads_total",
			Help: "Blob uploads by outcome: started, completed, failed, cancelled, monolithic, mounted.",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.bytesIn, m.bytesOut, m.uploads,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// middleware records one request.
func (m *metrics) middleware(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	route := "other"
	if k, ok := c.Locals(routeLocal).(routeKind); ok {
		route = string(k)
	} else if p := c.Path(); p == "/healthz" || p == "/readyz" || p == "/metrics" {
		route = strings.Clone(p[1:])
	}
	// copied: Fiber strings are borrowed, and a label value outlives the request
	method := strings.Clone(c.Method())
	status := strconv.Itoa(c.Response().StatusCode())
	m.requests.WithLabelValues(route, method, status).Inc()
	m.duration.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	if n := c.Request().Header.ContentLength(); n > 0 {
		m.bytesIn.WithLabelValues(route).Add(float64(n))
	}
	if n := c.Response().Header.ContentLength(); n > 0 && method != fiber.MethodHead {
		m.bytesOut.WithLabelValues(route).Add(float64(n))
	}
	return nil
}

func (m *metrics) handler() fiber.Handler {
	return adaptor.HTTPHandler(promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }
