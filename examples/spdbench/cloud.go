package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/svckit/svckit/driver/disk"
	diskgce "github.com/svckit/svckit/driver/disk/gce"
	"github.com/svckit/svckit/driver/fake"
	"github.com/svckit/svckit/driver/gce"
	"github.com/svckit/svckit/driver/gce/gcetest"
	"github.com/svckit/svckit/driver/ip"
	ipgce "github.com/svckit/svckit/driver/ip/gce"
	"github.com/svckit/svckit/internal/spdconf"
	"github.com/svckit/svckit/svc"
	"github.com/svckit/svckit/svc/cluster"
	"github.com/svckit/svckit/svc/cluster/spdplanner"
)

// cloudOptions is what the cloud mode runs.
type cloudOptions struct {
	pods, nodes int
	// scale multiplies every latency of gcetest.DefaultModel, of the fake
	// actions and of the gce client's poll and retry pauses (and divides
	// the rate limit): the run keeps its shape in scale of the time.
	scale float64
	// fakeLatency is the time of each fake action (fs, containers,
	// ip.docker) at scale 1.
	fakeLatency time.Duration
	// parallel is how many moves the relayout runs at once.
	parallel int
	dir      string
}

// defaultFakeLatency is what a fake action takes at scale 1: an estimate
// of a mount or a container start on a GCE instance (a few hundred ms).
const defaultFakeLatency = 300 * time.Millisecond

// Poll and retry pauses of the gce client at scale 1: its defaults.
const (
	pollInitial, pollMax   = time.Second, 10 * time.Second
	retryInitial, retryMax = 500 * time.Millisecond, 30 * time.Second
)

// CloudReport holds the figures of the cloud mode.
type CloudReport struct {
	Scale     float64            `json:"scale"`
	Model     gcetest.Model      `json:"model"`
	FakeS     float64            `json:"fake_action_s"`
	Provision ProvisionFigures   `json:"provision"`
	Migration *MigrationFigures  `json:"migration,omitempty"`
	Relayout  *RelayoutFigures   `json:"relayout,omitempty"`
	Stats     gcetest.ModelStats `json:"model_stats"`
}

// ProvisionFigures measure provision --cluster from nothing.
type ProvisionFigures struct {
	MeasuredS float64 `json:"measured_s"`
	// CriticalPathS is the least time the model allows: the longest of
	// the dependency chains (cloud operations at the model's times, fake
	// actions at theirs), the attachments of each instance one after
	// another, and the project's mutations at its rate.
	CriticalPathS float64 `json:"critical_path_s"`
	// Bound names which of those is the longest.
	Bound string `json:"bound"`
	// SequentialS is the reference's order: the same cloud mutations one
	// after another (the seed's gcloud loops, the reference agent's
	// sequential resource actions); reads and fake actions left out, so
	// it is a lower bound of the reference's time.
	SequentialS float64 `json:"sequential_s"`
	Disks       int     `json:"disks"`
	Routes      int     `json:"routes"`
}

// MigrationFigures measure one pod's migration.
type MigrationFigures struct {
	Move  string  `json:"move"`
	WallS float64 `json:"wall_s"`
	// DowntimeS runs from the pod's first stop on its source to its last
	// container up on the destination.
	DowntimeS float64 `json:"downtime_s"`
	// DowntimeCriticalS is the chain the pod cannot go faster than: its
	// stop (ip.docker, container, fs), the detach, the attach, the mount
	// and the container start.
	DowntimeCriticalS float64 `json:"downtime_critical_s"`
	// DiskChainS leaves the deletion of the pod's routes out of its stop:
	// the disk's chain alone (shorter when a route delete takes longer
	// than stopping the containers and the fs and detaching the disk).
	DiskChainS float64 `json:"disk_chain_s"`

	stopDisk, start time.Duration
}

// RelayoutFigures measure the relayout to one more node.
type RelayoutFigures struct {
	Nodes    string  `json:"nodes"`
	Moves    int     `json:"moves"`
	Parallel int     `json:"parallel"`
	WallS    float64 `json:"wall_s"`
	// CriticalPathS is the least time the model allows: the node that
	// receives the most pods attaches their disks (and, when it is new,
	// its node disk, once created) one at a time, the first once a disk
	// is free, and mounts and starts the last pod.
	CriticalPathS float64 `json:"critical_path_s"`
}

// cloudBench is the simulated project: the fake compute API under the
// model, one instance, udev directory, network namespace and agent per
// node.
type cloudBench struct {
	o       cloudOptions
	model   gcetest.Model
	fakeLat time.Duration
	srv     *gcetest.Server
	rec     *fake.Recorder
	agents  map[string]*cluster.Agent
	nss     []*nodeNetNS
	clients []func() error
	svcname string
}

func (b *cloudBench) Close() {
	for _, f := range b.clients {
		_ = f()
	}
	if b.srv != nil {
		b.srv.Close()
	}
	for _, ns := range b.nss {
		_ = ns.Close()
	}
}

func scaled(d time.Duration, f float64) time.Duration { return time.Duration(float64(d) * f) }

// newCloudBench builds nodes nodes spd01..: each node's registry is the
// fakes, with the real disk.gce and ip.gce talking to the fake compute
// API as that node.
func newCloudBench(o cloudOptions, nodes []string, dir string) (*cloudBench, error) {
	if err := canNetNS(); err != nil {
		return nil, err
	}
	b := &cloudBench{o: o, model: gcetest.DefaultModel().Scale(o.scale), fakeLat: scaled(o.fakeLatency, o.scale),
		rec: fake.NewRecorder(), agents: map[string]*cluster.Agent{}}
	b.srv = gcetest.NewServer("spd-project", "europe-west1-b")
	b.srv.SetModel(&b.model)
	for _, n := range nodes {
		in := b.srv.AddInstance(n)
		root := filepath.Join(dir, n)
		dev := filepath.Join(root, "dev", "disk", "by-id")
		if err := os.MkdirAll(dev, 0o755); err != nil {
			b.Close()
			return nil, err
		}
		in.SetDevDir(dev)
		ns, err := newNodeNetNS(fmt.Sprintf("svckit-spdbench-%d-%s", os.Getpid(), n))
		if err != nil {
			b.Close()
			return nil, err
		}
		b.nss = append(b.nss, ns)
		gopts := []gce.Option{
			gce.WithEndpoint(b.srv.URL), gce.WithMetadataHost(in.MetadataHost),
			gce.WithPollInterval(scaled(pollInitial, o.scale), scaled(pollMax, o.scale)),
			gce.WithRetryBackoff(scaled(retryInitial, o.scale), scaled(retryMax, o.scale)),
		}
		reg := fake.Registry(fake.Options{Latency: b.fakeLat, Recorder: b.rec, Memory: true})
		reg.Replace(disk.GCE, diskgce.NewFactory(diskgce.WithGCE(gopts...)))
		gcetest.UseDevDir(reg, dev)
		gcetest.UseDevDirForFS(reg, dev)
		reg.Replace(ip.GCE, ipgce.NewFactory(ipgce.WithGCE(gopts...), ipgce.WithNetNS(ns.path)))
		b.agents[n] = &cluster.Agent{Node: n, Root: root, Registry: reg, NoTriggers: true}
	}
	return b, nil
}

func (b *cloudBench) cluster(self string) *cluster.Cluster {
	agents := make([]*cluster.Agent, 0, len(b.agents))
	for _, n := range slices.Sorted(maps.Keys(b.agents)) {
		agents = append(agents, b.agents[n])
	}
	return &cluster.Cluster{Self: b.agents[self], Transport: cluster.NewLocal(agents...), Planner: spdplanner.Planner{}}
}

// runCloud runs provision --cluster, one migration and the relayout to
// one more node on the model, and measures them.
func runCloud(ctx context.Context, o cloudOptions) (*CloudReport, error) {
	if o.scale <= 0 || o.pods < 1 || o.nodes < 1 || o.parallel < 1 {
		return nil, fmt.Errorf("cloud mode: expected -scale > 0, -pods >= 1, -nodes >= 1 and -parallel >= 1")
	}
	p := spdconf.Defaults()
	p.Pods, p.Nodes = o.pods, spdconf.Nodes(o.nodes)
	conf, err := spdconf.Generate(p)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(o.dir, "spdbench-cloud-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	all := spdconf.Nodes(o.nodes + 1) // one more for the relayout
	b, err := newCloudBench(o, all, dir)
	if err != nil {
		return nil, err
	}
	defer b.Close()
	b.svcname = p.Svcname
	self := p.Nodes[0]
	if _, err := b.agents[self].Install(ctx, b.svcname, conf, "spdbench", cluster.InstallOptions{}); err != nil {
		return nil, err
	}
	cl := b.cluster(self)
	if _, err := cl.SyncNodes(ctx, b.svcname, cluster.InstallOptions{}); err != nil {
		return nil, err
	}
	rep := &CloudReport{Scale: o.scale, Model: b.model, FakeS: b.fakeLat.Seconds()}
	if rep.Provision, err = b.provision(ctx, cl); err != nil {
		return nil, fmt.Errorf("provision --cluster: %w", err)
	}
	if o.nodes >= 2 {
		if rep.Migration, err = b.migrate(ctx, cl, p); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		b.rec.Reset()
		t0 := time.Now()
		mr, err := cl.Relayout(ctx, b.svcname, all, cluster.MigrateOptions{Parallel: o.parallel})
		if err != nil {
			return nil, fmt.Errorf("relayout: %w", err)
		}
		rep.Relayout = &RelayoutFigures{Nodes: strings.Join(all, " "), Moves: len(mr.Done), Parallel: o.parallel, WallS: time.Since(t0).Seconds(),
			CriticalPathS: b.relayoutCritical(mr.Done, p.Nodes, rep.Migration).Seconds()}
	}
	rep.Stats = b.srv.Stats()
	return rep, nil
}

// provision runs provision --cluster and computes its critical path.
func (b *cloudBench) provision(ctx context.Context, cl *cluster.Cluster) (ProvisionFigures, error) {
	var f ProvisionFigures
	b.rec.Reset()
	t0 := time.Now()
	res, err := cl.Do(ctx, b.svcname, svc.Provision, svc.ActionOptions{})
	f.MeasuredS = time.Since(t0).Seconds()
	if err != nil {
		return f, err
	}
	ops := map[string]int{} // node/rid -> fake operations run
	for _, c := range b.rec.Calls() {
		if c.Action != fake.ActionStatus {
			ops[c.Node+"/"+c.RID]++
		}
	}
	m := b.model
	var cp time.Duration
	bound := ""
	mutations := 0
	for _, n := range slices.Sorted(maps.Keys(res.Nodes)) {
		r := res.Nodes[n].Result
		s, err := b.agents[n].Load(ctx, b.svcname)
		if err != nil {
			return f, err
		}
		// What each resource run costs at least under the model.
		cost := map[string]time.Duration{}
		var disks []string
		attaches := 0
		for _, st := range r.Steps {
			rs, ok := s.Resource(st.RID)
			if _, seen := cost[st.RID]; !ok || seen || st.Result != "done" {
				continue
			}
			switch rs.DriverID() {
			case disk.GCE.ID:
				names := 1
				if d, ok := rs.(interface{ Names() []string }); ok {
					names = len(d.Names())
				}
				cost[st.RID] = m.DiskInsert + time.Duration(names)*m.AttachDisk
				disks = append(disks, st.RID)
				attaches += names
				f.Disks += names
				mutations += 2 * names
				f.SequentialS += (time.Duration(names) * (m.DiskInsert + m.AttachDisk)).Seconds()
			case ip.GCE.ID:
				cost[st.RID] = m.RouteInsert
				f.Routes++
				mutations++
				f.SequentialS += m.RouteInsert.Seconds()
			default:
				cost[st.RID] = time.Duration(ops[n+"/"+st.RID]) * b.fakeLat
			}
		}
		dag, _ := r.CriticalPath(func(rid string) time.Duration { return cost[rid] })
		if dag > cp {
			cp, bound = dag, "dependency chain on "+n
		}
		// The instance attaches one disk at a time: the first cannot
		// start before a disk exists, and after the last comes at least
		// the shortest chain that follows a disk.
		if len(disks) > 0 {
			const huge = 1000 * time.Hour
			tail := time.Duration(-1)
			for _, x := range disks {
				w, _ := r.CriticalPath(func(rid string) time.Duration {
					switch {
					case rid == x:
						return huge
					case slices.Contains(disks, rid):
						return 0
					}
					return cost[rid]
				})
				if t := w - huge; tail < 0 || t < tail {
					tail = t
				}
			}
			serial := m.DiskInsert + time.Duration(attaches)*m.AttachDisk + tail
			if serial > cp {
				cp, bound = serial, fmt.Sprintf("%d attachments one at a time on %s", attaches, n)
			}
		}
	}
	if m.MutationsPerSecond > 0 {
		if rate := time.Duration(float64(max(mutations-m.MutationBurst, 0)) / m.MutationsPerSecond * float64(time.Second)); rate > cp {
			cp, bound = rate, fmt.Sprintf("%d mutations at %.0f/s", mutations, m.MutationsPerSecond)
		}
	}
	f.CriticalPathS, f.Bound = cp.Seconds(), bound
	return f, nil
}

// migrate moves the last pod of the second node to the third (the first
// when there are two nodes), as the seed's pod16 spd02 -> spd03.
func (b *cloudBench) migrate(ctx context.Context, cl *cluster.Cluster, p spdconf.Params) (*MigrationFigures, error) {
	per := (p.Pods + len(p.Nodes) - 1) / len(p.Nodes)
	pod := min(2*per, p.Pods)
	to := p.Nodes[0]
	if len(p.Nodes) >= 3 {
		to = p.Nodes[2]
	}
	b.rec.Reset()
	t0 := time.Now()
	mr, err := cl.Migrate(ctx, b.svcname, pod, to, cluster.MigrateOptions{})
	wall := time.Since(t0)
	if err != nil {
		return nil, err
	}
	if len(mr.Moves) != 1 {
		return nil, fmt.Errorf("expected one move, got %v", mr.Moves)
	}
	mv := mr.Moves[0]
	tagged := func(c fake.Call, node string) bool {
		if c.Node != node || c.Action == fake.ActionStatus || c.Err != "" {
			return false
		}
		s, err := b.agents[node].Load(ctx, b.svcname)
		if err != nil {
			return false
		}
		r, ok := s.Resource(c.RID)
		return ok && slices.Contains(r.Tags(), mv.Tag)
	}
	var from, until time.Time
	stopOps, startOps := map[string]int{}, map[string]int{}
	for _, c := range b.rec.Calls() {
		switch {
		case tagged(c, mv.From) && c.Action == "stop":
			if from.IsZero() || c.Start.Before(from) {
				from = c.Start
			}
			stopOps[c.RID]++
		case tagged(c, mv.To):
			if strings.HasPrefix(c.DriverID, "container.") && c.End.After(until) {
				until = c.End
			}
			startOps[c.RID]++
		}
	}
	if from.IsZero() || until.IsZero() {
		return nil, fmt.Errorf("%s: no stop on %s or no container start on %s recorded", mv, mv.From, mv.To)
	}
	// The pod's chain: ip.docker, container and fs stopped in turn, the
	// detach, the attach, then fs and container started in turn (the
	// pod's two containers and their addresses run side by side).
	chain := func(ops map[string]int, groups ...string) time.Duration {
		var d time.Duration
		for _, g := range groups {
			most := 0
			for rid, n := range ops {
				if strings.HasPrefix(rid, g+"#") {
					most = max(most, n)
				}
			}
			d += time.Duration(most) * b.fakeLat
		}
		return d
	}
	m := b.model
	stopDisk := chain(stopOps, "ip", "container", "fs") + m.DetachDisk
	start := chain(startOps, "fs", "container")
	// The stop ends when its longest branch does: the disk's, or the
	// deletion of the pod's routes, side by side with it.
	stop := max(stopDisk, m.RouteDelete)
	return &MigrationFigures{Move: mv.String(), WallS: wall.Seconds(), DowntimeS: until.Sub(from).Seconds(),
		DowntimeCriticalS: (stop + m.AttachDisk + start).Seconds(), DiskChainS: (stopDisk + m.AttachDisk + start).Seconds(),
		stopDisk: stopDisk, start: start}, nil
}

// relayoutCritical is the relayout's least time under the model (see
// RelayoutFigures.CriticalPathS); mg gives the pod's stop and start
// chains.
func (b *cloudBench) relayoutCritical(moves []cluster.Move, before []string, mg *MigrationFigures) time.Duration {
	into := map[string]int{}
	for _, mv := range moves {
		into[mv.To]++
	}
	m := b.model
	var cp time.Duration
	for n, k := range into {
		first := mg.stopDisk
		if !slices.Contains(before, n) {
			k++ // its node disk
			first = min(first, m.DiskInsert)
		}
		cp = max(cp, first+time.Duration(k)*m.AttachDisk+mg.start)
	}
	return cp
}

// printCloud writes the cloud report as a table.
func printCloud(w io.Writer, o cloudOptions, rep *CloudReport) error {
	m := rep.Model
	fmt.Fprintf(w, "cloud mode: %d pods on %d nodes, gcetest model x%g: disk insert %s, attach %s, detach %s, route insert %s, delete %s, instance get %s, %.0f mutations/s (burst %d); fake actions %s\n",
		o.pods, o.nodes, rep.Scale, m.DiskInsert, m.AttachDisk, m.DetachDisk, m.RouteInsert, m.RouteDelete, m.InstanceGet, m.MutationsPerSecond, m.MutationBurst, time.Duration(rep.FakeS*float64(time.Second)))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "operation\tmeasured_s\tcritical_s\tsequential_s\tmeasured/critical\tsequential/measured\t")
	pf := rep.Provision
	fmt.Fprintf(tw, "provision --cluster\t%.3f\t%.3f\t%.3f\t%s\t%s\t\n", pf.MeasuredS, pf.CriticalPathS, pf.SequentialS, ratio(pf.MeasuredS, pf.CriticalPathS), ratio(pf.SequentialS, pf.MeasuredS))
	if mg := rep.Migration; mg != nil {
		fmt.Fprintf(tw, "pod downtime\t%.3f\t%.3f\t-\t%s\t-\t\n", mg.DowntimeS, mg.DowntimeCriticalS, ratio(mg.DowntimeS, mg.DowntimeCriticalS))
		fmt.Fprintf(tw, "migration\t%.3f\t-\t-\t-\t-\t\n", mg.WallS)
	}
	if rl := rep.Relayout; rl != nil && rep.Migration != nil {
		fmt.Fprintf(tw, "relayout\t%.3f\t%.3f\t-\t%s\t-\t\n", rl.WallS, rl.CriticalPathS, ratio(rl.WallS, rl.CriticalPathS))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "provision: %d disks, %d routes; critical path bound: %s\n", pf.Disks, pf.Routes, pf.Bound)
	if mg := rep.Migration; mg != nil {
		fmt.Fprintf(w, "migration %s: downtime from its stop to its containers up on the new node; critical: its stop (longest branch), attach, mount, start; %s of the disk's chain alone (%.3fs)\n",
			mg.Move, ratio(mg.DowntimeS, mg.DiskChainS), mg.DiskChainS)
	}
	if rl := rep.Relayout; rl != nil && rep.Migration != nil {
		fmt.Fprintf(w, "relayout to %s: %d moves, %d at once: %s one migration's wall time\n", rl.Nodes, rl.Moves, rl.Parallel, ratio(rl.WallS, rep.Migration.WallS))
		// The least the model allows, in the goal's unit. Against the
		// migration's own critical path (its downtime chain: a
		// migration cannot be faster), since the measured wall time of
		// one migration moves with the machine's load: when the bound is
		// above 2x, no order of the moves meets a 2x goal unless the
		// migration it is compared with runs slower than the model allows.
		mg := rep.Migration
		verdict := "2x is reachable under the model"
		if rl.CriticalPathS > 2*mg.DowntimeCriticalS {
			verdict = "2x is unreachable under the model"
		}
		fmt.Fprintf(w, "relayout lower bound: its critical path %.3fs is %s one migration's critical path (%.3fs) and %s this run's migration; %s; measured %s of the bound\n",
			rl.CriticalPathS, ratio(rl.CriticalPathS, mg.DowntimeCriticalS), mg.DowntimeCriticalS, ratio(rl.CriticalPathS, mg.WallS), verdict, ratio(rl.WallS, rl.CriticalPathS))
	}
	fmt.Fprintf(w, "model: %d requests answered RESOURCE_NOT_READY, %d answered 429\n", rep.Stats.NotReady, rep.Stats.RateLimited)
	return nil
}
