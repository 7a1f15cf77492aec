package ha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// DefaultPrefix is the etcd key prefix of the HA state.
const DefaultPrefix = "/svckit/ha"

// DefaultLeaseTTL is the node lease's time to live (ha_lease_ttl).
const DefaultLeaseTTL = 10 * time.Second

// MaxAttempts is how many destinations a move tries before it gives up
// and waits for an operator.
const MaxAttempts = 3

// Pods runs the pods of the service on this node. The daemon implements
// it with the service's actions (ServicePods); tests may count what runs.
type Pods interface {
	// Start brings pod up on this node: its disk attached here (detached
	// from wherever it was: the cloud-level fence), its routes pointed
	// here, its filesystems, containers and addresses up. It is called
	// again after a failure.
	Start(ctx context.Context, pod string) error
	// Stop stops pod on this node, releasing its disk; stopping a pod
	// that is not up succeeds.
	Stop(ctx context.Context, pod string) error
	// Running lists the pods up on this node (asked once at start, to
	// stop those this node does not own).
	Running(ctx context.Context) ([]string, error)
}

// Config is one node's HA agent for one flex service.
type Config struct {
	Service string
	Node    string
	// Nodes are the service's nodes; Primary (flex_primary) is preferred
	// as the HA primary.
	Nodes   []string
	Primary string
	// Layout is the initial placement (pod -> node), recorded by the
	// first agent that finds etcd empty; later the placement lives in
	// etcd only.
	Layout map[string]string
	// LeaseTTL is the node lease (ha_lease_ttl; default 10s; etcd may
	// raise a small one to its minimum, 2s by default).
	LeaseTTL time.Duration
	// Grace is how long the primary waits after a lease expired before
	// it moves that node's pods (default LeaseTTL/2).
	Grace time.Duration
	// FenceMargin: a node whose lease may expire within this margin
	// stops its pods (default 2/5 of the TTL: the pods must stop within
	// it). Renewals are tried every TTL/5.
	FenceMargin time.Duration
	// MaxClockSkew bounds the skew between the nodes' wall clocks
	// (default DefaultMaxClockSkew). The primary starts a lost lease's
	// grace at the expiry its node published plus this bound (when that
	// is before it saw the lease gone), so a larger real skew eats into
	// the grace: set it to what NTP guarantees between the nodes.
	MaxClockSkew time.Duration
	// MinNodes (flex_min_nodes): with fewer live nodes nothing moves.
	MinNodes int
	// MaxPerNode bounds the pods of a node after a failover (0: none).
	MaxPerNode int
	// Parallel bounds the moves in progress (default 4).
	Parallel int
	// Prefix is the etcd key prefix (default DefaultPrefix).
	Prefix string
	// Escalate is called when a fence could not stop every pod before
	// the lease could expire (a stop failed or hung): the daemon does
	// what the node's monitor_action allows (reboot, crash), since the
	// others may start these pods soon.
	Escalate func(reason string)
	// Logger receives every event; OnEvent too, when set.
	Logger  *slog.Logger
	OnEvent func(Event)
}

func (c *Config) defaults() error {
	if c.Service == "" || c.Node == "" {
		return errors.New("ha: expected a service and a node name")
	}
	if !slices.Contains(c.Nodes, c.Node) {
		return fmt.Errorf("ha: node %s is not one of the service's nodes %v", c.Node, c.Nodes)
	}
	if c.LeaseTTL <= 0 {
		c.LeaseTTL = DefaultLeaseTTL
	}
	if c.LeaseTTL < time.Second {
		return fmt.Errorf("ha: lease ttl %s: expected at least 1s (etcd counts seconds)", c.LeaseTTL)
	}
	if c.Grace <= 0 {
		c.Grace = c.LeaseTTL / 2
	}
	if c.FenceMargin <= 0 {
		c.FenceMargin = c.LeaseTTL * 2 / 5
	}
	if c.FenceMargin >= c.LeaseTTL {
		return fmt.Errorf("ha: fence margin %s: expected less than the lease ttl %s", c.FenceMargin, c.LeaseTTL)
	}
	if c.MaxClockSkew <= 0 {
		c.MaxClockSkew = DefaultMaxClockSkew
	}
	if c.Parallel <= 0 {
		c.Parallel = 4
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Agent keeps this node's lease, fences it, runs the pods etcd gives it,
// and, when it is the elected primary, fails the pods of lost nodes over.
type Agent struct {
	cfg  Config
	cli  *clientv3.Client
	pods Pods
	k    keys

	mu         sync.Mutex
	lease      clientv3.LeaseID
	validUntil time.Time // conservative: renewal sent + TTL
	fenced     bool
	// fencing: a fence is stopping the pods; nothing starts and the
	// fence is not lifted until it ends.
	fencing    bool
	primary    bool
	local      map[string]*localPod
	events     []Event
	evSeq      int
	touched    map[string]time.Time // last change of the local state per pod
	failedAt   map[string]time.Time // last failed start per pod
	fences     []FenceReport
	stoppedFor map[string]int64 // pod -> the move it was stopped for
	kick       chan struct{}
	pkick      chan struct{} // wakes the primary
	evq        chan slotEvent
}

type localPod struct {
	cancel context.CancelFunc
	up     bool
	// moveRev is the move this start executes (0: the node's own pod).
	moveRev int64
	busy    bool // a start or stop runs
}

// NewAgent returns the agent of cfg.Node; cli is its etcd client.
func NewAgent(cfg Config, cli *clientv3.Client, pods Pods) (*Agent, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	return &Agent{cfg: cfg, cli: cli, pods: pods, k: newKeys(cfg.Prefix, cfg.Service),
		local: map[string]*localPod{}, touched: map[string]time.Time{}, failedAt: map[string]time.Time{}, kick: make(chan struct{}, 1), pkick: make(chan struct{}, 1), stoppedFor: map[string]int64{}, evq: make(chan slotEvent, eventRing)}, nil
}

// Config returns the agent's configuration with its defaults.
func (a *Agent) Config() Config { return a.cfg }

const eventRing = 64

// event records a decision: in memory, in the log, in etcd (best
// effort: etcd may be the very thing that is down).
func (a *Agent) event(kind, pod, format string, args ...any) {
	ev := Event{Time: time.Now(), Node: a.cfg.Node, Kind: kind, Pod: pod, Msg: fmt.Sprintf(format, args...)}
	a.mu.Lock()
	a.events = append(a.events, ev)
	if len(a.events) > eventRing {
		a.events = a.events[len(a.events)-eventRing:]
	}
	slot := a.evSeq % eventRing
	a.evSeq++
	a.mu.Unlock()
	a.cfg.Logger.Info(ev.Msg, "service", a.cfg.Service, "node", a.cfg.Node, "kind", kind, "pod", pod)
	if a.cfg.OnEvent != nil {
		a.cfg.OnEvent(ev)
	}
	// Never wait for etcd here: a fencing node records its decisions
	// while etcd is out of its reach, and must not be slowed by it.
	select {
	case a.evq <- slotEvent{slot, ev}:
	default:
	}
}

type slotEvent struct {
	slot int
	ev   Event
}

// eventWriter puts the queued events in etcd, each bounded; the queue
// drops what does not fit.
func (a *Agent) eventWriter(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case se := <-a.evq:
			cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
			_, _ = a.cli.Put(cctx, a.k.event(a.cfg.Node, se.slot), mustJSON(se.ev))
			cancel()
		}
	}
}

// FenceReport is one self-fencing: when it began, when the last pod was
// stopped, and the margin left before the lease could expire (the
// agent's conservative expiry: the renewal's send time plus the TTL;
// etcd's is later). A positive margin is the point.
type FenceReport struct {
	Began       time.Time     `json:"began"`
	Stopped     time.Time     `json:"stopped"`
	LeaseExpiry time.Time     `json:"lease_expiry"`
	Pods        int           `json:"pods"`
	Margin      time.Duration `json:"margin_ns"`
	Reason      string        `json:"reason"`
}

// Fences returns the agent's self-fencings, oldest first.
func (a *Agent) Fences() []FenceReport {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.fences)
}

// Events returns the agent's last events, oldest first.
func (a *Agent) Events() []Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.events)
}

// IsPrimary tells whether the agent is the elected primary.
func (a *Agent) IsPrimary() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.primary
}

// Fenced tells whether the agent holds no valid lease (it runs no pod).
func (a *Agent) Fenced() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.fenced
}

// LeaseValidUntil is the agent's conservative view of its lease expiry.
func (a *Agent) LeaseValidUntil() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.validUntil
}

// Local returns the pods up on this node, sorted.
func (a *Agent) Local() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for p, lp := range a.local {
		if lp.up {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// leaseState is the lease and whether pods may run under it: valid
// beyond the fence margin.
func (a *Agent) leaseState() (clientv3.LeaseID, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lease, a.lease != 0 && !a.fenced && !a.fencing && time.Until(a.validUntil) > a.cfg.FenceMargin
}

func (a *Agent) poke() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// Run runs the agent until ctx ends. On return it stops the pods of this
// node and revokes its lease, so that the survivors take them over at
// once: a daemon that exits must not leave pods that nobody fences.
func (a *Agent) Run(ctx context.Context) error {
	// The event writer outlives the loops: shutdown records events.
	var evwg sync.WaitGroup
	evctx, evcancel := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		evcancel()
		evwg.Wait()
	}()
	evwg.Go(func() { a.eventWriter(evctx) })
	if err := a.register(ctx); err != nil {
		return err
	}
	a.strays(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { a.renewLoop(ctx) })
	wg.Go(func() { a.fenceLoop(ctx) })
	wg.Go(func() { a.electionLoop(ctx) })
	wg.Go(func() { a.watchLoop(ctx) })
	a.reconcileLoop(ctx)
	wg.Wait()
	a.shutdown()
	return nil
}

func (a *Agent) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), a.cfg.FenceMargin)
	defer cancel()
	a.stopAll(ctx, "the agent exits")
	a.mu.Lock()
	lease := a.lease
	a.mu.Unlock()
	if lease != 0 {
		_, _ = a.cli.Revoke(ctx, lease)
	}
}

// strays stops the pods up here at start that this node does not own.
func (a *Agent) strays(ctx context.Context) {
	running, err := a.pods.Running(ctx)
	if err != nil {
		a.event("stop", "", "listing the pods up on %s failed: %v; the reconcile stops what it finds", a.cfg.Node, err)
		return
	}
	a.mu.Lock()
	for _, p := range running {
		a.local[p] = &localPod{up: true}
	}
	a.mu.Unlock()
}

// register takes a lease: the one recorded for this node when it is
// still alive (a daemon restart keeps its pods), else a new one; a new
// lease of a node that was a member before is a rejoin.
func (a *Agent) register(ctx context.Context) error {
	for attempt := 0; ; attempt++ {
		err := a.registerOnce(ctx)
		if err == nil {
			return nil
		}
		if attempt%10 == 0 {
			a.cfg.Logger.Warn("ha: registering the node failed, retrying", "node", a.cfg.Node, "error", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(a.cfg.LeaseTTL / 5):
		}
	}
}

func (a *Agent) registerOnce(ctx context.Context) error {
	cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/2)
	defer cancel()
	if err := a.seed(cctx); err != nil {
		return err
	}
	snap, err := read(cctx, a.cli, a.k)
	if err != nil {
		return err
	}
	if rec, ok := snap.nodes[a.cfg.Node]; ok {
		sent := time.Now()
		if ka, err := a.cli.KeepAliveOnce(cctx, clientv3.LeaseID(rec.Lease)); err == nil {
			if err := a.publishExpiry(cctx, clientv3.LeaseID(rec.Lease), sent.Add(time.Duration(ka.TTL)*time.Second)); err != nil {
				return err
			}
			a.setLease(clientv3.LeaseID(rec.Lease), sent, time.Duration(ka.TTL)*time.Second)
			a.event("lease", "", "%s kept its lease %x (%ds)", a.cfg.Node, rec.Lease, ka.TTL)
			return nil
		}
	}
	sent := time.Now()
	g, err := a.cli.Grant(cctx, int64((a.cfg.LeaseTTL+time.Second-1)/time.Second))
	if err != nil {
		return err
	}
	_, rejoin := snap.members[a.cfg.Node]
	rec := nodeRecord{Node: a.cfg.Node, Lease: int64(g.ID), Since: sent}
	ops := []clientv3.Op{clientv3.OpPut(a.k.node(a.cfg.Node), mustJSON(rec), clientv3.WithLease(g.ID)),
		a.k.expiryOp(a.cfg.Node, sent.Add(time.Duration(g.TTL)*time.Second), g.ID)}
	if rejoin {
		ops = append(ops, clientv3.OpPut(a.k.member(a.cfg.Node), mustJSON(memberRecord{Rejoined: true})))
	} else {
		ops = append(ops, clientv3.OpPut(a.k.member(a.cfg.Node), mustJSON(memberRecord{})))
	}
	if _, err := a.cli.Txn(cctx).Then(ops...).Commit(); err != nil {
		return err
	}
	a.setLease(g.ID, sent, time.Duration(g.TTL)*time.Second)
	if rejoin {
		a.event("lease", "", "%s rejoined with lease %x (%ds): it gets no pod until a relayout", a.cfg.Node, int64(g.ID), g.TTL)
	} else {
		a.event("lease", "", "%s joined with lease %x (%ds)", a.cfg.Node, int64(g.ID), g.TTL)
	}
	a.poke()
	return nil
}

// seed records the initial layout once, for the whole service.
func (a *Agent) seed(ctx context.Context) error {
	if len(a.cfg.Layout) == 0 {
		return nil
	}
	ops := []clientv3.Op{clientv3.OpPut(a.k.seeded(), a.cfg.Node)}
	for pod, node := range a.cfg.Layout {
		ops = append(ops, clientv3.OpPut(a.k.placement(pod), mustJSON(Placement{Node: node})))
	}
	_, err := a.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(a.k.seeded()), "=", 0)).Then(ops...).Commit()
	return err
}

func (a *Agent) setLease(id clientv3.LeaseID, sent time.Time, ttl time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lease, a.validUntil = id, sent.Add(ttl)
	a.fenced = a.fencing
}

// renewLoop renews the lease every TTL/5, each renewal bounded; a
// renewal moves validUntil to the time it was sent plus the TTL, a
// lower bound of the expiry etcd keeps, once that expiry is published
// (publishExpiry). A lease etcd no longer knows is
// replaced (a rejoin).
func (a *Agent) renewLoop(ctx context.Context) {
	tick := time.NewTicker(a.cfg.LeaseTTL / 5)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.mu.Lock()
		lease := a.lease
		a.mu.Unlock()
		sent := time.Now()
		cctx, cancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
		ka, err := a.cli.KeepAliveOnce(cctx, lease)
		cancel()
		var until time.Time
		if err == nil {
			// The agent counts on the new expiry only once it is
			// published (graceStart): until then the old one holds.
			until = sent.Add(time.Duration(ka.TTL) * time.Second)
			pctx, pcancel := context.WithTimeout(ctx, a.cfg.LeaseTTL/5)
			perr := a.publishExpiry(pctx, lease, until)
			pcancel()
			if perr != nil {
				a.cfg.Logger.Warn("ha: publishing the lease expiry failed; the renewal does not count", "node", a.cfg.Node, "error", perr)
				continue
			}
		}
		switch {
		case err == nil:
			a.mu.Lock()
			wasFenced := a.fenced && !a.fencing
			a.validUntil = until
			if !a.fencing {
				a.fenced = false
			}
			a.mu.Unlock()
			if wasFenced {
				a.event("lease", "", "%s renewed its lease %x again: it may run the pods it owns", a.cfg.Node, int64(lease))
				a.poke()
			}
		case errors.Is(err, rpctypes.ErrLeaseNotFound):
			a.fence(ctx, fmt.Sprintf("lease %x of %s expired", int64(lease), a.cfg.Node))
			if err := a.registerOnce(ctx); err != nil {
				a.cfg.Logger.Warn("ha: registering again failed", "node", a.cfg.Node, "error", err)
			}
		}
	}
}

// fenceLoop stops the pods when the lease may expire within the margin.
func (a *Agent) fenceLoop(ctx context.Context) {
	tick := time.NewTicker(a.cfg.FenceMargin / 8)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		a.mu.Lock()
		left := time.Until(a.validUntil)
		need := !a.fenced && left <= a.cfg.FenceMargin
		a.mu.Unlock()
		if need {
			a.fence(ctx, fmt.Sprintf("the lease of %s was not renewed and may expire in %s", a.cfg.Node, left.Round(time.Millisecond)))
		}
	}
}

// fence stops every pod of this node and starts none until a renewal.
func (a *Agent) fence(ctx context.Context, why string) {
	a.mu.Lock()
	if a.fenced {
		a.mu.Unlock()
		return
	}
	a.fenced, a.fencing = true, true
	until := a.validUntil
	a.mu.Unlock()
	defer func() {
		// A renewal during the fence lifts it only now: the pods it
		// stopped may start again, not while it stops them.
		a.mu.Lock()
		a.fencing = false
		lifted := time.Until(a.validUntil) > a.cfg.FenceMargin
		if lifted {
			a.fenced = false
		}
		a.mu.Unlock()
		if lifted {
			a.event("lease", "", "%s renewed its lease during the fence: it may run the pods it owns", a.cfg.Node)
			a.poke()
		}
	}()
	a.event("fence", "", "self-fencing: %s; stopping the pods of %s", why, a.cfg.Node)
	// The stops must end before the lease can expire: their context ends
	// at the expiry.
	sctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), until)
	defer cancel()
	if time.Until(until) <= 0 {
		sctx, cancel = context.WithTimeout(context.WithoutCancel(ctx), a.cfg.FenceMargin)
		defer cancel()
	}
	a.mu.Lock()
	n := len(a.local)
	a.mu.Unlock()
	began := time.Now()
	a.stopAll(sctx, why)
	stopped := time.Now()
	a.mu.Lock()
	a.fences = append(a.fences, FenceReport{Began: began, Stopped: stopped, LeaseExpiry: until, Pods: n, Margin: until.Sub(stopped), Reason: why})
	if len(a.fences) > eventRing {
		a.fences = a.fences[1:]
	}
	a.mu.Unlock()
	left := time.Until(until)
	a.mu.Lock()
	var still []string
	for p := range a.local {
		still = append(still, p)
	}
	a.mu.Unlock()
	sort.Strings(still)
	switch {
	case len(still) > 0:
		reason := fmt.Sprintf("self-fence of %s failed: %s still up (or unknown) as its lease may expire", a.cfg.Node, strings.Join(still, " "))
		a.event("fence", "", "%s", reason)
		a.escalate(reason)
	case left > 0:
		a.event("fence", "", "self-fenced %s before its lease could expire (margin %s)", a.cfg.Node, left.Round(time.Millisecond))
	default:
		reason := fmt.Sprintf("self-fence of %s ended %s after the lease could expire", a.cfg.Node, (-left).Round(time.Millisecond))
		a.event("fence", "", "%s", reason)
		a.escalate(reason)
	}
}

func (a *Agent) escalate(reason string) {
	if a.cfg.Escalate == nil {
		a.event("fence", "", "no escalation configured: the others may start pods this node could not stop; the disks are fenced at the cloud level")
		return
	}
	a.event("fence", "", "escalating: %s", reason)
	a.cfg.Escalate(reason)
}

// stopAll cancels the starts in progress and stops the local pods
// concurrently.
func (a *Agent) stopAll(ctx context.Context, why string) {
	a.mu.Lock()
	var pods []string
	for p, lp := range a.local {
		if lp.cancel != nil {
			lp.cancel()
		}
		lp.busy = true
		pods = append(pods, p)
	}
	a.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range pods {
		wg.Go(func() { a.stopLocal(ctx, p, why) })
	}
	// A stop that hangs past ctx is left behind: the fence escalates.
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// stopLocal stops pod here and forgets it.
func (a *Agent) stopLocal(ctx context.Context, pod, why string) error {
	err := a.pods.Stop(ctx, pod)
	a.mu.Lock()
	a.touched[pod] = time.Now()
	if err == nil {
		delete(a.local, pod)
	} else if lp := a.local[pod]; lp != nil {
		lp.busy = false
	}
	a.mu.Unlock()
	if err != nil {
		a.event("fail", pod, "stopping %s on %s failed: %v (%s)", pod, a.cfg.Node, err, why)
		return err
	}
	a.event("stop", pod, "%s stopped on %s: %s", pod, a.cfg.Node, why)
	return nil
}

// watchLoop pokes the reconcile on every change of the service's state.
func (a *Agent) watchLoop(ctx context.Context) {
	for ctx.Err() == nil {
		wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		for resp := range a.cli.Watch(wctx, a.k.base+"/", clientv3.WithPrefix()) {
			for _, ev := range resp.Events {
				if !strings.HasPrefix(string(ev.Kv.Key), a.k.events()) {
					a.poke()
					select {
					case a.pkick <- struct{}{}:
					default:
					}
					break
				}
			}
		}
		cancel()
		select {
		case <-ctx.Done():
		case <-time.After(a.cfg.LeaseTTL / 5):
		}
	}
}
