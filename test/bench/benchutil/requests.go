/*
Copyright 2026 The hookrun Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package benchutil

import (
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"

	"k8s.io/client-go/rest"
)

// RequestCounter counts the API requests made through the configs it
// wrapped, by verb and resource ("create jobs", "patch hookruns/status"),
// and those of them that failed with a conflict (409).
type RequestCounter struct {
	mu        sync.Mutex
	counts    map[string]int64
	conflicts map[string]int64
}

// Wrap returns a copy of cfg whose requests are counted.
func (c *RequestCounter) Wrap(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(req *http.Request) (*http.Response, error) {
			key := requestKey(req)
			c.add(key)
			resp, err := rt.RoundTrip(req)
			if err == nil && resp.StatusCode == http.StatusConflict {
				c.addConflict(key)
			}
			return resp, err
		})
	})
	return cfg
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

func (c *RequestCounter) add(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.counts == nil {
		c.counts = map[string]int64{}
	}
	c.counts[key]++
}

func (c *RequestCounter) addConflict(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conflicts == nil {
		c.conflicts = map[string]int64{}
	}
	c.conflicts[key]++
}

// Conflicts returns a copy of the counts of requests that failed with a
// conflict (409: a stale resourceVersion, or a create of a name that
// exists).
func (c *RequestCounter) Conflicts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.conflicts)
}

// Counts returns a copy of the counts.
func (c *RequestCounter) Counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

// Writes is the number of create, update, patch and delete requests.
func (c *RequestCounter) Writes() int64 {
	var n int64
	for k, v := range c.Counts() {
		switch strings.Fields(k)[0] {
		case "create", "update", "patch", "delete", "deletecollection":
			n += v
		}
	}
	return n
}

// Summary formats the counts divided by per, largest first:
// "patch hookruns/status 2.00, create jobs 1.00".
func (c *RequestCounter) Summary(per float64) string {
	counts := c.Counts()
	keys := slices.Collect(maps.Keys(counts))
	slices.SortFunc(keys, func(a, b string) int {
		if counts[a] != counts[b] {
			return int(counts[b] - counts[a])
		}
		return strings.Compare(a, b)
	})
	var parts []string
	for _, k := range keys {
		// Drop the informers' one-off discovery, list and watch calls.
		if v := float64(counts[k]) / per; v >= 0.01 && !strings.HasPrefix(k, "watch ") && !strings.HasPrefix(k, "get /") {
			parts = append(parts, fmt.Sprintf("%s %.2f", k, v))
		}
	}
	return strings.Join(parts, ", ")
}

// requestKey names a request by verb and resource. Paths look like
// /api/v1/namespaces/NS/RESOURCE[/NAME[/SUB]] or
// /apis/GROUP/VERSION/namespaces/NS/RESOURCE[/NAME[/SUB]].
func requestKey(req *http.Request) string {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		parts = parts[3:]
	default:
		return strings.ToLower(req.Method) + " " + req.URL.Path
	}
	if len(parts) >= 2 && parts[0] == "namespaces" && len(parts) > 2 {
		parts = parts[2:]
	}
	resource, named := "", false
	switch len(parts) {
	case 0:
	case 1:
		resource = parts[0]
	case 2:
		resource, named = parts[0], true
	default:
		resource, named = parts[0]+"/"+parts[2], true
	}
	verb := strings.ToLower(req.Method)
	switch {
	case verb == "get" && req.URL.Query().Get("watch") == "true":
		verb = "watch"
	case verb == "get" && !named:
		verb = "list"
	case verb == "post":
		verb = "create"
	case verb == "put":
		verb = "update"
	case verb == "delete" && !named:
		verb = "deletecollection"
	}
	return verb + " " + resource
}
