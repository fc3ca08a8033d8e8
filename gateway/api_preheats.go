package gateway

import (
	"errors"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"berth.dev/berth/auth"
	"berth.dev/berth/p2p"
	"berth.dev/berth/registry"
)

// errP2POff refuses preheat jobs on a gateway without a seed.
var errP2POff = errors.New("P2P is off on this gateway, so no agent polls it for " +
	"preheat jobs: enable the p2p section of the configuration (p2p.enabled: true)")

// errBadImage refuses a preheat of something that is not an image reference.
var errBadImage = errors.New("image must be project/name:tag or project/name@sha256:...")

// preheatRoutes mounts the preheat jobs of the admin API (docs/api.md).
func (s *Server) preheatRoutes(api fiber.Router) {
	api.Post("/preheats", s.createPreheat)
	api.Get("/preheats", s.listPreheats)
	api.Get("/preheats/:id", s.getPreheat)
}

// agentRoutes mounts the endpoints that agents poll for preheat jobs and report
// progress to. Agents authenticate with the network key, not as users.
func (s *Server) agentRoutes() {
	if s.preheats == nil {
		return
	}
	s.app.Get(p2p.PreheatPollPath, s.agentPoll)
	s.app.Post(p2p.PreheatPollPath+"/:id/progress", s.agentProgress)
}

// createPreheat resolves the image to a manifest digest and stores a job that the
// agents seen polling in the last 30 seconds are expected to finish.
func (s *Server) createPreheat(c *fiber.Ctx) error {
	if s.preheats == nil {
		return errP2POff
	}
	var req struct {
		Image string `json:"image"`
		// ExpiresIn is a Go duration such as "2h"; "" means one hour.
		ExpiresIn string `json:"expires_in"`
	}
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	name, ref, err := parseImage(req.Image)
	if err != nil {
		return err
	}
	var ttl time.Duration
	if req.ExpiresIn != "" {
		if ttl, err = time.ParseDuration(req.ExpiresIn); err != nil || ttl <= 0 {
			return errBadExpiry
		}
	}
	if err := s.requireRepository(c, name, auth.ActionPreheat); err != nil {
		return err
	}
	ctx := c.UserContext()
	m, err := s.reg.StatManifest(ctx, name, ref)
	if err != nil {
		return err
	}
	p := principal(c)
	by := p2p.Creator{Name: p.Name, Kind: p.Kind.String(), ID: p.ID}
	job, err := s.preheats.Create(ctx, req.Image, name, m.Digest, by, ttl)
	if err != nil {
		return err
	}
	s.recordAdmin(c, "preheat.create", name+"@"+m.Digest.String())
	v, err := s.preheats.Job(ctx, job.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(v)
}

// parseImage splits name:tag or name@digest; a name alone means the tag latest.
func parseImage(image string) (string, registry.Reference, error) {
	name, ref := image, "latest"
	if n, d, ok := strings.Cut(image, "@"); ok {
		name, ref = n, d
	} else if i := strings.LastIndexByte(image, ':'); i > 0 && !strings.Contains(image[i:], "/") {
		name, ref = image[:i], image[i+1:]
	}
	if registry.ValidateName(name) != nil {
		return "", registry.Reference{}, errBadImage
	}
	r, err := registry.ParseReference(ref)
	if err != nil {
		return "", registry.Reference{}, errBadImage
	}
	return name, r, nil
}

// requireRepository lets through callers allowed action a in the project of
// repository name.
func (s *Server) requireRepository(c *fiber.Ctx, name string, a auth.Action) error {
	project, err := auth.ProjectOf(name)
	if err != nil {
		return errNoProject
	}
	return s.requireProject(c, project, a)
}

// getPreheat answers one job with its progress, for callers who may pull its image.
func (s *Server) getPreheat(c *fiber.Ctx) error {
	if s.preheats == nil {
		return errP2POff
	}
	v, err := s.preheats.Job(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	if err := s.requireRepository(c, v.Repository, auth.ActionPull); err != nil {
		return err
	}
	return c.JSON(v)
}

// listPreheats lists the jobs, oldest first, whose images the caller may pull.
func (s *Server) listPreheats(c *fiber.Ctx) error {
	if s.preheats == nil {
		return errP2POff
	}
	after, limit, err := page(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	jobs, err := s.preheats.Jobs(ctx, after, limit)
	if err != nil {
		return err
	}
	out := listAnswer[p2p.PreheatView]{Items: []p2p.PreheatView{}}
	may := map[string]bool{} // by project
	for _, j := range jobs {
		project := registry.ProjectOf(j.Repository)
		ok, seen := may[project]
		if !seen {
			ok, err = s.auth.Service.AllowedInProject(ctx, principal(c), project, auth.ActionPull)
			if err != nil {
				return err
			}
			may[project] = ok
		}
		if ok {
			out.Items = append(out.Items, j)
		}
	}
	if len(jobs) == limit {
		out.Next = jobs[len(jobs)-1].ID
	}
	return c.JSON(out)
}

// verifyAgent checks the network-key proof of an agent's request and returns its
// peer id.
func (s *Server) verifyAgent(c *fiber.Ctx) (string, error) {
	return s.preheats.VerifyAgent(c.Get(p2p.HeaderPeerID), c.Get(p2p.HeaderPeerTime),
		c.Get(p2p.HeaderPeerAuth))
}

// agentPoll records the agent as seen and answers its open jobs, each with a pull
// token for the job's repository minted in the name of the job's creator: the
// token grants no more than the creator may pull now.
func (s *Server) agentPoll(c *fiber.Ctx) error {
	id, err := s.verifyAgent(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	open, err := s.preheats.Poll(ctx, id)
	if err != nil {
		return err
	}
	ans := p2p.PreheatPollAnswer{Jobs: []p2p.PreheatTask{}}
	for _, o := range open {
		scope := auth.Scope{Type: "repository", Name: o.Job.Repository,
			Actions: []string{scopePull}}
		tok, err := s.auth.Issuer.Issue(ctx, creatorPrincipal(o.By), []auth.Scope{scope})
		if err != nil {
			return err
		}
		ans.Jobs = append(ans.Jobs, p2p.PreheatTask{ID: o.Job.ID, Repository: o.Job.Repository,
			Digest: o.Job.Digest, Expires: o.Job.Expires, Token: p2p.PullToken(tok.Token)})
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(ans)
}

// creatorPrincipal is the principal a job's tokens are minted for.
func creatorPrincipal(by p2p.Creator) auth.Principal {
	kind := auth.KindUser
	if by.Kind == auth.KindRobot.String() {
		kind = auth.KindRobot
	}
	return auth.Principal{Kind: kind, Name: by.Name, ID: by.ID}
}

// agentProgress stores an agent's progress on a job.
func (s *Server) agentProgress(c *fiber.Ctx) error {
	id, err := s.verifyAgent(c)
	if err != nil {
		return err
	}
	var st p2p.PreheatStatus
	if err := decodeJSON(c, &st); err != nil {
		return err
	}
	if err := s.preheats.Report(c.UserContext(), c.Params("id"), id, st); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
