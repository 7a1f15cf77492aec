package gce

import (
	"context"
	"sync"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// Clients makes and keeps one Client per Options, so that the resources
// of a service (tens of disks and routes) share connections and one
// credential. The zero value is ready to use.
type Clients struct {
	mu sync.Mutex
	m  map[Options]*Client
}

// Get returns the Client of o, made on first use.
func (cs *Clients) Get(ctx context.Context, o Options) (*Client, error) {
	o = o.withDefaults()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c, ok := cs.m[o]; ok {
		return c, nil
	}
	c, err := NewClient(ctx, o)
	if err != nil {
		return nil, err
	}
	if cs.m == nil {
		cs.m = map[Options]*Client{}
	}
	cs.m[o] = c
	return c, nil
}

// Close closes every Client made.
func (cs *Clients) Close() error {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for k, c := range cs.m {
		_ = c.Close()
		delete(cs.m, k)
	}
	return nil
}

// Keyword returns the value of a gce_* keyword of cfg's section, else of
// the DEFAULT section, where the reference factorizes them ("gce_zone =
// europe-west1-b" once for every disk and route).
func Keyword(cfg driver.Config, name string) string {
	if v, ok := cfg.Lookup(name); ok && v != "" {
		return v
	}
	return cfg.Defaults[name]
}

// ConfigLocation is the location the keywords of cfg give (gce_project,
// gce_zone, gce_instance); Client.Resolve fills what they leave empty.
func ConfigLocation(cfg driver.Config) Location {
	return Location{
		Project:  Keyword(cfg, "gce_project"),
		Zone:     Keyword(cfg, "gce_zone"),
		Instance: Keyword(cfg, "gce_instance"),
	}
}

// ConfigOptions applies the gce_endpoint keyword of cfg over base.
func ConfigOptions(cfg driver.Config, base Options) Options {
	if ep := Keyword(cfg, "gce_endpoint"); ep != "" {
		base.Endpoint = ep
	}
	return base
}

// Shared is what the resources made by one factory of a GCE driver share:
// the client options the program gave the factory, and one compute client
// per set of options. The zero value is not usable; use NewShared.
type Shared struct {
	opts    Options
	clients *Clients
}

// NewShared returns an empty Shared.
func NewShared() *Shared { return &Shared{clients: &Clients{}} }

// Apply adds client options (endpoint, metadata host, pacing).
func (s *Shared) Apply(opts ...Option) {
	for _, o := range opts {
		o(&s.opts)
	}
}

// API returns how the resource of section cfg reaches the compute API:
// the section's keywords (gce_zone, gce_endpoint, ...) win over the
// factory's options.
func (s *Shared) API(cfg driver.Config) API {
	return API{loc: ConfigLocation(cfg), opts: ConfigOptions(cfg, s.opts), clients: s.clients}
}

// API is how one GCE resource reaches the compute API. Resources embed it.
type API struct {
	loc     Location
	opts    Options
	clients *Clients
}

// Client returns the compute client and the resource's location, with
// what its section leaves unset (project, zone, instance) asked of the
// metadata server. Errors are the resource's action errors.
func (a API) Client(ctx context.Context, rid, action string) (*Client, Location, error) {
	c, err := a.clients.Get(ctx, a.opts)
	if err != nil {
		return nil, Location{}, resource.Errorf(rid, action, "%w", err)
	}
	loc, err := c.Resolve(ctx, a.loc)
	if err != nil {
		return nil, loc, resource.Errorf(rid, action, "%w", err)
	}
	return c, loc, nil
}
