package gateway

import (
	"bytes"
	"fmt"
	"io"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/registry"
)

// bodyLocal is the Fiber local holding a request's *bodyReader.
const bodyLocal = "berth_body"

// bodyReader is the request body as a stream. It remembers reaching the end, because
// reading a finished chunked stream again would wait for the next request's bytes.
type bodyReader struct {
	r   io.Reader
	eof bool
}

func (b *bodyReader) Read(p []byte) (int, error) {
	if b.eof {
		return 0, io.EOF
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

// body returns the request body as a stream, the same one for every call.
func body(c *fiber.Ctx) *bodyReader {
	if b, ok := c.Locals(bodyLocal).(*bodyReader); ok {
		return b
	}
	var r io.Reader = c.Context().RequestBodyStream()
	if r == nil {
		r = bytes.NewReader(c.Body())
	}
	b := &bodyReader{r: r}
	c.Locals(bodyLocal, b)
	return b
}

// startUpload answers POST .../blobs/uploads/: a monolithic upload (?digest=), a
// cross-repository mount (?mount=&from=), or a new upload session.
func (s *Server) startUpload(c *fiber.Ctx, rt route) error {
	ctx := c.UserContext()
	if dg := c.Query("digest"); dg != "" {
		d, err := registry.ParseDigest(dg)
		if err != nil {
			return err
		}
		if err := s.reg.PutBlob(ctx, rt.name, d, body(c)); err != nil {
			return err
		}
		s.metrics.uploads.WithLabelValues("monolithic").Inc()
		return blobCreated(c, rt.name, d.String())
	}
	if mount, from := c.Query("mount"), c.Query("from"); mount != "" && from != "" {
		d, err := registry.ParseDigest(mount)
		if err != nil {
			return err
		}
		if registry.ValidateName(from) == nil && mountAllowed(c) {
			ok, err := s.reg.MountBlob(ctx, rt.name, from, d)
			if err != nil {
				return err
			}
			if ok {
				s.metrics.uploads.WithLabelValues("mounted").Inc()
				return blobCreated(c, rt.name, d.String())
			}
		}
	}
	u, err := s.reg.StartUpload(ctx, rt.name)
	if err != nil {
		return err
	}
	s.metrics.uploads.WithLabelValues("started").Inc()
	return uploadAccepted(c, rt.name, u)
}

func blobCreated(c *fiber.Ctx, name, d string) error {
	c.Set(fiber.HeaderLocation, "/v2/"+name+"/blobs/"+d)
	c.Set("Docker-Content-Digest", d)
	return c.SendStatus(fiber.StatusCreated)
}

// uploadAccepted answers with where the upload continues and what it holds.
func uploadAccepted(c *fiber.Ctx, name string, u *registry.Upload) error {
	setUploadHeaders(c, name, u)
	return c.SendStatus(fiber.StatusAccepted)
}

func setUploadHeaders(c *fiber.Ctx, name string, u *registry.Upload) {
	c.Set(fiber.HeaderLocation, "/v2/"+name+"/blobs/uploads/"+u.ID)
	c.Set("Range", rangeHeader(u.Offset))
	c.Set("Docker-Upload-UUID", u.ID)
}

func (s *Server) uploadStatus(c *fiber.Ctx, rt route) error {
	u, err := s.reg.GetUpload(c.UserContext(), rt.name, rt.ref)
	if err != nil {
		return err
	}
	setUploadHeaders(c, rt.name, u)
	return c.SendStatus(fiber.StatusNoContent)
}

// patchUpload appends a chunk; with Content-Range it must continue where the
// upload ends.
func (s *Server) patchUpload(c *fiber.Ctx, rt route) error {
	start, length, err := chunkBounds(c)
	if err != nil {
		return err
	}
	u, err := s.reg.AppendUpload(c.UserContext(), rt.name, rt.ref, start, length, body(c))
	if err != nil {
		return err
	}
	return uploadAccepted(c, rt.name, u)
}

// chunkBounds returns the start offset and length that a PATCH declares, or -1 for
// each that it leaves open.
func chunkBounds(c *fiber.Ctx) (start, length int64, err error) {
	length = contentLength(c)
	cr := c.Get(fiber.HeaderContentRange)
	if cr == "" {
		return -1, length, nil
	}
	r, err := parseContentRange(cr)
	if err != nil {
		return 0, 0, err
	}
	if length >= 0 && length != r.length() {
		return 0, 0, fmt.Errorf("%w: Content-Range covers %d bytes, Content-Length is %d",
			registry.ErrSizeInvalid, r.length(), length)
	}
	return r.start, r.length(), nil
}

// putUpload completes an upload with an optional last chunk.
func (s *Server) putUpload(c *fiber.Ctx, rt route) error {
	d, err := registry.ParseDigest(c.Query("digest"))
	if err != nil {
		return err
	}
	start, length, err := chunkBounds(c)
	if err != nil {
		return err
	}
	err = s.reg.CompleteUpload(c.UserContext(), rt.name, rt.ref, d, start, length, body(c))
	if err != nil {
		s.metrics.uploads.WithLabelValues("failed").Inc()
		return err
	}
	s.metrics.uploads.WithLabelValues("completed").Inc()
	return blobCreated(c, rt.name, d.String())
}

func (s *Server) cancelUpload(c *fiber.Ctx, rt route) error {
	if err := s.reg.CancelUpload(c.UserContext(), rt.name, rt.ref); err != nil {
		return err
	}
	s.metrics.uploads.WithLabelValues("cancelled").Inc()
	return c.SendStatus(fiber.StatusNoContent)
}
