package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Repositories of the benchmark.
const (
	putRepo  = "library/kvbench-put"
	tagsRepo = "library/kvbench-tags"
)

// fillers is how many goroutines fill the tags repository (untimed).
const fillers = 8

// results are the latencies measured on one setup.
type results struct {
	put, tags latencies
}

// add returns r with the samples of o added, sorted.
func (r results) add(o results) results {
	put := slices.Concat(r.put, o.put)
	tags := slices.Concat(r.tags, o.tags)
	slices.Sort(put)
	slices.Sort(tags)
	return results{put: put, tags: tags}
}

// latencies are sorted request durations.
type latencies []time.Duration

// quantile returns the q-quantile (0 < q <= 1) by the nearest-rank method.
func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(q*float64(len(l))+0.999999) - 1
	return l[min(max(i, 0), len(l)-1)]
}

// measure runs both timed series against the registry behind c.
func measure(o options, c *client) (results, error) {
	var r results
	var err error
	if r.put, err = measurePuts(o, c); err != nil {
		return r, err
	}
	if err := fillTags(c, o.tags); err != nil {
		return r, err
	}
	r.tags, err = measureTagsList(o, c)
	return r, err
}

// measurePuts times o.n sequential manifest PUTs, each with a fresh tag and a
// manifest of its own (built before the clock starts).
func measurePuts(o options, c *client) (latencies, error) {
	img, err := c.pushImageBlobs(putRepo)
	if err != nil {
		return nil, err
	}
	for i := range o.warmup {
		tag := fmt.Sprintf("w%d", i)
		if err := c.putManifest(putRepo, tag, img.manifest(tag)); err != nil {
			return nil, err
		}
	}
	bodies := make([][]byte, o.n)
	for i := range bodies {
		bodies[i] = img.manifest(fmt.Sprint(i))
	}
	return timed(o.n, func(i int) error {
		return c.putManifest(putRepo, fmt.Sprintf("t%05d", i), bodies[i])
	})
}

// timed runs op(i) for i in [0, n) one after another and returns the sorted
// durations.
func timed(n int, op func(i int) error) (latencies, error) {
	out := make(latencies, 0, n)
	for i := range n {
		start := time.Now()
		if err := op(i); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	slices.Sort(out)
	return out, nil
}

// fillTags points n tags of tagsRepo at one manifest, with concurrent PUTs.
func fillTags(c *client, n int) error {
	img, err := c.pushImageBlobs(tagsRepo)
	if err != nil {
		return err
	}
	body := img.manifest("tags")
	next := make(chan int)
	errs := make(chan error, fillers)
	var wg sync.WaitGroup
	for range fillers {
		wg.Go(func() {
			for i := range next {
				if err := c.putManifest(tagsRepo, fmt.Sprintf("tag%05d", i), body); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range n {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			return fmt.Errorf("filling %s: %w", tagsRepo, err)
		}
	}
	close(next)
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("filling %s: %w", tagsRepo, err)
	default:
		return nil
	}
}

// measureTagsList times o.n sequential GETs of the first page of 100 tags.
func measureTagsList(o options, c *client) (latencies, error) {
	get := func(int) error {
		_, b, err := c.do(http.StatusOK, "GET", "/v2/"+tagsRepo+"/tags/list?n=100", nil)
		if err != nil {
			return err
		}
		var page struct{ Tags []string }
		if err := json.Unmarshal(b, &page); err != nil {
			return err
		}
		if want := min(100, o.tags); len(page.Tags) != want {
			return fmt.Errorf("tags/list?n=100 gave %d tags, want %d", len(page.Tags), want)
		}
		return nil
	}
	for i := range o.warmup {
		if err := get(i); err != nil {
			return nil, err
		}
	}
	return timed(o.n, get)
}
