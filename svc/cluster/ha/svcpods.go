package ha

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
)

// ServicePods runs pods as actions of the service on this node, a pod
// being the resources of its tag (podNN). Start moves the pod to this
// node in the node's config with the planner (its resources enabled
// here, its gateway this node's), then provisions it: nothing that exists
// is created again, its disk is attached here (detached from the node it
// was on: the cloud-level fence), its routes point here. Stop stops the
// pod, its standby disk included (the next node attaches it).
type ServicePods struct {
	node    string
	planner cluster.Planner
	load    func(ctx context.Context, config []byte) (*svc.Service, error)

	mu      sync.Mutex
	config  []byte
	install func(ctx context.Context, config []byte) error
}

// SetInstall makes Start install the config that places the pod here
// (the daemon writes it as the node's <svc>.conf, which its monitor
// reads) before it provisions the pod.
func (p *ServicePods) SetInstall(install func(ctx context.Context, config []byte) error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.install = install
}

// NewServicePods runs the pods of config on node; load parses a config
// for this node (svc.Parse with the node's options and registry).
func NewServicePods(node string, config []byte, planner cluster.Planner, load func(ctx context.Context, config []byte) (*svc.Service, error)) *ServicePods {
	return &ServicePods{node: node, planner: planner, load: load, config: slices.Clone(config)}
}

var podTagRE = regexp.MustCompile(`^pod(\d+)$`)

// podNum reads the pod number of a tag.
func podNum(pod string) (int, error) {
	m := podTagRE.FindStringSubmatch(pod)
	if m == nil {
		return 0, fmt.Errorf("pod %q: expected a pod tag like pod01", pod)
	}
	return strconv.Atoi(m[1])
}

// Config is the node's current config (with the pods it started placed
// here).
func (p *ServicePods) Config() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.config)
}

// Start provisions pod here.
func (p *ServicePods) Start(ctx context.Context, pod string) error {
	n, err := podNum(pod)
	if err != nil {
		return err
	}
	p.mu.Lock()
	cfg, _, err := p.planner.MovePod(p.config, n, p.node)
	if err == nil && p.install != nil {
		// Under the lock: configs are installed in the order they
		// were made, each with every pod placed so far.
		err = p.install(ctx, cfg)
	}
	if err == nil {
		p.config = cfg
	}
	p.mu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: placing it on %s: %w", pod, p.node, err)
	}
	s, err := p.load(ctx, cfg)
	if err != nil {
		return err
	}
	_, err = s.Provision(ctx, svc.ActionOptions{Selection: svc.Selection{Tags: pod}})
	return err
}

// Stop stops pod here, its standby disk included.
func (p *ServicePods) Stop(ctx context.Context, pod string) error {
	if _, err := podNum(pod); err != nil {
		return err
	}
	s, err := p.load(ctx, p.Config())
	if err != nil {
		return err
	}
	_, err = s.Stop(ctx, svc.ActionOptions{Selection: svc.Selection{Tags: pod}, Force: true})
	return err
}

// Running lists the pods whose every resource is up here.
func (p *ServicePods) Running(ctx context.Context) ([]string, error) {
	s, err := p.load(ctx, p.Config())
	if err != nil {
		return nil, err
	}
	rep := s.Status(ctx)
	all := map[string]bool{}
	for _, rs := range rep.Resources {
		if rs.Disabled {
			continue
		}
		for _, tag := range rs.Tags {
			if !podTagRE.MatchString(tag) {
				continue
			}
			if _, ok := all[tag]; !ok {
				all[tag] = true
			}
			if rs.Status.Final().String() != "up" {
				all[tag] = false
			}
		}
	}
	var out []string
	for pod, up := range all {
		if up {
			out = append(out, pod)
		}
	}
	slices.Sort(out)
	return out, nil
}

// ConfigOf is the agent configuration of service s on its node: nodes
// and flex_primary, ha_lease_ttl (the grace is half of it),
// flex_min_nodes, ha_max_pods_per_node, and layout as the initial
// placement (pod tag -> node, from the planner's reading of the config).
func ConfigOf(s *svc.Service, layout map[string]string) (Config, error) {
	c := Config{Service: s.Name(), Node: s.Node(), Nodes: s.Nodes(), Primary: s.FlexPrimary(), Layout: layout}
	var err error
	if v := s.Keyword("ha_lease_ttl"); v != "" {
		if c.LeaseTTL, err = driver.ParseDuration(v); err != nil {
			return Config{}, fmt.Errorf("ha_lease_ttl = %q: %w", v, err)
		}
	}
	for kw, dst := range map[string]*int{"flex_min_nodes": &c.MinNodes, "ha_max_pods_per_node": &c.MaxPerNode} {
		if v := s.Keyword(kw); v != "" {
			if *dst, err = strconv.Atoi(v); err != nil || *dst < 0 {
				return Config{}, fmt.Errorf("%s = %q: expected a number of 0 or more", kw, v)
			}
		}
	}
	return c, c.defaults()
}
