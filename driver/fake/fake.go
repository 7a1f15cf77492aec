package fake

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/container"
	"github.com/svckit/svckit/driver/disk"
	"github.com/svckit/svckit/driver/fs"
	"github.com/svckit/svckit/driver/ip"
	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/resource"
)

// Actions a fault or a latency can name.
const (
	ActionStart       = "start"
	ActionStop        = "stop"
	ActionProvision   = "provision"
	ActionUnprovision = "unprovision"
	ActionStatus      = "status"
)

var actions = []string{ActionStart, ActionStop, ActionProvision, ActionUnprovision, ActionStatus}

// Options configure the fakes of one registry.
type Options struct {
	// Latency is how long start, stop, provision and unprovision take,
	// from the call to the state change (checks included); saving the
	// state comes on top. Status takes no time unless LatencyOf says so.
	Latency time.Duration
	// LatencyOf overrides Latency. Keys, from the most to the least
	// specific: "<rid>:<action>", "<rid>", "<driver id>:<action>",
	// "<driver id>", "<action>" ("fs#01:start", "disk.gce", "stop").
	LatencyOf map[string]time.Duration
	// Faults make chosen calls fail.
	Faults []Fault
	// Recorder, when set, receives every call.
	Recorder *Recorder
	// Memory keeps the state in the registry instead of VarDir: no other
	// process sees it, and no action waits for the disk. Meant for
	// benchmarks that measure a scheduler in one process.
	Memory bool
}

// Validate checks hand-written options (OptionsFromEnv validates its
// own): a malformed fault would otherwise never fire.
func (o Options) Validate() error {
	if o.Latency < 0 {
		return fmt.Errorf("fake options: negative latency %s", o.Latency)
	}
	for k, d := range o.LatencyOf {
		if d < 0 {
			return fmt.Errorf("fake options: latency of %s: negative latency %s", k, d)
		}
	}
	for _, f := range o.Faults {
		if err := f.Validate(); err != nil {
			return fmt.Errorf("fake options: %w", err)
		}
	}
	return nil
}

// Fault makes calls of a fake fail.
type Fault struct {
	// RID is a path.Match glob of the rids to fail ("fs#03", "container#*").
	RID string
	// Action is the action to fail: start, stop, provision, unprovision or
	// status; "" or "*" means every action.
	Action string
	// Nth fails only the Nth call (1-based) of each matching rid and
	// action; 0 fails every call.
	Nth int
	// Node, when set, is a path.Match glob of the nodes where the fault
	// applies.
	Node string
	// Message is the error text; a default names the call.
	Message string
}

func (f Fault) matches(node, rid, action string, n int) bool {
	if ok, _ := path.Match(f.RID, rid); !ok {
		return false
	}
	if f.Action != "" && f.Action != "*" && f.Action != action {
		return false
	}
	if f.Node != "" {
		if ok, _ := path.Match(f.Node, node); !ok {
			return false
		}
	}
	return f.Nth == 0 || f.Nth == n
}

// Validate tells whether the fault is well formed.
func (f Fault) Validate() error {
	if f.RID == "" {
		return fmt.Errorf("fault: empty rid pattern")
	}
	if _, err := path.Match(f.RID, ""); err != nil {
		return fmt.Errorf("fault: rid pattern %q: %w", f.RID, err)
	}
	if f.Node != "" {
		if _, err := path.Match(f.Node, ""); err != nil {
			return fmt.Errorf("fault: node pattern %q: %w", f.Node, err)
		}
	}
	if f.Action != "" && f.Action != "*" && !isAction(f.Action) {
		return fmt.Errorf("fault %s: unknown action %q: expected one of %s", f.RID, f.Action, strings.Join(actions, ", "))
	}
	if f.Nth < 0 {
		return fmt.Errorf("fault %s:%s: nth %d: expected 0 (every call) or a call number from 1", f.RID, f.Action, f.Nth)
	}
	return nil
}

func isAction(a string) bool {
	for _, x := range actions {
		if a == x {
			return true
		}
	}
	return false
}

// StandardManifests returns the manifests of every standard driver, the
// ones Registry fakes.
func StandardManifests() []driver.Manifest {
	var out []driver.Manifest
	out = append(out, disk.Manifests()...)
	out = append(out, fs.Manifests()...)
	out = append(out, ip.Manifests()...)
	out = append(out, container.Manifests()...)
	out = append(out, syncdrv.Manifests()...)
	return out
}

// Registry returns a new registry holding a fake of every standard driver,
// under its real id and with its real manifest. Resources built by it
// share fault counters, the recorder and the sibling index for ordering
// checks; separate Registry values share nothing but the state files.
// Check hand-written options with Options.Validate first.
func Registry(opts Options) *driver.Registry {
	return Replace(nil, opts)
}

// Replace returns a new registry with a fake for every driver of reg (with
// the same manifest) plus the standard drivers reg lacks. reg may be nil.
//
// A driver svckit does not know (not an id of StandardManifests) gets a
// generic fake: up/down, provisioning, faults, latency, and the label and
// ordering of the program's own driver. A driver whose manifest has a
// Spec (driver.SpecFunc) is known by it, as the standard drivers are.
// Without one, the fake calls that driver's factory, which does no I/O
// (see driver.Factory), and asks the resource for its Label, Provides and
// Uses; a resource that is not a resource.User is ordered by group, as
// with the real registry, and a factory error is the fake's error. The
// real resource is then dropped: none of its actions runs. The standard
// drivers of reg are never called.
func Replace(reg *driver.Registry, opts Options) *driver.Registry {
	f := &fakes{
		opts:     opts,
		counters: map[counterKey]int{},
		services: map[string]*service{},
		failNext: map[counterKey]int{},
	}
	standard := map[string]bool{}
	for _, m := range StandardManifests() {
		standard[m.ID] = true
	}
	out := driver.NewRegistry()
	if reg != nil {
		for _, id := range reg.IDs() {
			d, ok := reg.Lookup(id)
			if !ok {
				continue
			}
			if standard[id] || d.New == nil || d.Manifest.Spec != nil {
				out.Replace(d.Manifest, f.factory)
			} else {
				out.Replace(d.Manifest, f.userFactory(d.New))
			}
		}
	}
	for _, m := range StandardManifests() {
		if _, ok := out.Lookup(m.ID); !ok {
			out.Replace(m, f.factory)
		}
	}
	return out
}

// fakes is the shared state of the fakes of one registry.
type fakes struct {
	opts Options

	mu       sync.Mutex
	counters map[counterKey]int
	services map[string]*service
	failNext map[counterKey]int // Resource.FailNext
}

type counterKey struct{ svc, rid, action string }

// service returns the index of the service whose state lives in varDir
// (or in memory, by service name, when varDir is empty).
func (f *fakes) service(cfg driver.Config) *service {
	key, varDir := cfg.VarDir, cfg.VarDir
	if key == "" {
		key = "mem:" + cfg.Svcname
	}
	if f.opts.Memory {
		varDir = ""
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.services[key]
	if !ok {
		s = newService(key, varDir)
		f.services[key] = s
	}
	return s
}

// count registers one more call and returns the fault to inject, if any.
func (f *fakes) count(svcKey, node, rid, action string) (int, *Fault) {
	f.mu.Lock()
	k := counterKey{svcKey, rid, action}
	f.counters[k]++
	n := f.counters[k]
	f.mu.Unlock()
	for i := range f.opts.Faults {
		if f.opts.Faults[i].matches(node, rid, action, n) {
			return n, &f.opts.Faults[i]
		}
	}
	return n, nil
}

func (f *fakes) latency(rid, driverID, action string) time.Duration {
	for _, k := range []string{rid + ":" + action, rid, driverID + ":" + action, driverID, action} {
		if d, ok := f.opts.LatencyOf[k]; ok {
			return d
		}
	}
	if action == ActionStatus {
		return 0
	}
	return f.opts.Latency
}

func (f *fakes) factory(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
	return f.make(ctx, cfg, nil)
}

// userFactory returns the factory of the fake of a program's own driver,
// whose resources order as those of real do.
func (f *fakes) userFactory(real driver.Factory) driver.Factory {
	return func(ctx context.Context, cfg driver.Config) (resource.Resource, error) {
		return f.make(ctx, cfg, real)
	}
}

// make builds the fake of cfg. When real is set, the fake provides and
// uses what the resource real makes of cfg does.
func (f *fakes) make(ctx context.Context, cfg driver.Config, real driver.Factory) (resource.Resource, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r, err := build(cfg)
	if err != nil {
		return nil, err
	}
	if real != nil {
		res, err := real(ctx, cfg)
		if err != nil {
			return nil, err
		}
		if res == nil {
			// Nothing to learn: a generic fake, ordered by group.
			return f.register(r, cfg), nil
		}
		r.label = res.Label()
		if p, ok := res.(resource.Provider); ok {
			r.provides = absPaths(p.Provides()...)
		}
		if u, ok := res.(resource.User); ok {
			uses, order := u.Uses()
			r.uses, r.order = slices.Clone(uses), order
		}
	}
	return f.register(r, cfg), nil
}

// register attaches r to the shared state of its service.
func (f *fakes) register(r *Resource, cfg driver.Config) *Resource {
	r.f = f
	r.svc = f.service(cfg)
	r.svc.add(r, cfg.Section)
	return r
}

// sleepUntil waits for the deadline or the end of ctx. The latency of a
// call counts from its start, so that the time spent on checks is part of
// it, as in a real driver.
func sleepUntil(ctx context.Context, deadline time.Time) error {
	d := time.Until(deadline)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
