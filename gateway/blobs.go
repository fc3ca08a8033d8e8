package gateway

import (
	"fmt"
	"strconv"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/registry"
)

// getBlob answers GET and HEAD of a blob, with single-range support.
func (s *Server) getBlob(c *fiber.Ctx, rt route) error {
	d, err := registry.ParseDigest(rt.ref)
	if err != nil {
		return err
	}
	size, err := s.reg.StatBlob(c.UserContext(), rt.name, d)
	if err != nil {
		return err
	}
	if c.Method() == fiber.MethodGet {
		redirect, err := s.reg.BlobURL(c.UserContext(), d)
		if err != nil {
			return err
		}
		if redirect != "" {
			return c.Redirect(redirect, fiber.StatusTemporaryRedirect)
		}
	}
	c.Set("Docker-Content-Digest", d.String())
	c.Set(fiber.HeaderAcceptRanges, "bytes")
	c.Set(fiber.HeaderContentType, fiber.MIMEOctetStream)
	r, partial, err := parseRange(c.Get(fiber.HeaderRange), size)
	if err != nil {
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes */%d", size))
		return err
	}
	if !partial {
		r = byteRange{0, size - 1}
	} else {
		c.Status(fiber.StatusPartialContent)
		c.Set(fiber.HeaderContentRange, fmt.Sprintf("bytes %d-%d/%d", r.start, r.end, size))
	}
	if c.Method() == fiber.MethodHead {
		return sendHeadLength(c, r.length())
	}
	rc, _, err := s.reg.OpenBlob(c.UserContext(), rt.name, d, r.start)
	if err != nil {
		return err
	}
	// fasthttp copies the stream to its end, then closes it.
	c.Context().SetBodyStream(streamBody(rc, r.length(), !partial), int(r.length()))
	return nil
}

// sendHeadLength answers a HEAD request with a Content-Length and no body.
func sendHeadLength(c *fiber.Ctx, n int64) error {
	c.Response().SkipBody = true
	c.Response().Header.SetContentLength(int(n))
	return nil
}

func (s *Server) deleteBlob(c *fiber.Ctx, rt route) error {
	d, err := registry.ParseDigest(rt.ref)
	if err != nil {
		return err
	}
	if err := s.reg.DeleteBlob(c.UserContext(), rt.name, d); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusAccepted)
}

// contentLength returns the request's declared body length, or -1 when unknown
// (chunked transfer encoding).
func contentLength(c *fiber.Ctx) int64 {
	n := c.Request().Header.ContentLength()
	if n < 0 {
		return -1
	}
	return int64(n)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
