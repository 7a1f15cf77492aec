// Package cluster runs the actions of a flex service on all its nodes from
// the flex primary, as the OpenSVC agent's svcmgr --cluster does: over a
// Transport to the peers (SSH with verified host keys, or in-process
// agents), with per-node results. It also distributes configurations
// (pull from a store, push, sync nodes) and migrates pods between nodes
// (Migrate, Relayout) with a rollback to the previous placement when the
// destination fails.
//
// The layout of the pods in a config (which node runs which pod, with
// which gateway) is the Planner's business: svc/cluster/spdplanner is the
// Planner of the configs formtemplate/spd generates (the seed's), so that
// this package does not depend on the form generator. In the same way, an
// operation that is not one of svc's actions (service compliance, in
// internal/svccomp) runs on every node as a Command: Cluster.Exec calls
// its in-process function on local agents and svcmgr with its arguments
// on SSH peers, and returns each node's JSON output.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/resource"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/store"
)

// Cluster runs cluster-wide operations from one node (normally the flex
// primary).
type Cluster struct {
	// Self is this node's agent: the local part of every operation runs
	// through it, in-process.
	Self *Agent
	// Transport reaches the other nodes.
	Transport Transport
	// Workers bounds how many nodes are worked on at once; default 8.
	Workers int
	// Force allows cluster-wide actions from a node that is not the flex
	// primary.
	Force bool
	// Planner computes pod moves for Migrate and Relayout.
	Planner Planner
}

// NodeResult is the outcome of an operation on one node.
type NodeResult struct {
	Node   string        `json:"node"`
	Result *svc.Result   `json:"result,omitempty"`
	Config *ConfigChange `json:"config,omitempty"`
	// Output is what a Command printed on the node (its JSON).
	Output json.RawMessage `json:"output,omitempty"`
	Error  string          `json:"error,omitempty"`
	// After is the node's state re-read once an action failed or timed
	// out there: what the node is, rather than what the failure suggests.
	After *StateAfter `json:"after,omitempty"`
}

// StateAfter is the state of a service on a node, read after an action
// there failed.
type StateAfter struct {
	Avail   resource.Status `json:"avail,omitempty"`
	Overall resource.Status `json:"overall,omitempty"`
	// Error says why the state could not be read.
	Error string `json:"error,omitempty"`
}

func (a *StateAfter) String() string {
	if a.Error != "" {
		return "state afterwards unknown: " + a.Error
	}
	return fmt.Sprintf("state afterwards (re-read): avail %s, overall %s", a.Avail, a.Overall)
}

// ReReadTimeout bounds the status read that follows a failed action.
const ReReadTimeout = 30 * time.Second

// Result is the outcome of a cluster-wide operation, keyed by node.
type Result struct {
	Service   string                 `json:"service"`
	Operation string                 `json:"operation"`
	Nodes     map[string]*NodeResult `json:"nodes"`
}

// Failed returns the nodes where the operation failed, sorted.
func (r *Result) Failed() []string {
	var out []string
	for n, nr := range r.Nodes {
		if nr.Error != "" {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// NodeError is the failure of a cluster-wide operation on some nodes.
type NodeError struct {
	Service   string
	Operation string
	Errors    map[string]error
}

// Nodes returns the failed nodes, sorted.
func (e *NodeError) Nodes() []string {
	out := make([]string, 0, len(e.Errors))
	for n := range e.Errors {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (e *NodeError) Error() string {
	nodes := e.Nodes()
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		msg := e.Errors[n].Error()
		if !strings.HasPrefix(msg, n+":") {
			msg = n + ": " + msg
		}
		parts[i] = msg
	}
	return fmt.Sprintf("%s %s failed on %s: %s", e.Service, e.Operation, strings.Join(nodes, ", "), strings.Join(parts, "; "))
}

func (e *NodeError) Unwrap() []error {
	out := make([]error, 0, len(e.Errors))
	for _, n := range e.Nodes() {
		out = append(out, e.Errors[n])
	}
	return out
}

func (c *Cluster) workers() int {
	if c.Workers > 0 {
		return c.Workers
	}
	return 8
}

func (c *Cluster) peer(node string) (Peer, error) {
	if node == c.Self.Node {
		return c.Self, nil
	}
	if c.Transport == nil {
		return nil, fmt.Errorf("node %s: no transport to reach it", node)
	}
	return c.Transport.Peer(node)
}

// service loads the local config and checks that this node may run
// cluster-wide operations.
func (c *Cluster) service(ctx context.Context, svcname string) (*svc.Service, error) {
	s, err := c.Self.Load(ctx, svcname)
	if err != nil {
		return nil, err
	}
	if !s.IsFlexPrimary() && !c.Force {
		return nil, fmt.Errorf("%s: %s is not the flex primary of %s (%s is): cluster-wide actions run from the flex primary (force to run anyway)", s.Node(), s.Node(), s.Name(), s.FlexPrimary())
	}
	return s, nil
}

// each runs fn on every node, at most Workers at once, and collects the
// results; any node failing makes a *NodeError naming the nodes.
func (c *Cluster) each(ctx context.Context, svcname, op string, nodes []string, fn func(ctx context.Context, p Peer, nr *NodeResult) error) (*Result, error) {
	res := &Result{Service: svcname, Operation: op, Nodes: map[string]*NodeResult{}}
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, c.workers())
	for _, n := range nodes {
		nr := &NodeResult{Node: n}
		res.Nodes[n] = nr
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			p, err := c.peer(n)
			if err == nil {
				err = fn(ctx, p, nr)
			}
			if err != nil {
				mu.Lock()
				errs[n] = err
				nr.Error = err.Error()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return res, &NodeError{Service: svcname, Operation: op, Errors: errs}
	}
	return res, nil
}

// Do runs action on every node of the service in parallel (this node
// in-process, the others over the transport).
func (c *Cluster) Do(ctx context.Context, svcname string, action svc.Action, opts svc.ActionOptions) (*Result, error) {
	s, err := c.service(ctx, svcname)
	if err != nil {
		return nil, err
	}
	return c.doOn(ctx, svcname, s.Nodes(), action, opts)
}

func (c *Cluster) doOn(ctx context.Context, svcname string, nodes []string, action svc.Action, opts svc.ActionOptions) (*Result, error) {
	return c.each(ctx, svcname, string(action), nodes, func(ctx context.Context, p Peer, nr *NodeResult) error {
		r, err := p.Do(ctx, svcname, action, opts)
		nr.Result = r
		if err != nil && !opts.DryRun {
			// A timeout or a failure says nothing sure of what the node
			// ran: read what it is now, even when ctx is done.
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ReReadTimeout)
			defer cancel()
			nr.After = &StateAfter{}
			if st, serr := p.Status(rctx, svcname); serr != nil {
				nr.After.Error = serr.Error()
			} else {
				nr.After.Avail, nr.After.Overall = st.Avail, st.Overall
			}
			err = fmt.Errorf("%w; %s", err, nr.After)
		}
		return err
	})
}

// Status is the status of a service on every node.
type Status struct {
	Service string                 `json:"service"`
	Nodes   map[string]*NodeStatus `json:"nodes"`
	// Errors holds the nodes whose status could not be read.
	Errors map[string]string `json:"errors,omitempty"`
	// Warnings says when the nodes run different config versions.
	Warnings []string `json:"warnings,omitempty"`
}

// Status reads the status of the service on every node. Unreachable
// nodes are listed in Errors (and make the error); nodes running a
// config whose checksum differs from the others' are named in Warnings.
func (c *Cluster) Status(ctx context.Context, svcname string) (*Status, error) {
	s, err := c.Self.Load(ctx, svcname)
	if err != nil {
		return nil, err
	}
	st := &Status{Service: svcname, Nodes: map[string]*NodeStatus{}}
	var mu sync.Mutex
	_, err = c.each(ctx, svcname, "print status", s.Nodes(), func(ctx context.Context, p Peer, nr *NodeResult) error {
		ns, err := p.Status(ctx, svcname)
		if err != nil {
			return err
		}
		mu.Lock()
		st.Nodes[nr.Node] = ns
		mu.Unlock()
		return nil
	})
	var ne *NodeError
	if errors.As(err, &ne) {
		st.Errors = map[string]string{}
		for n, e := range ne.Errors {
			st.Errors[n] = e.Error()
		}
	}
	st.Warnings = versionWarnings(st.Nodes)
	return st, err
}

// versionWarnings names the nodes by config checksum when they differ.
func versionWarnings(nodes map[string]*NodeStatus) []string {
	by := map[string][]string{}
	for n, ns := range nodes {
		by[ns.ConfigChecksum] = append(by[ns.ConfigChecksum], n)
	}
	if len(by) < 2 {
		return nil
	}
	var groups []string
	for sum, ns := range by {
		sort.Strings(ns)
		label := "sha256 " + store.Short(sum)
		if sum == "" {
			label = "unknown checksum"
		}
		groups = append(groups, fmt.Sprintf("%s on %s", label, strings.Join(ns, " ")))
	}
	sort.Strings(groups)
	return []string{"nodes run different config versions: " + strings.Join(groups, "; ") + " (pull or sync nodes)"}
}

// Render draws every node's status tree, in node order, after the
// warnings.
func (st *Status) Render(order []string) string {
	var b strings.Builder
	for _, w := range st.Warnings {
		b.WriteString("WARNING: " + w + "\n")
	}
	for _, n := range order {
		if ns, ok := st.Nodes[n]; ok {
			fmt.Fprintf(&b, "@%s (config sha256 %s)\n", n, store.Short(ns.ConfigChecksum))
			b.WriteString(ns.Render(svc.StatusOptions{ShowDisabled: true}))
		} else if e, ok := st.Errors[n]; ok {
			fmt.Fprintf(&b, "@%s\n  unreachable: %s\n", n, e)
		}
	}
	return b.String()
}

// Pull makes every node of the service fetch the config from its store
// and install it (validated for that node first).
func (c *Cluster) Pull(ctx context.Context, svcname string, opts InstallOptions) (*Result, error) {
	s, err := c.service(ctx, svcname)
	if err != nil {
		return nil, err
	}
	return c.pullOn(ctx, svcname, s.Nodes(), opts)
}

func (c *Cluster) pullOn(ctx context.Context, svcname string, nodes []string, opts InstallOptions) (*Result, error) {
	return c.each(ctx, svcname, "pull", nodes, func(ctx context.Context, p Peer, nr *NodeResult) error {
		ch, err := p.Pull(ctx, svcname, opts)
		nr.Config = ch
		return err
	})
}

// SyncNodes copies this node's config of the service to every other
// node, where it is validated and installed atomically.
func (c *Cluster) SyncNodes(ctx context.Context, svcname string, opts InstallOptions) (*Result, error) {
	s, err := c.service(ctx, svcname)
	if err != nil {
		return nil, err
	}
	data, err := c.Self.ReadConfig(svcname)
	if err != nil {
		return nil, err
	}
	res, err := c.installOn(ctx, svcname, others(s.Nodes(), c.Self.Node), data, opts)
	if opts.DryRun || res == nil {
		return res, err
	}
	// The status of the sync#i0 shows when the config was last copied
	// and where that failed.
	rec := syncdrv.LastSync{Time: time.Now().UTC(), Checksum: store.Checksum(data), Nodes: map[string]string{}}
	for n, nr := range res.Nodes {
		rec.Nodes[n] = nr.Error
	}
	if werr := syncdrv.WriteLastSync(s.VarDir(), rec); werr != nil {
		werr = fmt.Errorf("%s: sync nodes of %s: %w", c.Self.Node, svcname, werr)
		if err == nil {
			return res, werr
		}
		return res, errors.Join(err, werr)
	}
	return res, err
}

func (c *Cluster) installOn(ctx context.Context, svcname string, nodes []string, data []byte, opts InstallOptions) (*Result, error) {
	source := "primary " + c.Self.Node
	return c.each(ctx, svcname, "sync nodes", nodes, func(ctx context.Context, p Peer, nr *NodeResult) error {
		ch, err := p.Install(ctx, svcname, data, source, opts)
		nr.Config = ch
		return err
	})
}

func others(nodes []string, self string) []string {
	var out []string
	for _, n := range nodes {
		if n != self {
			out = append(out, n)
		}
	}
	return out
}
