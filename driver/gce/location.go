package gce

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"
)

// Location is where a resource lives: the project, the zone and the
// instance (the node) it is attached or routed to.
type Location struct {
	Project  string
	Zone     string
	Instance string
}

// metadataTimeout bounds the metadata lookups of one Resolve: off GCE the
// link-local server does not answer, and the error must come quickly.
const metadataTimeout = 15 * time.Second

// Resolve fills what loc leaves empty from the metadata server, and fails
// with an error naming the keyword to set when the server cannot tell.
func (c *Client) Resolve(ctx context.Context, loc Location) (Location, error) {
	if loc.Project != "" && loc.Zone != "" && loc.Instance != "" {
		return loc, nil
	}
	ctx, cancel := context.WithTimeout(ctx, metadataTimeout)
	defer cancel()
	get := func(keyword, suffix string, dst *string) error {
		if *dst != "" {
			return nil
		}
		v, err := c.metadata(ctx, suffix)
		if err != nil {
			return fmt.Errorf("gce: %s is not set and the metadata server (%s) could not tell it: %w", keyword, c.metadataHost(), err)
		}
		v = strings.TrimSpace(v)
		if i := strings.LastIndex(v, "/"); i >= 0 {
			// instance/zone answers projects/<number>/zones/<zone>.
			v = v[i+1:]
		}
		if v == "" {
			return fmt.Errorf("gce: %s is not set and the metadata server (%s) answered an empty %s", keyword, c.metadataHost(), suffix)
		}
		*dst = v
		return nil
	}
	if err := get("gce_project", "project/project-id", &loc.Project); err != nil {
		return loc, err
	}
	if err := get("gce_zone", "instance/zone", &loc.Zone); err != nil {
		return loc, err
	}
	if err := get("gce_instance", "instance/name", &loc.Instance); err != nil {
		return loc, err
	}
	return loc, nil
}

func (c *Client) metadataHost() string {
	if c.opts.MetadataHost != "" {
		return c.opts.MetadataHost
	}
	if h := os.Getenv("GCE_METADATA_HOST"); h != "" {
		return h
	}
	return "169.254.169.254"
}

// InstanceLink is the partial URL of an instance, the form the API accepts
// wherever it takes a reference.
func InstanceLink(project, zone, instance string) string {
	return "projects/" + project + "/zones/" + zone + "/instances/" + instance
}

// DiskLink is the partial URL of a zonal disk.
func DiskLink(project, zone, disk string) string {
	return "projects/" + project + "/zones/" + zone + "/disks/" + disk
}

// NetworkLink is the partial URL of a network; a name is taken in
// project, a path ("global/networks/x", "projects/p/global/networks/x",
// a full URL) is kept as it is.
func NetworkLink(project, network string) string {
	if strings.Contains(network, "/") {
		return network
	}
	return "projects/" + project + "/global/networks/" + network
}

// SameResource tells whether two references name the same resource: the
// API answers full URLs (https://.../compute/v1/projects/...) where
// requests may give partial ones.
func SameResource(a, b string) bool {
	return a != "" && b != "" && trimLink(a) == trimLink(b)
}

// LastSegment returns the name at the end of a resource URL.
func LastSegment(link string) string {
	return link[strings.LastIndex(link, "/")+1:]
}

func trimLink(l string) string {
	if i := strings.Index(l, "projects/"); i >= 0 {
		return l[i:]
	}
	return l
}

// metadata returns the value of suffix, asked once per client: the
// project, zone and name of an instance do not change, and every action of
// every resource resolves them.
func (c *Client) metadata(ctx context.Context, suffix string) (string, error) {
	c.mdMu.Lock()
	v, ok := c.mdCache[suffix]
	c.mdMu.Unlock()
	if ok {
		return v, nil
	}
	// GetWithContext rather than ProjectIDWithContext: the latter caches
	// the answer process-wide, and one process may manage nodes of several
	// projects (or, in tests, several metadata servers).
	v, err := c.md.GetWithContext(ctx, suffix)
	if err != nil {
		return "", err
	}
	c.mdMu.Lock()
	if c.mdCache == nil {
		c.mdCache = map[string]string{}
	}
	c.mdCache[suffix] = v
	c.mdMu.Unlock()
	return v, nil
}
