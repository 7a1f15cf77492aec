package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/svckit/svckit/driver/gce/gcetest"
	"github.com/svckit/svckit/formtemplate/spd"
	"github.com/svckit/svckit/svc/cluster/ha"
	"github.com/svckit/svckit/svc/cluster/ha/etcdtest"
	"github.com/svckit/svckit/svc/cluster/ha/hatest"
)

// HAOptions size the -ha scenario.
type HAOptions struct {
	Pods, Nodes int
	// TTL is the node lease (ha_lease_ttl); the grace is half of it.
	TTL  time.Duration
	Dir  string
	Keep bool
	// Out receives the progress lines and the events (nil: none).
	Out io.Writer
}

// HAReport holds the figures of the -ha scenario.
type HAReport struct {
	Service  string        `json:"service"`
	Pods     int           `json:"pods"`
	Nodes    int           `json:"nodes"`
	LeaseTTL time.Duration `json:"lease_ttl_ns"`
	Grace    time.Duration `json:"grace_ns"`
	// Failover: kill -9 of a node's daemon, its instance terminated.
	Failover HAFailover `json:"failover"`
	// Partition: a node cut off from etcd.
	Partition HAPartition `json:"partition"`
	// Relayout: the moves of the relayout once both nodes are back.
	Relayout       []ha.Move         `json:"relayout_moves"`
	Violations     []string          `json:"violations"`
	ViolationCount int               `json:"violation_count"`
	Final          *ha.ClusterStatus `json:"final_status,omitempty"`
	Duration       time.Duration     `json:"duration_ns"`
	Root           string            `json:"root"`
}

// HAFailover times a lost node's pods: from the kill to each pod up on
// its new node; Goal is TTL + grace (the moves' critical path comes on
// top).
type HAFailover struct {
	Node string                   `json:"node"`
	Pods map[string]time.Duration `json:"pods_ns"`
	Last time.Duration            `json:"last_ns"`
	Goal time.Duration            `json:"goal_ttl_plus_grace_ns"`
	// FromExpiry is the last pod up counted from the lease expiry the
	// node published (its last good renewal's send + TTL), where the
	// primary starts the grace: its goal is grace + max clock skew +
	// one move. The kill comes up to TTL/5 after that renewal, so Last
	// may be below TTL + grace.
	FromExpiry     time.Duration `json:"from_published_expiry_ns"`
	ExpiryGoal     time.Duration `json:"goal_grace_plus_skew_ns"`
	ExpiryToKilled time.Duration `json:"published_expiry_after_kill_ns"`
}

// HAPartition times a node cut off from etcd (from the cut): its last pod
// stopped by itself, its lease's expiry (the key's deletion, seen
// through etcd), the margin between them (must be positive), the margin
// the agent computed (against its conservative expiry), and the last of
// its pods up on another node.
type HAPartition struct {
	Node        string                   `json:"node"`
	LastStop    time.Duration            `json:"last_pod_stopped_ns"`
	LeaseExpiry time.Duration            `json:"lease_expiry_ns"`
	Margin      time.Duration            `json:"fence_margin_ns"`
	AgentMargin time.Duration            `json:"agent_fence_margin_ns"`
	Pods        map[string]time.Duration `json:"pods_ns"`
	Takeover    time.Duration            `json:"takeover_ns"`
}

// haLedger is the invariant checker: every node process reports each pod
// it starts (before) and stops (after); a start while the pod counts as
// up elsewhere is a violation, and so is a pod disk attached to two
// instances.
type haLedger struct {
	*hatest.Ledger
	mu     sync.Mutex
	upAt   map[string]map[string]time.Time
	fences map[string][]ha.FenceReport
}

func newHALedger() *haLedger {
	return &haLedger{Ledger: hatest.NewLedger(), upAt: map[string]map[string]time.Time{}, fences: map[string][]ha.FenceReport{}}
}

func unixNano(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Now()
	}
	return time.Unix(0, n)
}

func (l *haLedger) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.ParseForm() != nil {
		http.Error(w, "expected a POSTed form", http.StatusBadRequest)
		return
	}
	node, pod, t := r.PostForm.Get("node"), r.PostForm.Get("pod"), unixNano(r.PostForm.Get("t"))
	switch r.URL.Path {
	case "/pod":
		switch r.PostForm.Get("ev") {
		case "start":
			if err := l.Starting(node, pod); err != nil {
				http.Error(w, node+" is dead", http.StatusConflict)
				return
			}
		case "up":
			l.mu.Lock()
			if l.upAt[pod] == nil {
				l.upAt[pod] = map[string]time.Time{}
			}
			l.upAt[pod][node] = t
			l.mu.Unlock()
		case "stop":
			l.Stopped(node, pod, t)
		}
	case "/fence":
		n, _ := strconv.Atoi(r.PostForm.Get("pods"))
		stopped, expiry := unixNano(r.PostForm.Get("stopped")), unixNano(r.PostForm.Get("expiry"))
		l.mu.Lock()
		l.fences[node] = append(l.fences[node], ha.FenceReport{Stopped: stopped, LeaseExpiry: expiry, Pods: n, Margin: expiry.Sub(stopped)})
		l.mu.Unlock()
	default:
		http.NotFound(w, r)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

type haChild struct {
	name    string
	cmd     *exec.Cmd
	proxies []*etcdtest.Proxy
	done    chan struct{}
}

type haScenario struct {
	opts   HAOptions
	out    io.Writer
	dir    string
	etcd   *etcdtest.Cluster
	gce    *gcetest.Server
	inst   map[string]*gcetest.Instance
	ledger *haLedger
	lsrv   *httptest.Server
	admin  *clientv3.Client
	nodes  []string
	pods   []string
	config string
	kids   map[string]*haChild
	rep    *HAReport
}

// RunHA plays the -ha scenario: an embedded 3-member etcd, the fake
// compute API, one node daemon process per node; kill -9 of spd02, spd03
// cut off from etcd, both back and a relayout; the figures and the
// invariants' verdict.
func RunHA(ctx context.Context, opts HAOptions) (*HAReport, error) {
	out := opts.Out
	if out == nil {
		out = io.Discard
	}
	if opts.TTL <= 0 {
		opts.TTL = ha.DefaultLeaseTTL
	}
	dir, err := os.MkdirTemp(opts.Dir, "svckit-spd-ha-")
	if err != nil {
		return nil, err
	}
	s := &haScenario{opts: opts, out: out, dir: dir, inst: map[string]*gcetest.Instance{}, ledger: newHALedger(), kids: map[string]*haChild{},
		rep: &HAReport{Service: svcname, Pods: opts.Pods, Nodes: opts.Nodes, LeaseTTL: opts.TTL, Grace: opts.TTL / 2, Root: dir}}
	start := time.Now()
	defer func() {
		s.close()
		if !opts.Keep {
			os.RemoveAll(dir)
		}
		s.rep.Duration = time.Since(start)
	}()
	err = s.run(ctx)
	s.rep.Violations = s.ledger.Violations()
	s.rep.ViolationCount = len(s.rep.Violations)
	if err == nil && s.rep.ViolationCount > 0 {
		err = fmt.Errorf("%d invariant violations", s.rep.ViolationCount)
	}
	return s.rep, err
}

func (s *haScenario) say(format string, args ...any) {
	fmt.Fprintf(s.out, format+"\n", args...)
}

func (s *haScenario) run(ctx context.Context) error {
	s.say("== setup: embedded 3-member etcd, fake compute API, %d node daemons (processes), %d pods, lease ttl %s, grace %s", s.opts.Nodes, s.opts.Pods, s.opts.TTL, s.rep.Grace)
	var err error
	if s.etcd, err = etcdtest.Start(ctx, filepath.Join(s.dir, "etcd"), 3); err != nil {
		return err
	}
	if s.admin, err = ha.NewClient(ha.ClientOptions{Endpoints: s.etcd.Endpoints(), LeaseTTL: s.opts.TTL}); err != nil {
		return err
	}
	s.gce = gcetest.NewServer(gceProject, gceZone)
	for i := 1; i <= s.opts.Nodes; i++ {
		n := nodeName(i)
		s.nodes = append(s.nodes, n)
		root := filepath.Join(s.dir, n)
		if err := os.MkdirAll(devDir(root), 0o755); err != nil {
			return err
		}
		s.inst[n] = s.gce.AddInstance(n)
		s.inst[n].SetDevDir(devDir(root))
	}
	pw, err := newPassword()
	if err != nil {
		return err
	}
	cfg, err := spd.Generate(spd.Inputs{NPods: s.opts.Pods, Svcname: svcname, App: "RIVER_SPD", Nodes: s.nodes,
		SMImage: "tanji/spdc", DBImage: "mariadb", RootPassword: pw})
	if err != nil {
		return err
	}
	s.config = filepath.Join(s.dir, svcname+".conf")
	if err := os.WriteFile(s.config, cfg, 0o600); err != nil {
		return err
	}
	for pod := range layoutOf(cfg) {
		s.pods = append(s.pods, pod)
	}
	sort.Strings(s.pods)
	s.lsrv = httptest.NewServer(s.ledger)
	wctx, wcancel := context.WithCancel(ctx)
	defer wcancel()
	go s.checkDisks(wctx)
	go s.printEvents(wctx)
	for _, n := range s.nodes {
		if err := s.spawn(n); err != nil {
			return err
		}
	}
	if _, err := s.settle(ctx, "start"); err != nil {
		return err
	}
	s.say("== all %d pods up, each on one node, placement in etcd matching", len(s.pods))

	// 1. kill -9 spd02, its instance terminated.
	before, err := ha.ReadStatus(ctx, s.admin, "", svcname, s.nodes)
	if err != nil {
		return err
	}
	lost := podsOf(before, "spd02")
	s.say("== 1. kill -9 the daemon of spd02 (pods %s) and terminate its instance", strings.Join(lost, " "))
	t0 := time.Now()
	s.kill("spd02")
	if _, err := s.settleWhen(ctx, "failover of spd02", func(st *ha.ClusterStatus) bool { return len(podsOf(st, "spd02")) == 0 }); err != nil {
		return err
	}
	s.rep.Failover = HAFailover{Node: "spd02", Pods: map[string]time.Duration{}, Goal: s.opts.TTL + s.rep.Grace}
	for _, pod := range lost {
		d := s.upSince(pod, t0)
		s.rep.Failover.Pods[pod] = d
		s.rep.Failover.Last = max(s.rep.Failover.Last, d)
	}
	if at, _, ok, err := ha.PublishedExpiry(ctx, s.admin, "", svcname, "spd02"); err == nil && ok {
		s.rep.Failover.ExpiryToKilled = at.Sub(t0)
		s.rep.Failover.FromExpiry = s.rep.Failover.Last - s.rep.Failover.ExpiryToKilled
		s.rep.Failover.ExpiryGoal = s.rep.Grace + ha.DefaultMaxClockSkew
	}

	// 2. cut spd03 off from etcd.
	mid, err := ha.ReadStatus(ctx, s.admin, "", svcname, s.nodes)
	if err != nil {
		return err
	}
	cutPods := podsOf(mid, "spd03")
	s.say("== 2. cut spd03 (pods %s) off from etcd (its loopback proxies)", strings.Join(cutPods, " "))
	expired := s.watchExpiry(ctx, "spd03")
	t1 := time.Now()
	for _, p := range s.kids["spd03"].proxies {
		p.Cut()
	}
	if _, err := s.settleWhen(ctx, "takeover of spd03's pods", func(st *ha.ClusterStatus) bool { return len(podsOf(st, "spd03")) == 0 }); err != nil {
		return err
	}
	var expiry time.Time
	select {
	case expiry = <-expired:
	case <-time.After(2 * s.opts.TTL):
		return errors.New("the lease of spd03 never expired")
	}
	lastStop := s.ledger.LastStop("spd03")
	s.ledger.mu.Lock()
	fences := s.ledger.fences["spd03"]
	s.ledger.mu.Unlock()
	s.rep.Partition = HAPartition{Node: "spd03", LastStop: lastStop.Sub(t1), LeaseExpiry: expiry.Sub(t1), Margin: expiry.Sub(lastStop), Pods: map[string]time.Duration{}}
	if len(fences) > 0 {
		s.rep.Partition.AgentMargin = fences[len(fences)-1].Margin
	}
	for _, pod := range cutPods {
		d := s.upSince(pod, t1)
		s.rep.Partition.Pods[pod] = d
		s.rep.Partition.Takeover = max(s.rep.Partition.Takeover, d)
	}
	if s.rep.Partition.Margin <= 0 {
		s.ledger.Violate("spd03 stopped its last pod %s after its lease expired", -s.rep.Partition.Margin)
	}

	// 3. both back, then a relayout.
	s.say("== 3. spd02 boots again, spd03 reaches etcd again: both rejoin with no pod")
	s.gce.StartInstance("spd02")
	if err := s.spawn("spd02"); err != nil {
		return err
	}
	for _, p := range s.kids["spd03"].proxies {
		p.Restore()
	}
	if err := s.waitRejoined(ctx, "spd02", "spd03"); err != nil {
		return err
	}
	if _, err := s.settle(ctx, "rejoin"); err != nil {
		return err
	}
	s.say("== relayout")
	asked := time.Now()
	if err := ha.RequestRelayout(ctx, s.admin, "", svcname); err != nil {
		return err
	}
	final, err := s.settleAfterRelayout(ctx)
	if err != nil {
		return err
	}
	s.rep.Final = final
	for _, ev := range final.Events {
		var mv ha.Move
		if ev.Kind == "move" && ev.Time.After(asked) && strings.HasSuffix(ev.Msg, ": relayout") {
			if _, err := fmt.Sscanf(ev.Msg, "moving %s from %s to %s", &mv.Pod, &mv.From, &mv.To); err == nil {
				mv.To = strings.TrimSuffix(mv.To, ":")
				s.rep.Relayout = append(s.rep.Relayout, mv)
			}
		}
	}
	return nil
}

func podsOf(st *ha.ClusterStatus, node string) []string {
	for _, n := range st.Nodes {
		if n.Node == node {
			return n.Pods
		}
	}
	return nil
}

// upSince is how long after t pod came up on the node it runs on now.
func (s *haScenario) upSince(pod string, t time.Time) time.Duration {
	w := s.ledger.Where(pod)
	s.ledger.mu.Lock()
	defer s.ledger.mu.Unlock()
	if len(w) != 1 {
		return -1
	}
	return s.ledger.upAt[pod][w[0]].Sub(t)
}

// spawn starts the daemon process of node, reaching etcd through
// proxies of its own.
func (s *haScenario) spawn(node string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	k := &haChild{name: node, done: make(chan struct{})}
	var eps []string
	for _, ep := range s.etcd.Endpoints() {
		p, err := etcdtest.NewProxy(ep)
		if err != nil {
			return err
		}
		k.proxies = append(k.proxies, p)
		eps = append(eps, p.URL())
	}
	root := filepath.Join(s.dir, node)
	k.cmd = exec.Command(exe, haNodeCommand, "-node", node, "-config", s.config, "-etcd", strings.Join(eps, ","),
		"-gce", s.gce.URL, "-metadata", s.inst[node].MetadataHost, "-root", root, "-ledger", s.lsrv.URL, "-ttl", s.opts.TTL.String())
	logf, err := os.OpenFile(filepath.Join(root, "daemon.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	k.cmd.Stdout, k.cmd.Stderr = logf, logf
	if err := k.cmd.Start(); err != nil {
		logf.Close()
		return err
	}
	go func() {
		_ = k.cmd.Wait()
		logf.Close()
		close(k.done)
	}()
	s.ledger.Revive(node)
	s.kids[node] = k
	return nil
}

// kill is kill -9 of the node's daemon and the loss of its host.
func (s *haScenario) kill(node string) {
	k := s.kids[node]
	_ = k.cmd.Process.Kill()
	<-k.done
	s.ledger.Kill(node)
	for _, p := range k.proxies {
		p.Close()
	}
	s.gce.TerminateInstance(node)
}

func (s *haScenario) close() {
	for _, k := range s.kids {
		select {
		case <-k.done:
			continue
		default:
		}
		_ = k.cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, k := range s.kids {
		select {
		case <-k.done:
		case <-time.After(2 * s.opts.TTL):
			_ = k.cmd.Process.Kill()
			<-k.done
		}
		for _, p := range k.proxies {
			p.Close()
		}
	}
	if s.admin != nil {
		s.admin.Close()
	}
	if s.etcd != nil {
		s.etcd.Close()
	}
	if s.lsrv != nil {
		s.lsrv.Close()
	}
	if s.gce != nil {
		s.gce.Close()
	}
}

// checkDisks: no pod disk attached to two instances, ever.
func (s *haScenario) checkDisks(ctx context.Context) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, pod := range s.pods {
			disk := svcname + "-pod" + strings.TrimLeft(strings.TrimPrefix(pod, "pod"), "0")
			if at := s.gce.AttachedTo(disk); len(at) > 1 {
				s.ledger.Violate("disk %s attached to %v", disk, at)
			}
		}
	}
}

// printEvents prints the agents' events as etcd receives them.
func (s *haScenario) printEvents(ctx context.Context) {
	for resp := range s.admin.Watch(ctx, "/svckit/ha/"+svcname+"/events/", clientv3.WithPrefix()) {
		for _, e := range resp.Events {
			if e.Type != clientv3.EventTypePut {
				continue
			}
			var ev ha.Event
			if err := json.Unmarshal(e.Kv.Value, &ev); err == nil {
				fmt.Fprintf(s.out, "   %s %-6s %s\n", ev.Time.Format("15:04:05.000"), ev.Node, ev.Msg)
			}
		}
	}
}

// watchExpiry reports when the lease key of node goes.
func (s *haScenario) watchExpiry(ctx context.Context, node string) <-chan time.Time {
	ch := make(chan time.Time, 1)
	wctx, cancel := context.WithCancel(ctx)
	wch := s.admin.Watch(wctx, "/svckit/ha/"+svcname+"/nodes/"+node)
	go func() {
		defer cancel()
		for resp := range wch {
			for _, e := range resp.Events {
				if e.Type == clientv3.EventTypeDelete {
					ch <- time.Now()
					return
				}
			}
		}
	}()
	return ch
}

// settled: every pod up on exactly one node, no move in progress, the
// placement in etcd naming that node under a live lease.
func (s *haScenario) settled(ctx context.Context) (*ha.ClusterStatus, string) {
	cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	st, err := ha.ReadStatus(cctx, s.admin, "", svcname, s.nodes)
	if err != nil {
		return nil, err.Error()
	}
	if len(st.Moves) > 0 {
		return nil, fmt.Sprintf("%d moves in progress", len(st.Moves))
	}
	if len(st.Pods) != len(s.pods) {
		return nil, fmt.Sprintf("%d of %d pods placed", len(st.Pods), len(s.pods))
	}
	for _, p := range st.Pods {
		w := s.ledger.Where(p.Pod)
		if len(w) != 1 || w[0] != p.Node || p.State != "owned" {
			return nil, fmt.Sprintf("%s placed on %s (%s), up on %v", p.Pod, p.Node, p.State, w)
		}
	}
	return st, ""
}

func (s *haScenario) settle(ctx context.Context, step string) (*ha.ClusterStatus, error) {
	return s.settleWhen(ctx, step, func(*ha.ClusterStatus) bool { return true })
}

// settleWhen waits (bounded) until settled and cond holds.
func (s *haScenario) settleWhen(ctx context.Context, step string, cond func(*ha.ClusterStatus) bool) (*ha.ClusterStatus, error) {
	deadline := time.Now().Add(6*s.opts.TTL + time.Minute)
	var why string
	for time.Now().Before(deadline) {
		var st *ha.ClusterStatus
		if st, why = s.settled(ctx); st != nil {
			if cond(st) {
				return st, nil
			}
			why = "settled, but the step's condition does not hold yet"
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("%s: not settled: %s", step, why)
}

func (s *haScenario) waitRejoined(ctx context.Context, nodes ...string) error {
	deadline := time.Now().Add(6*s.opts.TTL + time.Minute)
	for time.Now().Before(deadline) {
		st, err := ha.ReadStatus(ctx, s.admin, "", svcname, s.nodes)
		if err == nil {
			n := 0
			for _, ns := range st.Nodes {
				for _, want := range nodes {
					if ns.Node == want && ns.Alive && ns.Rejoined {
						n++
					}
				}
			}
			if n == len(nodes) {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%v did not rejoin", nodes)
}

func (s *haScenario) settleAfterRelayout(ctx context.Context) (*ha.ClusterStatus, error) {
	deadline := time.Now().Add(6*s.opts.TTL + time.Minute)
	for time.Now().Before(deadline) {
		g, err := s.admin.Get(ctx, "/svckit/ha/"+svcname+"/relayout", clientv3.WithCountOnly())
		if err == nil && g.Count == 0 {
			return s.settle(ctx, "relayout")
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return nil, errors.New("the relayout did not end")
}

// layoutOf reads the pod placement of an spd config (pod tag -> node).
func layoutOf(cfg []byte) map[string]string {
	l, err := spd.ParseLayout(cfg)
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, p := range l.Pods {
		out[p.Tag()] = p.Node
	}
	return out
}

func printHASummary(w io.Writer, rep *HAReport) {
	fmt.Fprintf(w, "\n== figures (lease ttl %s, grace %s)\n", rep.LeaseTTL, rep.Grace)
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintf(tw, "failover of %s (kill -9 to pod up)\t\n", rep.Failover.Node)
	for _, pod := range sortedDurKeys(rep.Failover.Pods) {
		fmt.Fprintf(tw, "  %s\t%s\n", pod, round(rep.Failover.Pods[pod]))
	}
	fmt.Fprintf(tw, "  last pod up\t%s (goal: ttl + grace %s + one move, less the time from the last renewal to the kill)\n", round(rep.Failover.Last), round(rep.Failover.Goal))
	if f := rep.Failover; f.ExpiryGoal > 0 {
		fmt.Fprintf(tw, "  from its published lease expiry (kill + %s)\t%s (goal: grace + max clock skew %s + one move)\n", round(f.ExpiryToKilled), round(f.FromExpiry), round(f.ExpiryGoal))
	}
	p := rep.Partition
	fmt.Fprintf(tw, "partition of %s (from the cut)\t\n", p.Node)
	fmt.Fprintf(tw, "  last pod stopped by itself\t%s\n", round(p.LastStop))
	fmt.Fprintf(tw, "  lease expired (etcd)\t%s\n", round(p.LeaseExpiry))
	fmt.Fprintf(tw, "  self-fencing margin\t%s (agent's own, against its conservative expiry: %s)\n", round(p.Margin), round(p.AgentMargin))
	for _, pod := range sortedDurKeys(p.Pods) {
		fmt.Fprintf(tw, "  %s up elsewhere\t%s\n", pod, round(p.Pods[pod]))
	}
	fmt.Fprintf(tw, "relayout moves\t%d\n", len(rep.Relayout))
	for _, m := range rep.Relayout {
		fmt.Fprintf(tw, "  %s\t%s -> %s\n", m.Pod, m.From, m.To)
	}
	fmt.Fprintf(tw, "invariant violations\t%d\n", rep.ViolationCount)
	tw.Flush()
	for _, v := range rep.Violations {
		fmt.Fprintf(w, "  VIOLATION %s\n", v)
	}
	fmt.Fprintf(w, "total %s\n", round(rep.Duration))
}

func sortedDurKeys(m map[string]time.Duration) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// runHAFlags runs -ha with the flags given.
func runHAFlags(ctx context.Context, fs *flag.FlagSet, opts Options, ttl time.Duration, format string, stdout, stderr io.Writer) int {
	o := HAOptions{Pods: opts.Pods, Nodes: opts.Nodes, TTL: ttl, Dir: opts.Dir, Keep: opts.Keep}
	podsSet := false
	fs.Visit(func(f *flag.Flag) { podsSet = podsSet || f.Name == "pods" })
	if !podsSet {
		o.Pods = 8
	}
	switch {
	case o.Nodes != 4:
		fmt.Fprintf(stderr, "spd: -ha -nodes %d: the scenario plays on 4 nodes\n", o.Nodes)
		return 2
	case o.Pods < o.Nodes || o.Pods > spd.MaxPods:
		fmt.Fprintf(stderr, "spd: -ha -pods %d: expected %d to %d\n", o.Pods, o.Nodes, spd.MaxPods)
		return 2
	case ttl != 0 && ttl < 2*time.Second:
		fmt.Fprintf(stderr, "spd: -ha-ttl %s: expected 2s or more (etcd's minimum)\n", ttl)
		return 2
	}
	if format == "text" {
		o.Out = stdout
	}
	rep, err := RunHA(ctx, o)
	if format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if rep != nil {
			_ = enc.Encode(rep)
		}
	} else if rep != nil {
		printHASummary(stdout, rep)
	}
	if err != nil {
		fmt.Fprintf(stderr, "spd: -ha: %v\n", err)
		return 1
	}
	return 0
}
