package gateway

import (
	"net/url"
	"strconv"

	"github.com/gofiber/fiber/v2"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"berth.dev/berth/registry"
)

// defaultPage is the page size when a client does not ask for one.
const defaultPage = 1000

// pageParams reads the n and last query parameters.
func pageParams(c *fiber.Ctx) (n int, last string, err error) {
	n = defaultPage
	if s := c.Query("n"); s != "" {
		n, err = strconv.Atoi(s)
		if err != nil || n < 0 {
			return 0, "", fiber.NewError(fiber.StatusBadRequest, "n must be a non-negative integer")
		}
	}
	return min(n, registry.MaxPage), c.Query("last"), nil
}

// setNextLink adds the RFC 5988 Link header of the next page.
func setNextLink(c *fiber.Ctx, path string, n int, last string) {
	q := url.Values{"n": {strconv.Itoa(n)}, "last": {last}}
	c.Set(fiber.HeaderLink, "<"+path+"?"+q.Encode()+`>; rel="next"`)
}

func (s *Server) tags(c *fiber.Ctx, rt route) error {
	n, last, err := pageParams(c)
	if err != nil {
		return err
	}
	tags, more, err := s.reg.Tags(c.UserContext(), rt.name, last, n)
	if err != nil {
		return err
	}
	if more {
		setNextLink(c, "/v2/"+rt.name+"/tags/list", n, tags[len(tags)-1])
	}
	return c.JSON(struct {
		Name string   `json:"name"`
		Tags []string `json:"tags"`
	}{rt.name, tags})
}

func (s *Server) catalog(c *fiber.Ctx, _ route) error {
	n, last, err := pageParams(c)
	if err != nil {
		return err
	}
	repos, more, err := s.reg.Catalog(c.UserContext(), last, n)
	if err != nil {
		return err
	}
	if more {
		setNextLink(c, "/v2/_catalog", n, repos[len(repos)-1])
	}
	return c.JSON(struct {
		Repositories []string `json:"repositories"`
	}{repos})
}

// referrers answers the referrers API with an image index, empty when nothing refers
// to the digest.
func (s *Server) referrers(c *fiber.Ctx, rt route) error {
	d, err := registry.ParseDigest(rt.ref)
	if err != nil {
		return err
	}
	artifactType := c.Query("artifactType")
	descs, err := s.reg.Referrers(c.UserContext(), rt.name, d, artifactType)
	if err != nil {
		return err
	}
	if artifactType != "" {
		c.Set("OCI-Filters-Applied", "artifactType")
	}
	idx := ocispec.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageIndex,
		Manifests: descs,
	}
	c.Set(fiber.HeaderContentType, ocispec.MediaTypeImageIndex)
	b, err := jsonMarshal(idx)
	if err != nil {
		return err
	}
	return c.Send(b)
}
