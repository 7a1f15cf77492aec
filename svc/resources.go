package svc

import (
	"cmp"
	"path/filepath"
	"slices"
	"strings"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// groupOrder is the start order of resource groups; stop is the reverse.
var groupOrder = []string{"ip", "disk", "fs", "share", "container", "app", "sync", "task"}

func groupRank(group string) int {
	for i, g := range groupOrder {
		if g == group {
			return i
		}
	}
	return len(groupOrder)
}

func sortResources(l []resource.Resource) {
	// The group rank and rid of each resource are computed once, not in
	// every comparison of the sort (thousands of resources).
	type keyed struct {
		rank int
		rid  string
		r    resource.Resource
	}
	ks := make([]keyed, len(l))
	ps := make([]*keyed, len(l))
	for i, r := range l {
		rid := r.RID()
		ks[i] = keyed{groupRank(resource.Group(rid)), rid, r}
		ps[i] = &ks[i]
	}
	// Pointers sorted, not the keyed values: a swap moves 8 bytes, not
	// 40. Not a stable sort: rids are unique, so the order is total.
	slices.SortFunc(ps, func(a, b *keyed) int {
		if a.rank != b.rank {
			return cmp.Compare(a.rank, b.rank)
		}
		return strings.Compare(a.rid, b.rid)
	})
	for i, k := range ps {
		l[i] = k.r
	}
}

// implicitSyncRID is the resource the reference adds to every service to
// copy its configuration to the other nodes.
const implicitSyncRID = "sync#i0"

func (l *loader) addImplicitSync() {
	if l.raw.section(implicitSyncRID) != nil {
		return
	}
	d, ok := l.reg.Lookup("sync.rsync")
	if !ok {
		return
	}
	cfg := driver.Config{
		RID: implicitSyncRID, Manifest: d.Manifest, Svcname: l.s.name, Nodename: l.s.node,
		Nodes: l.s.nodes, DRPNodes: l.s.drpNodes, FlexPrimary: l.s.flexPrimary, VarDir: l.s.varDir,
		Values: map[string]string{"type": "rsync", "target": "drpnodes nodes"}, Defaults: l.s.keywords, Section: l.s.section,
	}
	for _, kw := range d.Manifest.AllKeywords() {
		if _, set := cfg.Values[kw.Name]; !set && kw.Default != "" {
			cfg.Values[kw.Name] = kw.Default
		}
	}
	l.s.configs[implicitSyncRID] = cfg
}

// implicitDockerdRID is the private docker daemon svc adds to a service
// whose DEFAULT sets docker_data_dir (the reference's
// docker_daemon_private), as driver/container.DockerdRID names it.
const implicitDockerdRID = "container#dockerd"

// addImplicitDockerd adds the private docker daemon when the service has
// containers and DEFAULT asks for it: docker_data_dir set and
// docker_daemon_private not false. Its settings are DEFAULT's; their
// problems are reported at DEFAULT's lines. It has no tags, like the
// filesystem holding its data root (the seed's fs#00): a selection by
// tags leaves both alone, and a container selected without them finds its
// daemon running or says that it is not.
func (l *loader) addImplicitDockerd() {
	dir := strings.TrimSpace(l.s.keywords["docker_data_dir"])
	if dir != "" && !filepath.IsAbs(dir) {
		def := l.defaultRaw()
		l.problem(keyLine(def, "docker_data_dir"), defaultSection, "docker_data_dir", "%q: expected an absolute path", dir)
		return
	}
	if dir == "" || l.raw.section(implicitDockerdRID) != nil {
		return
	}
	if v := l.s.keywords["docker_daemon_private"]; v != "" {
		if b, err := driver.ParseBool(v); err != nil || !b {
			return
		}
	}
	d, ok := l.reg.Lookup("container.dockerd")
	if !ok {
		return
	}
	containers := 0
	for rid, cfg := range l.s.configs {
		if resource.Group(rid) == "container" && cfg.Manifest.ID != d.Manifest.ID {
			containers++
		}
	}
	if containers == 0 {
		return
	}
	cfg := driver.Config{
		RID: implicitDockerdRID, Manifest: d.Manifest, Svcname: l.s.name, Nodename: l.s.node,
		Nodes: l.s.nodes, DRPNodes: l.s.drpNodes, FlexPrimary: l.s.flexPrimary, VarDir: l.s.varDir,
		Values: map[string]string{"type": "dockerd"}, Defaults: l.s.keywords, Section: l.s.section,
	}
	for _, kw := range d.Manifest.AllKeywords() {
		if _, set := cfg.Values[kw.Name]; !set && kw.Default != "" {
			cfg.Values[kw.Name] = kw.Default
		}
	}
	if d.Manifest.Spec != nil {
		if _, err := d.Manifest.Spec(cfg); err != nil {
			def := l.defaultRaw()
			if ke, ok := driver.AsKeywordError(err); ok {
				l.problem(keyLine(def, ke.Keyword), defaultSection, ke.Keyword, "%s", ke.Err.Error())
			} else {
				l.problem(def.Line, defaultSection, "", "%s: %s", implicitDockerdRID, err.Error())
			}
			return
		}
	}
	l.s.configs[implicitDockerdRID] = cfg
}

// Resource returns the resource of rid.
func (s *Service) Resource(rid string) (resource.Resource, bool) {
	for _, r := range s.resources {
		if r.RID() == rid {
			return r, true
		}
	}
	return nil, false
}

// Config returns the resolved configuration of rid's section.
func (s *Service) Config(rid string) (driver.Config, bool) { return s.section(rid) }

// Subsets returns the subsets declared by [subset#group:name] sections and
// whether each runs in parallel, keyed "group:name".
func (s *Service) Subsets() map[string]bool {
	out := make(map[string]bool, len(s.subsets))
	for k, v := range s.subsets {
		out[k] = v
	}
	return out
}

// VarDir is the service's state directory.
func (s *Service) VarDir() string { return s.varDir }

// Rollback tells whether a failed start or provision undoes what it started.
func (s *Service) Rollback() bool { b, _ := driver.ParseBool(s.keywords["rollback"]); return b }

// ShowDisabled tells whether print status shows disabled resources.
func (s *Service) ShowDisabled() bool {
	b, _ := driver.ParseBool(s.keywords["show_disabled"])
	return b
}

// IsFlexPrimary tells whether this node runs the cluster-wide actions.
func (s *Service) IsFlexPrimary() bool { return s.node == s.flexPrimary }

// containerRID returns the container_rid of r's section, if any.
func (s *Service) containerRID(r resource.Resource) string {
	return strings.TrimSpace(s.configs[r.RID()].Values["container_rid"])
}
