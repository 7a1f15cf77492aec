package fake

import (
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/resource"
)

// service is the index of the fakes one registry built for one service
// (one var directory): the siblings whose state the ordering checks read.
type service struct {
	key    string
	varDir string

	mu      sync.Mutex
	members map[string]*Resource
	// section is the Section function of the latest load: a member it
	// does not know was dropped from the configuration since.
	section func(rid string) (driver.Config, bool)
	gen     int
	graph   *graph
	// mem holds the states when there is no var directory (or the
	// options keep them in memory).
	mem   map[string]State
	locks map[string]*sync.Mutex
}

func newService(key, varDir string) *service {
	return &service{
		key:     key,
		varDir:  varDir,
		members: map[string]*Resource{},
		mem:     map[string]State{},
		locks:   map[string]*sync.Mutex{},
	}
}

func (s *service) add(r *Resource, section func(string) (driver.Config, bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[r.ID] = r
	if section != nil {
		s.section = section
	}
	s.gen++
	s.graph = nil
}

// lock serializes the read-modify-write of the state of rid in this
// process; the service action lock serializes processes.
func (s *service) lock(rid string) *sync.Mutex {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.locks[rid]
	if !ok {
		l = &sync.Mutex{}
		s.locks[rid] = l
	}
	return l
}

func (s *service) read(rid string) (State, bool, error) {
	if s.varDir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		st, ok := s.mem[rid]
		if !ok {
			st.RID = rid
		}
		return st, ok, nil
	}
	return readStateFile(s.varDir, rid)
}

func (s *service) write(st State) error {
	if s.varDir == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.mem[st.RID] = st
		return nil
	}
	return writeStateFile(s.varDir, st)
}

// edge says that user needs provider up, for name.
type edge struct {
	user, provider *Resource
	name           string
}

type graph struct {
	uses   map[string][]edge // by user rid
	usedBy map[string][]edge // by provider rid
}

// deps returns the dependency graph of the live members, computed once
// per change of the membership.
func (s *service) deps() *graph {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.graph == nil {
		s.graph = buildGraph(s.live())
	}
	return s.graph
}

// live returns the members that take part in the service: neither
// disabled nor dropped from the configuration since they were built.
func (s *service) live() []*Resource {
	out := make([]*Resource, 0, len(s.members))
	for rid, r := range s.members {
		if r.FlagSet.Disabled {
			continue
		}
		if s.section != nil {
			if _, ok := s.section(rid); !ok {
				continue
			}
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

type provided struct {
	path string
	r    *Resource
}

func buildGraph(live []*Resource) *graph {
	g := &graph{uses: map[string][]edge{}, usedBy: map[string][]edge{}}
	byRID := map[string]*Resource{}
	var paths []provided
	for _, r := range live {
		byRID[r.ID] = r
		for _, p := range r.provides {
			paths = append(paths, provided{p, r})
		}
	}
	for _, u := range live {
		if u.order != resource.OrderByUses {
			continue // ordered by group: nothing to check
		}
		for _, name := range u.uses {
			for _, p := range providersOf(name, u, byRID, paths) {
				e := edge{user: u, provider: p, name: name}
				g.uses[u.ID] = append(g.uses[u.ID], e)
				g.usedBy[p.ID] = append(g.usedBy[p.ID], e)
			}
		}
	}
	return g
}

// providersOf maps a used name to the resources that provide it, the way
// resource.Provider describes: "rid:<rid>" is that resource; a path is
// provided by the resources that provide the longest path equal to it or
// a parent directory of it. A resource never provides for itself.
func providersOf(name string, user *Resource, byRID map[string]*Resource, paths []provided) []*Resource {
	if rid, ok := strings.CutPrefix(name, "rid:"); ok {
		if p, ok := byRID[rid]; ok && p != user {
			return []*Resource{p}
		}
		return nil
	}
	if !filepath.IsAbs(name) {
		return nil
	}
	name = filepath.Clean(name)
	best := -1
	var out []*Resource
	for _, p := range paths {
		if p.r == user || !within(name, p.path) {
			continue
		}
		switch {
		case len(p.path) > best:
			best = len(p.path)
			out = append(out[:0], p.r)
		case len(p.path) == best && !slices.Contains(out, p.r):
			out = append(out, p.r)
		}
	}
	return out
}

// within tells whether path is dir or lies under it.
func within(path, dir string) bool {
	if path == dir || dir == "/" {
		return true
	}
	return strings.HasPrefix(path, dir+"/")
}
