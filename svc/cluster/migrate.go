package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/store"
)

// Move is one pod changing node.
type Move struct {
	Pod int `json:"pod"`
	// Tag selects every resource of the pod ("pod16").
	Tag  string `json:"tag"`
	From string `json:"from"`
	To   string `json:"to"`
}

func (m Move) String() string { return fmt.Sprintf("%s %s -> %s", m.Tag, m.From, m.To) }

// PlanStep is one move of a relayout with the config once it is done.
type PlanStep struct {
	Move   Move   `json:"move"`
	Config []byte `json:"-"`
}

// Plan is a relayout as a sequence of moves. Each step's config is the
// previous one with that pod moved (new nodes already declared, removed
// nodes still declared); Final is the config once every pod has moved
// (the new node list).
type Plan struct {
	// Prepare is the current layout with the new nodes declared and no
	// pod moved; nil when no node is added.
	Prepare []byte     `json:"-"`
	Steps   []PlanStep `json:"steps"`
	Final   []byte     `json:"-"`
}

// Planner knows the layout of the pods in a service config. svckit's
// formtemplate/spd package has one for the seed's spd layout (adapted in
// svc/cluster/spdplanner, which the examples use).
type Planner interface {
	// MovePod returns config with pod moved to node to: its resources
	// enabled there and disabled on its current node, its containers'
	// gateway changed to to's.
	MovePod(config []byte, pod int, to string) (newConfig []byte, mv Move, err error)
	// Relayout plans the fewest moves that spread the pods over nodes.
	Relayout(config []byte, nodes []string) (Plan, error)
}

// MigrateOptions say how Migrate and Relayout run.
type MigrateOptions struct {
	// DryRun computes, validates and returns the plan, and changes
	// nothing.
	DryRun bool
	// Parallel is how many pods a relayout moves at once; default 1.
	Parallel int
	// Force starts a migration even when the nodes do not all run the
	// same config version.
	Force bool
}

// MigrationReport says what a migration or relayout did (or would do).
type MigrationReport struct {
	Service string `json:"service"`
	DryRun  bool   `json:"dry_run,omitempty"`
	Moves   []Move `json:"moves"`
	// Done are the moves that completed.
	Done []Move `json:"done,omitempty"`
	// Steps narrates the procedure, in order.
	Steps []string `json:"steps"`
	// Before and After are the config checksums.
	Before string `json:"config_before"`
	After  string `json:"config_after"`
	// RolledBack lists the moves undone after a failure.
	RolledBack []Move `json:"rolled_back,omitempty"`

	mu sync.Mutex
}

func (r *MigrationReport) step(ctx context.Context, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.Steps = append(r.Steps, msg)
	r.mu.Unlock()
	resource.Logger(ctx).Info(msg, "service", r.Service)
}

// MigrationError is a failed migration: what failed, and whether the
// pods are back on their source nodes with the previous config.
type MigrationError struct {
	Moves []Move
	// Err is the failure.
	Err error
	// Restored tells that the pods run on their source nodes again with
	// the previous config.
	Restored bool
	// RestoreErr is why putting them back failed, when it did.
	RestoreErr error
}

func (e *MigrationError) Error() string {
	var mv []string
	var tags, from []string
	for _, m := range e.Moves {
		mv = append(mv, m.String())
		tags = append(tags, m.Tag)
		if !slices.Contains(from, m.From) {
			from = append(from, m.From)
		}
	}
	msg := fmt.Sprintf("migrate %s: %v", strings.Join(mv, ", "), e.Err)
	switch {
	case e.RestoreErr != nil:
		msg += fmt.Sprintf("; putting %s back on %s FAILED too, check the nodes: %v", strings.Join(tags, " "), strings.Join(from, " "), e.RestoreErr)
	case e.Restored:
		msg += fmt.Sprintf("; %s put back on %s with the previous config", strings.Join(tags, " "), strings.Join(from, " "))
	}
	return msg
}

func (e *MigrationError) Unwrap() error { return e.Err }

// Migrate moves one pod to node to: the plan is computed and validated
// first (a dry run stops there); then the pod's resources are stopped on
// its node, the new config is pushed and pulled on every node (or synced
// when there is no store), and the pod is started on the destination
// (through provision: the destination may never have run it; provision
// creates what is missing and never re-creates a disk or formats a
// filesystem that holds data). When anything after the stop fails, the
// pod is stopped on the destination, the previous config is restored on
// every node and the pod is started again on its source.
func (c *Cluster) Migrate(ctx context.Context, svcname string, pod int, to string, opts MigrateOptions) (*MigrationReport, error) {
	if c.Planner == nil {
		return nil, errors.New("migrate: no planner: the cluster needs one that knows the pod layout")
	}
	s, before, err := c.current(ctx, svcname)
	if err != nil {
		return nil, err
	}
	after, mv, err := c.Planner.MovePod(before, pod, to)
	if err != nil {
		return nil, fmt.Errorf("migrate pod %d to %s: %w", pod, to, err)
	}
	rep := &MigrationReport{Service: svcname, DryRun: opts.DryRun, Moves: []Move{mv}, Before: store.Checksum(before), After: store.Checksum(after)}
	if mv.From == mv.To {
		rep.step(ctx, "%s already runs on %s: nothing to do", mv.Tag, mv.To)
		return rep, nil
	}
	if err := c.precheck(ctx, s, before, []batch{{moves: []Move{mv}, before: before, after: after}}, opts); err != nil {
		return rep, err
	}
	return rep, c.runBatches(ctx, s, []batch{{moves: []Move{mv}, before: before, after: after}}, opts, rep)
}

// Relayout spreads the pods over nodes with the planner's fewest moves,
// Parallel pods at a time, each batch with Migrate's guarantees. It stops
// at the first batch that fails (that batch is put back; the earlier ones
// stay done).
func (c *Cluster) Relayout(ctx context.Context, svcname string, nodes []string, opts MigrateOptions) (*MigrationReport, error) {
	if c.Planner == nil {
		return nil, errors.New("relayout: no planner: the cluster needs one that knows the pod layout")
	}
	s, before, err := c.current(ctx, svcname)
	if err != nil {
		return nil, err
	}
	plan, err := c.Planner.Relayout(before, nodes)
	if err != nil {
		return nil, fmt.Errorf("relayout over %s: %w", strings.Join(nodes, " "), err)
	}
	rep := &MigrationReport{Service: svcname, DryRun: opts.DryRun, Before: store.Checksum(before), After: store.Checksum(plan.Final)}
	par := max(opts.Parallel, 1)
	var batches []batch
	prev := before
	for i := 0; i < len(plan.Steps); i += par {
		j := min(i+par, len(plan.Steps))
		b := batch{before: prev, after: plan.Steps[j-1].Config}
		for _, st := range plan.Steps[i:j] {
			b.moves = append(b.moves, st.Move)
			rep.Moves = append(rep.Moves, st.Move)
		}
		batches = append(batches, b)
		prev = b.after
	}
	var final []byte
	if !bytes.Equal(prev, plan.Final) {
		final = plan.Final
	}
	if len(batches) == 0 && final == nil {
		rep.step(ctx, "the pods already spread over %s: nothing to do", strings.Join(nodes, " "))
		return rep, nil
	}
	if err := c.precheck(ctx, s, before, batches, opts); err != nil {
		return rep, err
	}
	var added, removed []string
	for _, n := range nodes {
		if !slices.Contains(s.Nodes(), n) {
			added = append(added, n)
		}
	}
	for _, n := range s.Nodes() {
		if !slices.Contains(nodes, n) {
			removed = append(removed, n)
		}
	}
	if len(added) > 0 && plan.Prepare == nil {
		return rep, fmt.Errorf("relayout: the planner gave no config declaring the new nodes %s", strings.Join(added, " "))
	}
	if len(added) > 0 && len(batches) > 0 {
		// The first batch starts from the config declaring the new nodes.
		batches[0].before = plan.Prepare
	}
	return rep, c.runRelayout(ctx, s, before, plan.Prepare, added, removed, batches, final, opts, rep)
}

// runRelayout prepares the new nodes (config declaring them, their
// instance provisioned: the service's node-level resources), moves the
// pods batch after batch, stops the service on the removed nodes (their
// data stays on the disks) and installs the final config.
func (c *Cluster) runRelayout(ctx context.Context, s *svc.Service, before, prepare []byte, added, removed []string, batches []batch, final []byte, opts MigrateOptions, rep *MigrationReport) error {
	if len(added) > 0 {
		if opts.DryRun {
			rep.step(ctx, "install the config sha256 %s declaring %s, then provision the service there while the first pods stop", store.Short(store.Checksum(prepare)), strings.Join(added, " "))
		} else {
			if err := c.distribute(ctx, s.Name(), prepare, rep); err != nil {
				return fmt.Errorf("relayout: declaring the new nodes failed, no pod moved: %w", err)
			}
			// The new nodes' own resources (a node disk to create and
			// attach) are provisioned while the first pods stop on
			// their nodes: the pods' disks attach on a new node one at a
			// time after its own, so every second before the first
			// attach is a second of the whole relayout. The first batch
			// waits for it before it installs its config.
			rep.step(ctx, "provision the service on %s while the first pods stop", strings.Join(added, " "))
			done := make(chan error, 1)
			go func() {
				_, err := c.doOn(ctx, s.Name(), added, svc.Provision, svc.ActionOptions{})
				done <- err
			}()
			provisioned := sync.OnceValue(func() error {
				if err := <-done; err != nil {
					return fmt.Errorf("provisioning the new nodes %s failed: %w", strings.Join(added, " "), err)
				}
				return nil
			})
			// Whatever happens to the batches, the provision has ended
			// when the relayout returns.
			defer func() { _ = provisioned() }()
			if len(batches) == 0 {
				if err := provisioned(); err != nil {
					return fmt.Errorf("relayout: %w, no pod moved", err)
				}
			} else {
				batches[0].ready = provisioned
			}
		}
	}
	if err := c.runBatches(ctx, s, batches, opts, rep); err != nil {
		return err
	}
	if len(removed) > 0 {
		rep.step(ctx, "stop the service on %s (the removed nodes; their disks keep the data)", strings.Join(removed, " "))
		if !opts.DryRun {
			if _, err := c.doOn(ctx, s.Name(), removed, svc.Stop, svc.ActionOptions{Force: true}); err != nil {
				return fmt.Errorf("relayout: every pod moved, but stopping the removed nodes failed: %w", err)
			}
		}
	}
	if final != nil {
		if opts.DryRun {
			rep.step(ctx, "install the final config sha256 %s", store.Short(store.Checksum(final)))
		} else if err := c.distribute(ctx, s.Name(), final, rep); err != nil {
			return fmt.Errorf("relayout: every pod moved, but installing the final config failed: %w", err)
		}
	}
	return nil
}

type batch struct {
	moves         []Move
	before, after []byte
	// ready, when set, is what must be done before the batch's config
	// is installed (the new nodes provisioned); its error puts the
	// stopped pods back on their nodes.
	ready func() error
}

// current loads the local config and checks this node may run
// cluster-wide operations.
func (c *Cluster) current(ctx context.Context, svcname string) (*svc.Service, []byte, error) {
	s, err := c.service(ctx, svcname)
	if err != nil {
		return nil, nil, err
	}
	data, err := c.Self.ReadConfig(svcname)
	if err != nil {
		return nil, nil, err
	}
	return s, data, nil
}

// nodesOf returns the nodes a config declares.
func (c *Cluster) nodesOf(ctx context.Context, svcname string, data []byte) ([]string, error) {
	s, err := svc.Parse(ctx, c.Self.ConfigPath(svcname), data, c.Self.options(svcname))
	if err != nil {
		return nil, err
	}
	return s.Nodes(), nil
}

// precheck validates every config of the plan for the nodes it moves pods
// between, and checks that every node runs the current config.
func (c *Cluster) precheck(ctx context.Context, s *svc.Service, before []byte, batches []batch, opts MigrateOptions) error {
	for _, b := range batches {
		for _, m := range b.moves {
			for _, node := range []string{m.From, m.To} {
				o := c.Self.options(s.Name())
				o.Node = node
				if _, err := svc.Parse(ctx, c.Self.ConfigPath(s.Name()), b.after, o); err != nil {
					return fmt.Errorf("migrate %s: the new config does not validate on %s, nothing changed: %w", m, node, err)
				}
			}
		}
	}
	if opts.Force {
		return nil
	}
	st, err := c.Status(ctx, s.Name())
	if err != nil {
		return fmt.Errorf("migrate: every node must answer before a migration, nothing changed: %w", err)
	}
	want := store.Checksum(before)
	var stale []string
	for n, ns := range st.Nodes {
		if ns.ConfigChecksum != want {
			stale = append(stale, n)
		}
	}
	if len(stale) > 0 {
		slices.Sort(stale)
		return fmt.Errorf("migrate: %s do not run this node's config (sha256 %s), nothing changed: pull or sync nodes first (or force)", strings.Join(stale, " "), store.Short(want))
	}
	return nil
}

func (c *Cluster) runBatches(ctx context.Context, s *svc.Service, batches []batch, opts MigrateOptions, rep *MigrationReport) error {
	if opts.DryRun {
		dist := "push to the store and pull on every node"
		if c.Self.Store == nil {
			dist = "sync to every node"
		}
		for _, b := range batches {
			for _, m := range b.moves {
				rep.step(ctx, "stop %s on %s", m.Tag, m.From)
			}
			rep.step(ctx, "install the config sha256 %s (%s)", store.Short(store.Checksum(b.after)), dist)
			for _, m := range b.moves {
				rep.step(ctx, "start %s on %s", m.Tag, m.To)
			}
		}
		return nil
	}
	for _, b := range batches {
		if err := c.runBatch(ctx, s.Name(), b, rep); err != nil {
			return err
		}
		rep.Done = append(rep.Done, b.moves...)
	}
	return nil
}

// onEachNode runs fn once per node (where of each move) with the moves
// of that node, the nodes concurrently. A node runs one action of a
// service at a time (its action lock): one action per node selecting
// every pod it stops or starts lets its scheduler run them side by side,
// where an action per pod queued them on the lock (six pods moving to a
// new node started one after the other).
func onEachNode(moves []Move, where func(Move) string, fn func(node string, ms []Move) error) error {
	byNode := map[string][]Move{}
	var nodes []string
	for _, m := range moves {
		n := where(m)
		if _, ok := byNode[n]; !ok {
			nodes = append(nodes, n)
		}
		byNode[n] = append(byNode[n], m)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(nodes))
	for i, n := range nodes {
		wg.Go(func() { errs[i] = fn(n, byNode[n]) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

func from(m Move) string { return m.From }
func to(m Move) string   { return m.To }

// tagsOf selects the pods of ms: their tags joined by "," (OR).
func tagsOf(ms []Move) string {
	tags := make([]string, len(ms))
	for i, m := range ms {
		tags[i] = m.Tag
	}
	return strings.Join(tags, ",")
}

func (c *Cluster) podAction(ctx context.Context, svcname, node string, action svc.Action, tag string) error {
	p, err := c.peer(node)
	if err != nil {
		return err
	}
	// Force: the pod leaves the node whole, its always_on disk included
	// (the destination attaches it).
	_, err = p.Do(ctx, svcname, action, svc.ActionOptions{Selection: svc.Selection{Tags: tag}, Force: action == svc.Stop})
	if err != nil {
		return fmt.Errorf("%s %s on %s: %w", action, tag, node, err)
	}
	return nil
}

func (c *Cluster) runBatch(ctx context.Context, svcname string, b batch, rep *MigrationReport) error {
	fail := func(err error, restore func() error) error {
		me := &MigrationError{Moves: b.moves, Err: err}
		if restore != nil {
			// The restore must run even when ctx was cancelled: the
			// pods would stay down otherwise.
			if rerr := restore(); rerr != nil {
				me.RestoreErr = rerr
			} else {
				me.Restored = true
				rep.RolledBack = append(rep.RolledBack, b.moves...)
			}
		}
		return me
	}
	startOnSource := func(ctx context.Context) error {
		return onEachNode(b.moves, from, func(node string, ms []Move) error {
			for _, m := range ms {
				rep.step(ctx, "start %s on %s again", m.Tag, m.From)
			}
			return c.podAction(ctx, svcname, node, svc.Start, tagsOf(ms))
		})
	}
	bg := context.WithoutCancel(ctx)

	// 1. Stop the pods where they run.
	if err := onEachNode(b.moves, from, func(node string, ms []Move) error {
		for _, m := range ms {
			rep.step(ctx, "stop %s on %s", m.Tag, m.From)
		}
		return c.podAction(ctx, svcname, node, svc.Stop, tagsOf(ms))
	}); err != nil {
		return fail(err, func() error { return startOnSource(bg) })
	}
	if b.ready != nil {
		if err := b.ready(); err != nil {
			return fail(err, func() error { return startOnSource(bg) })
		}
	}
	// 2. Install the new config everywhere.
	if err := c.distribute(ctx, svcname, b.after, rep); err != nil {
		return fail(err, func() error {
			if err := c.distribute(bg, svcname, b.before, rep); err != nil {
				return err
			}
			return startOnSource(bg)
		})
	}
	// 3. Start the pods on their destination.
	if err := onEachNode(b.moves, to, func(node string, ms []Move) error {
		for _, m := range ms {
			rep.step(ctx, "start %s on %s", m.Tag, m.To)
		}
		return c.podAction(ctx, svcname, node, svc.Provision, tagsOf(ms))
	}); err != nil {
		return fail(err, func() error {
			// Stop what the failed start left up on the destinations,
			// while the new config (which enables the pods there) is in
			// place.
			if err := onEachNode(b.moves, to, func(node string, ms []Move) error {
				for _, m := range ms {
					rep.step(bg, "stop %s on %s", m.Tag, m.To)
				}
				return c.podAction(bg, svcname, node, svc.Stop, tagsOf(ms))
			}); err != nil {
				return err
			}
			if err := c.distribute(bg, svcname, b.before, rep); err != nil {
				return err
			}
			return startOnSource(bg)
		})
	}
	return nil
}

// distribute installs data as the config on every node it declares: push
// to the store and pull everywhere, or, without a store, install here and
// sync to the others.
func (c *Cluster) distribute(ctx context.Context, svcname string, data []byte, rep *MigrationReport) error {
	nodes, err := c.nodesOf(ctx, svcname, data)
	if err != nil {
		return fmt.Errorf("config sha256 %s: %w", store.Short(store.Checksum(data)), err)
	}
	sum := store.Short(store.Checksum(data))
	if c.Self.Store != nil {
		rep.step(ctx, "push config sha256 %s to %s", sum, c.Self.Store)
		if _, err := c.Self.PushData(ctx, svcname, data, PushOptions{}); err != nil {
			return err
		}
		rep.step(ctx, "pull on %s", strings.Join(nodes, " "))
		_, err := c.pullOn(ctx, svcname, nodes, InstallOptions{})
		return err
	}
	rep.step(ctx, "install config sha256 %s on %s", sum, strings.Join(nodes, " "))
	if slices.Contains(nodes, c.Self.Node) {
		if _, err := c.Self.Install(ctx, svcname, data, "migration", InstallOptions{}); err != nil {
			return err
		}
	}
	_, err = c.installOn(ctx, svcname, others(nodes, c.Self.Node), data, InstallOptions{})
	return err
}
