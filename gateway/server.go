package gateway

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"berth.dev/berth/p2p"
	"berth.dev/berth/registry"
)

// Config tunes the HTTP server. The zero value works.
type Config struct {
	// IdleTimeout closes keep-alive connections idle this long. Zero means 2 minutes.
	IdleTimeout time.Duration
	// HeaderBufferSize bounds request headers. Zero means 16 KiB.
	HeaderBufferSize int
	// HeaderTimeout bounds reading a request's headers. Zero means 1 minute.
	HeaderTimeout time.Duration
	// BodyTimeout bounds reading a request's body once its headers are in, so that a
	// slow client cannot hold a connection forever. Zero means 1 hour.
	BodyTimeout time.Duration
	// TrustedProxies are the addresses and CIDR prefixes of load balancers whose
	// X-Forwarded-For and X-Forwarded-Proto headers are believed (for login
	// throttling, the audit log and token realms); empty believes none.
	TrustedProxies []string
	// Auth is the access control to enforce; nil serves everyone everything (tests
	// of the registry core only: berth serve and berth gateway always set it).
	Auth *Auth
	// Policies serves plugins and policy bindings on the admin API; nil answers 501.
	Policies PolicyCatalog
	// P2P, when set, seeds blobs to peer agents (docs/p2p.md).
	P2P *p2p.Seed
	// Preheats, when set with P2P and Auth, serves preheat jobs on the admin API
	// and to polling agents; nil answers 409 on /api/v1/preheats.
	Preheats *p2p.Preheats
}

// Server serves the registry over HTTP.
type Server struct {
	app      *fiber.App
	reg      *registry.Registry
	log      *slog.Logger
	auth     *Auth
	proxies  proxies
	policies PolicyCatalog
	metrics  *metrics
	// handlers is built once by New and only read afterwards.
	handlers map[handlerKey]handlerFunc
	seed     *p2p.Seed     // nil without P2P
	preheats *p2p.Preheats // nil without P2P
	ready    atomic.Bool
}

// New returns a Server for reg. It is not ready (GET /readyz answers 503) until
// SetReady is called.
func New(reg *registry.Registry, log *slog.Logger, cfg Config) *Server {
	ps, err := ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		// Callers validate with ParseTrustedProxies first; believing nobody is safe.
		log.Error("gateway: trusted proxies ignored", "err", err)
		ps = nil
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 2 * time.Minute
	}
	if cfg.HeaderBufferSize == 0 {
		cfg.HeaderBufferSize = 16 << 10
	}
	if cfg.HeaderTimeout == 0 {
		cfg.HeaderTimeout = time.Minute
	}
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = time.Hour
	}
	s := &Server{reg: reg, log: log, auth: cfg.Auth, proxies: ps, policies: cfg.Policies,
		metrics: newMetrics()}
	s.app = fiber.New(fiber.Config{
		// Blob bodies are read from c.Context().RequestBodyStream() as they arrive;
		// fasthttp then buffers at most 8 KiB of a body before the handler runs.
		StreamRequestBody: true,
		// Only manifests are read whole, through a limit of their own.
		BodyLimit:             registry.MaxManifestSize + 1,
		ReadBufferSize:        cfg.HeaderBufferSize,
		IdleTimeout:           cfg.IdleTimeout,
		ReadTimeout:           cfg.HeaderTimeout,
		DisableStartupMessage: true,
		DisableDefaultDate:    true,
		ErrorHandler: func(c *fiber.Ctx, err error) error {
			return writeError(c, s.log, err)
		},
	})
	// Once the headers are in, the body gets its own, longer deadline.
	s.app.Server().HeaderReceived = func(*fasthttp.RequestHeader) fasthttp.RequestConfig {
		return fasthttp.RequestConfig{ReadTimeout: cfg.BodyTimeout}
	}
	s.handlers = s.handlerTable()
	s.addP2P(cfg.P2P)
	if cfg.P2P != nil && cfg.Auth != nil {
		s.preheats = cfg.Preheats
	}
	s.routes()
	return s
}

func (s *Server) routes() {
	s.app.Use(s.metrics.middleware)
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.app.Use(s.logRequest)
	}
	s.app.Use(drainBody)
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.SendString("ok\n") })
	s.app.Get("/readyz", s.readyz)
	s.app.Get("/metrics", s.metrics.handler())
	if s.auth != nil {
		s.app.Get(TokenPath, s.tokenGet)
		s.app.Post(TokenPath, s.tokenPost)
		s.apiRoutes()
	}
	s.p2pRoutes()
	s.app.Use("/v2", s.v2)
	s.app.Use(func(c *fiber.Ctx) error { return writeError(c, s.log, errNotFound) })
}

// maxDrain is how much of an unread request body is read away so that the
// connection can serve the next request and the client reads the answer (closing
// with bytes unread makes the kernel reset the connection, and the client sees the
// reset instead of the error). Past it the connection is closed. It covers a refused
// manifest of any size a client would send.
const maxDrain = 16 << 20

// drainBody reads what a handler left of a streamed request body. Without it, the
// unread bytes of a chunked body would be parsed as the next request.
func drainBody(c *fiber.Ctx) error {
	err := c.Next()
	if c.Request().Header.ContentLength() == 0 {
		return err
	}
	b := body(c)
	if b.eof {
		return err
	}
	if n, _ := io.CopyN(io.Discard, b, maxDrain+1); n > maxDrain {
		c.Context().SetConnectionClose()
	}
	return err
}

// logRequest writes one Debug line per request. It never logs headers, so that
// credentials cannot reach the log.
func (s *Server) logRequest(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	s.log.Debug("request", "method", c.Method(), "path", c.Path(),
		"status", c.Response().StatusCode(), "duration", time.Since(start),
		"remote", s.clientIP(c))
	return nil
}

func (s *Server) readyz(c *fiber.Ctx) error {
	if !s.ready.Load() {
		return c.Status(fiber.StatusServiceUnavailable).SendString("starting\n")
	}
	return c.SendString("ready\n")
}

// SetReady marks the server ready to serve.
func (s *Server) SetReady() { s.ready.Store(true) }

// Serve serves on l until Shutdown.
func (s *Server) Serve(l net.Listener) error { return s.app.Listener(plainListener{l}) }

// Shutdown stops accepting connections and waits for requests in flight until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.ready.Store(false)
	return s.app.ShutdownWithContext(ctx)
}
