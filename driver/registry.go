package driver

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/svckit/svckit/resource"
)

// Factory makes the resource of one configuration section. It is called
// after the section was validated against the driver's manifest, so
// cfg's typed getters see well-formed values. It should do no I/O: the
// resource talks to the system in its actions.
type Factory func(ctx context.Context, cfg Config) (resource.Resource, error)

// Driver is a registered driver: what it accepts and how it is made.
type Driver struct {
	Manifest Manifest
	New      Factory
}

// Registry maps driver ids ("fs.ext4") to drivers. The zero value is not
// usable; use NewRegistry.
type Registry struct {
	mu      sync.RWMutex
	drivers map[string]Driver
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{drivers: map[string]Driver{}} }

// Register adds a driver. The id must be "group.type" and not registered
// yet.
func (r *Registry) Register(m Manifest, f Factory) error {
	if m.Group() == "" || m.Type() == "" || strings.ContainsAny(m.ID, " #@") {
		return fmt.Errorf("driver id %q: expected group.type, like fs.ext4", m.ID)
	}
	if f == nil {
		return fmt.Errorf("driver %s: nil factory", m.ID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.drivers[m.ID]; dup {
		return fmt.Errorf("driver %s is already registered", m.ID)
	}
	r.drivers[m.ID] = Driver{Manifest: m, New: f}
	return nil
}

// Replace adds or replaces a driver.
func (r *Registry) Replace(m Manifest, f Factory) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drivers[m.ID] = Driver{Manifest: m, New: f}
}

// Lookup returns the driver of id ("fs.ext4").
func (r *Registry) Lookup(id string) (Driver, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	d, ok := r.drivers[id]
	return d, ok
}

// IDs returns the registered ids, sorted.
func (r *Registry) IDs() []string {
	r.mu.RLock()
	defer r.mu.RUnlock()
	out := make([]string, 0, len(r.drivers))
	for id := range r.drivers {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// Types returns the registered types of group, sorted ("ext4", "xfs" for
// "fs").
func (r *Registry) Types(group string) []string {
	var out []string
	for _, id := range r.IDs() {
		if g, t, _ := strings.Cut(id, "."); g == group {
			out = append(out, t)
		}
	}
	return out
}

var defaultRegistry = NewRegistry()

// Default returns the process-wide registry that driver packages register
// into from their init functions.
func Default() *Registry { return defaultRegistry }

// Register adds a driver to the default registry. It panics on a bad or
// duplicate id: that is a programming error of the driver package, found
// the first time the program starts, like database/sql.Register.
func Register(m Manifest, f Factory) {
	if err := defaultRegistry.Register(m, f); err != nil {
		panic(err)
	}
}
