package ha_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/svckit/svckit/driver/disk"
	diskgce "github.com/svckit/svckit/driver/disk/gce"
	"github.com/svckit/svckit/driver/fake"
	gcec "github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
	"github.com/svckit/svckit/driver/ip"
	ipgce "github.com/svckit/svckit/driver/ip/gce"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/internal/testenv"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster/ha"
	"github.com/svckit/svckit/svc/cluster/ha/etcdtest"
	"github.com/svckit/svckit/svc/cluster/ha/hatest"
	"github.com/svckit/svckit/svc/cluster/spdplanner"
)

func TestMain(m *testing.M) {
	// Never ask the link-local metadata server from a test.
	os.Setenv("GCE_METADATA_HOST", "127.0.0.1:1")
	os.Exit(m.Run())
}

const (
	svcname = "spdsvc01"
	ttl     = 3 * time.Second
	grace   = time.Second
)

var nodeNames = []string{"spd01", "spd02", "spd03", "spd04"}

// trackedPods wraps a node's pods with the ledger; a dead node's host is
// gone: nothing of it runs, and it does nothing.
type trackedPods struct {
	node  string
	inner ha.Pods
	l     *hatest.Ledger
}

func (p *trackedPods) Start(ctx context.Context, pod string) error {
	if err := p.l.Starting(p.node, pod); err != nil {
		return err
	}
	return p.inner.Start(ctx, pod)
}

func (p *trackedPods) Stop(ctx context.Context, pod string) error {
	if p.l.Dead(p.node) {
		return nil
	}
	if err := p.inner.Stop(ctx, pod); err != nil {
		return err
	}
	p.l.Stopped(p.node, pod, time.Now())
	return nil
}

func (p *trackedPods) Running(ctx context.Context) ([]string, error) {
	return p.inner.Running(ctx)
}

type node struct {
	name    string
	proxies []*etcdtest.Proxy
	cli     *clientv3.Client
	agent   *ha.Agent
	cancel  context.CancelFunc
	done    chan struct{}
	pods    *ha.ServicePods
}

// harness is a small spd service (8 pods on 4 nodes) on a fake compute
// API, with a 3-member etcd, each node reaching every member through its
// own proxies (cut to partition it), and the invariant checker running.
type harness struct {
	t      *testing.T
	etcd   *etcdtest.Cluster
	gce    *gcetest.Server
	config []byte
	layout map[string]string
	pods   []string
	l      *hatest.Ledger
	nodes  map[string]*node
	admin  *clientv3.Client
	opts   func(*ha.Config)
	dev    map[string]string
	ns     map[string]string
	vardir map[string]string
	inst   map[string]*gcetest.Instance
	agents []*ha.Agent
	stop   chan struct{}
	wg     sync.WaitGroup
}

func newHarness(t *testing.T, opts func(*ha.Config)) *harness {
	testenv.RequireNetns(t)
	ctx := context.Background()
	e, err := etcdtest.Start(ctx, t.TempDir(), 3)
	require.NoError(t, err)
	t.Cleanup(e.Close)
	cfg, err := spd.Generate(spd.Inputs{NPods: 8, Svcname: svcname, App: "RIVER_SPD", Nodes: nodeNames,
		SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: "s3cret-pw"})
	require.NoError(t, err)
	lay, err := spd.ParseLayout(cfg)
	require.NoError(t, err)
	h := &harness{t: t, etcd: e, gce: gcetest.NewServer("spd-project", "europe-west1-b"), config: cfg,
		layout: map[string]string{}, opts: opts, nodes: map[string]*node{},
		l:   hatest.NewLedger(),
		dev: map[string]string{}, ns: map[string]string{}, vardir: map[string]string{}, inst: map[string]*gcetest.Instance{}, stop: make(chan struct{})}
	t.Cleanup(h.gce.Close)
	for _, p := range lay.Pods {
		h.layout[p.Tag()] = p.Node
		h.pods = append(h.pods, p.Tag())
	}
	h.admin, err = ha.NewClient(ha.ClientOptions{Endpoints: e.Endpoints(), LeaseTTL: ttl})
	require.NoError(t, err)
	t.Cleanup(func() { h.admin.Close() })
	for _, n := range nodeNames {
		in := h.gce.AddInstance(n)
		h.inst[n] = in
		h.dev[n] = t.TempDir()
		in.SetDevDir(h.dev[n])
		name, nsh := testenv.NetNS(t)
		testenv.Bridge(t, nsh, "br0", "")
		h.ns[n] = "/var/run/netns/" + name
		h.vardir[n] = t.TempDir()
	}
	h.wg.Go(h.check)
	t.Cleanup(func() {
		close(h.stop)
		h.wg.Wait()
	})
	return h
}

// load parses config for node: GCE drivers against the fake as that node,
// fakes for the host groups.
func (h *harness) load(nodeName string) func(ctx context.Context, config []byte) (*svc.Service, error) {
	gopts := []gcec.Option{
		gcec.WithEndpoint(h.gce.URL),
		gcec.WithMetadataHost(h.instance(nodeName).MetadataHost),
		gcec.WithRetryBackoff(5*time.Millisecond, 100*time.Millisecond),
		gcec.WithPollInterval(5*time.Millisecond, 50*time.Millisecond),
	}
	reg := fake.Registry(fake.Options{})
	reg.Replace(disk.GCE, diskgce.NewFactory(diskgce.WithGCE(gopts...)))
	reg.Replace(ip.GCE, ipgce.NewFactory(ipgce.WithNetNS(h.ns[nodeName]), ipgce.WithGCE(gopts...)))
	dev := h.dev[nodeName]
	return func(ctx context.Context, config []byte) (*svc.Service, error) {
		text := strings.ReplaceAll(string(config), "/dev/disk/by-id/", dev+"/")
		text = strings.Replace(text, "gce_zone = europe-west1-b\n", "gce_zone = europe-west1-b\ndev_dir = "+dev+"\n", 1)
		return svc.Parse(ctx, svcname+".conf", []byte(text), svc.Options{Node: nodeName, Registry: reg, VarDir: h.vardir[nodeName], NoTriggers: true})
	}
}

func (h *harness) instance(name string) *gcetest.Instance { return h.inst[name] }

// startNode runs the agent of name (again, after a kill).
func (h *harness) startNode(name string) {
	t := h.t
	n := &node{name: name}
	for _, ep := range h.etcd.Endpoints() {
		p, err := etcdtest.NewProxy(ep)
		require.NoError(t, err)
		t.Cleanup(p.Close)
		n.proxies = append(n.proxies, p)
	}
	var eps []string
	for _, p := range n.proxies {
		eps = append(eps, p.URL())
	}
	var err error
	n.cli, err = ha.NewClient(ha.ClientOptions{Endpoints: eps, LeaseTTL: ttl})
	require.NoError(t, err)
	t.Cleanup(func() { n.cli.Close() })
	// The node-level part of the service (its own disk, fs#00, its dockerd) is up
	// on every node before its pods: the daemon's start does it.
	base, err := h.load(name)(context.Background(), h.config)
	require.NoError(t, err)
	var rids []string
	for _, r := range base.Status(context.Background()).Resources {
		if !r.Disabled && !slices.ContainsFunc(r.Tags, func(tag string) bool { return strings.HasPrefix(tag, "pod") }) {
			rids = append(rids, r.RID)
		}
	}
	_, err = base.Provision(context.Background(), svc.ActionOptions{Selection: svc.Selection{RIDs: rids}})
	require.NoError(t, err)
	n.pods = ha.NewServicePods(name, h.config, spdplanner.Planner{}, h.load(name))
	cfg := ha.Config{Service: svcname, Node: name, Nodes: nodeNames, Primary: "spd01", Layout: h.layout,
		LeaseTTL: ttl, Grace: grace, MinNodes: 2, Parallel: 4,
		Logger: slog.New(slog.NewTextHandler(testWriter{t}, nil))}
	if h.opts != nil {
		h.opts(&cfg)
	}
	n.agent, err = ha.NewAgent(cfg, n.cli, &trackedPods{node: name, inner: n.pods, l: h.l})
	require.NoError(t, err)
	h.agents = append(h.agents, n.agent)
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan struct{})
	h.l.Revive(name)
	h.nodes[name] = n
	t.Cleanup(func() {
		if n.cancel != nil {
			n.cancel()
			<-n.done
		}
	})
	go func() {
		defer close(n.done)
		_ = n.agent.Run(ctx)
	}()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func (h *harness) startAll() {
	for _, n := range nodeNames {
		h.startNode(n)
	}
	h.settle("start")
}

// kill is kill -9 of the nodes' daemons and the loss of their hosts, all
// at once: their etcd connections go first (no lease revoked, no last
// word), their pods stop existing, their instances are TERMINATED in the
// compute API; then their agents are stopped.
func (h *harness) kill(names ...string) {
	for _, name := range names {
		for _, p := range h.nodes[name].proxies {
			p.Cut()
		}
		h.l.Kill(name)
		require.True(h.t, h.gce.TerminateInstance(name))
	}
	for _, name := range names {
		n := h.nodes[name]
		n.cancel()
		<-n.done
		n.cancel = nil
	}
}

// revive boots the node's host again and starts its daemon.
func (h *harness) revive(name string) {
	require.True(h.t, h.gce.StartInstance(name))
	h.startNode(name)
}

func (h *harness) cut(name string) {
	for _, p := range h.nodes[name].proxies {
		p.Cut()
	}
}

func (h *harness) restore(name string) {
	for _, p := range h.nodes[name].proxies {
		p.Restore()
	}
}

// check runs the continuous invariants until the test ends: no pod disk
// attached to two instances.
func (h *harness) check() {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-tick.C:
		}
		for _, p := range h.pods {
			disk := svcname + "-pod" + strings.TrimLeft(strings.TrimPrefix(p, "pod"), "0")
			if at := h.gce.AttachedTo(disk); len(at) > 1 {
				h.l.Violate("disk %s attached to %v", disk, at)
			}
		}
	}
}

func (h *harness) status() *ha.ClusterStatus {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := ha.ReadStatus(ctx, h.admin, "", svcname, nodeNames)
	require.NoError(h.t, err)
	return st
}

// settled tells whether every pod is up on exactly one node, no move is
// in progress, and the placement in etcd names that node under a live
// lease.
func (h *harness) settled() (bool, string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := ha.ReadStatus(ctx, h.admin, "", svcname, nodeNames)
	if err != nil {
		return false, err.Error()
	}
	if len(st.Moves) > 0 {
		return false, fmt.Sprintf("%d moves in progress", len(st.Moves))
	}
	if len(st.Pods) != len(h.pods) {
		return false, fmt.Sprintf("%d pods placed", len(st.Pods))
	}
	for _, p := range st.Pods {
		w := h.l.Where(p.Pod)
		if len(w) != 1 || w[0] != p.Node || p.State != "owned" {
			return false, fmt.Sprintf("%s placed on %s (%s), up on %v", p.Pod, p.Node, p.State, w)
		}
		if !slices.Contains(h.nodes[p.Node].agent.Local(), p.Pod) {
			return false, fmt.Sprintf("%s: agent of %s does not run it", p.Pod, p.Node)
		}
	}
	return true, ""
}

// settle waits (bounded) until settled: the end of each step.
func (h *harness) settle(step string) *ha.ClusterStatus {
	var why string
	for range 300 {
		var ok bool
		if ok, why = h.settled(); ok {
			return h.status()
		}
		time.Sleep(50 * time.Millisecond)
	}
	h.t.Fatalf("%s: not settled: %s\n%s", step, why, h.status().Render(40))
	return nil
}

// podsOn returns the pods per node of a status.
func podsOn(st *ha.ClusterStatus) map[string][]string {
	out := map[string][]string{}
	for _, n := range st.Nodes {
		out[n.Node] = n.Pods
	}
	return out
}

func (h *harness) violations() []string {
	return h.l.Violations()
}

// events are the decisions of every agent the test ran, in memory (the
// copies in etcd arrive on their own, later).
func (h *harness) events() []ha.Event {
	var out []ha.Event
	for _, a := range h.agents {
		out = append(out, a.Events()...)
	}
	return out
}

func eventsMatching(evs []ha.Event, kind, contains string) []ha.Event {
	var out []ha.Event
	for _, e := range evs {
		if e.Kind == kind && strings.Contains(e.Msg, contains) {
			out = append(out, e)
		}
	}
	return out
}
