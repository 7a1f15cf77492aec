package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"gopkg.in/ini.v1"

	"github.com/svckit/svckit/driver"
	"github.com/svckit/svckit/driver/fake"
	syncdrv "github.com/svckit/svckit/driver/sync"
	"github.com/svckit/svckit/driver/sync/rsync"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/cluster/spdplanner"
	"github.com/svckit/svckit/svc/store"
	_ "github.com/svckit/svckit/svc/store/etcdstore" // etcd:// stores
)

// clusterFlags are the flags of the cluster-wide commands.
type clusterFlags struct {
	cluster        bool
	storeURL       string
	nodesFile      string
	transport      string
	sshKeys        []string
	knownHosts     []string
	connectTimeout time.Duration
	commandTimeout time.Duration
	workers        int
	rollback       bool
	source         string
	pod            int
	to             string
	relayoutNodes  string
	parallel       int
	haEtcd         string
}

// nodeConfig is <root>/etc/svckit.conf: the node's own settings.
//
//	[store]
//	url = etcd://10.0.0.1:2379/svckit
func (g *globals) nodeConfigPath() string { return filepath.Join(g.root, "etc", "svckit.conf") }

// storeSpec returns the config store of this node: --store, then
// SVCKIT_STORE, then [store] url in <root>/etc/svckit.conf; "" if none.
func (g *globals) storeSpec() (string, error) {
	if g.cl.storeURL != "" {
		return g.cl.storeURL, nil
	}
	if v := os.Getenv("SVCKIT_STORE"); v != "" {
		return v, nil
	}
	data, err := os.ReadFile(g.nodeConfigPath())
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	f, err := ini.LoadSources(ini.LoadOptions{KeyValueDelimiters: "=", SpaceBeforeInlineComment: true}, data)
	if err != nil {
		return "", usageError("%s: %v", g.nodeConfigPath(), err)
	}
	return strings.TrimSpace(f.Section("store").Key("url").String()), nil
}

// registry returns the drivers of node, whose root is root: with --fake
// the fakes (their sync#i0 is up), else the real drivers, with a
// sync.rsync whose status compares the config checksums of the nodes over
// this cluster's transport.
func (g *globals) registry(node, root string) (*driver.Registry, error) {
	if g.fake {
		opts, err := fake.OptionsFromEnv()
		if err != nil {
			return nil, usageError("%v", err)
		}
		return fake.Replace(driver.Default(), opts), nil
	}
	reg := driver.NewRegistry()
	for _, id := range driver.Default().IDs() {
		if d, ok := driver.Default().Lookup(id); ok {
			reg.Replace(d.Manifest, d.New)
		}
	}
	reg.Replace(syncdrv.Rsync, rsync.NewFactory(rsync.WithPeers(&transportPeers{g: g, self: &cluster.Agent{Node: node, Root: root}}), rsync.WithTimeout(g.cl.connectTimeout+5*time.Second)))
	return reg, nil
}

// transportPeers reads the config checksums of the peers for the status
// of sync#i0. It opens the transport when a status asks, not before: the
// commands that read no status never connect, and a transport that
// cannot be set up (no key, no known_hosts) makes the sync warn instead
// of failing the command.
type transportPeers struct {
	g    *globals
	self *cluster.Agent
}

func (p *transportPeers) ConfigChecksums(ctx context.Context, svcname string, nodes []string) (syncdrv.Checksums, error) {
	t, closeT, err := p.g.transport(p.self)
	if err != nil {
		return syncdrv.Checksums{}, err
	}
	defer closeT()
	return cluster.PeerChecksums{Self: p.self, Transport: t, Workers: p.g.cl.workers}.ConfigChecksums(ctx, svcname, nodes)
}

// agent returns this node's agent; withStore opens the config store
// (needStore: refuse when none is configured). The returned function
// closes the store.
func (g *globals) agent(withStore, needStore bool) (*cluster.Agent, func(), error) {
	if g.svcname == "" {
		return nil, nil, usageError("missing -s SVC: expected the service name")
	}
	if g.format != "text" && g.format != "json" {
		return nil, nil, usageError("--format %q: expected text or json", g.format)
	}
	reg, err := g.registry(g.node, g.root)
	if err != nil {
		return nil, nil, err
	}
	a := &cluster.Agent{Node: g.node, Root: g.root, Registry: reg, NoTriggers: g.fake}
	closeFn := func() {}
	if withStore {
		spec, err := g.storeSpec()
		if err != nil {
			return nil, nil, err
		}
		if spec == "" && needStore {
			return nil, nil, usageError("no config store: set --store, SVCKIT_STORE or [store] url in %s (dir:PATH, etcd://HOST:PORT/PREFIX or the collector's https://HOST/init/rest/api)", g.nodeConfigPath())
		}
		if spec != "" {
			st, c, err := store.Open(spec)
			if err != nil {
				return nil, nil, usageError("%v", err)
			}
			a.Store = st
			closeFn = func() { c() }
		}
	}
	return a, closeFn, nil
}

func (g *globals) nodesPath() string {
	if g.cl.nodesFile != "" {
		return g.cl.nodesFile
	}
	return filepath.Join(g.root, "etc", "nodes.conf")
}

func homeFile(rel string) string {
	h, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(h, rel)
}

// transport returns the transport to the peers: ssh (default) or local
// (in-process agents on the roots of the node registry, for demos).
func (g *globals) transport(self *cluster.Agent) (cluster.Transport, func(), error) {
	nodes, err := cluster.LoadNodes(g.nodesPath())
	if err != nil {
		return nil, nil, usageError("%v", err)
	}
	switch g.cl.transport {
	case "local":
		var agents []*cluster.Agent
		for _, name := range nodes.Names() {
			n := nodes.Lookup(name)
			if name == self.Node {
				continue
			}
			if n.Root == "" {
				return nil, nil, usageError("%s: [%s] root: the local transport runs %s in this process on its own root: expected root = DIR", g.nodesPath(), name, name)
			}
			reg, err := g.registry(name, n.Root)
			if err != nil {
				return nil, nil, err
			}
			agents = append(agents, &cluster.Agent{Node: name, Root: n.Root, Registry: reg, NoTriggers: g.fake, Store: self.Store})
		}
		return cluster.NewLocal(agents...), func() {}, nil
	case "ssh", "":
	default:
		return nil, nil, usageError("--transport %q: expected ssh or local", g.cl.transport)
	}
	keys := g.cl.sshKeys
	if len(keys) == 0 {
		keys = []string{homeFile(".ssh/id_ed25519")}
	}
	kh := g.cl.knownHosts
	if len(kh) == 0 {
		kh = []string{homeFile(".ssh/known_hosts")}
	}
	var args []string
	if g.fake {
		args = append(args, "--fake")
	}
	t, err := cluster.NewSSH(cluster.SSHOptions{Nodes: nodes, KeyFiles: keys, KnownHosts: kh,
		ConnectTimeout: g.cl.connectTimeout, CommandTimeout: g.cl.commandTimeout, Args: args})
	if err != nil {
		return nil, nil, usageError("%v", err)
	}
	return t, func() { t.Close() }, nil
}

// newCluster returns the cluster run from this node.
func (g *globals) newCluster(withStore, needStore bool) (*cluster.Cluster, func(), error) {
	a, closeStore, err := g.agent(withStore, needStore)
	if err != nil {
		return nil, nil, err
	}
	t, closeT, err := g.transport(a)
	if err != nil {
		closeStore()
		return nil, nil, err
	}
	c := &cluster.Cluster{Self: a, Transport: t, Workers: g.cl.workers, Force: g.force, Planner: spdplanner.Planner{}}
	return c, func() { closeT(); closeStore() }, nil
}

// exitFor maps an error to svcmgr's exit codes: 2 for a request or a
// config that is wrong, 1 for a failure.
func exitFor(err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	var ve *svc.ValidationError
	switch {
	case errors.As(err, &ee):
		return err
	case errors.As(err, &ve), errors.Is(err, os.ErrNotExist):
		return &exitError{code: 2, err: err}
	}
	return &exitError{code: 1, err: err}
}

func (g *globals) actionOptions(cmdFlags interface{ Changed(string) bool }) svc.ActionOptions {
	opts := svc.ActionOptions{
		Selection: g.selection(), DryRun: g.dryRun, LockTimeout: g.waitlock, NoLockWait: g.waitlock == 0,
		Scheduler: g.scheduler, MaxParallel: g.maxParallel, Force: g.force,
	}
	if cmdFlags != nil && cmdFlags.Changed("rollback") {
		rb := g.cl.rollback
		opts.Rollback = &rb
	}
	return opts
}

// clusterAction runs an action on every node of the service.
func (g *globals) clusterAction(ctx context.Context, a svc.Action, opts svc.ActionOptions) error {
	c, done, err := g.newCluster(false, false)
	if err != nil {
		return err
	}
	defer done()
	res, err := c.Do(ctx, g.svcname, a, opts)
	if res != nil {
		g.printClusterResult(res)
	}
	return exitFor(err)
}

func sortedNodes(m map[string]*cluster.NodeResult) []string {
	out := make([]string, 0, len(m))
	for n := range m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func (g *globals) printClusterResult(res *cluster.Result) {
	if g.format == "json" {
		g.writeJSON(res)
		return
	}
	for _, n := range sortedNodes(res.Nodes) {
		nr := res.Nodes[n]
		switch {
		case nr.Result != nil && nr.Result.DryRun:
			fmt.Fprintf(g.stdout, "%s: %s plan (%s scheduler), nothing changed\n", n, nr.Result.Action, nr.Result.Scheduler)
			printPlan(g.stdout, nr.Result)
		case nr.Result != nil:
			state := "ok"
			if nr.Error != "" {
				state = "FAILED: " + nr.Error
			}
			fmt.Fprintf(g.stdout, "%s: %s %d resources in %s: %s\n", n, nr.Result.Action, len(nr.Result.Steps), nr.Result.Duration.Round(time.Millisecond), state)
		case nr.Config != nil && nr.Error == "":
			fmt.Fprintf(g.stdout, "%s: %s\n", n, describeChange(nr.Config))
		default:
			fmt.Fprintf(g.stdout, "%s: FAILED: %s\n", n, nr.Error)
		}
	}
}

func describeChange(ch *cluster.ConfigChange) string {
	verb := "installed"
	if ch.DryRun {
		verb = "would install"
	}
	if !ch.Changed {
		return fmt.Sprintf("config sha256 %s from %s already installed", store.Short(ch.Checksum), ch.Source)
	}
	msg := fmt.Sprintf("%s config sha256 %s from %s", verb, store.Short(ch.Checksum), ch.Source)
	if ch.Previous != "" {
		msg += fmt.Sprintf(" (previous sha256 %s", store.Short(ch.Previous))
		if ch.PrevFile != "" {
			msg += " kept in " + ch.PrevFile
		}
		msg += ")"
	}
	return msg
}

func (g *globals) printStatusCluster(ctx context.Context) error {
	c, done, err := g.newCluster(false, false)
	if err != nil {
		return err
	}
	defer done()
	s, err := c.Self.Load(ctx, g.svcname)
	if err != nil {
		return exitFor(err)
	}
	st, err := c.Status(ctx, g.svcname)
	if g.cl.haEtcd != "" {
		// The HA view comes from etcd: it prints even when nodes do not
		// answer, which is when it is needed.
		return g.printStatusClusterHA(ctx, s.Nodes(), st, err)
	}
	if st != nil {
		if g.format == "json" {
			g.writeJSON(st)
		} else {
			io.WriteString(g.stdout, st.Render(s.Nodes()))
		}
		for _, w := range st.Warnings {
			fmt.Fprintln(g.stderr, "svcmgr: warning:", w)
		}
	}
	return exitFor(err)
}

func (g *globals) pull(ctx context.Context) error {
	if g.cl.cluster {
		c, done, err := g.newCluster(true, false)
		if err != nil {
			return err
		}
		defer done()
		res, err := c.Pull(ctx, g.svcname, cluster.InstallOptions{DryRun: g.dryRun})
		if res != nil {
			g.printClusterResult(res)
		}
		return exitFor(err)
	}
	a, done, err := g.agent(true, true)
	if err != nil {
		return err
	}
	defer done()
	ch, err := a.Pull(ctx, g.svcname, cluster.InstallOptions{DryRun: g.dryRun})
	return g.printChange(ch, err)
}

func (g *globals) printChange(ch *cluster.ConfigChange, err error) error {
	if ch != nil {
		if g.format == "json" {
			g.writeJSON(ch)
		} else if err == nil {
			fmt.Fprintf(g.stdout, "%s: %s\n", ch.Node, describeChange(ch))
		}
	}
	return exitFor(err)
}

func (g *globals) push(ctx context.Context) error {
	a, done, err := g.agent(true, true)
	if err != nil {
		return err
	}
	defer done()
	ch, err := a.Push(ctx, g.svcname, cluster.PushOptions{Force: g.force, DryRun: g.dryRun})
	if ch != nil && g.format == "text" && err == nil {
		verb := "stored"
		if ch.DryRun {
			verb = "would store"
		}
		fmt.Fprintf(g.stdout, "%s: %s config sha256 %s in %s (revision %s)\n", ch.Node, verb, store.Short(ch.Checksum), ch.Source, ch.Revision)
		return nil
	}
	return g.printChange(ch, err)
}

// receive installs the config read from stdin: what sync nodes and
// migrations run on the peers.
func (g *globals) receive(ctx context.Context, stdin io.Reader) error {
	a, done, err := g.agent(false, false)
	if err != nil {
		return err
	}
	defer done()
	data, err := io.ReadAll(io.LimitReader(stdin, 64<<20))
	if err != nil {
		return exitFor(err)
	}
	source := g.cl.source
	if source == "" {
		source = "stdin"
	}
	ch, err := a.Install(ctx, g.svcname, data, source, cluster.InstallOptions{DryRun: g.dryRun})
	return g.printChange(ch, err)
}

func (g *globals) syncNodes(ctx context.Context) error {
	c, done, err := g.newCluster(false, false)
	if err != nil {
		return err
	}
	defer done()
	res, err := c.SyncNodes(ctx, g.svcname, cluster.InstallOptions{DryRun: g.dryRun})
	if res != nil {
		g.printClusterResult(res)
	}
	return exitFor(err)
}

func (g *globals) printMigration(rep *cluster.MigrationReport, err error) error {
	if rep != nil {
		if g.format == "json" {
			g.writeJSON(rep)
		} else {
			if rep.DryRun {
				fmt.Fprintf(g.stdout, "%s: plan, nothing changed (config sha256 %s -> %s)\n", rep.Service, store.Short(rep.Before), store.Short(rep.After))
			}
			for _, s := range rep.Steps {
				fmt.Fprintln(g.stdout, "  "+s)
			}
			if !rep.DryRun && err == nil {
				var mv []string
				for _, m := range rep.Done {
					mv = append(mv, m.String())
				}
				fmt.Fprintf(g.stdout, "%s: moved %s\n", rep.Service, strings.Join(mv, ", "))
			}
		}
	}
	return exitFor(err)
}

func (g *globals) migrate(ctx context.Context) error {
	if g.cl.pod <= 0 || g.cl.to == "" {
		return usageError("migrate: expected --pod N (from 1) and --to NODE")
	}
	c, done, err := g.newCluster(true, false)
	if err != nil {
		return err
	}
	defer done()
	rep, err := c.Migrate(ctx, g.svcname, g.cl.pod, g.cl.to, cluster.MigrateOptions{DryRun: g.dryRun, Force: g.force})
	return g.printMigration(rep, err)
}

func (g *globals) relayout(ctx context.Context) error {
	nodes := strings.Fields(g.cl.relayoutNodes)
	if len(nodes) == 0 {
		return usageError("relayout: expected --nodes \"NODE NODE...\"")
	}
	c, done, err := g.newCluster(true, false)
	if err != nil {
		return err
	}
	defer done()
	rep, err := c.Relayout(ctx, g.svcname, nodes, cluster.MigrateOptions{DryRun: g.dryRun, Force: g.force, Parallel: g.cl.parallel})
	return g.printMigration(rep, err)
}
