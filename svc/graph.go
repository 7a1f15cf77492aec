package svc

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/svckit/svckit/resource"
)

// Scheduler names how an action orders resources.
const (
	// SchedulerGraph starts a resource as soon as what it uses is up
	// (resources ordered by group, resource.OrderByGroup, keep the group order).
	SchedulerGraph = "graph"
	// SchedulerGroups is the reference's order: group by group (ip, disk,
	// fs, share, container, app), rid by rid inside a group, concurrently
	// only inside parallel subsets.
	SchedulerGroups = "groups"
)

// graph is the dependency graph of one action: deps[i] lists the nodes
// that must be done before node i runs.
type graph struct {
	res  []resource.Resource
	deps [][]int
}

// effectiveGroup is the group a resource is ordered in: an ip plumbed
// into a container (container_rid) comes after the containers, the
// service's private docker daemon before them.
func (s *Service) effectiveGroup(r resource.Resource) int {
	if s.configs[r.RID()].Manifest.ID == "container.dockerd" {
		// The private docker daemon: after the filesystems, before the
		// containers (shifted below), which run on it.
		return groupRank("container")
	}
	g := groupRank(resource.Group(r.RID()))
	if s.containerRID(r) != "" {
		return groupRank("container") + 1
	}
	if g >= groupRank("container") {
		g++
	}
	return g
}

// startGraph returns the start-order graph of res.
func (s *Service) startGraph(res []resource.Resource, scheduler string) *graph {
	g := &graph{res: res, deps: make([][]int, len(res))}
	index := map[string]int{}
	for i, r := range res {
		index[r.RID()] = i
	}
	if scheduler == SchedulerGroups {
		s.groupEdges(g)
	} else {
		s.useEdges(g)
	}
	// Edges every scheduler keeps: an ip in a container's netns after the
	// container; explicit start_requires.
	for i, r := range res {
		if c := s.containerRID(r); c != "" {
			if j, ok := index[c]; ok {
				g.deps[i] = append(g.deps[i], j)
			}
		}
		for _, rid := range strings.Fields(s.configs[r.RID()].Values["start_requires"]) {
			if j, ok := index[rid]; ok {
				g.deps[i] = append(g.deps[i], j)
			}
		}
	}
	g.dedup()
	return g
}

// stopGraph returns the stop-order graph: the start graph reversed, plus
// explicit stop_requires.
func (s *Service) stopGraph(res []resource.Resource, scheduler string) *graph {
	start := s.startGraph(res, scheduler)
	g := &graph{res: res, deps: make([][]int, len(res))}
	for i, deps := range start.deps {
		for _, j := range deps {
			g.deps[j] = append(g.deps[j], i)
		}
	}
	index := map[string]int{}
	for i, r := range res {
		index[r.RID()] = i
	}
	for i, r := range res {
		for _, rid := range strings.Fields(s.configs[r.RID()].Values["stop_requires"]) {
			if j, ok := index[rid]; ok {
				g.deps[i] = append(g.deps[i], j)
			}
		}
	}
	g.dedup()
	return g
}

// groupEdges chains the resources the way the reference runs them: groups
// in order, and inside a group one unit after the other, a unit being a
// single resource or all the resources of a parallel subset.
func (s *Service) groupEdges(g *graph) {
	type unit struct {
		group    int // ordering key
		firstRID string
		members  []int
	}
	var units []*unit
	bySubset := map[string]*unit{}
	for i, r := range g.res {
		grp := s.effectiveGroup(r)
		key := resource.Group(r.RID()) + ":" + r.Subset()
		if r.Subset() != "" && s.subsets[key] {
			if u, ok := bySubset[fmt.Sprint(grp, key)]; ok {
				u.members = append(u.members, i)
				continue
			}
			u := &unit{group: grp, firstRID: r.RID(), members: []int{i}}
			bySubset[fmt.Sprint(grp, key)] = u
			units = append(units, u)
			continue
		}
		units = append(units, &unit{group: grp, firstRID: r.RID(), members: []int{i}})
	}
	sort.SliceStable(units, func(a, b int) bool {
		if units[a].group != units[b].group {
			return units[a].group < units[b].group
		}
		return units[a].firstRID < units[b].firstRID
	})
	members := make([][]int, len(units))
	for u, un := range units {
		members[u] = un.members
	}
	order := s.honourRequires(g, members)
	for k := 1; k < len(order); k++ {
		for _, m := range units[order[k]].members {
			g.deps[m] = append(g.deps[m], units[order[k-1]].members...)
		}
	}
}

// honourRequires orders the units (given by their members, in group
// order) so that explicit
// start_requires and stop_requires win over the rid order: "fs#01
// start_requires = fs#02" runs fs#02 first rather than making a cycle with
// the chain. Among the units free to go, the earliest in group order goes
// first. A cycle among the explicit requirements themselves keeps the
// group order for the rest; the graph then reports it.
func (s *Service) honourRequires(g *graph, members [][]int) []int {
	n := len(members)
	unitOf := make([]int, len(g.res))
	for u, ms := range members {
		for _, m := range ms {
			unitOf[m] = u
		}
	}
	index := map[string]int{}
	for i, r := range g.res {
		index[r.RID()] = i
	}
	before := make([][]int, n) // before[b]: units that start before unit b
	for i, r := range g.res {
		cfg := s.configs[r.RID()]
		for _, rid := range strings.Fields(cfg.Values["start_requires"]) {
			if j, ok := index[rid]; ok && unitOf[j] != unitOf[i] {
				before[unitOf[i]] = append(before[unitOf[i]], unitOf[j])
			}
		}
		// j stops before i: i starts before j.
		for _, rid := range strings.Fields(cfg.Values["stop_requires"]) {
			if j, ok := index[rid]; ok && unitOf[j] != unitOf[i] {
				before[unitOf[j]] = append(before[unitOf[j]], unitOf[i])
			}
		}
	}
	placed := make([]bool, n)
	order := make([]int, 0, n)
	for len(order) < n {
		next := -1
		for u := 0; u < n && next < 0; u++ {
			if placed[u] {
				continue
			}
			ready := true
			for _, a := range before[u] {
				if !placed[a] {
					ready = false
					break
				}
			}
			if ready {
				next = u
			}
		}
		if next < 0 {
			for u := 0; u < n; u++ {
				if !placed[u] {
					placed[u] = true
					order = append(order, u)
				}
			}
			break
		}
		placed[next] = true
		order = append(order, next)
	}
	return order
}

// useEdges links each resource ordered by uses (resource.OrderByUses) to
// the providers of what it uses. A resource ordered by group (not a
// resource.User, or resource.OrderByGroup) waits for every resource of the
// groups before its own, as in the reference (groupEdges).
func (s *Service) useEdges(g *graph) {
	idx := newProviderIndex(g.res)
	var ranks []int // effective group ranks, computed when a barrier needs them
	for i, r := range g.res {
		uses, order := []string(nil), resource.OrderByGroup
		if u, ok := r.(resource.User); ok {
			uses, order = u.Uses()
		}
		if order == resource.OrderByUses {
			for _, name := range uses {
				g.deps[i] = append(g.deps[i], idx.providers(name, i)...)
			}
			continue
		}
		if ranks == nil {
			ranks = make([]int, len(g.res))
			for j, o := range g.res {
				ranks[j] = s.effectiveGroup(o)
			}
		}
		g.deps[i] = append(g.deps[i], groupEdges(g.res, i, ranks, idx)...)
	}
}

// groupEdges returns what resource i, ordered by group, waits for: every
// resource of a group ranked before its own, and the providers of the
// directory above what it provides. The barrier orders groups, not the
// resources of its own group: an fs on LABEL= mounted under another fs's
// mount point would otherwise mount beside it.
func groupEdges(res []resource.Resource, i int, ranks []int, idx *providerIndex) []int {
	var deps []int
	for j := range res {
		if ranks[j] < ranks[i] {
			deps = append(deps, j)
		}
	}
	if p, ok := res[i].(resource.Provider); ok {
		for _, name := range p.Provides() {
			if c := filepath.Clean(name); filepath.IsAbs(c) && c != "/" {
				deps = append(deps, idx.providers(filepath.Dir(c), i)...)
			}
		}
	}
	return deps
}

// providerIndex finds the providers of a used name. A used path is
// provided by the resources providing the longest path equal to it or a
// parent directory of it, the user itself excluded (the rule of
// resource.Provider, which the fake drivers check too); "rid:<rid>" is
// provided by that resource. The provided paths are indexed, and a used
// path is looked up with each of its parent directories in turn: with
// hundreds of resources, comparing every use with every provided path
// made planning cost more than a wave of driver calls.
type providerIndex struct {
	byPath map[string][]int
	byRID  map[string]int
}

func newProviderIndex(res []resource.Resource) *providerIndex {
	idx := &providerIndex{byPath: map[string][]int{}, byRID: make(map[string]int, len(res))}
	for i, r := range res {
		idx.byRID[r.RID()] = i
		if p, ok := r.(resource.Provider); ok {
			for _, name := range p.Provides() {
				if filepath.IsAbs(name) {
					c := filepath.Clean(name)
					idx.byPath[c] = append(idx.byPath[c], i)
				}
			}
		}
	}
	return idx
}

// providers returns the indexes of the providers of name for the
// resource at index self.
func (idx *providerIndex) providers(name string, self int) []int {
	if rid, ok := strings.CutPrefix(name, "rid:"); ok {
		if j, found := idx.byRID[rid]; found && j != self {
			return []int{j}
		}
		return nil
	}
	if !filepath.IsAbs(name) {
		return nil
	}
	for p := filepath.Clean(name); ; p = filepath.Dir(p) {
		var out []int
		for _, j := range idx.byPath[p] {
			if j != self {
				out = append(out, j)
			}
		}
		if len(out) > 0 {
			return out
		}
		if filepath.Dir(p) == p {
			return nil
		}
	}
}

func (g *graph) dedup() {
	for i, d := range g.deps {
		if len(d) < 2 {
			continue
		}
		sort.Ints(d)
		out := d[:1]
		for _, x := range d[1:] {
			if x != out[len(out)-1] {
				out = append(out, x)
			}
		}
		g.deps[i] = out
	}
}

// waves returns the nodes by depth: wave k holds the nodes whose longest
// chain of dependencies has k links. It reports a cycle as an error.
func (g *graph) waves() ([][]string, error) {
	depth := make([]int, len(g.res))
	state := make([]int, len(g.res)) // 0 new, 1 visiting, 2 done
	var visit func(i int) error
	visit = func(i int) error {
		switch state[i] {
		case 1:
			return fmt.Errorf("dependency cycle through %s", g.res[i].RID())
		case 2:
			return nil
		}
		state[i] = 1
		d := 0
		for _, j := range g.deps[i] {
			if err := visit(j); err != nil {
				return err
			}
			d = max(d, depth[j]+1)
		}
		depth[i] = d
		state[i] = 2
		return nil
	}
	maxDepth := 0
	for i := range g.res {
		if err := visit(i); err != nil {
			return nil, err
		}
		maxDepth = max(maxDepth, depth[i])
	}
	if len(g.res) == 0 {
		return nil, nil
	}
	out := make([][]string, maxDepth+1)
	for i, r := range g.res {
		out[depth[i]] = append(out[depth[i]], r.RID())
	}
	for _, w := range out {
		sort.Strings(w)
	}
	return out, nil
}

// criticalPath returns the heaviest chain of dependencies, each node
// weighing weight(rid), and its rids in run order. The graph has no cycle
// (waves checked it).
func (g *graph) criticalPath(weight func(rid string) time.Duration) (time.Duration, []string) {
	n := len(g.res)
	cost := make([]time.Duration, n) // heaviest chain ending at i, i included
	prev := make([]int, n)
	done := make([]bool, n)
	var visit func(i int)
	visit = func(i int) {
		if done[i] {
			return
		}
		done[i] = true
		prev[i] = -1
		var best time.Duration
		for _, j := range g.deps[i] {
			visit(j)
			if prev[i] < 0 || cost[j] > best {
				best, prev[i] = cost[j], j
			}
		}
		cost[i] = best + weight(g.res[i].RID())
	}
	end := -1
	for i := range g.res {
		visit(i)
		if end < 0 || cost[i] > cost[end] {
			end = i
		}
	}
	if end < 0 {
		return 0, nil
	}
	var chain []string
	for i := end; i >= 0; i = prev[i] {
		chain = append(chain, g.res[i].RID())
	}
	slices.Reverse(chain)
	return cost[end], chain
}

// run executes fn on every node once its dependencies are done, at most
// limit at once (0: no limit). After a failure it launches nothing new
// and waits for the running ones. It returns the error of every node that
// failed, and the nodes never run.
func (g *graph) run(ctx context.Context, limit int, fn func(ctx context.Context, r resource.Resource) error) (errs map[string]error, notRun []string) {
	n := len(g.res)
	errs = map[string]error{}
	if n == 0 {
		return errs, nil
	}
	waiting := make([]int, n)
	dependents := make([][]int, n)
	for i, deps := range g.deps {
		waiting[i] = len(deps)
		for _, j := range deps {
			dependents[j] = append(dependents[j], i)
		}
	}
	var (
		mu      sync.Mutex
		wg      sync.WaitGroup
		failed  bool
		started = make([]bool, n)
		sem     chan struct{}
	)
	if limit > 0 {
		sem = make(chan struct{}, limit)
	}
	var launch func(i int)
	launch = func(i int) {
		started[i] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sem != nil {
				sem <- struct{}{}
			}
			mu.Lock()
			stop := failed || ctx.Err() != nil
			mu.Unlock()
			var err error
			if stop {
				err = errNotLaunched
			} else {
				err = fn(ctx, g.res[i])
			}
			if sem != nil {
				<-sem
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if err != errNotLaunched {
					errs[g.res[i].RID()] = err
				} else {
					started[i] = false
				}
				failed = true
				return
			}
			if failed {
				return
			}
			for _, d := range dependents[i] {
				waiting[d]--
				if waiting[d] == 0 && !started[d] {
					launch(d)
				}
			}
		}()
	}
	mu.Lock()
	for i := range g.res {
		if waiting[i] == 0 {
			launch(i)
		}
	}
	mu.Unlock()
	wg.Wait()
	for i, r := range g.res {
		if !started[i] {
			notRun = append(notRun, r.RID())
		}
	}
	if len(errs) == 0 && ctx.Err() != nil && len(notRun) > 0 {
		errs["(context)"] = ctx.Err()
	}
	return errs, notRun
}

var errNotLaunched = fmt.Errorf("not launched")
